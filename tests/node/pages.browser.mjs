// The pages in a real browser: Debian's Chromium driven by playwright-core, against the real
// `redress serve` (manual clock) on a fresh data directory. A client opens their link, replies,
// accepts redress and rates the service; an agent signs in, takes a case, makes and keeps promises;
// with the clock moved past a due time, the manager's board shows the broken promise and the
// owner's reliability falls. A client files a complaint with a photo at /complain; the agent downloads
// it from the case and logs a letter at the desk. The manager follows the board's ranking to a
// touchpoint's page (moments of truth) and from it to the cases behind its numbers. Hostile text in every shown field stays text. Each page is saved as a
// screenshot in $REDRESS_SCREENSHOTS.
//
// Run: REDRESS_BINARY=build/redress node --test tests/node/pages.browser.mjs (ctest does this).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

const binary = process.env.REDRESS_BINARY;
const shots = process.env.REDRESS_SCREENSHOTS || path.join(os.tmpdir(), "redress-screenshots");
const chromiumPath = process.env.REDRESS_CHROMIUM || "/usr/bin/chromium";
const password = "correct horse battery staple";
// Markup that would run script or draw elements if any field were not escaped.
const X = `<img src=x onerror="window.__xss=1"><script>window.__xss=1</script>"'><svg onload="window.__xss=1">`;
const finalResponse =
  "Dear Zoë, we have decided to uphold your complaint. If you are not satisfied you may refer it to an alternative " +
  "dispute resolution service, which we will use.";

let dir, data, server, base, adminToken, browser;
const ids = {};

function redress(args, input) {
  return execFileSync(binary, [...args, "--data-dir", data], { input, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });
}

async function api(method, target, body) {
  const response = await fetch(base + target, {
    method,
    headers: { Authorization: `Bearer ${adminToken}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  assert.ok(response.ok, `${method} ${target}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : {};
}

// Every page saved is also checked for accessibility basics: each form control has a label (or an
// aria-label), the page has one h1 and a lang, and no button is without a name.
async function shot(page, name) {
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
  const problems = await page.evaluate(() => {
    const out = [];
    for (const el of document.querySelectorAll("input:not([type=hidden]), select, textarea"))
      if (el.labels.length === 0 && !el.getAttribute("aria-label")) out.push(`unlabelled ${el.tagName} ${el.name}`);
    for (const b of document.querySelectorAll("button"))
      if (!b.textContent.trim() && !b.getAttribute("aria-label")) out.push("a button without a name");
    if (document.querySelectorAll("h1").length !== 1) out.push(`${document.querySelectorAll("h1").length} h1 elements`);
    if (!document.documentElement.lang) out.push("no lang");
    return out;
  });
  assert.deepEqual(problems, [], `${name}: ${problems.join("; ")}`);
}

// No payload ran and none became an element: every hostile string stayed text.
async function assertInert(page) {
  assert.equal(await page.evaluate(() => window.__xss), undefined, "a payload ran");
  assert.equal(await page.locator("main img, main script, main svg:not(.chart), main [onerror], main [onload]").count(), 0);
}

// Waits for the redirect that follows a successful form; on a refusal, fails with what the page said.
async function waitDone(page, pattern) {
  try {
    await page.waitForURL(pattern, { timeout: 10000 });
  } catch (error) {
    throw new Error(`no redirect to ${pattern}; the page says: ${(await page.locator("main").innerText()).slice(0, 600)}`);
  }
}

// Agents land on their cases; leads, managers and admins on the review board (issue 27).
async function signIn(context, email, landing = "/staff") {
  const page = await context.newPage();
  await page.goto(base + "/staff");
  assert.match(page.url(), /\/staff\/login\?next=/);
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(base + landing);
  return page;
}

before(async () => {
  assert.ok(binary, "set REDRESS_BINARY to the redress binary");
  fs.mkdirSync(shots, { recursive: true });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "redress-browser-"));
  data = path.join(dir, "data");
  redress(["migrate"]);
  for (const [role, name] of [["agent", "Alex Agent"], ["manager", "Morgan Manager"], ["admin", "Ada Admin"]]) {
    ids[role] = redress(["staff", "add", "--name", name, "--email", `${role}@example.org`, "--role", role]).trim();
    redress(["staff", "password", "--email", `${role}@example.org`], password + "\n");
  }
  adminToken = redress(["staff", "token", "--email", "admin@example.org"]).trim();
  server = spawn(binary, ["serve", "--listen", "127.0.0.1:0", "--data-dir", data, "--clock", "manual", "--threads", "2"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("redress serve did not listen: " + log)), 60000);
    const watch = (chunk) => {
      log += chunk;
      const m = log.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) clearTimeout(timer), resolve(m[1]);
    };
    server.stdout.on("data", watch);
    server.stderr.on("data", watch);
    server.on("exit", (code) => reject(new Error(`redress serve exited ${code}: ${log}`)));
  });
  browser = await chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox"] });
});

