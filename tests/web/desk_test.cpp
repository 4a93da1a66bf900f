// Issue 27, the desk essentials, through the real server over a real socket: the first run (the
// demo's sign-in, where leads land, display names, mail to a loopback relay, undeliverable mail in
// /healthz) and staff administration (the API and the console: people, tokens, teams, a leaver's
// hand-over, a deactivated token refused at once).
#include <regex>

#include "adapters/peers.h"
#include "tests/web/console_session.h"
#include "tests/web/support.h"
#include "web/pages/html.h"

namespace redress::webtest::desk {

namespace {

const std::string kPassword = "correct horse battery staple";

std::vector<std::string> field_names(const json::value& problem) {
  std::vector<std::string> names;
  if (const auto* errors = problem.as_object().if_contains("fields"))
    for (const auto& e : errors->as_array()) names.push_back(string_at(e, "field"));
  return names;
}

HttpResponse patch(Client& client, const std::string& target, const json::object& body) {
  return client.call("PATCH", target, json::serialize(body), {{"Content-Type", "application/json"}});
}

// A new staff member over the API, with a password and a token; returns {id, token}.
std::pair<std::string, std::string> hire(Client& admin, const std::string& name, const std::string& email,
                                         const std::string& role, const std::string& team) {
  auto added = admin.post("/v1/staff", json::object{{"name", name},
                                                   {"email", email},
                                                   {"role", role},
                                                   {"team", team},
                                                   {"password", kPassword}});
  INFO(added.describe());
  REQUIRE(added.status == 201);
  std::string id = string_at(added.json(), "id");
  auto token = admin.post("/v1/staff/" + id + "/tokens", json::object{{"label", "laptop"}});
  INFO(token.describe());
  REQUIRE(token.status == 201);
  return {id, string_at(token.json(), "token")};
}

}  // namespace

TEST_CASE("desk: leads and above land on the review board after signing in - agents on their cases",
          "[web][desk][pages]") {
  RedressServer server;
  for (const std::string role : {"agent", "lead", "manager", "admin"}) server.set_password(role, kPassword);
  Client client(server.port());
  for (const auto& [role, landing] : std::vector<std::pair<std::string, std::string>>{
           {"agent", "/staff"}, {"lead", "/staff/board"}, {"manager", "/staff/board"}, {"admin", "/staff/board"}}) {
    CookieJar jar;
    auto answer = sign_in(client, jar, role + "@example.org", kPassword);
    INFO(role << ": " << answer.describe());
    CHECK(answer.status == 303);
    CHECK(answer.header("location") == landing);
    CHECK(client.get(landing, jar.header()).status == 200);
  }
  // A page asked for before signing in is where anyone lands.
  CookieJar jar;
  auto form = client.get("/staff/login?next=/staff/queue");
  jar.take(form);
  auto answer = client.post("/staff/login",
                            form_encode({{"csrf", hidden(form.body, "csrf")},
                                    {"next", "/staff/queue"},
                                    {"email", "manager@example.org"},
                                    {"password", kPassword}}),
                            form_type() + jar.header());
  CHECK(answer.header("location") == "/staff/queue");
}

TEST_CASE("desk: categories and touchpoints show their display names from the workflow files",
          "[web][desk][pages]") {
  RedressServer server;
  server.set_password("manager", kPassword);
  Client agent(server.port(), server.token("agent"));
  json::object body = new_case_body("Charged twice for one order");
  body["category"] = "product_quality";
  body["touchpoint"] = "phone_contact";
  auto created = agent.post("/v1/cases", json::value(body));
  REQUIRE(created.status == 201);
  const std::string reference = string_at(created.json(), "reference");
  // The API keeps the ids.
  CHECK(string_at(created.json(), "category") == "product_quality");

  Client client(server.port());
  CookieJar jar;
  REQUIRE(sign_in(client, jar, "manager@example.org", kPassword).status == 303);
  auto page = client.get("/staff/cases/" + reference, jar.header());
  REQUIRE(page.status == 200);
  CHECK(page.body.find("category Product quality") != std::string::npos);
  CHECK(page.body.find("touchpoint On the phone") != std::string::npos);
  CHECK(page.body.find("category product_quality") == std::string::npos);
  CHECK(page.body.find("touchpoint phone_contact") == std::string::npos);
  // The board's trends and the forms' options.
  auto board = client.get("/staff/board", jar.header());
  REQUIRE(board.status == 200);
  CHECK(board.body.find("On the phone") != std::string::npos);
  CHECK(board.body.find(">phone_contact<") == std::string::npos);
  auto form = client.get("/staff/new", jar.header());
  CHECK(form.body.find(">Billing and payments<") != std::string::npos);
  CHECK(form.body.find(">In one of our shops or offices<") != std::string::npos);
}

TEST_CASE("desk: mail to a relay on loopback goes out without STARTTLS by default", "[web][desk][smtp]") {
  TempDir scratch;
  redress::peers::CaptureServer smtp(scratch.path());  // offers no STARTTLS
  ServerSetup setup;
  setup.config = {"smtp_url = \"" + smtp.url() + "\"", "mail_from = \"complaints@acme.example\""};
  RedressServer server(setup);
  Client agent(server.port(), server.token("agent"));
  auto created = agent.post("/v1/cases", json::value(new_case_body("Loopback relay", "lena@example.net")));
  REQUIRE(created.status == 201);
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (smtp.messages().empty()) {
    if (std::chrono::steady_clock::now() > deadline) FAIL("no mail within 60 s: " << server.log());
    std::this_thread::sleep_for(50ms);
  }
  CHECK(server.log().find("STARTTLS required") == std::string::npos);
  auto health = Client(server.port()).get("/healthz");
  CHECK(string_at(health.json(), "status") == "ok");
  CHECK(string_at(health.json().at("mail"), "status") == "ok");
}

TEST_CASE("desk: undeliverable mail is a warning in the log and a degraded /healthz", "[web][desk][smtp]") {
  // A loopback port nobody listens on: the relay cannot be reached.
  unsigned short closed = 0;
  {
    TempDir scratch;
    redress::peers::CaptureServer probe(scratch.path());
    closed = static_cast<unsigned short>(std::stoi(probe.url().substr(probe.url().rfind(':') + 1)));
  }
  ServerSetup setup;
  setup.config = {"smtp_url = \"smtp://127.0.0.1:" + std::to_string(closed) + "\"",
                  "mail_from = \"complaints@acme.example\""};
  RedressServer server(setup);
  Client client(server.port());
  CHECK(string_at(client.get("/healthz").json(), "status") == "ok");
  Client agent(server.port(), server.token("agent"));
  REQUIRE(agent.post("/v1/cases", json::value(new_case_body("Nobody home", "nobody@example.net"))).status == 201);
  auto deadline = std::chrono::steady_clock::now() + 60s;
  json::value health;
  for (;;) {
    health = client.get("/healthz").json();
    if (string_at(health, "status") == "degraded") break;
    if (std::chrono::steady_clock::now() > deadline) FAIL("/healthz never degraded: " << json::serialize(health));
    std::this_thread::sleep_for(100ms);
  }
  CHECK(string_at(health.at("mail"), "status") == "failing");
  CHECK(!string_at(health.at("mail"), "detail").empty());
  std::regex warning(" warning outbox: mail n-[0-9]+ .* not delivered");
  CHECK(std::regex_search(server.log(), warning));
}

TEST_CASE("desk: the demo prints how to sign in, and a manager signs in with it", "[web][desk][demo]") {
  RedressServer server;
  auto demo = server.run({"demo", "--cases", "40", "--quiet"});
  INFO(demo.output);
  REQUIRE(demo.status == 0);
  std::smatch m;
  std::regex line("manager +([a-z.]+@redress\\.example) +([A-Za-z0-9_-]{16})");
  REQUIRE(std::regex_search(demo.output, m, line));
  for (const std::string role : {"admin ", "lead ", "agent "})
    CHECK(std::regex_search(demo.output, std::regex("  " + role + " *[a-z.]+@redress\\.example +[A-Za-z0-9_-]{16}")));
  Client client(server.port());
  CookieJar jar;
  auto answer = sign_in(client, jar, m[1], m[2]);
  INFO(answer.describe());
  CHECK(answer.status == 303);
  CHECK(answer.header("location") == "/staff/board");
  auto board = client.get("/staff/board", jar.header());
  CHECK(board.status == 200);
}

TEST_CASE("desk: admins list, add and change staff over the API - teams list members and leads - others may not",
          "[web][desk][staff]") {
  RedressServer server;
  Client admin(server.port(), server.token("admin"));
  Client lead(server.port(), server.token("lead"));
  CHECK(lead.get("/v1/staff").status == 403);
  CHECK(lead.post("/v1/staff", json::object{{"name", "X"}, {"email", "x@example.org"}, {"role", "agent"}}).status ==
        403);

  auto listed = admin.get("/v1/staff");
  REQUIRE(listed.status == 200);
  CHECK(listed.json().at("items").as_array().size() == staff_roles().size());

  // Bad input names every field and adds nobody.
  auto bad = admin.post("/v1/staff", json::object{{"name", ""}, {"email", "not-an-email"}, {"role", "boss"},
                                                  {"password", "short"}, {"shoe_size", 9}});
  INFO(bad.describe());
  CHECK(bad.status == 422);
  CHECK(bad.header("content-type") == "application/problem+json");
  auto names = field_names(bad.json());
  for (const char* field : {"name", "email", "role", "password", "shoe_size"})
    CHECK(std::find(names.begin(), names.end(), field) != names.end());
  CHECK(admin.get("/v1/staff").json().at("items").as_array().size() == staff_roles().size());

  auto [id, token] = hire(admin, "Rosa Diaz", "rosa@example.org", "agent", "customer-care");
  CHECK(admin.post("/v1/staff", json::object{{"name", "Rosa Two"}, {"email", "ROSA@example.org"}, {"role", "agent"}})
            .status == 409);
  Client rosa(server.port(), token);
  CHECK(rosa.get("/v1/cases").status == 200);

  auto changed = patch(admin, "/v1/staff/" + id, json::object{{"name", "Rosa Díaz"}, {"role", "lead"}, {"team", "billing-desk"}});
  INFO(changed.describe());
  REQUIRE(changed.status == 200);
  CHECK(string_at(changed.json(), "name") == "Rosa Díaz");
  CHECK(string_at(changed.json(), "role") == "lead");
  CHECK(patch(admin, "/v1/staff/" + id, json::object{{"email", "agent@example.org"}}).status == 409);
  CHECK(patch(admin, "/v1/staff/u-9999", json::object{{"name", "Nobody"}}).status == 404);
  // The new role counts at once on this node: a lead may read the reports.
  CHECK(rosa.get("/v1/reports/overdue").status == 200);
  // An admin cannot lock themselves out.
  CHECK(patch(admin, "/v1/staff/" + server.staff_id("admin"), json::object{{"active", false}}).status == 403);

  auto teams = admin.get("/v1/teams");
  REQUIRE(teams.status == 200);
  bool found = false;
  const json::value team_list = teams.json();
  for (const auto& t : team_list.at("items").as_array()) {
    if (string_at(t, "team") != "billing-desk") continue;
    found = true;
    CHECK(t.at("members").as_array().size() == 1);
    REQUIRE(t.at("leads").as_array().size() == 1);
    CHECK(string_at(t.at("leads").as_array()[0], "id") == id);
  }
  CHECK(found);
}

TEST_CASE("desk: a leaver's open cases are handed over with a note, then their token and session stop at once",
          "[web][desk][staff]") {
  RedressServer server;
  Client admin(server.port(), server.token("admin"));
  auto [leaver, token] = hire(admin, "Leo Leaver", "leo@example.org", "agent", "customer-care");
  Client leo(server.port(), token);
  std::vector<std::string> references;
  for (const char* subject : {"First of Leo's", "Second of Leo's"}) {
    auto created = leo.post("/v1/cases", json::value(new_case_body(subject)));
    REQUIRE(created.status == 201);
    std::string reference = string_at(created.json(), "reference");
    for (const char* action : {"acknowledge", "take"}) {
      auto acted = leo.post("/v1/cases/" + reference + "/actions", json::object{{"action", action}});
      INFO(acted.describe());
      REQUIRE(acted.status == 200);
    }
    references.push_back(reference);
  }
  Client browser(server.port());
  CookieJar jar;
  REQUIRE(sign_in(browser, jar, "leo@example.org", kPassword).status == 303);
  REQUIRE(browser.get("/staff", jar.header()).status == 200);

  // Without a colleague named, nothing changes.
  auto refused = patch(admin, "/v1/staff/" + leaver, json::object{{"active", false}});
  INFO(refused.describe());
  CHECK(refused.status == 422);
  CHECK(field_names(refused.json()) == std::vector<std::string>{"hand_over_to"});
  CHECK(refused.json().at("detail").as_string().find("2 open cases") != std::string::npos);
  CHECK(leo.get("/v1/cases").status == 200);
  // Nor with a colleague who cannot take cases.
  CHECK(patch(admin, "/v1/staff/" + leaver,
              json::object{{"active", false}, {"hand_over_to", server.staff_id("intake")}})
            .status == 422);

  const std::string colleague = server.staff_id("agent");
  auto left = patch(admin, "/v1/staff/" + leaver,
                    json::object{{"active", false},
                                 {"hand_over_to", colleague},
                                 {"handover_note", "Leo has left; both clients prefer email."}});
  INFO(left.describe());
  REQUIRE(left.status == 200);
  CHECK(left.json().at("active").as_bool() == false);
  CHECK(string_at(left.json().at("handed_over"), "to") == colleague);
  CHECK(left.json().at("handed_over").at("cases").as_array().size() == 2);

  // At once: the token is refused, the session is gone, and signing in fails.
  CHECK(leo.get("/v1/cases").status == 401);
  auto after = browser.get("/staff", jar.header());
  CHECK(after.status == 303);
  CHECK(after.header("location").rfind("/staff/login", 0) == 0);
  CookieJar again;
  CHECK(sign_in(browser, again, "leo@example.org", kPassword).status == 401);

  Client agent(server.port(), server.token("agent"));
  for (const auto& reference : references) {
    auto c = agent.get("/v1/cases/" + reference);
    REQUIRE(c.status == 200);
    CHECK(string_at(c.json().at("owner"), "id") == colleague);
    auto events = agent.get("/v1/cases/" + reference + "/events");
    CHECK(events.body.find("Leo has left; both clients prefer email.") != std::string::npos);
  }
  auto tokens = admin.get("/v1/staff/" + leaver + "/tokens");
  REQUIRE(tokens.status == 200);
  const json::value token_list = tokens.json();
  for (const auto& t : token_list.at("items").as_array()) CHECK(t.at("active").as_bool() == false);

  // Reactivated: they sign in again with a new password; the old token stays revoked.
  REQUIRE(patch(admin, "/v1/staff/" + leaver, json::object{{"active", true}}).status == 200);
  CHECK(leo.get("/v1/cases").status == 401);
  auto reset = admin.post("/v1/staff/" + leaver + "/password", json::object{});
  REQUIRE(reset.status == 200);
  std::string password = string_at(reset.json(), "password");
  CHECK(password.size() >= 10);
  CookieJar back;
  CHECK(sign_in(browser, back, "leo@example.org", password).status == 303);
}

TEST_CASE("desk: a leaver's cases go back to their team queues where the lifecycle allows, the rest to the team's lead",
          "[web][desk][staff]") {
  RedressServer server;
  server.set_password("admin", kPassword);
  Client admin(server.port(), server.token("admin"));
  auto [leaver, token] = hire(admin, "Leo Leaver", "leo@example.org", "agent", "customer-care");
  Client leo(server.port(), token);
  // Three retail cases of Leo's: one received, one acknowledged, one under investigation.
  auto open_case = [&](const std::string& subject, std::vector<const char*> actions) {
    auto created = leo.post("/v1/cases", json::value(new_case_body(subject)));
    REQUIRE(created.status == 201);
    std::string reference = string_at(created.json(), "reference");
    for (const char* action : actions) {
      auto acted = leo.post("/v1/cases/" + reference + "/actions", json::object{{"action", action}});
      INFO(acted.describe());
      REQUIRE(acted.status == 200);
    }
    return reference;
  };
  const std::string received = open_case("Received, Leo's", {"take"});
  const std::string acknowledged = open_case("Acknowledged, Leo's", {"acknowledge", "take"});
  const std::string investigating = open_case("Investigated, Leo's", {"acknowledge", "take", "start"});

  // The case under investigation cannot wait unowned, and customer-care has no lead yet: refused,
  // and nothing changes.
  const json::object to_queue{{"active", false},
                              {"hand_over_to", "team_queue"},
                              {"handover_note", "Leo has left; the team takes his cases back."}};
  auto refused = patch(admin, "/v1/staff/" + leaver, to_queue);
  INFO(refused.describe());
  CHECK(refused.status == 422);
  CHECK(field_names(refused.json()) == std::vector<std::string>{"hand_over_to"});
  CHECK(refused.json().at("detail").as_string().find(investigating) != std::string::npos);
  CHECK(leo.get("/v1/cases").status == 200);
  for (const auto& reference : {received, acknowledged, investigating})
    CHECK(string_at(leo.get("/v1/cases/" + reference).json().at("owner"), "id") == leaver);

  // With a lead in the team, the hand-over goes through, and the answer says which went where.
  auto [lead, lead_token] = hire(admin, "Grace Lead", "grace@example.org", "lead", "customer-care");
  auto left = patch(admin, "/v1/staff/" + leaver, to_queue);
  INFO(left.describe());
  REQUIRE(left.status == 200);
  const json::value answer = left.json();
  CHECK(string_at(answer.at("handed_over"), "to") == "team_queue");
  std::map<std::string, std::string> went;
  for (const auto& one : answer.at("handed_over").at("where").as_array()) {
    went[string_at(one, "reference")] = string_at(one, "to");
    CHECK(string_at(one, "team") == "customer-care");
    if (string_at(one, "to") == "team_queue") CHECK(one.at("owner").is_null());
  }
  CHECK(went == std::map<std::string, std::string>{
                    {received, "team_queue"}, {acknowledged, "team_queue"}, {investigating, lead}});
  CHECK(leo.get("/v1/cases").status == 401);

  Client agent(server.port(), server.token("agent"));
  for (const auto& reference : {received, acknowledged}) {
    auto c = agent.get("/v1/cases/" + reference);
    REQUIRE(c.status == 200);
    INFO(c.body);
    const json::value view = c.json();
    const json::value* owner = view.as_object().if_contains("owner");
    CHECK((owner == nullptr || owner->is_null()));
    auto events = agent.get("/v1/cases/" + reference + "/events");
    CHECK(events.body.find("\"via\":\"return_to_queue\"") != std::string::npos);
    CHECK(events.body.find("Leo has left; the team takes his cases back.") != std::string::npos);
    // Back in the queue, anyone of the team may take it again.
    CHECK(agent.post("/v1/cases/" + reference + "/actions", json::object{{"action", "take"}}).status == 200);
  }
  CHECK(string_at(agent.get("/v1/cases/" + investigating).json().at("owner"), "id") == lead);

  // The lifecycle's own rule, over the API: an owner returns an acknowledged case with a note, not
  // one under investigation, and never without a note.
  Client grace(server.port(), lead_token);
  auto graces = grace.post("/v1/cases", json::value(new_case_body("Grace's")));
  REQUIRE(graces.status == 201);
  const std::string mine = string_at(graces.json(), "reference");
  REQUIRE(grace.post("/v1/cases/" + mine + "/actions", json::object{{"action", "take"}}).status == 200);
  auto no_note = grace.post("/v1/cases/" + mine + "/actions", json::object{{"action", "return_to_queue"}});
  CHECK(no_note.status == 422);
  auto back = grace.post("/v1/cases/" + mine + "/actions",
                         json::object{{"action", "return_to_queue"}, {"note", "Wrong team member; back to the queue."}});
  INFO(back.describe());
  CHECK(back.status == 200);
  auto not_now = grace.post("/v1/cases/" + investigating + "/actions",
                            json::object{{"action", "return_to_queue"}, {"note", "Too late for that."}});
  CHECK(not_now.status == 409);

  // The console: a leaver with one acknowledged case, back to the queue through the form.
  auto [second, second_token] = hire(admin, "Sid Second", "sid@example.org", "agent", "customer-care");
  Client sid(server.port(), second_token);
  auto sid_case = sid.post("/v1/cases", json::value(new_case_body("Sid's only case")));
  REQUIRE(sid_case.status == 201);
  const std::string sids = string_at(sid_case.json(), "reference");
  for (const char* action : {"acknowledge", "take"})
    REQUIRE(sid.post("/v1/cases/" + sids + "/actions", json::object{{"action", action}}).status == 200);
  Client browser(server.port());
  CookieJar jar;
  REQUIRE(sign_in(browser, jar, "admin@example.org", kPassword).status == 303);
  auto page = browser.get("/staff/admin/staff/" + second, jar.header());
  REQUIRE(page.status == 200);
  CHECK(page.body.find("<option value=\"team_queue\">Back to the team queue</option>") != std::string::npos);
  auto deactivated = post_form(browser, jar, "/staff/admin/staff/" + second, page.body,
                               {{"op", "deactivate"}, {"hand_over_to", "team_queue"},
                                {"handover_note", "Sid has left."}});
  INFO(deactivated.describe());
  REQUIRE(deactivated.status == 303);
  auto shown = browser.get(deactivated.header("location"), jar.header());
  CHECK(shown.body.find(sids + " back to the customer-care team&#39;s queue") != std::string::npos);
  auto queue = browser.get("/staff/queue", jar.header());
  CHECK(queue.body.find(sids) != std::string::npos);
}

TEST_CASE("desk: tokens are listed and revoked - a revoked token is refused at once", "[web][desk][staff]") {
  RedressServer server;
  Client admin(server.port(), server.token("admin"));
  auto [id, token] = hire(admin, "Tia Token", "tia@example.org", "agent", "");
  Client tia(server.port(), token);
  REQUIRE(tia.get("/v1/cases").status == 200);  // cached by this node now
  auto tokens = admin.get("/v1/staff/" + id + "/tokens");
  REQUIRE(tokens.status == 200);
  const json::value token_list = tokens.json();
  const auto& items = token_list.at("items").as_array();
  REQUIRE(items.size() == 1);
  CHECK(string_at(items[0], "label") == "laptop");
  CHECK(items[0].as_object().if_contains("token") == nullptr);  // never the token itself
  std::string token_id = string_at(items[0], "id");
  auto revoked = admin.call("DELETE", "/v1/tokens/" + token_id);
  INFO(revoked.describe());
  REQUIRE(revoked.status == 200);
  CHECK(revoked.json().at("active").as_bool() == false);
  CHECK(tia.get("/v1/cases").status == 401);
  CHECK(admin.call("DELETE", "/v1/tokens/t-0000000000000000").status == 404);
  CHECK(admin.call("DELETE", "/v1/tokens/nonsense").status == 404);
  CHECK(Client(server.port(), server.token("manager")).call("DELETE", "/v1/tokens/" + token_id).status == 403);
}

TEST_CASE("desk: the console's staff pages add a person, keep what was typed on a refusal, and hand a leaver over",
          "[web][desk][staff][pages]") {
  RedressServer server;
  server.set_password("admin", kPassword);
  server.set_password("manager", kPassword);
  Client browser(server.port());
  CookieJar manager;
  REQUIRE(sign_in(browser, manager, "manager@example.org", kPassword).status == 303);
  CHECK(browser.get("/staff/admin/staff", manager.header()).status == 403);
  CHECK(browser.get("/staff/board", manager.header()).body.find("/staff/admin/staff") == std::string::npos);

  CookieJar jar;
  REQUIRE(sign_in(browser, jar, "admin@example.org", kPassword).status == 303);
  auto list = browser.get("/staff/admin/staff", jar.header());
  REQUIRE(list.status == 200);
  CHECK(list.body.find("agent@example.org") != std::string::npos);
  CHECK(list.body.find("customer-care") != std::string::npos);  // a team of the workflows

  auto refused = post_form(browser, jar, "/staff/admin/staff", list.body,
                           {{"name", "Nia <b>Typed</b>"}, {"email", "nia-at-example"}, {"role", "agent"}});
  CHECK(refused.status == 422);
  CHECK(refused.body.find("Nia &lt;b&gt;Typed&lt;/b&gt;") != std::string::npos);
  CHECK(refused.body.find("must be an email address") != std::string::npos);

  auto added = post_form(browser, jar, "/staff/admin/staff", list.body,
                         {{"name", "Nia Newman"}, {"email", "nia@example.org"}, {"role", "agent"},
                          {"team", "customer-care"}, {"password", kPassword}});
  INFO(added.describe());
  REQUIRE(added.status == 303);
  std::string person = added.header("location");
  person = person.substr(0, person.find('?'));
  auto page = browser.get(person, jar.header());
  REQUIRE(page.status == 200);
  CHECK(page.body.find("Nia Newman") != std::string::npos);

  // Nia takes a case, then leaves; the form names the colleague.
  Client admin(server.port(), server.token("admin"));
  const std::string nia = person.substr(person.rfind('/') + 1);
  auto token = admin.post("/v1/staff/" + nia + "/tokens", json::object{});
  REQUIRE(token.status == 201);
  Client nia_api(server.port(), string_at(token.json(), "token"));
  auto created = nia_api.post("/v1/cases", json::value(new_case_body("Nia's case")));
  REQUIRE(created.status == 201);
  const std::string reference = string_at(created.json(), "reference");
  REQUIRE(nia_api.post("/v1/cases/" + reference + "/actions", json::object{{"action", "acknowledge"}}).status == 200);
  REQUIRE(nia_api.post("/v1/cases/" + reference + "/actions", json::object{{"action", "take"}}).status == 200);

  page = browser.get(person, jar.header());
  auto no_colleague = post_form(browser, jar, person, page.body, {{"op", "deactivate"}, {"handover_note", "kept text"}});
  CHECK(no_colleague.status == 422);
  CHECK(no_colleague.body.find("kept text") != std::string::npos);
  auto left = post_form(browser, jar, person, page.body,
                        {{"op", "deactivate"}, {"hand_over_to", server.staff_id("agent")}, {"handover_note", "Over to you."}});
  INFO(left.describe());
  REQUIRE(left.status == 303);
  CHECK(nia_api.get("/v1/cases").status == 401);
  auto c = admin.get("/v1/cases/" + reference);
  CHECK(string_at(c.json().at("owner"), "id") == server.staff_id("agent"));
  page = browser.get(left.header("location"), jar.header());
  CHECK(page.body.find("deactivated") != std::string::npos);
  CHECK(page.body.find("1 open case handed over") != std::string::npos);
}

}  // namespace redress::webtest::desk

