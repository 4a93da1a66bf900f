// The v1 API through a real socket: the real `redress serve` on an ephemeral loopback port.
// Who may call what (one table for every route in web/api.cpp), client links, the lifecycle with
// ETag/If-Match, idempotency, pagination, intake hooks, web hook subscriptions, the manual clock.
#include "web/support.h"

#include <functional>
#include <regex>
#include <set>

using namespace redress::webtest;

namespace {

const std::string kBase = "/v1/cases/";

std::string unique_id(const std::string& prefix);

// A server with helpers to put cases into the states a test needs, as the agent.
struct World {
  RedressServer& server;
  Client agent;
  Client admin;
  Client anonymous;

  // Who the role table calls as now ("anonymous", "agent"...): a route whose resource is its
  // caller's own (a saved view) is prepared for them.
  std::string caller;

  explicit World(RedressServer& s)
      : server(s), agent(s.port(), s.token("agent")), admin(s.port(), s.token("admin")), anonymous(s.port()) {}

  struct Made {
    std::string ref;
    std::string link;  // the client's token
  };

  Made new_case(const std::string& subject = "Charged twice") {
    json::value body = create_case(agent, subject);
    return Made{string_at(body, "reference"), link_token(string_at(body, "client_url"))};
  }

  // A message with one file on `ref`, sent by the agent as multipart/form-data; its id.
  std::string message_with_file(const std::string& ref, const std::string& visibility) {
    const std::string boundary = "role-table-boundary";
    std::string body = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"body\"\r\n\r\nsee attached\r\n--" +
                       boundary + "\r\nContent-Disposition: form-data; name=\"visibility\"\r\n\r\n" + visibility +
                       "\r\n--" + boundary +
                       "\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a.txt\"\r\nContent-Type: "
                       "text/plain\r\n\r\nfile\r\n--" +
                       boundary + "--\r\n";
    HttpResponse r =
        agent.post(kBase + ref + "/messages", body, {{"Content-Type", "multipart/form-data; boundary=" + boundary}});
    INFO(r.describe());
    REQUIRE(r.status == 201);
    return string_at(r.json(), "id");
  }

  json::value act(const std::string& ref, json::object action) {
    HttpResponse r = agent.post(kBase + ref + "/actions", json::value(std::move(action)));
    INFO(ref << ": " << r.describe());
    REQUIRE(r.status == 200);
    return r.json();
  }

  json::value get_case(const std::string& ref) {
    HttpResponse r = admin.get(kBase + ref);
    INFO(r.describe());
    REQUIRE(r.status == 200);
    return r.json();
  }

  std::int64_t version(const std::string& ref) {
    json::value v = get_case(ref);
    REQUIRE(v.at("version").is_int64());
    return v.at("version").get_int64();
  }

  // The open supply-restoration pledge of a new power cut (energy-network): it owes automatic
  // compensation, so it may be exempted.
  std::string compensated_pledge(std::string& ref) {
    json::object body = new_case_body("No power");
    body["workflow"] = "energy-network";
    body["category"] = "power_cut";
    HttpResponse r = agent.post("/v1/cases", json::value(body));
    REQUIRE(r.status == 201);
    const json::value created = r.json();
    ref = string_at(created, "reference");
    for (const auto& k : created.at("commitments").as_array())
      if (string_at(k, "pledge").find("/supply_restoration#") != std::string::npos) return string_at(k, "id");
    FAIL("no supply restoration pledge");
    return {};
  }

  Made investigating() {
    Made m = new_case();
    act(m.ref, {{"action", "acknowledge"}});
    act(m.ref, {{"action", "take"}});
    act(m.ref, {{"action", "start"}});
    return m;
  }

  // Proposes a refund on an investigating case; the offer's id.
  std::string propose(const std::string& ref) {
    json::value c = act(ref, {{"action", "propose_redress"},
                              {"outcome", "upheld"},
                              {"final_response", final_response_text()},
                              {"offers", json::array{json::object{{"kind", "refund"},
                                                                  {"amount", "25.00"},
                                                                  {"currency", "GBP"},
                                                                  {"text", "A refund of the second charge"}}}}});
    REQUIRE(string_at(c, "status") == "redress_proposed");
    for (const auto& r : c.at("redress").as_array())
      if (string_at(r, "status") == "proposed") return string_at(r, "id");
    FAIL("no proposed offer in " << json::serialize(c));
    return {};
  }

  struct Proposed {
    Made made;
    std::string offer;
  };
  Proposed proposed() {
    Made m = investigating();
    return Proposed{m, propose(m.ref)};
  }

  // Resolved by the client's acceptance of a refund that is not yet paid.
  Proposed resolved() {
    Proposed p = proposed();
    HttpResponse r =
        anonymous.post("/v1/client/" + p.made.link + "/redress/" + p.offer + "/accept", json::value(json::object{}));
    INFO(r.describe());
    REQUIRE(r.status == 200);
    REQUIRE(string_at(get_case(p.made.ref), "status") == "resolved");
    return p;
  }

  // A promise on the case; its id.
  std::string promise(const std::string& ref) {
    HttpResponse r = agent.post(
        kBase + ref + "/commitments",
        json::value(json::object{{"text", "We will call you back"}, {"due_in", "P2D"}, {"client_visible", true}}));
    INFO(r.describe());
    REQUIRE(r.status == 201);
    std::string id = string_at(r.json(), "id");
    REQUIRE(!id.empty());
    return id;
  }