after(async () => {
  await browser?.close();
  server?.kill("SIGTERM");
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test("a client follows their case on a phone: reply, accept redress, rate", async () => {
  const created = await api("POST", "/v1/cases", {
    client: { name: `Zoë ${X}`, email: "zoe@example.org" },
    category: "billing", touchpoint: "checkout", workflow: "retail",
    subject: `Charged twice ${X}`, description: `My card was charged twice ${X}`, remedy_requested: `A refund ${X}`,
  });
  const ref = created.reference;
  await api("POST", `/v1/cases/${ref}/actions`, { action: "assign", owner: ids.agent });
  await api("POST", `/v1/cases/${ref}/commitments`, { text: `We will call you ${X}`, due_in: "P3D" });
  await api("POST", `/v1/cases/${ref}/messages`, { visibility: "client", body: `Hello from us ${X}` });
  await api("POST", `/v1/cases/${ref}/messages`, { visibility: "internal", body: `SECRET-NOTE ${X}` });

  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
  const page = await context.newPage();
  let dialogs = 0;
  page.on("dialog", (d) => (dialogs++, d.dismiss()));
  await page.goto(created.client_url);
  const main = page.locator("main");
  await assert.doesNotReject(main.getByText(ref).first().waitFor());
  assert.match(await main.innerText(), /handled by Alex Agent/);
  assert.ok((await main.innerText()).includes(`We will call you ${X}`), "the promise text, shown as text");
  assert.ok((await main.innerText()).includes(`Hello from us ${X}`));
  assert.ok(!(await page.content()).includes("SECRET-NOTE"), "an internal note reached the client");
  await assertInert(page);
  // Nothing wider than the phone: no horizontal scrolling.
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1));
  await shot(page, "client-status");

  await page.getByLabel("Write to us").fill(`Here is my receipt ${X}`);
  await page.getByRole("button", { name: "Send" }).click();
  await page.getByText("your message is with us").waitFor();
  assert.ok((await main.innerText()).includes(`Here is my receipt ${X}`));
  await assertInert(page);

  await api("POST", `/v1/cases/${ref}/actions`, { action: "acknowledge" }).catch(() => {});
  await api("POST", `/v1/cases/${ref}/actions`, { action: "start" });
  await api("POST", `/v1/cases/${ref}/actions`, {
    action: "propose_redress", outcome: "upheld", final_response: finalResponse,
    offers: [{ kind: "refund", amount: "25.00", currency: "GBP", text: `Refund of the second charge ${X}` }],
  });
  await page.reload();
  assert.ok((await main.innerText()).includes("25.00 GBP"));
  await shot(page, "client-offer");
  await page.getByRole("button", { name: "Accept this offer" }).click();
  await page.getByText("you accepted our offer").waitFor();
  assert.match(await main.innerText(), /Final response sent/);

  // The RATER questions (each a group of 1-5), then the overall rating.
  for (const [question, answer] of [["Reliability", "5"], ["Assurance", "4"], ["Tangibles", "4"], ["Empathy", "3"],
                                    ["Responsiveness", "5"]])
    await page.getByRole("group", { name: new RegExp(`^${question}:`) }).getByLabel(answer, { exact: true }).check();
  await page.getByRole("group", { name: /^Overall/ }).getByLabel("4", { exact: true }).check();
  await page.getByLabel("Anything you would like to tell us (optional)").fill(`Quick and fair ${X}`);
  await page.getByRole("button", { name: "Send my rating" }).click();
  await page.getByText("You rated our service").waitFor();
  assert.match(await main.innerText(), /4 out of 5/);
  await assertInert(page);
  await shot(page, "client-rated");
  assert.equal(dialogs, 0);
  const stored = await api("GET", `/v1/cases/${ref}`);
  assert.equal(stored.status, "resolved");
  assert.equal(stored.rating, 4);
  const surveyed = (await api("GET", `/v1/cases/${ref}/events`)).items.find((e) => e.type === "survey.submitted");
  assert.deepEqual(surveyed.data.rater, { assurance: 4, empathy: 3, reliability: 5, responsiveness: 5, tangibles: 4 });
  await context.close();
});