namespace redress::webtest::desk {

TEST_CASE("desk: on a colleague's case an agent may add notes, not take decisions - the console shows only what they may do",
          "[web][desk][rights]") {
  RedressServer server;
  Client admin(server.port(), server.token("admin"));
  auto [other_id, other_token] = hire(admin, "Olga Other", "olga@example.org", "agent", "customer-care");
  Client owner(server.port(), server.token("agent"));
  Client other(server.port(), other_token);
  Client lead(server.port(), server.token("lead"));

  auto created = owner.post("/v1/cases", json::value(new_case_body("Owned by the agent")));
  REQUIRE(created.status == 201);
  const std::string reference = string_at(created.json(), "reference");
  const std::string actions = "/v1/cases/" + reference + "/actions";
  // Unowned: any agent may acknowledge it and take it.
  REQUIRE(other.post(actions, json::object{{"action", "acknowledge"}}).status == 200);
  REQUIRE(owner.post(actions, json::object{{"action", "take"}}).status == 200);

  // Owned by a colleague: decisions are refused with the reason, and nothing is written.
  auto version = owner.get("/v1/cases/" + reference).json().at("version").as_int64();
  for (const json::object& action :
       {json::object{{"action", "escalate"}, {"reason", "I think so"}}, json::object{{"action", "start"}},
        json::object{{"action", "withdraw"}, {"reason", "Client asked"}}}) {
    auto refused = other.post(actions, action);
    INFO(refused.describe());
    CHECK(refused.status == 403);
    CHECK(refused.header("content-type") == "application/problem+json");
    CHECK(refused.json().at("detail").as_string().find("owner") != std::string::npos);
  }
  auto promise = other.post("/v1/cases/" + reference + "/commitments",
                            json::object{{"text", "I will call"}, {"due_in", "P1D"}, {"client_visible", true}});
  CHECK(promise.status == 403);
  CHECK(owner.get("/v1/cases/" + reference).json().at("version").as_int64() == version);
  // Notes and messages are open to every agent.
  auto note = other.post("/v1/cases/" + reference + "/messages",
                         json::object{{"visibility", "internal"}, {"body", "Olga: the client called again."}});
  INFO(note.describe());
  CHECK(note.status == 201);
  // The owner and a lead decide.
  CHECK(owner.post(actions, json::object{{"action", "start"}}).status == 200);
  CHECK(lead.post(actions, json::object{{"action", "escalate"}, {"reason", "Recurring"}}).status == 200);

  // The console: Olga sees the message forms but no decisions; the owner sees them.
  auto password = admin.post("/v1/staff/" + other_id + "/password", json::object{{"password", kPassword}});
  REQUIRE(password.status == 200);
  server.set_password("agent", kPassword);
  Client browser(server.port());
  CookieJar olga, agent;
  REQUIRE(sign_in(browser, olga, "olga@example.org", kPassword).status == 303);
  REQUIRE(sign_in(browser, agent, "agent@example.org", kPassword).status == 303);
  auto seen_by_olga = browser.get("/staff/cases/" + reference, olga.header());
  auto seen_by_owner = browser.get("/staff/cases/" + reference, agent.header());
  REQUIRE(seen_by_olga.status == 200);
  REQUIRE(seen_by_owner.status == 200);
  for (const char* decision : {"value=\"request_info\"", "value=\"withdraw\"", "value=\"make_commitment\""}) {
    INFO(decision);
    CHECK(seen_by_olga.body.find(decision) == std::string::npos);
    CHECK(seen_by_owner.body.find(decision) != std::string::npos);
  }
  CHECK(seen_by_olga.body.find("value=\"add_message\"") != std::string::npos);
  // A decision forced through the form anyway is refused with the reason.
  auto forced = post_form(browser, olga, "/staff/cases/" + reference + "/act", seen_by_olga.body,
                          {{"action", "withdraw"}, {"reason", "forced"}, {"expected_version", hidden(seen_by_olga.body, "expected_version")}});
  CHECK(forced.status == 403);
  CHECK(forced.body.find("other agents may add notes and messages") != std::string::npos);
}

TEST_CASE("desk: a workflow whose [rights] say any_agent lets every agent decide", "[web][desk][rights]") {
  TempDir scratch;
  const fs::path workflows = scratch.path() / "workflows";
  fs::create_directories(workflows);
  for (const auto& entry : fs::directory_iterator(fs::path(REDRESS_SOURCE_DIR) / "workflows"))
    if (entry.path().extension() == ".toml") {
      std::string text = read_text(entry.path());
      if (entry.path().filename() == "retail.toml") {
        auto at = text.find("decisions = \"owner_and_leads\"");
        REQUIRE(at != std::string::npos);
        text.replace(at, std::string("decisions = \"owner_and_leads\"").size(), "decisions = \"any_agent\"");
      }
      write_text(workflows / entry.path().filename(), text);
    }
  ServerSetup setup;
  setup.config = {"workflows = \"" + workflows.string() + "\""};
  RedressServer server(setup);
  Client admin(server.port(), server.token("admin"));
  auto [other_id, other_token] = hire(admin, "Olga Other", "olga@example.org", "agent", "customer-care");
  Client owner(server.port(), server.token("agent"));
  Client other(server.port(), other_token);
  auto created = owner.post("/v1/cases", json::value(new_case_body("Retail, any agent")));
  REQUIRE(created.status == 201);
  const std::string actions = "/v1/cases/" + string_at(created.json(), "reference") + "/actions";
  REQUIRE(owner.post(actions, json::object{{"action", "acknowledge"}}).status == 200);
  REQUIRE(owner.post(actions, json::object{{"action", "take"}}).status == 200);
  auto started = other.post(actions, json::object{{"action", "start"}});
  INFO(started.describe());
  CHECK(started.status == 200);
  // Transferring stays the owner's or a lead's whatever the workflow says.
  CHECK(other.post(actions, json::object{{"action", "transfer"}, {"owner", other_id}, {"note", "mine now"}}).status ==
        403);
}

}  // namespace redress::webtest::desk