  // A promise due in a second, once the scheduler has broken it (on the system clock).
  std::string broken_promise(const std::string& ref) {
    HttpResponse r = agent.post(
        kBase + ref + "/commitments",
        json::value(json::object{{"text", "We will call you back"}, {"due_in", "PT1S"}, {"client_visible", true}}));
    INFO(r.describe());
    REQUIRE(r.status == 201);
    std::string id = string_at(r.json(), "id");
    for (int i = 0; i < 200; ++i) {
      HttpResponse list = agent.get("/v1/commitments?case=" + ref + "&status=broken");
      if (list.status == 200 && list.body.find("\"" + id + "\"") != std::string::npos) return id;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL("the scheduler did not break " << id << " within 10 s of its due time");
    return id;
  }

  // A raw email, new each time (so that none is a duplicate of another).
  static std::string email(const std::string& subject) {
    static int counter = 0;
    return "From: Kim Novak <kim@example.net>\r\nTo: complaints@example.org\r\nSubject: " + subject +
           "\r\nMessage-ID: <m" + std::to_string(::getpid()) + "." + std::to_string(++counter) +
           "@example.net>\r\nContent-Type: text/plain\r\n\r\nThe meter reading is wrong.\r\n";
  }

  // A case opened by email, and its message's id.
  std::pair<std::string, std::string> emailed_message() {
    Client intake(server.port(), server.token("intake"));
    HttpResponse opened = intake.post("/v1/inbound/email", email("Wrong reading"), {{"Content-Type", "message/rfc822"}});
    INFO(opened.describe());
    REQUIRE(opened.status == 201);
    const std::string ref = string_at(opened.json(), "reference");
    HttpResponse reply = intake.post("/v1/inbound/email", email("Re: [" + ref + "] more"),
                                     {{"Content-Type", "message/rfc822"}});
    REQUIRE(reply.status == 202);
    auto messages = get_case(ref).at("messages").as_array();
    REQUIRE(!messages.empty());
    return {ref, string_at(messages.back(), "id")};
  }

  std::string subscription() {
    HttpResponse r =
        admin.post("/v1/webhooks", json::value(json::object{{"url", "https://example.org/hooks/redress"},
                                                            {"event_types", json::array{"case.received"}}}));
    INFO(r.describe());
    REQUIRE(r.status == 201);
    return string_at(r.json(), "id");
  }

  // A new agent's id, added by the admin (staff administration).
  std::string colleague() {
    HttpResponse r = admin.post("/v1/staff", json::value(json::object{{"name", "Role Table"},
                                                                       {"email", unique_id("colleague") + "@example.org"},
                                                                       {"role", "agent"}}));
    INFO(r.describe());
    REQUIRE(r.status == 201);
    return string_at(r.json(), "id");
  }
  // The id of a new canned reply for every workflow.
  std::string canned_reply() {
    HttpResponse r = admin.post("/v1/canned-replies", json::value(json::object{
                                                          {"title", "Role table"}, {"body", "Dear {{client.name}}"}}));
    INFO(r.describe());
    REQUIRE(r.status == 201);
    return string_at(r.json(), "id");
  }
  // The id of a new saved view of the caller's, so that they may delete it (the agent's when the
  // caller may not save views).
  std::string saved_view() {
    const bool saves = caller == "agent" || caller == "lead" || caller == "manager" || caller == "admin";
    Client owner(server.port(), server.token(saves ? caller : "agent"));
    HttpResponse r = owner.post("/v1/views", json::value(json::object{{"name", unique_id("role-table")},
                                                                      {"filter", "status=received"}}));
    INFO(r.describe());
    REQUIRE(r.status == 201);
    return string_at(r.json(), "id");
  }
  // The id of an API token of a new agent's.
  std::string token_of_colleague() {
    std::string id = colleague();
    HttpResponse r = admin.post("/v1/staff/" + id + "/tokens", json::value(json::object{}));
    REQUIRE(r.status == 201);
    return string_at(r.json(), "id");
  }

  // A signed intake delivery as request bytes.
  std::string signed_intake(const std::string& id, std::int64_t timestamp, const std::string& body,
                            const Headers& extra = {}, std::optional<std::string> signature = std::nullopt) {
    Headers headers{{"webhook-id", id},
                    {"webhook-timestamp", std::to_string(timestamp)},
                    {"webhook-signature",
                     signature.value_or(standard_webhooks_signature(server.intake_secret(), id, timestamp, body))}};
    return build_request("POST", std::string("/hooks/intake/") + kIntakeSource, headers + extra, body);
  }
};

std::string intake_payload(const std::string& title = "My parcel never came") {
  return json::serialize(json::object{{"customer", json::object{{"name", "Bo Lindqvist"}, {"email", "bo@example.org"}}},
                                      {"title", title},
                                      {"message", "The parcel was marked delivered but never arrived."}});
}

std::string unique_id(const std::string& prefix) {
  static int counter = 0;
  return prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(++counter) + "-" + std::to_string(unix_now());
}

// ---- the role × endpoint table ------------------------------------------------------------------

// Who may call a route, as the SPEC's table says.
enum class Who { kPublic, kClientLink, kIntakeHook, kCreators, kAgentUp, kLeadUp, kManagerUp, kAdmin, kMailIntake };

struct Call {
  std::string method;
  std::string target;
  std::string body;      // JSON text; empty for none
  std::string case_ref;  // a case whose version must not move when the call is refused
  std::string raw;       // when set, the request bytes as they are (signed intake hooks)
};

struct Route {
  std::string method;
  std::string pattern;
  Who who;
  int success;  // the status of an allowed call
  std::function<Call(World&)> prepare;
};

std::string body_of(json::object o) { return json::serialize(o); }

std::vector<Route> route_table() {
  return {
      {"POST", "/v1/cases", Who::kCreators, 201,
       [](World&) {
         return Call{"POST", "/v1/cases", body_of(new_case_body()), {}, {}};
       }},
      {"GET", "/v1/cases", Who::kAgentUp, 200,
       [](World&) {
         return Call{"GET", "/v1/cases?limit=5", {}, {}, {}};
       }},
      {"POST", "/v1/cases/bulk", Who::kAgentUp, 200,
       [](World& w) {
         auto c = w.new_case();
         return Call{"POST", "/v1/cases/bulk",
                     body_of({{"action", "tag"}, {"cases", json::array{json::value(c.ref)}},
                              {"arguments", json::object{{"tags", json::array{"role-table"}}}}}),
                     c.ref, {}};
       }},
      {"GET", "/v1/reports/tags", Who::kLeadUp, 200,
       [](World&) {
         return Call{"GET", "/v1/reports/tags", {}, {}, {}};
       }},
      {"GET", "/v1/cases/{ref}", Who::kAgentUp, 200,
       [](World& w) {
         auto c = w.new_case();
         return Call{"GET", kBase + c.ref, {}, {}, {}};
       }},
      {"POST", "/v1/cases/{ref}/actions", Who::kAgentUp, 200,
       [](World& w) {
         auto c = w.new_case();
         return Call{
             "POST", kBase + c.ref + "/actions", body_of({{"action", "assess"}, {"severity", "high"}}), c.ref, {}};
       }},
      {"GET", "/v1/cases/{ref}/events", Who::kAgentUp, 200,
       [](World& w) {
         auto c = w.new_case();
         return Call{"GET", kBase + c.ref + "/events", {}, {}, {}};
       }},
      {"GET", "/v1/cases/{ref}/notifications", Who::kAgentUp, 200,
       [](World& w) {
         auto c = w.new_case();
         return Call{"GET", kBase + c.ref + "/notifications", {}, {}, {}};
       }},
      {"POST", "/v1/inbound/email", Who::kMailIntake, 201,
       [](World&) {
         return Call{"POST", "/v1/inbound/email", {}, {},
                     build_request("POST", "/v1/inbound/email", {{"Content-Type", "message/rfc822"}},
                                   World::email("Please call me back"))};
       }},
      {"GET", "/v1/inbound/email", Who::kAdmin, 200,
       [](World&) {
         return Call{"GET", "/v1/inbound/email", {}, {}, {}};
       }},
      {"GET", "/v1/cases/{ref}/messages/{id}/original", Who::kAgentUp, 200,
       [](World& w) {
         auto [ref, id] = w.emailed_message();
         return Call{"GET", kBase + ref + "/messages/" + id + "/original", {}, {}, {}};
       }},
      {"GET", "/v1/admin/outbox", Who::kAdmin, 200,
       [](World&) {
         return Call{"GET", "/v1/admin/outbox", {}, {}, {}};
       }},
      {"GET", "/v1/admin/subjects/export", Who::kAdmin, 200,
       [](World&) {
         return Call{"GET", "/v1/admin/subjects/export?email=ana%40example.org", {}, {}, {}};
       }},
      // Personal data (docs/personal-data.md).
      {"POST", "/v1/admin/subjects/erase", Who::kAdmin, 200,
       [](World& w) {
         const std::string email = unique_id("erase") + "@example.org";
         REQUIRE(w.agent.post("/v1/cases", json::value(new_case_body("Erase me", email))).status == 201);
         return Call{"POST", "/v1/admin/subjects/erase", body_of({{"email", email}, {"reason", "request"}}), {}, {}};
       }},
      {"GET", "/v1/admin/erasures", Who::kAdmin, 200,
       [](World&) {
         return Call{"GET", "/v1/admin/erasures", {}, {}, {}};
       }},
      {"POST", "/v1/cases/{ref}/legal-hold", Who::kManagerUp, 200,
       [](World& w) {
         auto c = w.new_case();
         return Call{"POST", kBase + c.ref + "/legal-hold", body_of({{"reason", "litigation"}}), c.ref, {}};
       }},
      {"POST", "/v1/cases/{ref}/legal-hold/lift", Who::kManagerUp, 200,
       [](World& w) {
         auto c = w.new_case();
         REQUIRE(w.admin.post(kBase + c.ref + "/legal-hold", json::value(json::object{{"reason", "litigation"}}))
                     .status == 200);
         return Call{"POST", kBase + c.ref + "/legal-hold/lift", body_of({{"reason", "settled"}}), c.ref, {}};
       }},
      {"POST", "/v1/cases/{ref}/redactions", Who::kLeadUp, 201,
       [](World& w) {
         auto c = w.new_case();
         return Call{"POST", kBase + c.ref + "/redactions",
                     body_of({{"event", 1}, {"field", "/description"}, {"reason", "a card number"}}), c.ref, {}};
       }},
      {"POST", "/v1/admin/outbox/retry", Who::kAdmin, 200,
       [](World&) {
         return Call{"POST", "/v1/admin/outbox/retry", body_of({{"all", true}}), {}, {}};
       }},
      {"POST", "/v1/cases/{ref}/messages", Who::kAgentUp, 201,
       [](World& w) {
         auto c = w.new_case();
         return Call{"POST",
                     kBase + c.ref + "/messages",
                     body_of({{"visibility", "internal"}, {"body", "Checked the ledger."}}),
                     c.ref,
                     {}};
       }},
      {"POST", "/v1/cases/{ref}/commitments", Who::kAgentUp, 201,
       [](World& w) {
         auto c = w.investigating();
         return Call{"POST",
                     kBase + c.ref + "/commitments",
                     body_of({{"text", "We will call you back"}, {"due_in", "P1D"}, {"client_visible", true}}),
                     c.ref,
                     {}};
       }},
      {"POST", "/v1/cases/{ref}/redress", Who::kAgentUp, 201,
       [](World& w) {
         auto c = w.investigating();
         return Call{
             "POST", kBase + c.ref + "/redress", body_of({{"kind", "apology"}, {"text", "We are sorry."}}), c.ref, {}};
       }},
      {"POST", "/v1/cases/{ref}/client-link", Who::kAgentUp, 201,
       [](World& w) {
         auto c = w.new_case();
         return Call{"POST", kBase + c.ref + "/client-link", {}, {}, {}};
       }},
      {"DELETE", "/v1/cases/{ref}/client-link", Who::kAgentUp, 204,
       [](World& w) {
         auto c = w.new_case();
         return Call{"DELETE", kBase + c.ref + "/client-link", {}, {}, {}};
       }},
      {"GET", "/v1/commitments", Who::kAgentUp, 200,
       [](World&) {
         return Call{"GET", "/v1/commitments?limit=5", {}, {}, {}};
       }},
      {"POST", "/v1/commitments/{id}/keep", Who::kAgentUp, 200,
       [](World& w) {
         auto c = w.investigating();
         return Call{
             "POST", "/v1/commitments/" + w.promise(c.ref) + "/keep", body_of({{"note", "Called."}}), c.ref, {}};
       }},
      {"POST", "/v1/commitments/{id}/renegotiate", Who::kAgentUp, 200,
       [](World& w) {
         auto c = w.investigating();
         return Call{"POST",
                     "/v1/commitments/" + w.promise(c.ref) + "/renegotiate",
                     body_of({{"due_in", "P5D"}, {"reason", "The courier needs longer."}}),
                     c.ref,
                     {}};
       }},
      {"POST", "/v1/commitments/{id}/handle", Who::kAgentUp, 200,
       [](World& w) {
         auto c = w.investigating();
         return Call{"POST",
                     "/v1/commitments/" + w.broken_promise(c.ref) + "/handle",
                     body_of({{"note", "Called the client, apologised and booked a new date."}}),
                     c.ref,
                     {}};
       }},
      {"POST", "/v1/commitments/{id}/exempt", Who::kLeadUp, 200,
       [](World& w) {
         std::string ref;
         std::string pledge = w.compensated_pledge(ref);
         return Call{"POST", "/v1/commitments/" + pledge + "/exempt", body_of({{"reason", "No access"}}), ref, {}};
       }},
      {"GET", "/v1/reports/overdue", Who::kLeadUp, 200,
       [](World&) {
         return Call{"GET", "/v1/reports/overdue", {}, {}, {}};
       }},
      {"GET", "/v1/reports/owners", Who::kLeadUp, 200,
       [](World&) {
         return Call{"GET", "/v1/reports/owners?days=30", {}, {}, {}};
       }},
      {"GET", "/v1/reports/standards", Who::kPublic, 200,
       [](World&) {
         return Call{"GET", "/v1/reports/standards", {}, {}, {}};
       }},
      {"GET", "/v1/reports/returns", Who::kLeadUp, 200,
       [](World&) {
         return Call{"GET", "/v1/reports/returns?from=2026-01-01&to=2026-12-31", {}, {}, {}};
       }},
      {"GET", "/v1/reports/root_causes", Who::kLeadUp, 200,
       [](World&) {
         return Call{"GET", "/v1/reports/root_causes?from=2026-01-01&to=2026-12-31", {}, {}, {}};
       }},
      {"GET", "/v1/workflows", Who::kPublic, 200,
       [](World&) {
         return Call{"GET", "/v1/workflows", {}, {}, {}};
       }},
      {"POST", "/v1/redress/{id}/fulfil", Who::kAgentUp, 200,
       [](World& w) {
         auto p = w.resolved();
         return Call{"POST", "/v1/redress/" + p.offer + "/fulfil", body_of({{"note", "Paid."}}), p.made.ref, {}};
       }},
      {"GET", "/v1/cases/{ref}/messages/{id}/attachments/{n}", Who::kAgentUp, 200,
       [](World& w) {
         auto c = w.new_case();
         return Call{"GET",
                     kBase + c.ref + "/messages/" + w.message_with_file(c.ref, "internal") + "/attachments/0",
                     {},
                     {},
                     {}};
       }},
      {"GET", "/v1/client/{token}/messages/{id}/attachments/{n}", Who::kClientLink, 200,
       [](World& w) {
         auto c = w.new_case();
         return Call{"GET",
                     "/v1/client/" + c.link + "/messages/" + w.message_with_file(c.ref, "client") + "/attachments/0",
                     {},
                     {},
                     {}};
       }},
      {"GET", "/v1/client/{token}", Who::kClientLink, 200,
       [](World& w) {
         auto c = w.new_case();
         return Call{"GET", "/v1/client/" + c.link, {}, {}, {}};
       }},
      {"POST", "/v1/client/{token}/messages", Who::kClientLink, 201,
       [](World& w) {
         auto c = w.investigating();
         return Call{"POST", "/v1/client/" + c.link + "/messages", body_of({{"body", "Any news?"}}), {}, {}};
       }},
      {"POST", "/v1/client/{token}/redress/{id}/accept", Who::kClientLink, 200,
       [](World& w) {
         auto p = w.proposed();
         return Call{"POST", "/v1/client/" + p.made.link + "/redress/" + p.offer + "/accept", "{}", {}, {}};
       }},
      {"POST", "/v1/client/{token}/redress/{id}/reject", Who::kClientLink, 200,
       [](World& w) {
         auto p = w.proposed();
         return Call{"POST",
                     "/v1/client/" + p.made.link + "/redress/" + p.offer + "/reject",
                     body_of({{"reason", "Too little."}}),
                     {},
                     {}};
       }},
      {"POST", "/v1/client/{token}/survey", Who::kClientLink, 200,
       [](World& w) {
         auto p = w.resolved();
         return Call{
             "POST", "/v1/client/" + p.made.link + "/survey", body_of({{"rating", 4}, {"comment", "Quick."}}), {}, {}};
       }},
      {"POST", "/v1/client/{token}/withdraw", Who::kClientLink, 200,
       [](World& w) {
         auto c = w.new_case();
         return Call{"POST", "/v1/client/" + c.link + "/withdraw", body_of({{"reason", "Sorted out myself."}}), {}, {}};
       }},
      {"POST", "/v1/client/{token}/reopen", Who::kClientLink, 200,
       [](World& w) {
         auto p = w.resolved();
         return Call{
             "POST", "/v1/client/" + p.made.link + "/reopen", body_of({{"reason", "The refund never came."}}), {}, {}};
       }},
      {"POST", "/v1/client/{token}/escalate", Who::kClientLink, 200,
       [](World& w) {
         auto c = w.new_case();
         return Call{
             "POST", "/v1/client/" + c.link + "/escalate", body_of({{"reason", "Nobody answers."}}), {}, {}};
       }},
      {"POST", "/v1/webhooks", Who::kAdmin, 201,
       [](World&) {
         return Call{"POST",
                     "/v1/webhooks",
                     body_of({{"url", "https://example.org/hook"},
                              {"event_types", json::array{"case.received", "case.closed"}}}),
                     {},
                     {}};
       }},
      {"GET", "/v1/webhooks", Who::kAdmin, 200,
       [](World&) {
         return Call{"GET", "/v1/webhooks", {}, {}, {}};
       }},
      {"DELETE", "/v1/webhooks/{id}", Who::kAdmin, 204,
       [](World& w) {
         return Call{"DELETE", "/v1/webhooks/" + w.subscription(), {}, {}, {}};
       }},
      {"PATCH", "/v1/cases/{ref}", Who::kAgentUp, 200,
       [](World& w) {
         auto c = w.new_case();
         return Call{"PATCH", kBase + c.ref, body_of({{"subject", "Charged twice (corrected)"}}), c.ref, {}};
       }},
      {"GET", "/v1/staff", Who::kAdmin, 200,
       [](World&) {
         return Call{"GET", "/v1/staff", {}, {}, {}};
       }},
      {"POST", "/v1/staff", Who::kAdmin, 201,
       [](World&) {
         return Call{"POST", "/v1/staff",
                     body_of({{"name", "New Hire"}, {"email", unique_id("hire") + "@example.org"}, {"role", "agent"}}),
                     {}, {}};
       }},
      {"GET", "/v1/staff/{id}", Who::kAdmin, 200,
       [](World& w) {
         return Call{"GET", "/v1/staff/" + w.colleague(), {}, {}, {}};
       }},
      {"PATCH", "/v1/staff/{id}", Who::kAdmin, 200,
       [](World& w) {
         return Call{"PATCH", "/v1/staff/" + w.colleague(), body_of({{"team", "billing-desk"}}), {}, {}};
       }},
      {"POST", "/v1/staff/{id}/password", Who::kAdmin, 200,
       [](World& w) {
         return Call{"POST", "/v1/staff/" + w.colleague() + "/password", body_of({}), {}, {}};
       }},
      {"GET", "/v1/staff/{id}/tokens", Who::kAdmin, 200,
       [](World& w) {
         return Call{"GET", "/v1/staff/" + w.colleague() + "/tokens", {}, {}, {}};
       }},
      {"POST", "/v1/staff/{id}/tokens", Who::kAdmin, 201,
       [](World& w) {
         return Call{"POST", "/v1/staff/" + w.colleague() + "/tokens", body_of({{"label", "ci"}}), {}, {}};
       }},
      {"DELETE", "/v1/tokens/{id}", Who::kAdmin, 200,
       [](World& w) {
         return Call{"DELETE", "/v1/tokens/" + w.token_of_colleague(), {}, {}, {}};
       }},
      {"GET", "/v1/teams", Who::kAdmin, 200,
       [](World&) {
         return Call{"GET", "/v1/teams", {}, {}, {}};
       }},
      {"GET", "/v1/canned-replies", Who::kAgentUp, 200,
       [](World&) {
         return Call{"GET", "/v1/canned-replies", {}, {}, {}};
       }},
      {"POST", "/v1/canned-replies", Who::kAdmin, 201,
       [](World&) {
         return Call{"POST", "/v1/canned-replies",
                     body_of({{"title", "We are on it"}, {"body", "Dear {{client.name}}, {{case.reference}}."}}), {},
                     {}};
       }},
      {"GET", "/v1/canned-replies/{id}", Who::kAgentUp, 200,
       [](World& w) {
         return Call{"GET", "/v1/canned-replies/" + w.canned_reply(), {}, {}, {}};
       }},
      {"PATCH", "/v1/canned-replies/{id}", Who::kAdmin, 200,
       [](World& w) {
         return Call{"PATCH", "/v1/canned-replies/" + w.canned_reply(), body_of({{"title", "Renamed"}}), {}, {}};
       }},
      {"DELETE", "/v1/canned-replies/{id}", Who::kAdmin, 204,
       [](World& w) {
         return Call{"DELETE", "/v1/canned-replies/" + w.canned_reply(), {}, {}, {}};
       }},
      {"GET", "/v1/cases/{ref}/canned-replies", Who::kAgentUp, 200,
       [](World& w) {
         return Call{"GET", kBase + w.new_case().ref + "/canned-replies", {}, {}, {}};
       }},
      {"GET", "/v1/cases/{ref}/canned-replies/{id}", Who::kAgentUp, 200,
       [](World& w) {
         return Call{"GET", kBase + w.new_case().ref + "/canned-replies/" + w.canned_reply(), {}, {}, {}};
       }},
      {"GET", "/v1/views", Who::kAgentUp, 200,
       [](World&) {
         return Call{"GET", "/v1/views", {}, {}, {}};
       }},
      {"POST", "/v1/views", Who::kAgentUp, 201,
       [](World&) {
         return Call{"POST", "/v1/views",
                     body_of({{"name", unique_id("role-table")}, {"filter", "status=investigating&tag=vip"}}), {}, {}};
       }},
      {"DELETE", "/v1/views/{id}", Who::kAgentUp, 204,
       [](World& w) {
         return Call{"DELETE", "/v1/views/" + w.saved_view(), {}, {}, {}};
       }},
      {"POST", "/hooks/intake/{source}", Who::kIntakeHook, 201,
       [](World& w) {
         return Call{"POST",
                     std::string("/hooks/intake/") + kIntakeSource,
                     {},
                     {},
                     w.signed_intake(unique_id("msg"), unix_now(), intake_payload())};
       }},
      // Under the system clock the admin gets 404 (see the manual clock test for 200).
      {"POST", "/v1/admin/clock", Who::kAdmin, 404,
       [](World&) {
         return Call{"POST", "/v1/admin/clock", body_of({{"advance", "PT1H"}}), {}, {}};
       }},
      {"GET", "/healthz", Who::kPublic, 200,
       [](World&) {
         return Call{"GET", "/healthz", {}, {}, {}};
       }},
      {"GET", "/metrics", Who::kPublic, 200,
       [](World&) {
         return Call{"GET", "/metrics", {}, {}, {}};
       }},
      {"GET", "/v1/openapi.json", Who::kPublic, 200,
       [](World&) {
         return Call{"GET", "/v1/openapi.json", {}, {}, {}};
       }},
  };
}

// The callers of the matrix: no credentials, a made-up token, then each role.
const std::vector<std::string> kCallers{"anonymous", "bogus", "intake", "agent", "lead", "manager", "admin"};

// The status a caller gets: the route's success status when allowed, else 401 or 403.
int expected_status(const Route& route, const std::string& caller) {
  auto staff_gate = [&](const std::set<std::string>& roles) {
    if (caller == "anonymous" || caller == "bogus") return 401;
    return roles.count(caller) ? route.success : 403;
  };
  switch (route.who) {
    case Who::kPublic:
    case Who::kClientLink:
    case Who::kIntakeHook: return route.success;  // the link or the signature is the credential
    case Who::kCreators: return staff_gate({"intake", "agent", "lead", "manager", "admin"});
    case Who::kAgentUp: return staff_gate({"agent", "lead", "manager", "admin"});
    case Who::kLeadUp: return staff_gate({"lead", "manager", "admin"});
    case Who::kManagerUp: return staff_gate({"manager", "admin"});
    case Who::kAdmin: return staff_gate({"admin"});
    case Who::kMailIntake: return staff_gate({"intake", "admin"});
  }
  return 0;
}

// Every (method, pattern) registered in web/api.cpp, read from its source.
std::set<std::pair<std::string, std::string>> registered_routes() {
  std::string source = read_text(std::string(REDRESS_SOURCE_DIR) + "/web/api.cpp");
  REQUIRE(!source.empty());
  std::set<std::pair<std::string, std::string>> routes;
  // clang-format may break the line after `open(`: any white space between the parts.
  std::regex pattern(R"re((staff|open)\(\s*verb::(\w+),\s*(?:std::string\()?"([^"]+)")re");
  for (auto it = std::sregex_iterator(source.begin(), source.end(), pattern); it != std::sregex_iterator(); ++it) {
    std::string method = (*it)[2];
    if (method == "delete_") method = "delete";
    for (auto& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    routes.emplace(method, (*it)[3]);
  }
  return routes;
}

}  // namespace

TEST_CASE("web api: the role x endpoint table covers every registered route", "[web][roles]") {
  auto registered = registered_routes();
  REQUIRE(registered.size() >= 25);
  std::set<std::pair<std::string, std::string>> table;
  for (const auto& r : route_table()) table.emplace(r.method, r.pattern);
  for (const auto& route : registered) {
    INFO("registered but not in the role table: " << route.first << " " << route.second);
    CHECK(table.count(route));
  }
  for (const auto& route : table) {
    INFO("in the role table but not registered: " << route.first << " " << route.second);
    CHECK(registered.count(route));
  }
}

TEST_CASE("web api: every route allows or refuses each role as the SPEC says", "[web][roles]") {
  RedressServer server;
  World world(server);
  for (const auto& route : route_table()) {
    for (const auto& caller : kCallers) {
      world.caller = caller;
      Call call = route.prepare(world);
      std::int64_t before = call.case_ref.empty() ? -1 : world.version(call.case_ref);
      Headers headers;
      if (caller == "bogus")
        headers = bearer("rd_" + std::string(43, 'A'));
      else if (caller != "anonymous")
        headers = bearer(server.token(caller));
      std::string bytes;
      if (!call.raw.empty()) {
        // Signed deliveries: put the caller's Authorization header in front of the signed request.
        bytes = call.raw;
        if (!headers.empty())
          bytes.insert(bytes.find("\r\n") + 2, headers.front().first + ": " + headers.front().second + "\r\n");
      } else {
        bytes = build_request(call.method, call.target, headers, call.body);
      }
      Client client(server.port());
      HttpResponse r = client.raw(bytes);
      int expected = expected_status(route, caller);
      INFO(route.method << " " << route.pattern << " as " << caller << " (" << call.target << "): " << r.describe());
      CHECK(r.status == expected);
      if (expected == 401 || expected == 403 || expected == 404) {
        CHECK(r.is_problem());
        if (expected == 401) CHECK(r.header("www-authenticate").rfind("Bearer", 0) == 0);
        if (before >= 0) CHECK(world.version(call.case_ref) == before);  // a refusal changes nothing
      }
    }
  }
}

TEST_CASE("web api: a client link opens its own case and no other", "[web][client]") {
  RedressServer server;
  World w(server);
  auto a = w.proposed();
  auto b = w.proposed();
  Client client(server.port());

  HttpResponse own = client.get("/v1/client/" + a.made.link);
  INFO(own.describe());
  REQUIRE(own.status == 200);
  CHECK(string_at(own.json(), "reference") == a.made.ref);
  CHECK(own.body.find(b.made.ref) == std::string::npos);
  // The client view never carries internal notes or staff-only fields.
  CHECK(!as_object(own.json()).contains("head_hash"));

  std::int64_t b_version = w.version(b.made.ref);
  // A's link on B's offer: as if it did not exist.
  for (const char* verb : {"accept", "reject"}) {
    HttpResponse r = client.post("/v1/client/" + a.made.link + "/redress/" + b.offer + "/" + verb, std::string("{}"));
    INFO(verb << ": " << r.describe());
    CHECK(r.status == 404);
    CHECK(r.is_problem());
  }
  CHECK(w.version(b.made.ref) == b_version);
  CHECK(string_at(w.get_case(b.made.ref), "status") == "redress_proposed");
  CHECK(string_at(w.get_case(a.made.ref), "status") == "redress_proposed");

  // Made-up links, malformed links, and a link with one character changed.
  std::string changed = a.made.link;
  changed.back() = changed.back() == 'A' ? 'B' : 'A';
  std::string random_link = "cl_" + base64(random_bytes(32));
  for (auto& c : random_link)
    if (c == '+')
      c = '-';
    else if (c == '/')
      c = '_';
  while (!random_link.empty() && random_link.back() == '=') random_link.pop_back();
  for (const std::string& token :
       std::vector<std::string>{changed, random_link, std::string("cl_short"), std::string(200, 'x'), a.made.ref}) {
    HttpResponse r = client.get("/v1/client/" + token);
    INFO(token << ": " << r.describe());
    CHECK(r.status == 404);
    CHECK(r.is_problem());
    HttpResponse m = client.post("/v1/client/" + token + "/messages", json::value(json::object{{"body", "hi"}}));
    CHECK(m.status == 404);
  }

  // Revoked: the old link is dead everywhere; a new one works.
  HttpResponse revoke = w.agent.call("DELETE", kBase + a.made.ref + "/client-link");
  INFO(revoke.describe());
  REQUIRE(revoke.status == 204);
  CHECK(client.get("/v1/client/" + a.made.link).status == 404);
  CHECK(client.post("/v1/client/" + a.made.link + "/redress/" + a.offer + "/accept", std::string("{}")).status == 404);
  CHECK(client.post("/v1/client/" + a.made.link + "/withdraw", std::string("{}")).status == 404);
  CHECK(string_at(w.get_case(a.made.ref), "status") == "redress_proposed");
  HttpResponse renewed = w.agent.call("POST", kBase + a.made.ref + "/client-link");
  INFO(renewed.describe());
  REQUIRE(renewed.status == 201);
  std::string fresh = link_token(string_at(renewed.json(), "client_url"));
  CHECK(fresh != a.made.link);
  CHECK(fresh.size() >= 25);
  CHECK(client.get("/v1/client/" + fresh).status == 200);
  CHECK(client.get("/v1/client/" + a.made.link).status == 404);
  // The staff view shows the current link.
  CHECK(link_token(string_at(w.get_case(a.made.ref), "client_url")) == fresh);
}

TEST_CASE("web api: a complaint's whole life over HTTP, with ETag and If-Match", "[web][lifecycle][concurrency]") {
  RedressServer server;
  World w(server);
  Client& agent = w.agent;
  Client lead(server.port(), server.token("lead"));

  HttpResponse created = agent.post("/v1/cases", json::value(new_case_body("Charged twice for order 1182")));
  INFO(created.describe());
  REQUIRE(created.status == 201);
  json::value c = created.json();
  std::string ref = string_at(c, "reference");
  CHECK(std::regex_match(ref, std::regex("CMP-\\d{4}-\\d{6}")));
  CHECK(created.header("location") == kBase + ref);
  CHECK(created.header("etag") == "\"" + std::to_string(c.at("version").as_int64()) + "\"");
  CHECK(string_at(c, "status") == "received");
  CHECK(string_at(c, "client_url").find("/c/cl_") != std::string::npos);
  std::string link = link_token(string_at(c, "client_url"));

  // Each step with the current ETag; returns the new case body.
  std::string etag = created.header("etag");
  auto step = [&](json::object action, const std::string& expected_status) {
    std::string name = string_at(json::value(action), "action");
    HttpResponse r = agent.post(kBase + ref + "/actions", json::value(std::move(action)), {{"If-Match", etag}});
    INFO(name << ": " << r.describe());
    REQUIRE(r.status == 200);
    json::value body = r.json();
    CHECK(string_at(body, "status") == expected_status);
    std::string next = r.header("etag");
    CHECK(next == "\"" + std::to_string(body.at("version").as_int64()) + "\"");
    CHECK(next != etag);
    etag = next;
    return body;
  };

  // A refused action: 409 with what is allowed now.
  HttpResponse early = agent.post(kBase + ref + "/actions", json::value(json::object{{"action", "start"}}));
  INFO(early.describe());
  CHECK(early.status == 409);
  CHECK(early.is_problem());
  auto allowed = strings_at(early.json(), "allowed_actions");
  CHECK(std::find(allowed.begin(), allowed.end(), "acknowledge") != allowed.end());
  CHECK(std::find(allowed.begin(), allowed.end(), "start") == allowed.end());
  CHECK(allowed == strings_at(w.get_case(ref), "allowed_actions"));

  step({{"action", "acknowledge"}}, "acknowledged");
  json::value taken = step({{"action", "take"}, {"note", "Mine."}}, "acknowledged");
  CHECK(string_at(taken.at("owner"), "id") == server.staff_id("agent"));

  // A stale If-Match: 412, nothing changes.
  HttpResponse stale =
      agent.post(kBase + ref + "/actions", json::value(json::object{{"action", "start"}}), {{"If-Match", "\"1\""}});
  INFO(stale.describe());
  CHECK(stale.status == 412);
  CHECK(stale.is_problem());
  CHECK("\"" + std::to_string(w.version(ref)) + "\"" == etag);
  // A malformed If-Match is a client error too.
  CHECK(
      agent.post(kBase + ref + "/actions", json::value(json::object{{"action", "start"}}), {{"If-Match", "yesterday"}})
          .status == 400);

  // Validation: 422 naming the fields.
  HttpResponse invalid =
      agent.post(kBase + ref + "/actions", json::value(json::object{{"action", "resolve"}, {"outcome", "perhaps"}}));
  INFO(invalid.describe());
  CHECK(invalid.status == 422);
  CHECK(invalid.is_problem());
  auto fields = invalid.problem_fields();
  CHECK(std::find(fields.begin(), fields.end(), "outcome") != fields.end());
  CHECK(std::find(fields.begin(), fields.end(), "final_response") != fields.end());
  HttpResponse unknown_action = agent.post(kBase + ref + "/actions", json::value(json::object{{"action", "teleport"}}));
  CHECK(unknown_action.status == 422);
  CHECK(unknown_action.problem_fields() == std::vector<std::string>{"action"});

  step({{"action", "start"}}, "investigating");
  step({{"action", "request_info"}, {"body", "Which card was charged?"}}, "awaiting_client");
  // The client answers through the status page.
  Client client(server.port());
  HttpResponse reply =
      client.post("/v1/client/" + link + "/messages", json::value(json::object{{"body", "The Visa ending 4242."}}));
  INFO(reply.describe());
  CHECK(reply.status == 201);
  json::value after_reply = w.get_case(ref);
  if (string_at(after_reply, "status") == "awaiting_client") {
    etag = "\"" + std::to_string(after_reply.at("version").as_int64()) + "\"";
    step({{"action", "client_replied"}}, "investigating");
  } else {
    CHECK(string_at(after_reply, "status") == "investigating");
    etag = "\"" + std::to_string(after_reply.at("version").as_int64()) + "\"";
  }
  HttpResponse note = agent.post(kBase + ref + "/messages",
                                 json::value(json::object{{"visibility", "internal"}, {"body", "Duplicate capture."}}));
  CHECK(note.status == 201);
  etag = note.header("etag");
  CHECK(etag == "\"" + std::to_string(w.version(ref)) + "\"");

  json::value proposed = step(
      {{"action", "propose_redress"},
       {"outcome", "upheld"},
       {"final_response", final_response_text()},
       {"offers", json::array{json::object{
                      {"kind", "refund"}, {"amount", "42.50"}, {"currency", "GBP"}, {"text", "The second charge"}}}}},
      "redress_proposed");
  std::string offer;
  for (const auto& r : proposed.at("redress").as_array())
    if (string_at(r, "kind") == "refund") offer = string_at(r, "id");
  REQUIRE(!offer.empty());
  HttpResponse view = client.get("/v1/client/" + link);
  CHECK(view.status == 200);
  CHECK(view.body.find(offer) != std::string::npos);
  CHECK(view.body.find("Duplicate capture.") == std::string::npos);  // internal notes stay inside
  HttpResponse accepted = client.post("/v1/client/" + link + "/redress/" + offer + "/accept", std::string("{}"));
  INFO(accepted.describe());
  REQUIRE(accepted.status == 200);
  CHECK(string_at(accepted.json(), "status") == "resolved");
  // Accepting twice is refused.
  CHECK(client.post("/v1/client/" + link + "/redress/" + offer + "/accept", std::string("{}")).status == 409);

  // close is refused while the refund is unpaid.
  HttpResponse early_close = agent.post(kBase + ref + "/actions", json::value(json::object{{"action", "close"}}));
  INFO(early_close.describe());
  CHECK(early_close.status == 409);
  CHECK(early_close.is_problem());
  CHECK(as_object(early_close.json()).contains("allowed_actions"));

  HttpResponse paid = lead.post("/v1/redress/" + offer + "/fulfil", json::value(json::object{{"note", "Refunded."}}));
  INFO(paid.describe());
  REQUIRE(paid.status == 200);
  CHECK(string_at(paid.json().at("redress"), "status") == "fulfilled");
  etag = paid.header("etag");
  CHECK(etag == "\"" + std::to_string(w.version(ref)) + "\"");
  step({{"action", "close"}}, "closed");
  // Nothing further but what a closed case allows.
  HttpResponse after_close = agent.post(kBase + ref + "/actions", json::value(json::object{{"action", "take"}}));
  CHECK(after_close.status == 409);

  // The history: oldest first, numbered, hashed, one per version.
  HttpResponse events = agent.get(kBase + ref + "/events");
  INFO(events.describe());
  REQUIRE(events.status == 200);
  const json::value history = events.json();
  const json::array& items = history.at("items").as_array();
  REQUIRE(items.size() >= 9);
  std::set<std::string> hashes;
  std::int64_t last_seq = 0;
  for (const auto& e : items) {
    CHECK(e.at("seq").as_int64() > last_seq);
    last_seq = e.at("seq").as_int64();
    CHECK(string_at(e, "hash").size() >= 32);
    hashes.insert(string_at(e, "hash"));
  }
  CHECK(hashes.size() == items.size());
  CHECK(last_seq == w.version(ref));
  CHECK(server.run({"audit", "verify"}).status == 0);
}

TEST_CASE("web api: Idempotency-Key replays the same case, another body is 422", "[web][idempotency]") {
  RedressServer server;
  Client agent(server.port(), server.token("agent"));
  Client lead(server.port(), server.token("lead"));
  json::value body = new_case_body("Refund never arrived");
  Headers key{{"Idempotency-Key", "order-77-" + std::to_string(unix_now())}};

  HttpResponse first = agent.post("/v1/cases", body, key);
  INFO(first.describe());
  REQUIRE(first.status == 201);
  CHECK(!first.has_header("idempotent-replayed"));
  std::string ref = string_at(first.json(), "reference");

  HttpResponse again = agent.post("/v1/cases", body, key);
  INFO(again.describe());
  CHECK(again.status == 201);
  CHECK(string_at(again.json(), "reference") == ref);
  CHECK(lower(again.header("idempotent-replayed")) == "true");

  // The same JSON with its keys in another order and other spacing is the same request.
  json::object reversed;
  const json::object& original = body.as_object();
  for (auto it = original.end(); it != original.begin();) {
    --it;
    reversed.emplace(it->key(), it->value());
  }
  REQUIRE(json::serialize(reversed) != json::serialize(body));
  HttpResponse reordered = agent.call("POST", "/v1/cases", "  " + json::serialize(reversed) + "\n", key);
  INFO(reordered.describe());
  CHECK(reordered.status == 201);
  CHECK(string_at(reordered.json(), "reference") == ref);

  json::object other = new_case_body("Something else entirely");
  HttpResponse conflict = agent.post("/v1/cases", json::value(other), key);
  INFO(conflict.describe());
  CHECK(conflict.status == 422);
  CHECK(conflict.is_problem());

  // Without the key, the same body is a new case.
  HttpResponse fresh = agent.post("/v1/cases", body);
  CHECK(fresh.status == 201);
  CHECK(string_at(fresh.json(), "reference") != ref);

  // Another caller's key space is its own.
  HttpResponse theirs = lead.post("/v1/cases", body, key);
  CHECK(theirs.status == 201);
  CHECK(string_at(theirs.json(), "reference") != ref);

  // Keys that cannot be keys.
  CHECK(agent.post("/v1/cases", body, {{"Idempotency-Key", std::string(300, 'k')}}).status == 422);

  // Exactly one case was made by the replays: the list knows them by subject.
  HttpResponse list = agent.get("/v1/cases?limit=200");
  REQUIRE(list.status == 200);
  int with_subject = 0;
  const json::value listed = list.json();
  for (const auto& item : listed.at("items").as_array())
    if (string_at(item, "subject") == "Refund never arrived") ++with_subject;
  CHECK(with_subject == 3);  // the keyed one, the unkeyed one, the lead's
}

TEST_CASE("web api: list cursors stay correct while new cases arrive between pages", "[web][pagination]") {
  RedressServer server;
  Client agent(server.port(), server.token("agent"));
  std::set<std::string> before;
  for (int i = 0; i < 11; ++i) before.insert(string_at(create_case(agent, "Before " + std::to_string(i)), "reference"));

  std::vector<std::string> seen;
  std::string cursor;
  int pages = 0, arrived = 0;
  do {
    std::string target = "/v1/cases?limit=4" + (cursor.empty() ? std::string() : "&cursor=" + cursor);
    HttpResponse page = agent.get(target);
    INFO(page.describe());
    REQUIRE(page.status == 200);
    json::value body = page.json();
    const json::array& items = body.at("items").as_array();
    CHECK(items.size() <= 4);
    for (const auto& item : items) seen.push_back(string_at(item, "reference"));
    cursor = body.at("next_cursor").is_string() ? std::string(body.at("next_cursor").as_string()) : std::string();
    // New complaints arrive between pages.
    for (int i = 0; i < 2; ++i, ++arrived) create_case(agent, "During " + std::to_string(arrived));
    REQUIRE(++pages < 20);
  } while (!cursor.empty());

  std::set<std::string> unique(seen.begin(), seen.end());
  CHECK(unique.size() == seen.size());  // nothing twice
  for (const auto& ref : before) {
    INFO(ref << " was there before the first page");
    CHECK(unique.count(ref));  // nothing lost
  }
  CHECK(pages >= 3);

  // A cursor this server never issued is a client error.
  HttpResponse bad = agent.get("/v1/cases?cursor=not-a-cursor");
  CHECK(bad.status == 400);
  CHECK(bad.is_problem());
  CHECK(agent.get("/v1/cases?limit=0").status == 400);
  CHECK(agent.get("/v1/cases?status=lost").status == 400);
  // Filters: only received cases; by text.
  HttpResponse received = agent.get("/v1/cases?status=received&limit=200");
  REQUIRE(received.status == 200);
  CHECK(received.json().at("items").as_array().size() == before.size() + static_cast<std::size_t>(arrived));
  HttpResponse text = agent.get("/v1/cases?q=Before%203&limit=200");
  REQUIRE(text.status == 200);
  CHECK(text.json().at("items").as_array().size() >= 1);
}

TEST_CASE("web api: intake hooks verify Standard Webhooks signatures", "[web][intake]") {
  RedressServer server;
  World w(server);
  Client hook(server.port());
  std::string body = intake_payload("My parcel never came");
  std::string id = unique_id("msg");
  std::int64_t now = unix_now();

  HttpResponse created = hook.raw(w.signed_intake(id, now, body));
  INFO(created.describe());
  REQUIRE(created.status == 201);
  std::string ref = string_at(created.json(), "reference");
  CHECK(std::regex_match(ref, std::regex("CMP-\\d{4}-\\d{6}")));
  CHECK(!link_token(string_at(created.json(), "client_url")).empty());
  json::value c = w.get_case(ref);
  CHECK(string_at(c, "subject") == "My parcel never came");
  CHECK(string_at(c, "channel") == "web");
  CHECK(string_at(c, "category") == "billing");
  CHECK(string_at(c.at("client"), "name") == "Bo Lindqvist");
  CHECK(string_at(c.at("client"), "email") == "bo@example.org");

  // The same webhook-id again: refused as a replay, nothing new is made.
  HttpResponse replay = hook.raw(w.signed_intake(id, unix_now(), body));
  INFO(replay.describe());
  CHECK(replay.status == 409);
  CHECK(replay.is_problem());

  auto refused = [&](const std::string& bytes, int status, const std::string& what) {
    HttpResponse r = hook.raw(bytes);
    INFO(what << ": " << r.describe());
    CHECK(r.status == status);
    CHECK(r.is_problem());
  };
  std::string other = intake_payload("Tampered");
  // A signature over another body, another id, or with another secret.
  refused(w.signed_intake(unique_id("msg"), now, other, {},
                          standard_webhooks_signature(server.intake_secret(), "x", now, other)),
          401, "signed with another id");
  refused(build_request("POST", std::string("/hooks/intake/") + kIntakeSource,
                        {{"webhook-id", "m1"},
                         {"webhook-timestamp", std::to_string(now)},
                         {"webhook-signature", standard_webhooks_signature(server.intake_secret(), "m1", now, body)}},
                        other),
          401, "body changed after signing");
  refused(w.signed_intake("m2", now, body, {}, standard_webhooks_signature(new_whsec(), "m2", now, body)), 401,
          "another secret");
  refused(w.signed_intake("m3", now, body, {}, std::string("v1,") + std::string(44, 'A')), 401, "garbage signature");
  refused(w.signed_intake(
              "m4", now, body, {},
              std::string("v2,") + standard_webhooks_signature(server.intake_secret(), "m4", now, body).substr(3)),
          401, "unknown scheme");
  // Stale or future timestamps, correctly signed.
  refused(w.signed_intake("m5", now - 3600, body), 401, "an hour old");
  refused(w.signed_intake("m6", now + 3600, body), 401, "an hour ahead");
  refused(w.signed_intake("m7", now, body, {}, ""), 401, "no signature");
  refused(build_request("POST", std::string("/hooks/intake/") + kIntakeSource, {}, body), 401, "no headers at all");
  // Key rotation: several signatures, one of them good.
  HttpResponse rotated =
      hook.raw(w.signed_intake(unique_id("msg"), now, intake_payload("Rotated"), {},
                               "v1,bm9wZQ== " + standard_webhooks_signature(server.intake_secret(), "", 0, "")));
  CHECK(rotated.status == 401);  // the good-looking one signs something else
  std::string rid = unique_id("msg");
  std::string rbody = intake_payload("Rotated");
  HttpResponse rotated_ok = hook.raw(w.signed_intake(
      rid, now, rbody, {}, "v1,bm9wZQ== " + standard_webhooks_signature(server.intake_secret(), rid, now, rbody)));
  INFO(rotated_ok.describe());
  CHECK(rotated_ok.status == 201);
  // An unknown source.
  HttpResponse unknown = hook.raw(
      build_request("POST", "/hooks/intake/nobody",
                    {{"webhook-id", "m8"},
                     {"webhook-timestamp", std::to_string(now)},
                     {"webhook-signature", standard_webhooks_signature(server.intake_secret(), "m8", now, body)}},
                    body));
  CHECK(unknown.status == 404);
  // A valid signature on a payload that does not make a case: 422 with the fields.
  std::string empty_payload = json::serialize(json::object{{"customer", json::object{{"name", "Bo"}}}});
  std::string eid = unique_id("msg");
  HttpResponse incomplete = hook.raw(w.signed_intake(eid, now, empty_payload));
  INFO(incomplete.describe());
  CHECK(incomplete.status == 422);
  CHECK(!incomplete.problem_fields().empty());

  // Only the two good deliveries made cases.
  HttpResponse list = w.agent.get("/v1/cases?limit=200");
  REQUIRE(list.status == 200);
  CHECK(list.json().at("items").as_array().size() == 2);
}

TEST_CASE("web api: web hook subscriptions: the secret once, listed without it, deleted", "[web][webhooks]") {
  RedressServer server;
  Client admin(server.port(), server.token("admin"));
  HttpResponse created = admin.post(
      "/v1/webhooks", json::value(json::object{{"url", "https://crm.example.org/redress"},
                                               {"event_types", json::array{"case.received", "commitment.broken"}},
                                               {"description", "CRM"}}));
  INFO(created.describe());
  REQUIRE(created.status == 201);
  json::value sub = created.json();
  std::string id = string_at(sub, "id");
  std::string secret = string_at(sub, "secret");
  REQUIRE(!id.empty());
  CHECK(created.header("location") == "/v1/webhooks/" + id);
  REQUIRE(secret.rfind("whsec_", 0) == 0);
  CHECK(unbase64(secret.substr(6)).size() >= 24);
  CHECK(strings_at(sub, "event_types") == std::vector<std::string>{"case.received", "commitment.broken"});

  HttpResponse second = admin.post(
      "/v1/webhooks", json::value(json::object{{"url", "http://10.0.0.2:8080/in"}, {"event_types", json::array{"*"}}}));
  REQUIRE(second.status == 201);
  CHECK(string_at(second.json(), "secret") != secret);

  HttpResponse list = admin.get("/v1/webhooks");
  INFO(list.describe());
  REQUIRE(list.status == 200);
  const json::value listed = list.json();
  const json::array& items = listed.at("items").as_array();
  CHECK(items.size() == 2);
  for (const auto& item : items) CHECK(!item.as_object().contains("secret"));
  CHECK(list.body.find(secret) == std::string::npos);
  CHECK(list.body.find(secret.substr(6)) == std::string::npos);

  // Not valid: 422 naming the fields.
  HttpResponse invalid =
      admin.post("/v1/webhooks",
                 json::value(json::object{
                     {"url", "ftp://example.org"}, {"event_types", json::array{"case.exploded"}}, {"colour", "red"}}));
  INFO(invalid.describe());
  CHECK(invalid.status == 422);
  auto fields = invalid.problem_fields();
  for (const char* f : {"url", "event_types", "colour"})
    CHECK(std::find(fields.begin(), fields.end(), f) != fields.end());

  HttpResponse removed = admin.call("DELETE", "/v1/webhooks/" + id);
  INFO(removed.describe());
  CHECK(removed.status == 204);
  HttpResponse after = admin.get("/v1/webhooks");
  CHECK(after.json().at("items").as_array().size() == 1);
  CHECK(after.body.find("\"" + id + "\"") == std::string::npos);
  CHECK(admin.call("DELETE", "/v1/webhooks/" + id).status == 404);
  CHECK(admin.call("DELETE", "/v1/webhooks/wh-999999").status == 404);
  CHECK(admin.call("DELETE", "/v1/webhooks/nonsense").status == 404);
}

TEST_CASE("web api: the manual clock moves only when told, and only for the admin", "[web][clock]") {
  ServerSetup setup;
  setup.manual_clock = true;
  RedressServer server(setup);
  Client admin(server.port(), server.token("admin"));
  Client lead(server.port(), server.token("lead"));
  Client anonymous(server.port());

  HttpResponse health = anonymous.get("/healthz");
  REQUIRE(health.status == 200);
  std::string start = string_at(health.json(), "time");

  HttpResponse advanced = admin.post("/v1/admin/clock", json::value(json::object{{"advance", "PT4H"}}));
  INFO(advanced.describe());
  REQUIRE(advanced.status == 200);
  json::value moved = advanced.json();
  CHECK(string_at(moved, "previous") == start);
  CHECK(string_at(moved, "now") > start);
  CHECK(string_at(anonymous.get("/healthz").json(), "time") == string_at(moved, "now"));

  HttpResponse set = admin.post("/v1/admin/clock", json::value(json::object{{"set", "2029-01-08T09:00:00Z"}}));
  INFO(set.describe());
  REQUIRE(set.status == 200);
  CHECK(string_at(set.json(), "now") == "2029-01-08T09:00:00Z");
  CHECK(string_at(anonymous.get("/healthz").json(), "time") == "2029-01-08T09:00:00Z");
  // Cases are stamped with the manual time.
  Client agent(server.port(), server.token("agent"));
  json::value c = create_case(agent);
  CHECK(string_at(c, "received_at").rfind("2029-01-08T09:00:00", 0) == 0);
  CHECK(string_at(c, "reference").rfind("CMP-2029-", 0) == 0);

  // The clock never goes back; bad bodies are 422.
  CHECK(admin.post("/v1/admin/clock", json::value(json::object{{"set", "2028-01-01T00:00:00Z"}})).status == 422);
  CHECK(admin.post("/v1/admin/clock", json::value(json::object{{"advance", "-PT1H"}})).status == 422);
  CHECK(admin.post("/v1/admin/clock", json::value(json::object{{"advance", "soon"}})).status == 422);
  CHECK(admin.post("/v1/admin/clock", json::value(json::object{{"advance", "PT1H"}, {"set", "2030-01-01T00:00:00Z"}}))
            .status == 422);
  CHECK(admin.post("/v1/admin/clock", json::value(json::object{})).status == 422);
  // Only the admin.
  CHECK(lead.post("/v1/admin/clock", json::value(json::object{{"advance", "PT1H"}})).status == 403);
  CHECK(agent.post("/v1/admin/clock", json::value(json::object{{"advance", "PT1H"}})).status == 403);
  CHECK(anonymous.post("/v1/admin/clock", json::value(json::object{{"advance", "PT1H"}})).status == 401);
  CHECK(string_at(anonymous.get("/healthz").json(), "time") == "2029-01-08T09:00:00Z");
}

TEST_CASE("web api: the system clock has no /v1/admin/clock", "[web][clock]") {
  RedressServer server;
  Client admin(server.port(), server.token("admin"));
  HttpResponse r = admin.post("/v1/admin/clock", json::value(json::object{{"advance", "PT4H"}}));
  INFO(r.describe());
  CHECK(r.status == 404);
  CHECK(r.is_problem());
}

TEST_CASE("web api: 404, 405 with Allow, and the operational endpoints", "[web][ops]") {
  RedressServer server;
  Client agent(server.port(), server.token("agent"));
  HttpResponse missing = agent.get("/v1/cases/CMP-2026-999999");
  CHECK(missing.status == 404);
  CHECK(missing.is_problem());
  CHECK(agent.get("/v1/nothing-here").status == 404);

  HttpResponse put = agent.call("PUT", "/v1/cases", "{}");
  INFO(put.describe());
  CHECK(put.status == 405);
  CHECK(put.is_problem());
  std::string allow = put.header("allow");
  CHECK(allow.find("GET") != std::string::npos);
  CHECK(allow.find("POST") != std::string::npos);
  HttpResponse del = agent.call("DELETE", "/healthz");
  CHECK(del.status == 405);
  CHECK(del.header("allow") == "GET, HEAD");

  HttpResponse health = agent.get("/healthz");
  CHECK(health.status == 200);
  CHECK(string_at(health.json(), "status") == "ok");
  CHECK(!health.header("x-request-id").empty());
  HttpResponse echoed = agent.get("/healthz", {{"X-Request-Id", "trace-abc_123"}});
  CHECK(echoed.header("x-request-id") == "trace-abc_123");

  create_case(agent);
  HttpResponse metrics = agent.get("/metrics");
  INFO(metrics.describe());
  REQUIRE(metrics.status == 200);
  CHECK(metrics.header("content-type").rfind("text/plain", 0) == 0);
  CHECK(metrics.body.find("# TYPE") != std::string::npos);
  CHECK(metrics.body.find("/v1/cases") != std::string::npos);  // requests by route
  CHECK(metrics.body.find("received") != std::string::npos);   // cases by status
  CHECK(metrics.body.find(server.token("agent")) == std::string::npos);

  HttpResponse openapi = agent.get("/v1/openapi.json");
  REQUIRE(openapi.status == 200);
  json::value doc = openapi.json();
  REQUIRE(doc.is_object());
  CHECK(string_at(doc, "openapi").rfind("3.", 0) == 0);
  REQUIRE(doc.as_object().contains("paths"));
  const json::object& paths = doc.at("paths").as_object();
  for (const auto& [method, pattern] : registered_routes()) {
    INFO("OpenAPI describes " << method << " " << pattern);
    REQUIRE(paths.contains(pattern));
    CHECK(paths.at(pattern).as_object().contains(lower(method)));
  }
  // The server log never holds a token.
  CHECK(server.log().find(server.token("agent")) == std::string::npos);
}

TEST_CASE("web api: moving the manual clock fires what fell due before it answers, and the reports show it",
          "[web][clock][reports]") {
  ServerSetup setup;
  setup.manual_clock = true;
  RedressServer server(setup);
  Client admin(server.port(), server.token("admin"));
  Client lead(server.port(), server.token("lead"));
  Client agent(server.port(), server.token("agent"));
  Client anonymous(server.port());
  REQUIRE(admin.post("/v1/admin/clock", json::value(json::object{{"set", "2029-01-08T09:00:00Z"}})).status ==
          200);  // a Monday
  json::value created = create_case(agent);
  std::string ref = string_at(created, "reference");
  std::string promise_id;
  {
    HttpResponse r = agent.post(
        kBase + ref + "/commitments",
        json::value(json::object{{"text", "We will call you"}, {"due_in", "PT2H"}, {"client_visible", true}}));
    REQUIRE(r.status == 201);
    promise_id = string_at(r.json(), "id");
  }
  // Before: nothing broken.
  HttpResponse overdue = lead.get("/v1/reports/overdue");
  REQUIRE(overdue.status == 200);
  CHECK(overdue.json().at("totals").at("broken_unhandled").as_int64() == 0);

  REQUIRE(admin.post("/v1/admin/clock", json::value(json::object{{"advance", "P2D"}})).status == 200);
  // Answered: the promise and the acknowledgement pledge are already broken.
  json::value after = agent.get(kBase + ref).json();
  int broken = 0;
  for (const auto& k : after.at("commitments").as_array())
    if (k.at("status").as_string() == "broken") ++broken;
  CHECK(broken == 2);
  overdue = lead.get("/v1/reports/overdue");
  REQUIRE(overdue.status == 200);
  CHECK(overdue.json().at("totals").at("broken_unhandled").as_int64() == 2);
  CHECK(agent.get("/v1/reports/overdue").status == 403);

  // Handling the broken promise takes it off the report; handling it twice is refused.
  HttpResponse handled = agent.post("/v1/commitments/" + promise_id + "/handle",
                                    json::value(json::object{{"note", "Called the next morning and apologised."}}));
  INFO(handled.describe());
  CHECK(handled.status == 200);
  CHECK(agent.post("/v1/commitments/" + promise_id + "/handle", json::value(json::object{{"note", "again"}})).status ==
        409);
  CHECK(agent.post("/v1/commitments/" + promise_id + "/handle", json::value(json::object{})).status == 422);
  CHECK(lead.get("/v1/reports/overdue").json().at("totals").at("broken_unhandled").as_int64() == 1);
  // A malformed query parameter is the same 400 invalid-query on a report as on any route (query_test.cpp).
  CHECK(lead.get("/v1/reports/overdue?limit=0").status == 400);

  // The owners report: the agent made one promise and broke it.
  json::value owners = lead.get("/v1/reports/owners?days=30").json();
  bool seen = false;
  for (const auto& o : owners.at("items").as_array())
    if (!o.at("owner").is_null() && o.at("owner").at("name").is_string()) {
      seen = seen || o.at("promises").at("broken").as_int64() == 1;
    }
  CHECK(seen);
  CHECK(lead.get("/v1/reports/owners?days=nonsense").status == 400);

  // The public standards report counts the broken acknowledgement against the retail standard.
  json::value standards = anonymous.get("/v1/reports/standards").json();
  bool counted = false;
  for (const auto& w : standards.at("items").as_array()) {
    if (w.at("workflow").as_string() != "retail") continue;
    for (const auto& c : w.at("clocks").as_array())
      if (c.at("clock").as_string() == "acknowledge") counted = c.at("last_30_days").at("broken").as_int64() == 1;
  }
  CHECK(counted);
}

TEST_CASE("web api: intake is rate limited per source and per intake token, with Retry-After",
          "[web][intake][limits]") {
  // 6 a minute: bursts of 1, one more every 10 s (longer than this test takes).
  RedressServer server(ServerSetup{false, 2, {"intake_rate_per_minute = 6"}});
  World w(server);
  Client hook(server.port());
  int created = 0, limited = 0;
  for (int i = 0; i < 5; ++i) {
    HttpResponse r =
        hook.raw(w.signed_intake(unique_id("msg"), unix_now(), intake_payload("Parcel " + std::to_string(i))));
    INFO(r.describe());
    if (r.status == 201) ++created;
    if (r.status == 429) {
      ++limited;
      CHECK(r.is_problem());
      CHECK(std::stoi(r.header("retry-after")) >= 1);
    }
  }
  CHECK(created == 1);
  CHECK(limited == 4);
  // Unsigned requests are refused before they count: they cannot use up a source's allowance.
  Client intake(server.port(), server.token("intake"));
  int token_created = 0, token_limited = 0;
  for (int i = 0; i < 4; ++i) {
    HttpResponse r = intake.post("/v1/cases", new_case_body("By token " + std::to_string(i)));
    if (r.status == 201) ++token_created;
    if (r.status == 429) ++token_limited;
  }
  CHECK(token_created == 1);
  CHECK(token_limited == 3);
  // Staff are not limited.
  for (int i = 0; i < 4; ++i)
    CHECK(w.agent.post("/v1/cases", new_case_body("By hand " + std::to_string(i))).status == 201);
}

TEST_CASE("web api: no secret reaches the log - tokens, client links, passwords, cookies, signatures",
          "[web][security]") {
  RedressServer server;
  server.set_password("agent", "a very secret password 42");
  World w(server);
  auto made = w.new_case("Secret check");
  Client anonymous(server.port());
  CHECK(anonymous.get("/c/" + made.link).status == 200);
  CHECK(anonymous.get("/v1/client/" + made.link).status == 200);
  CHECK(anonymous.get("/c/cl_notarealtokenbutlongenough00000000000000000").status == 404);
  std::string body = intake_payload("Signed");
  std::string id = unique_id("msg");
  std::int64_t now = unix_now();
  std::string signed_request = w.signed_intake(id, now, body);
  REQUIRE(anonymous.raw(signed_request).status == 201);
  std::string signature = standard_webhooks_signature(server.intake_secret(), id, now, body);
  // A sign-in (the password in a form body) and a failed one.
  auto form = anonymous.get("/staff/login");
  std::string login_cookie = form.header("set-cookie").substr(0, form.header("set-cookie").find(';'));
  std::smatch m;
  REQUIRE(std::regex_search(form.body, m, std::regex("name=\"csrf\" value=\"([^\"]*)\"")));
  auto signed_in = anonymous.post(
      "/staff/login",
      "csrf=" + std::string(m[1]) + "&next=%2Fstaff&email=agent%40example.org&password=a+very+secret+password+42",
      {{"Content-Type", "application/x-www-form-urlencoded"}, {"Cookie", login_cookie}});
  REQUIRE(signed_in.status == 303);
  std::string session;
  auto [b, e] = signed_in.headers.equal_range("set-cookie");
  for (auto it = b; it != e; ++it)
    if (it->second.rfind("redress_staff=", 0) == 0) session = it->second.substr(14, it->second.find(';') - 14);
  REQUIRE(session.size() > 20);
  CHECK(anonymous.get("/staff", {{"Cookie", "redress_staff=" + session}}).status == 200);
  // A bad bearer token, too.
  CHECK(anonymous.get("/v1/cases", bearer("rdt_wrongtokenwrongtokenwrongtoken0000000000")).status == 401);
  REQUIRE(server.terminate() == 0);

  std::string log = server.log();
  REQUIRE(log.find("GET") != std::string::npos);  // requests were logged
  for (const std::string& secret : {server.token("agent"), server.token("admin"), server.token("intake"), made.link,
                                    std::string("a very secret password"), std::string("a+very+secret"), session,
                                    signature.substr(3), server.intake_secret(), std::string("rdt_wrongtoken")}) {
    INFO("secret: " << secret.substr(0, 12) << "...");
    CHECK(log.find(secret) == std::string::npos);
  }
}

namespace {

// The value of an unlabelled sample in /metrics; -1 when absent.
std::int64_t metric(Client& client, const std::string& name) {
  HttpResponse r = client.get("/metrics");
  REQUIRE(r.status == 200);
  std::istringstream lines(r.body);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind(name + " ", 0) == 0) return std::stoll(line.substr(name.size() + 1));
  return -1;
}

}  // namespace

// The store's write timings reach /metrics: each creation over HTTP is one more write answered,
// timed from its submission, and (durability full, the default) synced before its answer.
TEST_CASE("web api: /metrics shows where the store's writes spend their time", "[web][metrics]") {
  RedressServer server;
  Client agent(server.port(), server.token("agent"));
  const std::int64_t writes = metric(agent, "redress_store_writes_total");
  const std::int64_t answered = metric(agent, "redress_store_write_seconds_count");
  const std::int64_t syncs = metric(agent, "redress_store_syncs_total");
  REQUIRE(writes >= 0);
  REQUIRE(answered >= 0);
  REQUIRE(syncs >= 0);
  for (int i = 0; i < 3; ++i) create_case(agent, "Timed " + std::to_string(i));
  // Other writes may join (the search index's rounds): at least the three creations.
  CHECK(metric(agent, "redress_store_writes_total") >= writes + 3);
  CHECK(metric(agent, "redress_store_write_seconds_count") >= answered + 3);
  CHECK(metric(agent, "redress_store_syncs_total") >= syncs + 1);
  CHECK(metric(agent, "redress_store_sync_seconds_count") == metric(agent, "redress_store_syncs_total"));
  CHECK(metric(agent, "redress_store_groups_total") >= 1);
  HttpResponse r = agent.get("/metrics");
  CHECK(r.body.find("# TYPE redress_store_write_seconds histogram") != std::string::npos);
  CHECK(r.body.find("redress_store_queue_wait_seconds_bucket{le=\"+Inf\"}") != std::string::npos);
  CHECK(r.body.find("# TYPE redress_store_queued_writes gauge") != std::string::npos);
}

TEST_CASE(
    "web api: a case view from the view cache is always the store's current view - another node's writes, a new client "
    "link",
    "[web][view-cache]") {
  RedressServer server;
  World w(server);
  auto made = w.new_case("Charged twice for order 77");
  std::string ref = made.ref;

  // The first read renders and keeps the view; the second is answered from it, byte for byte.
  std::int64_t hits = metric(w.admin, "redress_view_cache_hits_total");
  REQUIRE(hits >= 0);
  HttpResponse first = w.admin.get(kBase + ref);
  REQUIRE(first.status == 200);
  HttpResponse second = w.admin.get(kBase + ref);
  REQUIRE(second.status == 200);
  CHECK(second.body == first.body);
  CHECK(second.header("etag") == first.header("etag"));
  CHECK(metric(w.admin, "redress_view_cache_hits_total") == hits + 1);
  CHECK(metric(w.admin, "redress_view_cache_entries") >= 1);

  // Another node on the same database changes the case: this node answers the new view at once,
  // although it neither made the change nor heard of it.
  SecondNode other(server, server.data_dir().parent_path() / "second-node.log");
  Client other_agent(other.port(), server.token("agent"));
  HttpResponse taken =
      other_agent.post(kBase + ref + "/actions", json::value(json::object{{"action", "take"}, {"note", "Mine."}}));
  INFO(taken.describe());
  REQUIRE(taken.status == 200);
  json::value after = w.get_case(ref);
  CHECK(after.at("version").as_int64() == taken.json().at("version").as_int64());
  CHECK(after.at("version").as_int64() > first.json().at("version").as_int64());
  REQUIRE(after.at("owner").is_object());
  CHECK(string_at(after.at("owner"), "id") == server.staff_id("agent"));
  CHECK(string_at(after.at("owner"), "name") == "Test agent");
  // The same view from either node (but for the client link, which names the node's own address).
  json::object here = w.get_case(ref).as_object(), there = taken.json().as_object();
  here.erase("client_url");
  there.erase("client_url");
  CHECK(json::serialize(here) == json::serialize(there));

  // A new client link (not a case event: the version stays) made on the other node shows here too.
  HttpResponse relinked = other_agent.post(kBase + ref + "/client-link", std::string());
  INFO(relinked.describe());
  REQUIRE(relinked.status / 100 == 2);
  json::value with_link = w.get_case(ref);
  CHECK(with_link.at("version").as_int64() == after.at("version").as_int64());
  CHECK(string_at(with_link, "client_url") != string_at(after, "client_url"));
  CHECK(link_token(string_at(with_link, "client_url")) != made.link);
  // Revoked: the view has no client link any more.
  HttpResponse revoked = other_agent.call("DELETE", kBase + ref + "/client-link");
  INFO(revoked.describe());
  REQUIRE(revoked.status / 100 == 2);
  CHECK_FALSE(w.get_case(ref).as_object().contains("client_url"));
}

TEST_CASE("web api: a cached resolved case stops offering reopen when its reopen window ends",
          "[web][view-cache][clock]") {
  ServerSetup setup;
  setup.manual_clock = true;
  RedressServer server(setup);
  World w(server);
  auto made = w.new_case();
  std::string ref = made.ref;
  w.act(ref, {{"action", "acknowledge"}});
  w.act(ref, {{"action", "take"}, {"note", "Mine."}});
  w.act(ref, {{"action", "start"}});
  json::value proposed = w.act(
      ref,
      {{"action", "propose_redress"},
       {"outcome", "upheld"},
       {"final_response", final_response_text()},
       {"offers", json::array{json::object{
                      {"kind", "refund"}, {"amount", "42.50"}, {"currency", "GBP"}, {"text", "The second charge"}}}}});
  std::string offer = string_at(proposed.at("redress").as_array().at(0), "id");
  // The client accepts: resolved, with a refund still to pay, so the case is not closed when the
  // reopen window ends (that is what would change its version).
  Client client(server.port());
  HttpResponse accepted = client.post("/v1/client/" + made.link + "/redress/" + offer + "/accept", std::string("{}"));
  INFO(accepted.describe());
  REQUIRE(accepted.status == 200);
  auto allows_reopen = [](const json::value& c) {
    auto allowed = strings_at(c, "allowed_actions");
    return std::find(allowed.begin(), allowed.end(), "reopen") != allowed.end();
  };
  // The retail workflow's reopen window is 28 days; the refund falls due (and is broken) on the way.
  REQUIRE(w.admin.post("/v1/admin/clock", json::value(json::object{{"advance", "P27D"}})).status == 200);
  json::value late = w.get_case(ref);
  REQUIRE(string_at(late, "status") == "resolved");
  CHECK(allows_reopen(late));
  std::int64_t hits = metric(w.admin, "redress_view_cache_hits_total");
  CHECK(allows_reopen(w.get_case(ref)));
  CHECK(metric(w.admin, "redress_view_cache_hits_total") == hits + 1);  // that one came from the cache

  REQUIRE(w.admin.post("/v1/admin/clock", json::value(json::object{{"advance", "P2D"}})).status == 200);
  json::value after = w.get_case(ref);
  // The same version, so the same stamp: only the rendering's validity end keeps the old answer out.
  REQUIRE(after.at("version").as_int64() == late.at("version").as_int64());
  CHECK(string_at(after, "status") == "resolved");
  CHECK_FALSE(allows_reopen(after));
  CHECK_FALSE(allows_reopen(w.get_case(ref)));
}

TEST_CASE("web api: limits given as serve flags override the config file", "[web][limits][config]") {
  RedressServer server;
  World w(server);
  SecondNode flagged(server, server.data_dir().parent_path() / "flagged-node.log",
                     {"--max-body-bytes", "2048", "--view-cache-mib", "0", "--intake-rate-per-minute", "0"});
  Client agent(flagged.port(), server.token("agent"));
  // A body over the flag's 2,048 bytes is 413 there, and accepted by the node on the defaults.
  json::object big = new_case_body("A long account");
  big["description"] = std::string(3000, 'x');
  HttpResponse refused = agent.post("/v1/cases", json::value(big));
  INFO(refused.describe());
  CHECK(refused.status == 413);
  CHECK(refused.is_problem());
  CHECK(w.agent.post("/v1/cases", json::value(big)).status == 201);
  // No view cache there: /metrics reports none; the other node's is on by default.
  HttpResponse metrics = agent.get("/metrics");
  REQUIRE(metrics.status == 200);
  CHECK(metrics.body.find("redress_view_cache_hits_total") == std::string::npos);
  CHECK(metric(w.admin, "redress_view_cache_hits_total") >= 0);
  // Reads still work without it.
  std::string ref = w.new_case().ref;
  HttpResponse read = agent.get(kBase + ref);
  CHECK(read.status == 200);
  CHECK(agent.get(kBase + ref).body == read.body);
}