test("an agent signs in, takes a case and makes promises; the board shows the broken one", async () => {
  const created = await api("POST", "/v1/cases", {
    client: { name: `Sam ${X}`, email: "sam@example.org" },
    category: "delivery", touchpoint: "courier", workflow: "retail",
    subject: `Parcel never came ${X}`, description: `Tracking says delivered ${X}`,
  });
  const ref = created.reference;

  const agentContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const agent = await signIn(agentContext, "agent@example.org");
  await shot(agent, "staff-my-cases");
  await agent.goto(base + "/staff/queue");
  await assertInert(agent);
  await shot(agent, "staff-queue");
  await agent.getByRole("button", { name: `Take ${ref}` }).click();
  await waitDone(agent, new RegExp(`/staff/cases/${ref}\\?done=take`));
  assert.match(await agent.locator(".card").nth(1).innerText(), /Alex Agent/);

  // One promise kept, one left to fall due (the form's default: 4 hours from now).
  await agent.getByLabel("What you promise").fill(`Email the tracking number ${X}`);
  await agent.getByRole("button", { name: "Make the promise" }).click();
  await waitDone(agent, /done=make_commitment/);
  await agent.locator("#commitment-table tr", { hasText: "Email the tracking number" }).getByRole("button", { name: "Mark kept" }).click();
  await waitDone(agent, /done=keep_commitment/);
  await agent.getByLabel("What you promise").fill(`Send a replacement ${X}`);
  await agent.getByRole("button", { name: "Make the promise" }).click();
  await waitDone(agent, /done=make_commitment/);
  const table = await agent.locator("#commitment-table").innerText();
  assert.ok(table.includes(`Send a replacement ${X}`));
  assert.match(table, /kept/);
  await assertInert(agent);
  await shot(agent, "staff-case");

  const managerContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const manager = await signIn(managerContext, "manager@example.org", "/staff/board");
  await manager.goto(base + "/staff/board");
  const ownerRow = () => manager.locator("#owners tr", { hasText: "Alex Agent" });
  const before = await ownerRow().innerText();
  assert.match(before, /100%/, `the agent kept every promise so far: ${before}`);
  await shot(manager, "board-before");

  await api("POST", "/v1/admin/clock", { advance: "PT5H" });
  await manager.reload();
  const attention = await manager.locator("#attention").innerText();
  assert.ok(attention.includes(ref), "the broken promise's case is on the board");
  assert.match(attention, /broken/);
  const afterRow = await ownerRow().innerText();
  assert.match(afterRow, /50%/, `one kept, one broken: ${afterRow}`);
  // Two trends, each workflow's returns (four shipped), the survey's months, and retail's root causes
  // (the first test's case was resolved, recording none).
  assert.equal(await manager.locator("svg.chart").count(), 8);
  assert.ok((await manager.locator("#returns_fca-disp").innerText()).includes("Within 3 business days"));
  await assertInert(manager);
  await shot(manager, "board-after");

  const csv = await managerContext.request.get(base + "/staff/board/owners.csv");
  assert.equal(csv.status(), 200);
  assert.match(await csv.text(), /Alex Agent,.*50%/);
  // The agent may not open the board.
  const refused = await agentContext.request.get(base + "/staff/board");
  assert.equal(refused.status(), 403);

  await agent.goto(base + "/staff");
  assert.match(await agent.locator("#my-cases").innerText(), /broken/);
  await shot(agent, "staff-my-cases-broken");

  const standards = await manager.context().newPage();
  await standards.goto(base + "/standards");
  assert.match(await standards.locator("main").innerText(), /Retail complaints/);
  await shot(standards, "public-standards");

  // Sign out ends the session: the console sends the browser back to the sign-in form.
  await agent.getByRole("button", { name: "Sign out" }).click();
  await agent.waitForURL(/\/staff\/login\?signed_out=1/);
  await agent.goto(base + "/staff");
  assert.match(agent.url(), /\/staff\/login/);
  await agentContext.close();
  await managerContext.close();
});