namespace redress::webtest::desk {

TEST_CASE("desk: PATCH /v1/cases/{ref} corrects the client's details, subject and description, each an event",
          "[web][desk][corrections]") {
  RedressServer server;
  Client agent(server.port(), server.token("agent"));
  auto created = agent.post("/v1/cases", json::value(new_case_body("Charged twise", "ana@exmaple.org")));
  REQUIRE(created.status == 201);
  const std::string reference = string_at(created.json(), "reference");
  const std::string path = "/v1/cases/" + reference;
  const std::string etag = created.header("etag");
  REQUIRE(!etag.empty());

  // Bad input names every field and changes nothing.
  auto bad = agent.call("PATCH", path,
                        json::serialize(json::object{{"client", json::object{{"email", "ana-at-example"}, {"shoe", 1}}},
                                                     {"subject", "   "},
                                                     {"colour", "red"}}),
                        {{"Content-Type", "application/json"}});
  INFO(bad.describe());
  CHECK(bad.status == 422);
  auto names = field_names(bad.json());
  for (const char* field : {"client.email", "client.shoe", "subject", "colour"})
    CHECK(std::find(names.begin(), names.end(), field) != names.end());
  CHECK(agent.get(path).header("etag") == etag);

  auto fixed = agent.call("PATCH", path,
                          json::serialize(json::object{{"client", json::object{{"name", "Ana Ruiz-Gómez"},
                                                                               {"email", "ana@example.org"},
                                                                               {"phone", "+44 20 7946 0018"},
                                                                               {"locale", "es-ES"}}},
                                                       {"subject", "Charged twice"}}),
                          {{"Content-Type", "application/json"}, {"If-Match", etag}});
  INFO(fixed.describe());
  REQUIRE(fixed.status == 200);
  CHECK(fixed.header("etag") != etag);
  const json::value c = fixed.json();
  CHECK(string_at(c, "subject") == "Charged twice");
  CHECK(string_at(c.at("client"), "name") == "Ana Ruiz-Gómez");
  CHECK(string_at(c.at("client"), "email") == "ana@example.org");
  CHECK(string_at(c.at("client"), "locale") == "es-ES");
  CHECK(string_at(c, "description") == "I was charged twice for one order.");  // not given: unchanged

  auto events = agent.get(path + "/events");
  REQUIRE(events.status == 200);
  std::map<std::string, std::pair<std::string, std::string>> corrected;
  const json::value event_list = events.json();
  for (const auto& e : event_list.at("items").as_array()) {
    if (string_at(e, "type") != "case.corrected") continue;
    const auto& data = e.at("data");
    corrected[string_at(data, "field")] = {string_at(data, "before"), string_at(data, "after")};
  }
  CHECK(corrected.size() == 5);
  CHECK(corrected["subject"] == std::make_pair(std::string("Charged twise"), std::string("Charged twice")));
  CHECK(corrected["client.email"] == std::make_pair(std::string("ana@exmaple.org"), std::string("ana@example.org")));
  CHECK(corrected["client.phone"].first.empty());

  // A stale version is refused and writes nothing; the same values again change nothing (422).
  auto stale = agent.call("PATCH", path, json::serialize(json::object{{"subject", "Another"}}),
                          {{"Content-Type", "application/json"}, {"If-Match", etag}});
  CHECK(stale.status == 412);
  CHECK(agent.call("PATCH", path, json::serialize(json::object{{"subject", "Charged twice"}}),
                   {{"Content-Type", "application/json"}})
            .status == 422);
  // Search finds the case by the corrected name.
  auto found = agent.get("/v1/cases?q=" + web::form_encode("Ruiz-Gómez"));
  REQUIRE(found.status == 200);
  CHECK(found.body.find(reference) != std::string::npos);

  // Owned by the agent: a colleague may not correct it; a lead may.
  REQUIRE(agent.post(path + "/actions", json::object{{"action", "acknowledge"}}).status == 200);
  REQUIRE(agent.post(path + "/actions", json::object{{"action", "take"}}).status == 200);
  Client admin(server.port(), server.token("admin"));
  auto [other_id, other_token] = hire(admin, "Olga Other", "olga@example.org", "agent", "customer-care");
  Client other(server.port(), other_token);
  auto refused = other.call("PATCH", path, json::serialize(json::object{{"subject", "Olga's subject"}}),
                            {{"Content-Type", "application/json"}});
  CHECK(refused.status == 403);
  CHECK(refused.json().at("detail").as_string().find("owner") != std::string::npos);
  Client lead(server.port(), server.token("lead"));
  CHECK(lead.call("PATCH", path, json::serialize(json::object{{"description", "Charged twice for order 1042."}}),
                  {{"Content-Type", "application/json"}})
            .status == 200);
}

TEST_CASE("desk: the console's correction form records each change and keeps what was typed on a refusal",
          "[web][desk][corrections][pages]") {
  RedressServer server;
  server.set_password("agent", kPassword);
  Client agent(server.port(), server.token("agent"));
  auto created = agent.post("/v1/cases", json::value(new_case_body("Damaged <b>parcel</b>", "lee@example.org")));
  REQUIRE(created.status == 201);
  const std::string reference = string_at(created.json(), "reference");
  Client browser(server.port());
  CookieJar jar;
  REQUIRE(sign_in(browser, jar, "agent@example.org", kPassword).status == 303);
  auto page = browser.get("/staff/cases/" + reference, jar.header());
  REQUIRE(page.status == 200);
  REQUIRE(page.body.find("action=\"/staff/cases/" + reference + "/correct\"") != std::string::npos);
  CHECK(page.body.find("value=\"Damaged &lt;b&gt;parcel&lt;/b&gt;\"") != std::string::npos);
  const std::string version = hidden(page.body, "expected_version");
  auto form = [&](const std::string& subject, const std::string& email, const std::string& at_version) {
    return post_form(browser, jar, "/staff/cases/" + reference + "/correct", page.body,
                     {{"expected_version", at_version}, {"name", "Ana Ruiz"}, {"email", email}, {"phone", ""},
                      {"locale", ""}, {"subject", subject}, {"description", "I was charged twice for one order."}});
  };
  auto refused = form("Damaged parcel", "not-an-email", version);
  CHECK(refused.status == 422);
  CHECK(refused.body.find("value=\"not-an-email\"") != std::string::npos);  // what was typed is kept
  auto done = form("Damaged parcel", "lee@example.org", version);
  INFO(done.describe());
  REQUIRE(done.status == 303);
  auto after = browser.get(done.header("location"), jar.header());
  CHECK(after.body.find("Damaged parcel</span>") != std::string::npos);
  CHECK(after.body.find("before: Damaged &lt;b&gt;parcel&lt;/b&gt;") != std::string::npos);
  // The page's version is stale now: refused, the typed subject kept.
  auto stale = form("Typed again", "lee@example.org", version);
  CHECK(stale.status == 412);
  CHECK(stale.body.find("value=\"Typed again\"") != std::string::npos);
}

}  // namespace redress::webtest::desk

