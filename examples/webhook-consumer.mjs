#!/usr/bin/env node
// A web hook consumer for Redress: receives the signed events, checks them, prints them.
//
//   WEBHOOK_SECRET=whsec_... node examples/webhook-consumer.mjs [--port 8091] [--host 127.0.0.1]
//
// For every POST it:
//   1. reads the raw body (the signature covers the exact bytes: never re-serialise the JSON first);
//   2. checks the Standard Webhooks headers by hand with node:crypto — webhook-signature holds one
//      or more space-separated "v1,<base64>" values, each an HMAC-SHA256 keyed with the base64-decoded
//      part of the whsec_ secret over "<webhook-id>.<webhook-timestamp>.<body>"; compared in constant
//      time (the npm package `standardwebhooks` does the same: `new Webhook(secret).verify(body, headers)`);
//   3. refuses a webhook-timestamp more than 5 minutes from its own clock (a replayed old delivery);
//   4. de-duplicates by webhook-id: Redress delivers at least once and keeps the id across retries,
//      so an id seen before is answered 200 again without being processed twice;
//   5. prints the event and answers 204.
// A 401 tells Redress to retry later (so a fixed secret lets the deliveries through); a 410 would
// disable the subscription, so this consumer never sends one.
// Node 18 or later, standard library only.
import { createHmac, timingSafeEqual } from "node:crypto";
import http from "node:http";

const TOLERANCE_SECONDS = 5 * 60;
const REMEMBERED_IDS = 10_000;

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 && at + 1 < process.argv.length ? process.argv[at + 1] : fallback;
}

const secret = process.env.WEBHOOK_SECRET;
if (!secret?.startsWith("whsec_")) {
  console.error("set WEBHOOK_SECRET to the subscription's secret (whsec_...)");
  process.exit(2);
}
const key = Buffer.from(secret.slice("whsec_".length), "base64");

// Returns null when the delivery is genuine and fresh, or why it is not.
function check(headers, body) {
  const id = headers["webhook-id"];
  const timestamp = headers["webhook-timestamp"];
  const signatures = headers["webhook-signature"];
  if (!id || !timestamp || !signatures) return "missing webhook-id, webhook-timestamp or webhook-signature";
  if (!/^[0-9]+$/.test(timestamp)) return "webhook-timestamp is not whole seconds";
  const skew = Math.abs(Math.floor(Date.now() / 1000) - Number(timestamp));
  if (skew > TOLERANCE_SECONDS) return `webhook-timestamp is ${skew} s away from this clock`;
  const expected = createHmac("sha256", key).update(`${id}.${timestamp}.`).update(body).digest();
  for (const versioned of signatures.split(" ")) {
    const [version, signature] = versioned.split(",");
    if (version !== "v1" || !signature) continue;
    const given = Buffer.from(signature, "base64");
    if (given.length === expected.length && timingSafeEqual(given, expected)) return null;
  }
  return "no signature matches";
}

// The ids already processed, oldest first; a Map keeps insertion order.
const seen = new Map();
function remember(id) {
  seen.set(id, Date.now());
  if (seen.size > REMEMBERED_IDS) seen.delete(seen.keys().next().value);
}

const server = http.createServer((request, response) => {
  if (request.method !== "POST") {
    response.writeHead(405, { allow: "POST" }).end();
    return;
  }
  const chunks = [];
  request.on("data", (chunk) => chunks.push(chunk));
  request.on("end", () => {
    const body = Buffer.concat(chunks);
    const problem = check(request.headers, body);
    const id = request.headers["webhook-id"];
    if (problem) {
      console.log(`refused ${id ?? "(no id)"}: ${problem}`);
      response.writeHead(401, { "content-type": "text/plain" }).end(`${problem}\n`);
      return;
    }
    if (seen.has(id)) {
      console.log(`duplicate ${id}: already processed`);
      response.writeHead(200).end();
      return;
    }
    let event;
    try {
      event = JSON.parse(body.toString("utf8"));
    } catch {
      response.writeHead(400, { "content-type": "text/plain" }).end("body is not JSON\n");
      return;
    }
    remember(id);
    console.log(`${id} ${event.type} at ${event.timestamp}: ${JSON.stringify(event.data)}`);
    response.writeHead(204).end();
  });
});

const host = option("host", "127.0.0.1");
const port = Number(option("port", "8091"));
server.listen(port, host, () => console.log(`consumer: listening on http://${host}:${server.address().port}/`));