test("a client files a complaint with a photo at /complain; the desk sees the file and logs a letter", async () => {
  const photo = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff, 0x10, 0x20]);
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
  const page = await context.newPage();
  await page.goto(base + "/");
  await page.getByRole("link", { name: /complaint/i }).first().click();
  await page.waitForURL(base + "/complain");
  await page.getByLabel("Your name").fill(`Priya ${X}`);
  await page.getByLabel("Email address").fill("priya@example.org");
  await page.getByLabel("Phone number (optional)").fill("+44 20 7946 0018");
  await page.getByLabel("What is it about?").selectOption({ label: "Billing and payments" });
  await page.getByLabel("Where did it happen? (optional)").selectOption({ label: "On a bill or statement" });
  await page.getByLabel("What happened?").fill(`Charged for a parcel that came broken ${X}`);
  await page.getByLabel("What would put it right? (optional)").fill("A refund");
  await page.getByLabel("Photographs or documents (optional)").setInputFiles({
    name: "broken parcel.png", mimeType: "image/png", buffer: photo,
  });
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1));
  await shot(page, "public-complain");
  await page.getByRole("button", { name: "Send my complaint" }).click();
  await page.locator("#reference").waitFor();
  const ref = (await page.locator("#reference").innerText()).trim();
  assert.match(ref, /^CMP-\d{4}-\d{6}$/);
  const link = await page.locator("#client-link").getAttribute("href");
  assert.match(link, /\/c\/[A-Za-z0-9_-]+$/);
  await assertInert(page);
  await shot(page, "public-complained");
  // The private link opens the case, with the file the client sent.
  await page.goto(link);
  await page.locator("main").getByText(ref).first().waitFor();
  assert.equal(await page.getByRole("link", { name: "broken parcel.png" }).count(), 1);
  await context.close();

  // The agent sees the file on the case and downloads it as it was sent.
  const agentContext = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const agent = await signIn(agentContext, "agent@example.org");
  await agent.goto(base + `/staff/cases/${ref}`);
  const fileLink = agent.getByRole("link", { name: "broken parcel.png" });
  assert.equal(await fileLink.count(), 1);
  const [download] = await Promise.all([agent.waitForEvent("download"), fileLink.click()]);
  assert.equal(download.suggestedFilename(), "broken parcel.png");
  assert.deepEqual(fs.readFileSync(await download.path()), photo);
  await assertInert(agent);
  await shot(agent, "staff-case-with-file");

  // The desk logs a letter that came in yesterday, with a scan, and takes it at once.
  await agent.getByRole("link", { name: "Log a complaint" }).click();
  await agent.waitForURL(base + "/staff/new");
  await agent.getByLabel("Client's name").fill("Ruth Okafor");
  await agent.getByLabel("Client's email address").fill("ruth@example.org");
  await agent.getByLabel("How it was made").selectOption({ label: "Letter" });
  // The field's max is the server's now in the workflow's zone; a day before it, as wall time.
  const received = agent.getByLabel("When it was received (leave empty for now)");
  const max = await received.getAttribute("max");
  const yesterday = new Date(Date.parse(max + ":00Z") - 24 * 3600 * 1000).toISOString().slice(0, 16);
  await received.fill(yesterday);
  await agent.getByLabel("Why it is logged late (required with an earlier time)").fill("Opened by the post room today");
  await agent.getByLabel("What it is about").selectOption({ label: "Billing and payments" });
  await agent.getByLabel("Subject").fill("Letter about a double charge");
  await agent.getByLabel("What happened").fill("Her letter says she was charged twice.");
  await agent.getByLabel("Files: a scanned letter, photographs (optional)").setInputFiles({
    name: "letter.pdf", mimeType: "application/pdf", buffer: Buffer.from("%PDF-1.4 scan"),
  });
  assert.ok(await agent.getByLabel("Take it now (I will own this case)").isChecked());
  await shot(agent, "staff-log-complaint");
  await agent.getByRole("button", { name: "Log the complaint" }).click();
  await waitDone(agent, /\/staff\/cases\/CMP-\d{4}-\d{6}\?done=logged%20and%20taken/);
  assert.equal(await agent.getByRole("link", { name: "letter.pdf" }).count(), 1);
  const logged = await api("GET", agent.url().replace(base + "/staff", "/v1").replace(/\?.*$/, ""));
  assert.equal(logged.channel, "letter");
  assert.equal(logged.owner.id, ids.agent);
  await agentContext.close();
});