namespace redress::webtest::desk {

TEST_CASE("desk: staff record what the client said on the phone, as the client's decision with a note",
          "[web][desk][phone][pages]") {
  RedressServer server;
  server.set_password("agent", kPassword);
  Client agent(server.port(), server.token("agent"));
  auto created = agent.post("/v1/cases", json::value(new_case_body("Refund by phone")));
  REQUIRE(created.status == 201);
  const std::string reference = string_at(created.json(), "reference");
  const std::string actions = "/v1/cases/" + reference + "/actions";
  for (const char* action : {"acknowledge", "take", "start"})
    REQUIRE(agent.post(actions, json::object{{"action", action}}).status == 200);
  auto proposed = agent.post(
      actions, json::object{{"action", "propose_redress"},
                            {"outcome", "upheld"},
                            {"final_response", final_response_text()},
                            {"offers", json::array{json::object{
                                           {"kind", "refund"}, {"amount", "42.50"}, {"currency", "GBP"}, {"text", "The second charge"}}}}});
  INFO(proposed.describe());
  REQUIRE(proposed.status == 200);
  std::string offer;
  const json::value proposed_case = proposed.json();
  for (const auto& r : proposed_case.at("redress").as_array())
    if (string_at(r, "kind") == "refund") offer = string_at(r, "id");
  REQUIRE(!offer.empty());

  Client browser(server.port());
  CookieJar jar;
  REQUIRE(sign_in(browser, jar, "agent@example.org", kPassword).status == 303);
  auto page = browser.get("/staff/cases/" + reference, jar.header());
  REQUIRE(page.status == 200);
  CHECK(page.body.find("value=\"accept_redress:" + offer + "\"") != std::string::npos);
  CHECK(page.body.find("value=\"reject_redress:" + offer + "\"") != std::string::npos);
  const std::string version = hidden(page.body, "expected_version");
  // Turning an offer down needs the client's reason; nothing is recorded without it.
  auto refused = post_form(browser, jar, "/staff/cases/" + reference + "/phone", page.body,
                           {{"expected_version", version}, {"said", "reject_redress:" + offer}, {"reason", ""}});
  CHECK(refused.status == 422);
  auto accepted = post_form(browser, jar, "/staff/cases/" + reference + "/phone", page.body,
                            {{"expected_version", version}, {"said", "accept_redress:" + offer}, {"reason", "Happy with that."}});
  INFO(accepted.describe());
  REQUIRE(accepted.status == 303);
  auto c = agent.get("/v1/cases/" + reference).json();
  bool is_accepted = false;
  for (const auto& r : c.at("redress").as_array())
    if (string_at(r, "id") == offer) is_accepted = string_at(r, "status") == "accepted";
  CHECK(is_accepted);
  auto events = agent.get("/v1/cases/" + reference + "/events").json();
  bool by_client = false;
  for (const auto& e : events.at("items").as_array())
    if (string_at(e, "type") == "redress.accepted") by_client = string_at(e, "actor") == "client";
  CHECK(by_client);
  auto messages = agent.get("/v1/cases/" + reference);
  CHECK(messages.body.find("By phone, the client accepted offer " + offer + "; recorded by Test agent") !=
        std::string::npos);
}

}  // namespace redress::webtest::desk