test("the desk: tags, links, a merge seen by the client, the case list's view and a bulk action", async () => {
  const make = (subject) =>
    api("POST", "/v1/cases", {
      client: { name: `Rowan ${X}`, email: "rowan@example.org" },
      category: "billing", touchpoint: "checkout", workflow: "retail",
      subject: `${subject} ${X}`, description: `The same charge twice ${X}`,
    });
  const survivor = await make("Charged twice");
  const duplicate = await make("Charged twice (again)");
  const related = await make("Charged three times");

  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const manager = await signIn(context, "manager@example.org", "/staff/board");
  // Tags on the case page: typed with capitals and commas, stored as tags.
  await manager.goto(base + `/staff/cases/${related.reference}`);
  await manager.getByLabel(/^Add tags/).fill("VIP, press");
  await manager.getByRole("button", { name: "Add the tags" }).click();
  await waitDone(manager, /done=tag/);
  assert.match(await manager.locator("#case-tags").innerText(), /press\s*×?\s*vip/);
  // A tag that is not one: refused with the reason, nothing written.
  await manager.getByLabel(/^Add tags/).fill("urgent, allowed!");
  await manager.getByRole("button", { name: "Add the tags" }).click();
  assert.match(await manager.locator(".error").innerText(), /tags\[1\]: may hold only letters a-z.*"allowed!"/);
  assert.deepEqual((await api("GET", `/v1/cases/${related.reference}`)).tags, ["press", "vip"]);

  // A link from the case page, seen on both cases.
  await manager.getByText("Link a related case").click();
  await manager.getByLabel("Reference of the related case").fill(survivor.reference);
  await manager.getByRole("button", { name: "Link the cases" }).click();
  await waitDone(manager, /done=link/);
  assert.ok((await manager.locator("#linked-cases").innerText()).includes(survivor.reference));
  assert.deepEqual((await api("GET", `/v1/cases/${survivor.reference}`)).links, [related.reference]);
  await assertInert(manager);
  await shot(manager, "staff-case-tags-links");

  // The duplicate merged into the case that carries on.
  await manager.goto(base + `/staff/cases/${duplicate.reference}`);
  await manager.getByText("Merge into another case (a duplicate)").click();
  await manager.getByLabel("Reference of the case that carries on").fill(survivor.reference);
  await manager.getByRole("button", { name: "Merge this case into it" }).click();
  await waitDone(manager, /done=merge/);
  assert.match(await manager.locator("#merged-into").innerText(), new RegExp(`merged into ${survivor.reference}`));
  assert.equal((await api("GET", `/v1/cases/${duplicate.reference}`)).status, "closed");

  // The client, from the duplicate's link, is sent on to the case that carries on.
  const clientContext = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
  const client = await clientContext.newPage();
  await client.goto(duplicate.client_url);
  const notice = client.locator("#merged-into");
  assert.match(await notice.innerText(), new RegExp(`together with your complaint ${survivor.reference}`));
  await shot(client, "client-merged");
  await notice.getByRole("link", { name: "follow here" }).click();
  await client.waitForURL(survivor.client_url);
  assert.match(await client.locator("#merged-cases").innerText(), new RegExp(duplicate.reference));
  await assertInert(client);
  await clientContext.close();

  // The case list: filtered by tag, saved as a view, and a bulk tag with one refusal.
  await manager.getByRole("link", { name: "Cases", exact: true }).click();
  await manager.waitForURL(base + "/staff/cases");
  await manager.getByLabel(/^Tags \(all of/).fill("vip");
  await manager.getByRole("button", { name: "Show the cases" }).click();
  await manager.waitForURL(/\/staff\/cases\?.*tag=vip/);
  const found = await manager.locator("#case-list").innerText();
  assert.ok(found.includes(related.reference));
  assert.ok(!found.includes(survivor.reference));
  await manager.getByText("Save this filter as a view").click();
  const viewName = `VIP <img src=x onerror="window.__xss=1">`;
  await manager.getByLabel("Name of the view").fill(viewName);
  await manager.getByRole("button", { name: "Save the view" }).click();
  await waitDone(manager, /done=view/);
  await manager.goto(base + "/staff/cases");
  await manager.locator("#saved-views").getByRole("link", { name: viewName }).click();
  await manager.waitForURL(/\/staff\/cases\?tag=vip$/);
  assert.ok((await manager.locator("#case-list").innerText()).includes(related.reference));
  await assertInert(manager);

  await manager.goto(base + "/staff/cases");
  for (const ref of [survivor.reference, duplicate.reference, related.reference])
    await manager.getByLabel(`Select ${ref}`).check();
  await manager.getByLabel("Action", { exact: true }).selectOption("tag");
  await manager.getByLabel(/^Tags \(tag, untag/).fill("press");
  await shot(manager, "staff-case-list");
  await manager.getByRole("button", { name: "Apply to the cases ticked" }).click();
  await manager.locator("#bulk-refused").waitFor();
  assert.match(await manager.locator(".notice").innerText(), /tag: done on 2 of 3 cases; 1 refused/);
  assert.match(await manager.locator("#bulk-refused").innerText(), new RegExp(`${related.reference}: the case is already tagged press`));
  assert.deepEqual((await api("GET", `/v1/cases/${survivor.reference}`)).tags, ["press"]);
  await assertInert(manager);
  await shot(manager, "staff-case-list-bulk");
  await context.close();
});

test("a client switches their status page to Welsh; it stays Welsh, and its forms answer in Welsh", async () => {
  const created = await api("POST", "/v1/cases", {
    client: { name: `Ifan ${X}`, email: "ifan@example.org" },
    category: "billing", workflow: "retail", subject: `Wrong bill ${X}`, description: "Billed twice.",
  });
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
  const page = await context.newPage();
  await page.goto(created.client_url);
  const main = page.locator("main");
  await main.getByText("Where it stands").waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), "en");
  const switcher = page.getByRole("navigation", { name: "Language" });
  await switcher.getByRole("link", { name: "Cymraeg" }).click();
  await main.getByText("Ble mae pethau arni").waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), "cy");
  assert.equal(await page.getByRole("navigation", { name: "Iaith" }).getByRole("link", { name: "Cymraeg" })
    .getAttribute("aria-current"), "true");
  assert.ok((await main.innerText()).includes(`Wrong bill ${X}`), "the client's own words stay as written");
  await assertInert(page);
  await shot(page, "client-status-welsh");
  // The choice is kept: the page again without ?lang, and a reply thanked in Welsh.
  await page.goto(created.client_url);
  await main.getByText("Ble mae pethau arni").waitFor();
  await page.getByLabel("Ysgrifennwch atom").fill("Diolch.");
  await page.getByRole("button", { name: "Anfon", exact: true }).click();
  await page.getByText("mae eich neges wedi dod i law").waitFor();
  await context.close();
});

test("moments of truth: the board ranks touchpoints; a touchpoint's page shows its trend, broken promises and cases", async () => {
  // Two complaints on the phone, one with a promise that breaks.
  const refs = [];
  for (const subject of [`On hold for an hour ${X}`, `No call-back ${X}`]) {
    const created = await api("POST", "/v1/cases", {
      client: { name: `Lee ${X}`, email: "lee@example.org" },
      category: "service", touchpoint: "phone_contact", workflow: "retail", subject, description: `Rang twice ${X}`,
    });
    refs.push(created.reference);
    await api("POST", `/v1/cases/${created.reference}/actions`, { action: "assign", owner: ids.agent });
  }
  await api("POST", `/v1/cases/${refs[1]}/commitments`, { text: `Call back by noon ${X}`, due_in: "PT1H" });
  await api("POST", "/v1/admin/clock", { advance: "PT2H" });

  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const manager = await signIn(context, "manager@example.org", "/staff/board");
  const ranking = manager.locator("#touchpoints");
  assert.match(await ranking.innerText(), /On the phone/);
  await ranking.getByRole("link", { name: "On the phone" }).click();
  await manager.waitForURL(base + "/staff/touchpoints/phone_contact");
  const main = manager.locator("main");
  assert.equal(await manager.locator("h1").innerText(), "Moments of truth: On the phone");
  assert.match(await main.innerText(), /Calls to and from the contact centre/);
  assert.match(await main.innerText(), /contact-centre/);
  // The weekly trend as a chart, with its table.
  assert.equal(await manager.locator("svg.chart").count(), 1);
  assert.match(await manager.locator("#touchpoint-weeks").innerText(), /Week of/);
  // The broken promise and every complaint, each linked to its case.
  const broken = await manager.locator("#touchpoint-broken").innerText();
  assert.ok(broken.includes(`Call back by noon ${X}`), broken);
  for (const ref of refs) assert.equal(await manager.locator("#touchpoint-cases").getByRole("link", { name: ref }).count(), 1);
  await assertInert(manager);
  await shot(manager, "staff-touchpoint");
  await manager.locator("#touchpoint-broken").getByRole("link", { name: refs[1] }).click();
  await manager.waitForURL(base + `/staff/cases/${refs[1]}`);
  await manager.goto(base + "/staff/touchpoints");
  assert.match(await manager.locator("#touchpoints").innerText(), /On the phone/);
  await shot(manager, "staff-touchpoints");
  // Agents may not open it.
  const agentContext = await browser.newContext();
  await signIn(agentContext, "agent@example.org");
  assert.equal((await agentContext.request.get(base + "/staff/touchpoints/phone_contact")).status(), 403);
  await agentContext.close();
  await context.close();
});