namespace redress::webtest::desk {

TEST_CASE("desk: a deactivated member's token, a revoked token and a demotion are honoured at once on every node",
          "[web][desk][staff]") {
  RedressServer server;
  TempDir scratch;
  SecondNode other(server, scratch.path() / "node2.log");
  Client admin(server.port(), server.token("admin"));
  auto [id, token] = hire(admin, "Nina Node", "nina@example.org", "agent", "");
  Client on_first(server.port(), token), on_second(other.port(), token);
  REQUIRE(on_first.get("/v1/cases").status == 200);
  REQUIRE(on_second.get("/v1/cases").status == 200);  // the second node remembers the token now
  REQUIRE(on_second.get("/v1/cases").status == 200);
  // A second token of hers, revoked on the first node: refused by the very next request on the second.
  auto issued = admin.post("/v1/staff/" + id + "/tokens", json::object{{"label", "laptop"}});
  REQUIRE(issued.status == 201);
  Client laptop_on_second(other.port(), string_at(issued.json(), "token"));
  REQUIRE(laptop_on_second.get("/v1/cases").status == 200);
  REQUIRE(admin.call("DELETE", "/v1/tokens/" + string_at(issued.json(), "id")).status == 200);
  CHECK(laptop_on_second.get("/v1/cases").status == 401);
  CHECK(on_second.get("/v1/cases").status == 200);  // her other token still works
  // Made a lead on the first node: the second node answers with the new role at once.
  REQUIRE(on_second.get("/v1/reports/overdue").status == 403);
  REQUIRE(patch(admin, "/v1/staff/" + id, json::object{{"role", "lead"}}).status == 200);
  CHECK(on_second.get("/v1/reports/overdue").status == 200);
  // Deactivated on the first node: refused by the next request on both, with no wait.
  REQUIRE(patch(admin, "/v1/staff/" + id, json::object{{"active", false}}).status == 200);
  CHECK(on_first.get("/v1/cases").status == 401);
  CHECK(on_second.get("/v1/cases").status == 401);
  // The other members' tokens still work on both nodes (forgotten look-ups are looked up again).
  Client agent_on_second(other.port(), server.token("agent"));
  CHECK(agent_on_second.get("/v1/cases").status == 200);
}

}  // namespace redress::webtest::desk