test("a manager holds a case, redacts a pasted card number and lifts the hold; an erasure request restricts it", async () => {
  const created = await api("POST", "/v1/cases", {
    client: { name: `Pia Lund ${X}`, email: "pia@example.org" },
    category: "billing", touchpoint: "billing", workflow: "retail",
    subject: "Charged twice", description: `My card is 4929 1234 5678 9012 ${X}`,
  });
  const ref = created.reference;
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const manager = await signIn(context, "manager@example.org", "/staff/board");
  await manager.goto(base + `/staff/cases/${ref}`);

  await manager.locator("#legal-hold summary").click();
  await manager.locator("#hold-reason").fill(`Ombudsman referral FOS-77 ${X}`);
  await manager.getByRole("button", { name: "Set the hold" }).click();
  await waitDone(manager, /done=legal/);
  assert.match(await manager.locator("#privacy").innerText(), /Legal hold Ombudsman referral FOS-77/);
  await assertInert(manager);

  await manager.locator("#redact summary").click();
  await manager.locator("#redact-target").selectOption(`event:1:/description`);
  await manager.locator("#redact-reason").fill("a card number the client pasted");
  await manager.getByRole("button", { name: "Redact" }).click();
  await waitDone(manager, /done=redacted/);
  const shown = await manager.locator("main").innerText();
  assert.ok(!shown.includes("4929 1234 5678 9012"), "the card number is gone from the page");
  assert.ok(shown.includes("[redacted]"));
  await shot(manager, "staff-case-held-redacted");

  await manager.locator("#legal-hold summary").click();
  await manager.locator("#hold-reason").fill("the referral is settled");
  await manager.getByRole("button", { name: "Lift the hold" }).click();
  await waitDone(manager, /done=legal/);
  assert.equal(await manager.locator("#privacy").count(), 0, "no hold, nothing restricted or erased: no card");

  // Retail keeps an open case: the erasure request restricts it, and the manager may no longer open it.
  const erasure = await api("POST", "/v1/admin/subjects/erase", { email: "pia@example.org", reason: "request of today" });
  assert.equal(erasure.restricted.length, 1);
  const refused = await manager.goto(base + `/staff/cases/${ref}`);
  assert.equal(refused.status(), 403);
  assert.match(await manager.locator("main").innerText(), /restricted/);
  await shot(manager, "staff-case-restricted");
  await context.close();
});