namespace redress::webtest::desk {

TEST_CASE("desk: the console re-assesses severity and category, offered by their display names", "[web][desk][pages]") {
  RedressServer server;
  server.set_password("agent", kPassword);
  Client agent(server.port(), server.token("agent"));
  auto created = agent.post("/v1/cases", json::value(new_case_body("Late parcel")));
  REQUIRE(created.status == 201);
  const std::string reference = string_at(created.json(), "reference");
  for (const char* action : {"acknowledge", "take"})
    REQUIRE(agent.post("/v1/cases/" + reference + "/actions", json::object{{"action", action}}).status == 200);
  Client browser(server.port());
  CookieJar jar;
  REQUIRE(sign_in(browser, jar, "agent@example.org", kPassword).status == 303);
  auto page = browser.get("/staff/cases/" + reference, jar.header());
  REQUIRE(page.status == 200);
  CHECK(page.body.find("<option value=\"billing\" selected>Billing and payments</option>") != std::string::npos);
  auto assessed = post_form(browser, jar, "/staff/cases/" + reference + "/act", page.body,
                            {{"expected_version", hidden(page.body, "expected_version")},
                             {"action", "assess"},
                             {"severity", "high"},
                             {"category", "delivery"},
                             {"note", "It is about the courier, not the bill."}});
  INFO(assessed.describe());
  REQUIRE(assessed.status == 303);
  auto c = agent.get("/v1/cases/" + reference).json();
  CHECK(string_at(c, "category") == "delivery");
  CHECK(string_at(c, "severity") == "high");
  CHECK(browser.get("/staff/cases/" + reference, jar.header()).body.find("category Delivery") != std::string::npos);
}

}  // namespace redress::webtest::desk
