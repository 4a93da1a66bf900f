// Standards that keep their word, over real HTTP against the real binary on the manual clock:
// every escalation trigger a workflow can name fires as written (severity, client_request,
// redress_rejected, commitment_broken for promises and pledges, clock_warning, clock_breach),
// each from a real HTTP call; a client asks for escalation once per level, by the API and by the
// status page's form.
#include <regex>

#include "tests/web/support.h"
#include "web/pages/html.h"

namespace redress::webtest {

namespace {

const std::string kCases = "/v1/cases/";

// Sets the manual clock (the admin's call).
void set_clock(Client& admin, const std::string& when) {
  HttpResponse r = admin.post("/v1/admin/clock", json::value(json::object{{"set", when}}));
  INFO(r.describe());
  REQUIRE(r.status == 200);
}

// Advances the manual clock; what fell due meanwhile has fired when it answers.
void advance(Client& admin, const std::string& by) {
  HttpResponse r = admin.post("/v1/admin/clock", json::value(json::object{{"advance", by}}));
  INFO(r.describe());
  REQUIRE(r.status == 200);
}

json::object case_body(const std::string& workflow, const std::string& category, const std::string& subject,
                       const std::string& severity = "medium") {
  return json::object{{"client", json::object{{"name", "Ana Ruiz"}, {"email", "ana@example.org"}}},
                      {"channel", "web"},
                      {"category", category},
                      {"subject", subject},
                      {"description", "What happened, in the client's words."},
                      {"severity", severity},
                      {"workflow", workflow}};
}

json::value create(Client& staff, const json::object& body) {
  HttpResponse r = staff.post("/v1/cases", json::value(body));
  INFO(r.describe());
  REQUIRE(r.status == 201);
  return r.json();
}

HttpResponse act(Client& staff, const std::string& ref, json::object action) {
  return staff.post(kCases + ref + "/actions", json::value(std::move(action)));
}

json::value must_act(Client& staff, const std::string& ref, json::object action) {
  HttpResponse r = act(staff, ref, std::move(action));
  INFO(r.describe());
  REQUIRE(r.status == 200);
  return r.json();
}

std::int64_t level_of(Client& staff, const std::string& ref) {
  json::value c = staff.get(kCases + ref).json();
  REQUIRE(c.is_object());
  return c.at("escalation_level").as_int64();
}

// The causes of the case's escalations, oldest first ("severity", "client_request", ...).
std::vector<std::string> escalation_causes(Client& staff, const std::string& ref) {
  std::vector<std::string> causes;
  json::value events = staff.get(kCases + ref + "/events").json();
  for (const auto& e : events.at("items").as_array())
    if (e.at("type").as_string() == "case.escalated")
      causes.emplace_back(e.at("data").at("cause").as_string());
  return causes;
}

bool has(const std::vector<std::string>& values, const std::string& value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

std::string token_of(const json::value& created) { return link_token(string_at(created, "client_url")); }

// The id of the case's open pledge of `clock` ("k-3").
std::string pledge_id(Client& staff, const std::string& ref, const std::string& clock) {
  json::value c = staff.get(kCases + ref).json();
  for (const auto& k : c.at("commitments").as_array())
    if (k.as_object().contains("pledge") && k.at("status").as_string() == "open") {
      std::string key(k.at("pledge").as_string());
      if (key.find("/" + clock + "#") != std::string::npos) return std::string(k.at("id").as_string());
    }
  FAIL("no open pledge of " << clock << " on " << ref);
  return {};
}

HttpResponse renegotiate(Client& staff, const std::string& id, json::object body) {
  return staff.post("/v1/commitments/" + id + "/renegotiate", json::value(std::move(body)));
}

// Takes a case through to investigation (acknowledging it first when the workflow does not).
void investigate(Client& staff, const std::string& ref) {
  json::value c = staff.get(kCases + ref).json();
  if (c.at("status").as_string() == "received") must_act(staff, ref, {{"action", "acknowledge"}});
  must_act(staff, ref, {{"action", "take"}});
  must_act(staff, ref, {{"action", "start"}});
}

const std::string kFcaFinalResponse =
    "We have upheld your complaint and will refund the fee. You may refer your complaint to the Financial Ombudsman "
    "Service within six months; we do not consent to it considering a complaint referred later. "
    "www.financial-ombudsman.org.uk; the leaflet is enclosed.";

// One pledge's 30-day window of the standards report.
json::object window_of(Client& anyone, const std::string& workflow, const std::string& clock) {
  json::value report = anyone.get("/v1/reports/standards").json();
  for (const auto& w : report.at("items").as_array()) {
    if (w.at("workflow").as_string() != workflow) continue;
    for (const auto& c : w.at("clocks").as_array())
      if (c.at("clock").as_string() == clock) return c.at("last_30_days").as_object();
  }
  FAIL("no " << workflow << "/" << clock << " in the standards report");
  return {};
}

}  // namespace

TEST_CASE("standards: every escalation trigger fires from a real HTTP call", "[web][standards][triggers]") {
  ServerSetup setup;
  setup.manual_clock = true;
  RedressServer server(setup);
  Client admin(server.port(), server.token("admin"));
  Client agent(server.port(), server.token("agent"));
  Client client(server.port());
  set_clock(admin, "2027-01-11T10:00:00Z");  // a Monday, in the desk's hours

  SECTION("severity: a case received or assessed critical goes to the rung that names it") {
    // Retail: level 2 (Customer care manager) names { on = "severity", severity = "critical" }.
    json::value critical = create(agent, case_body("retail", "billing", "Charged ten times", "critical"));
    CHECK(critical.at("escalation_level").as_int64() == 2);
    CHECK(has(escalation_causes(agent, string_at(critical, "reference")), "severity"));

    json::value medium = create(agent, case_body("retail", "billing", "Charged twice"));
    const std::string ref = string_at(medium, "reference");
    CHECK(medium.at("escalation_level").as_int64() == 0);
    must_act(agent, ref, {{"action", "assess"}, {"severity", "high"}});
    CHECK(level_of(agent, ref) == 0);  // below the rung's severity: nothing
    json::value assessed = must_act(agent, ref, {{"action", "assess"}, {"severity", "critical"}});
    CHECK(assessed.at("escalation_level").as_int64() == 2);
    CHECK(escalation_causes(agent, ref) == std::vector<std::string>{"severity"});
  }

  SECTION("client_request: the client asks by the API, once per level") {
    json::value created = create(agent, case_body("retail", "delivery", "Parcel lost"));
    const std::string ref = string_at(created, "reference");
    const std::string path = "/v1/client/" + token_of(created) + "/escalate";
    CHECK(has(strings_at(client.get("/v1/client/" + token_of(created)).json(), "allowed_actions"), "escalate"));

    HttpResponse no_reason = client.post(path, json::value(json::object{}));
    CHECK(no_reason.status == 422);
    CHECK(has(no_reason.problem_fields(), "reason"));

    HttpResponse asked = client.post(path, json::value(json::object{{"reason", "Nobody has called me back."}}));
    INFO(asked.describe());
    REQUIRE(asked.status == 200);
    CHECK(level_of(agent, ref) == 1);  // retail level 1 names { on = "client_request" }
    CHECK(escalation_causes(agent, ref) == std::vector<std::string>{"client_request"});
    CHECK(agent.get(kCases + ref).json().at("escalation_requested_at_level").as_int64() == 0);

    // At level 1 the client may ask again: no rung above names client_request, so the request is
    // recorded and heard by level 1, and the case stays where it is.
    HttpResponse again = client.post(path, json::value(json::object{{"reason", "Still nothing."}}));
    INFO(again.describe());
    REQUIRE(again.status == 200);
    CHECK(level_of(agent, ref) == 1);
    CHECK_FALSE(has(strings_at(again.json(), "allowed_actions"), "escalate"));
    // A third time at the same level is refused, with the actions allowed now.
    HttpResponse third = client.post(path, json::value(json::object{{"reason", "Please."}}));
    INFO(third.describe());
    CHECK(third.status == 409);
    CHECK(third.is_problem());
    CHECK(string_at(third.json(), "detail").find("already asked") != std::string::npos);
    int requested = 0;
    const json::value events = agent.get(kCases + ref + "/events").json();
    for (const auto& e : events.at("items").as_array())
      if (e.at("type").as_string() == "case.escalation_requested") ++requested;
    CHECK(requested == 2);
    // Staff escalate with `escalate`, never by asking as the client.
    CHECK(act(agent, ref, {{"action", "request_escalation"}, {"reason", "x"}}).status == 403);
  }

  SECTION("client_request: the status page's form asks too") {
    json::value created = create(agent, case_body("retail", "delivery", "Parcel lost again"));
    const std::string ref = string_at(created, "reference");
    const std::string page = "/c/" + token_of(created);
    HttpResponse shown = client.get(page);
    REQUIRE(shown.status == 200);
    CHECK(shown.body.find("Ask for this to be escalated") != std::string::npos);
    CHECK(shown.body.find("action=\"" + page + "/escalate\"") != std::string::npos);
    HttpResponse posted =
        client.post(page + "/escalate", "reason=" + web::form_encode("You promised a call and never called."),
                    {{"Content-Type", "application/x-www-form-urlencoded"}});
    INFO(posted.describe());
    REQUIRE(posted.status == 303);
    CHECK(posted.header("location") == page + "?done=escalate");
    CHECK(level_of(agent, ref) == 1);
    HttpResponse after = client.get(page + "?done=escalate");
    CHECK(after.body.find("passed your request to a more senior member") != std::string::npos);
  }

  SECTION("redress_rejected: to the rung the ladder names, not one up") {
    json::value created = create(agent, case_body("fca-disp", "banking", "Fee charged in error"));
    const std::string ref = string_at(created, "reference");
    must_act(agent, ref, {{"action", "take"}});
    must_act(agent, ref, {{"action", "start"}});
    // Already at level 1 by hand: a rejection names level 1 on the FCA ladder, so it stays there
    // (a blanket "one up" would have taken it to the complaints manager).
    must_act(agent, ref, {{"action", "escalate"}, {"level", 1}, {"reason", "A vulnerable client"}});
    json::value proposed = must_act(
        agent, ref,
        {{"action", "propose_redress"},
         {"outcome", "upheld"},
         {"root_cause", "terms_disputed_sums"},
         {"product", "current_accounts"},
         {"offers", json::array{json::object{{"kind", "refund"}, {"amount", "25.00"}, {"currency", "GBP"}}}},
         {"final_response",
          "We have upheld your complaint and will refund the fee. You may refer your complaint to the Financial "
          "Ombudsman Service within six months; we do not consent to it considering a complaint referred later. "
          "www.financial-ombudsman.org.uk; the leaflet is enclosed."}});
    const std::string offer = std::string(proposed.at("redress").as_array().at(0).at("id").as_string());
    HttpResponse rejected = client.post("/v1/client/" + token_of(created) + "/redress/" + offer + "/reject",
                                        json::value(json::object{{"reason", "Not enough"}}));
    INFO(rejected.describe());
    REQUIRE(rejected.status == 200);
    CHECK(level_of(agent, ref) == 1);

    // From level 0 a rejection goes to level 1 (retail's rung naming redress_rejected).
    json::value retail = create(agent, case_body("retail", "refund", "Refund refused"));
    const std::string retail_ref = string_at(retail, "reference");
    must_act(agent, retail_ref, {{"action", "acknowledge"}});
    must_act(agent, retail_ref, {{"action", "take"}});
    must_act(agent, retail_ref, {{"action", "start"}});
    json::value offered = must_act(
        agent, retail_ref,
        {{"action", "propose_redress"},
         {"outcome", "partly_upheld"},
         {"offers", json::array{json::object{{"kind", "credit"}, {"amount", "10.00"}, {"currency", "GBP"}}}},
         {"final_response", final_response_text()}});
    const std::string credit = std::string(offered.at("redress").as_array().at(0).at("id").as_string());
    REQUIRE(client.post("/v1/client/" + token_of(retail) + "/redress/" + credit + "/reject", json::value(json::object{}))
                .status == 200);
    CHECK(level_of(agent, retail_ref) == 1);
    CHECK(escalation_causes(agent, retail_ref) == std::vector<std::string>{"redress_rejected"});
  }

  SECTION("commitment_broken: a broken client-visible promise goes to the retail team lead") {
    json::value visible = create(agent, case_body("retail", "service", "Engineer never came"));
    json::value internal = create(agent, case_body("retail", "service", "Engineer late"));
    for (const auto* c : {&visible, &internal}) {
      must_act(agent, string_at(*c, "reference"), {{"action", "acknowledge"}});
      HttpResponse promised = agent.post(
          kCases + string_at(*c, "reference") + "/commitments",
          json::value(json::object{
              {"text", "We will call you"}, {"due_in", "PT1H"}, {"client_visible", c == &visible}}));
      REQUIRE(promised.status == 201);
    }
    advance(admin, "PT2H");
    CHECK(level_of(agent, string_at(visible, "reference")) == 1);
    CHECK(escalation_causes(agent, string_at(visible, "reference")) == std::vector<std::string>{"commitment.broken"});
    CHECK(level_of(agent, string_at(internal, "reference")) == 0);  // the trigger names client-visible promises
  }

  SECTION("commitment_broken for a pledge, and clock_breach") {
    // FCA level 3 names { on = "commitment_broken" } for any commitment; level 2 clock_breach.
    json::value fca = create(agent, case_body("fca-disp", "mortgages", "Payment not applied"));
    // Retail level 2 names { on = "clock_breach" } (any clock): the acknowledgement pledge.
    json::value retail = create(agent, case_body("retail", "billing", "Wrong bill"));
    advance(admin, "P9D");  // past the FCA update pledge (5 business days) and retail's acknowledgement
    CHECK(level_of(agent, string_at(fca, "reference")) == 3);
    CHECK(level_of(agent, string_at(retail, "reference")) == 2);
    CHECK(has(escalation_causes(agent, string_at(retail, "reference")), "commitment.broken"));
  }

  SECTION("clock_warning: at the fraction the rung names") {
    // CFPB level 1 names the initial response's 75% warning: 15 days x 0.75 = 11 days 6 hours.
    json::value cfpb = create(agent, case_body("cfpb", "credit_card", "Card blocked"));
    const std::string ref = string_at(cfpb, "reference");
    advance(admin, "P11D");
    CHECK(level_of(agent, ref) == 0);  // the 50% warning names no rung
    advance(admin, "PT7H");
    CHECK(level_of(agent, ref) == 1);
    CHECK(escalation_causes(agent, ref) == std::vector<std::string>{"commitment.at_risk"});
  }
}

TEST_CASE("standards: a pledge moves only as its clock's rule allows, and the refusal quotes the rule",
          "[web][standards][renegotiation]") {
  ServerSetup setup;
  setup.manual_clock = true;
  RedressServer server(setup);
  Client admin(server.port(), server.token("admin"));
  Client agent(server.port(), server.token("agent"));
  Client anyone(server.port());
  set_clock(admin, "2027-01-11T10:00:00Z");  // Monday 11 January 2027

  // FCA eight weeks (DISP 1.6.2R): never moves.
  json::value banking = create(agent, case_body("fca-disp", "banking", "Standing order missed"));
  const std::string eight_weeks = pledge_id(agent, string_at(banking, "reference"), "final_response");
  HttpResponse fixed = renegotiate(agent, eight_weeks, {{"due_in", "P7D"}, {"reason", "We need longer"}});
  INFO(fixed.describe());
  CHECK(fixed.status == 409);
  CHECK(fixed.is_problem());
  CHECK(string_at(fixed.json(), "detail").find("DISP 1.6.2R") != std::string::npos);
  CHECK(string_at(fixed.json(), "detail").find("cannot be moved (renegotiation = \"never\")") != std::string::npos);
  // A promise made by a person still moves before it is due.
  HttpResponse promised = agent.post(kCases + string_at(banking, "reference") + "/commitments",
                                     json::value(json::object{{"text", "We will call you"}, {"due_in", "P1D"}}));
  REQUIRE(promised.status == 201);
  CHECK(renegotiate(agent, string_at(promised.json(), "id"), {{"due_in", "P3D"}, {"reason", "Asked for Thursday"}})
            .status == 200);

  // FCA payment services: 15 business days (Monday 1 February, 17:00), exceptionally 35 (Monday
  // 1 March, 17:00), and only with a holding reply giving the reasons and the new deadline.
  json::value psd = create(agent, case_body("fca-disp", "payment_services", "Transfer stuck"));
  const std::string psd_ref = string_at(psd, "reference");
  const std::string fifteen = pledge_id(agent, psd_ref, "final_response_payment_services");
  HttpResponse too_far = renegotiate(agent, fifteen,
                                     {{"due_at", "2027-03-02T17:00:00Z"},
                                      {"reason", "The receiving bank has not answered"},
                                      {"holding_reply", "The reason for the delay is the other bank. By 2 March 2027."}});
  CHECK(too_far.status == 409);
  CHECK(string_at(too_far.json(), "detail").find("2027-03-01T17:00:00Z") != std::string::npos);
  CHECK(string_at(too_far.json(), "detail").find("DISP 1.6.2AR") != std::string::npos);
  HttpResponse no_letter =
      renegotiate(agent, fifteen, {{"due_at", "2027-02-26T17:00:00Z"}, {"reason", "The receiving bank is slow"}});
  CHECK(no_letter.status == 422);
  CHECK(has(no_letter.problem_fields(), "holding_reply"));
  CHECK(string_at(no_letter.json(), "detail").find("letter template") != std::string::npos);
  HttpResponse no_date = renegotiate(
      agent, fifteen,
      {{"due_at", "2027-02-26T17:00:00Z"},
       {"reason", "The receiving bank is slow"},
       {"holding_reply", "The reason for the delay is that the receiving bank has not answered us yet."}});
  CHECK(no_date.status == 422);
  CHECK(no_date.body.find("26 February 2027") != std::string::npos);  // the deadline it must state
  HttpResponse extended = renegotiate(
      agent, fifteen,
      {{"due_at", "2027-02-26T17:00:00Z"},
       {"reason", "The receiving bank is slow"},
       {"holding_reply",
        "Dear Ana, we are sorry: we cannot answer within 15 business days. The reason for the delay is that the "
        "receiving bank has not answered us yet. You will have our final response by 26 February 2027."}});
  INFO(extended.describe());
  REQUIRE(extended.status == 200);
  json::value moved = agent.get(kCases + psd_ref).json();
  bool sent = false;
  for (const auto& m : moved.at("messages").as_array())
    sent = sent || (m.at("visibility").as_string() == "client" &&
                    std::string(m.at("body").as_string()).find("26 February 2027") != std::string::npos);
  CHECK(sent);  // the holding reply went to the client
  std::string successor;
  for (const auto& k : moved.at("commitments").as_array())
    if (k.at("status").as_string() == "open" && k.as_object().contains("replaces")) {
      successor = std::string(k.at("id").as_string());
      CHECK(k.at("due_at").as_string() == "2027-02-26T17:00:00Z");
      CHECK(k.at("rule_due_at").as_string() == "2027-03-01T17:00:00Z");  // the exceptional target
    }
  REQUIRE(!successor.empty());

  // Retail's own standard allows a later date agreed with the client, at most 14 days past the
  // 14 days (Monday 25 January + 14 days = Monday 8 February, 10:00).
  json::value retail = create(agent, case_body("retail", "delivery", "Sofa late"));
  const std::string retail_ref = string_at(retail, "reference");
  investigate(agent, retail_ref);
  const std::string answer = pledge_id(agent, retail_ref, "final_response");
  HttpResponse beyond = renegotiate(agent, answer, {{"due_at", "2027-02-09T10:00:00Z"}, {"reason", "Agreed"}});
  CHECK(beyond.status == 409);
  CHECK(string_at(beyond.json(), "detail").find("2027-02-08T10:00:00Z") != std::string::npos);
  CHECK(string_at(beyond.json(), "detail").find("Our standard") != std::string::npos);
  REQUIRE(renegotiate(agent, answer, {{"due_at", "2027-02-01T10:00:00Z"}, {"reason", "Agreed with Ana by phone"}})
              .status == 200);

  // Both answered after the time the standard first set, before the dates they were moved to.
  investigate(agent, psd_ref);
  advance(admin, "P17D");  // Thursday 28 January
  must_act(agent, retail_ref, {{"action", "resolve"}, {"outcome", "upheld"}, {"final_response", final_response_text()}});
  advance(admin, "P13D");  // Wednesday 10 February
  must_act(agent, psd_ref, {{"action", "resolve"}, {"outcome", "upheld"}, {"final_response", kFcaFinalResponse}, {"root_cause", "other"}, {"product", "credit_cards"}});

  // Honest attainment: the payment-services pledge was met by the time its rule set (moved as the
  // rule allows); retail's was kept only on a renegotiated date, which is not met.
  json::object psd_window = window_of(anyone, "fca-disp", "final_response_payment_services");
  CHECK(psd_window.at("met").as_int64() == 1);
  CHECK(psd_window.at("moved").as_int64() == 1);
  CHECK(psd_window.at("renegotiated").as_int64() == 0);
  CHECK(psd_window.at("attainment").as_double() == 1.0);
  json::object retail_window = window_of(anyone, "retail", "final_response");
  CHECK(retail_window.at("met").as_int64() == 0);
  CHECK(retail_window.at("renegotiated").as_int64() == 1);
  CHECK(retail_window.at("broken").as_int64() == 0);
  CHECK(retail_window.at("attainment").as_double() == 0.0);
  // The public page says so in words.
  HttpResponse page = anyone.get("/standards");
  REQUIRE(page.status == 200);
  CHECK(page.body.find("1 renegotiated") != std::string::npos);
  CHECK(page.body.find("This date never moves.") != std::string::npos);
}

TEST_CASE("standards: FCA summary resolution until close of the third business day, refused on the fourth",
          "[web][standards][summary]") {
  ServerSetup setup;
  setup.manual_clock = true;
  RedressServer server(setup);
  Client admin(server.port(), server.token("admin"));
  Client agent(server.port(), server.token("agent"));
  set_clock(admin, "2027-01-11T10:00:00Z");  // Monday 11 January 2027, in business hours

  json::value quick = create(agent, case_body("fca-disp", "credit", "Card limit lowered"));
  json::value slow = create(agent, case_body("fca-disp", "credit", "Card limit lowered again"));
  const std::string quick_ref = string_at(quick, "reference");
  const std::string slow_ref = string_at(slow, "reference");
  // Close of business on the third business day after receipt: Thursday 14 January, 17:00.
  CHECK(string_at(quick, "summary_resolution_until") == "2027-01-14T17:00:00Z");
  CHECK(string_at(agent.get(kCases + quick_ref).json(), "summary_resolution_until") == "2027-01-14T17:00:00Z");
  json::value retail = create(agent, case_body("retail", "billing", "Wrong bill"));
  CHECK(retail.at("summary_resolution_until").is_null());  // a standard without one
  investigate(agent, quick_ref);
  investigate(agent, slow_ref);

  const std::string summary =
      "Thank you for talking to us on Tuesday. We have raised your limit back, and we consider your complaint "
      "resolved. If you later become dissatisfied you may be able to refer it to the Financial Ombudsman Service: "
      "www.financial-ombudsman.org.uk.";
  advance(admin, "P3DT6H");  // Thursday 16:00, day 3
  HttpResponse lacking = act(agent, quick_ref,
                             {{"action", "resolve"},
                              {"outcome", "upheld"},
                              {"summary_resolution", "We have raised your limit back. We consider your complaint resolved."}});
  CHECK(lacking.status == 422);
  CHECK(has(lacking.problem_fields(), "summary_resolution"));
  CHECK(string_at(lacking.json(), "detail").find("letter template \"summary_resolution\"") != std::string::npos);
  CHECK(act(agent, quick_ref, {{"action", "resolve"}, {"outcome", "upheld"}, {"summary_resolution", summary},
                               {"final_response", kFcaFinalResponse}})
            .status == 422);  // one or the other
  json::value resolved =
      must_act(agent, quick_ref, {{"action", "resolve"}, {"outcome", "upheld"}, {"summary_resolution", summary},
                                  {"root_cause", "other"}, {"product", "credit_cards"}});
  CHECK(resolved.at("status").as_string() == "resolved");
  bool mailed = false;
  const json::value quick_mail = agent.get(kCases + quick_ref + "/notifications").json();
  for (const auto& n : quick_mail.at("items").as_array())
    mailed = mailed || n.at("template").as_string() == "client.summary_resolution";
  CHECK(mailed);

  advance(admin, "PT18H");  // Friday 10:00, day 4
  HttpResponse late = act(agent, slow_ref, {{"action", "resolve"}, {"outcome", "upheld"}, {"summary_resolution", summary}});
  INFO(late.describe());
  CHECK(late.status == 409);
  CHECK(string_at(late.json(), "detail").find("window closed at 2027-01-14T17:00:00Z") != std::string::npos);
  CHECK(string_at(late.json(), "detail").find("final_response_upheld") != std::string::npos);
  // The final response still resolves it.
  must_act(agent, slow_ref, {{"action", "resolve"}, {"outcome", "upheld"}, {"final_response", kFcaFinalResponse}, {"root_cause", "other"}, {"product", "credit_cards"}});
}

TEST_CASE("standards: at eight weeks without a final response the FCA holding reply is required and prompted",
          "[web][standards][holding]") {
  ServerSetup setup;
  setup.manual_clock = true;
  RedressServer server(setup);
  Client admin(server.port(), server.token("admin"));
  Client agent(server.port(), server.token("agent"));
  set_clock(admin, "2027-01-11T10:00:00Z");

  json::value created = create(agent, case_body("fca-disp", "pensions", "Transfer value wrong"));
  const std::string ref = string_at(created, "reference");
  investigate(agent, ref);
  json::value before = agent.get(kCases + ref).json();
  REQUIRE(before.at("holding_reply").is_object());
  CHECK(before.at("holding_reply").at("due_at").as_string() == "2027-03-08T10:00:00Z");  // eight weeks
  CHECK_FALSE(before.at("holding_reply").at("required").as_bool());
  // Sending one needs the letter's elements; an internal note is never a holding reply.
  CHECK(agent.post(kCases + ref + "/messages",
                   json::value(json::object{{"visibility", "internal"}, {"kind", "holding_reply"}, {"body", "x"}}))
            .status == 422);

  advance(admin, "P8WT1H");
  json::value due = agent.get(kCases + ref).json();
  CHECK(due.at("holding_reply").at("required").as_bool());
  bool recorded = false, prompted = false;
  const json::value events = agent.get(kCases + ref + "/events").json();
  for (const auto& e : events.at("items").as_array())
    recorded = recorded || e.at("type").as_string() == "case.holding_reply_due";
  const json::value mail = agent.get(kCases + ref + "/notifications").json();
  for (const auto& n : mail.at("items").as_array())
    prompted = prompted || (n.at("template").as_string() == "staff.holding_reply_due" &&
                            n.at("recipient").as_string() == "agent@example.org");
  CHECK(recorded);
  CHECK(prompted);

  HttpResponse lacking = agent.post(
      kCases + ref + "/messages",
      json::value(json::object{{"visibility", "client"}, {"kind", "holding_reply"}, {"body", "Sorry for the wait."}}));
  CHECK(lacking.status == 422);
  CHECK(string_at(lacking.json(), "detail").find("letter template \"holding_reply\"") != std::string::npos);
  HttpResponse sent = agent.post(
      kCases + ref + "/messages",
      json::value(json::object{
          {"visibility", "client"},
          {"kind", "holding_reply"},
          {"body",
           "We are sorry: we are not yet in a position to send our final response, because the pension scheme has "
           "not sent us its records. We expect to send it by 22 March 2027. You may now refer your complaint to the "
           "Financial Ombudsman Service (www.financial-ombudsman.org.uk); its leaflet is enclosed."}}));
  INFO(sent.describe());
  REQUIRE(sent.status == 201);
  json::value after = agent.get(kCases + ref).json();
  CHECK_FALSE(after.at("holding_reply").at("required").as_bool());
  CHECK(after.at("holding_reply").at("sent_at").as_string() == "2027-03-08T11:00:00Z");
}

TEST_CASE("standards: calendars say when they end - /healthz and the board warn 90 days ahead, and past the end "
          "deadlines are refused",
          "[web][standards][calendar]") {
  ServerSetup setup;
  setup.manual_clock = true;
  RedressServer server(setup);
  server.set_password("lead", "correct horse battery staple");
  Client admin(server.port(), server.token("admin"));
  Client agent(server.port(), server.token("agent"));
  Client anyone(server.port());

  set_clock(admin, "2030-09-01T12:00:00Z");
  json::value early = anyone.get("/healthz").json();
  CHECK(string_at(early, "status") == "ok");
  CHECK_FALSE(early.as_object().contains("calendars"));

  set_clock(admin, "2030-11-01T12:00:00Z");  // 61 days before the shipped calendars end
  json::value health = anyone.get("/healthz").json();
  CHECK(string_at(health, "status") == "ok");
  REQUIRE(health.as_object().contains("calendars"));
  CHECK(health.at("calendars").as_array().size() == 4);
  for (const auto& c : health.at("calendars").as_array()) {
    CHECK(c.at("days_left").as_int64() == 61);
    CHECK(c.at("ends").as_string() == "2031-01-01");
    CHECK(c.at("last_year").as_int64() == 2030);
    CHECK(std::string(c.at("message").as_string()).find("Add 2031's holidays") != std::string::npos);
  }
  // Deadlines inside the years are still counted.
  create(agent, case_body("retail", "billing", "Before the end"));

  // The review board says so too.
  Client lead(server.port());
  HttpResponse login = lead.get("/staff/login");
  REQUIRE(login.status == 200);
  std::smatch csrf;
  REQUIRE(std::regex_search(login.body, csrf, std::regex("name=\"csrf\" value=\"([^\"]*)\"")));
  std::string cookies;
  for (auto [it, end] = login.headers.equal_range("set-cookie"); it != end; ++it)
    cookies += (cookies.empty() ? "" : "; ") + it->second.substr(0, it->second.find(';'));
  HttpResponse signed_in = lead.post(
      "/staff/login",
      "csrf=" + web::form_encode(csrf[1].str()) + "&next=%2Fstaff%2Fboard&email=" + web::form_encode("lead@example.org") +
          "&password=" + web::form_encode("correct horse battery staple"),
      {{"Content-Type", "application/x-www-form-urlencoded"}, {"Cookie", cookies}});
  REQUIRE(signed_in.status == 303);
  for (auto [it, end] = signed_in.headers.equal_range("set-cookie"); it != end; ++it)
    cookies += "; " + it->second.substr(0, it->second.find(';'));
  HttpResponse board = lead.get("/staff/board", {{"Cookie", cookies}});
  INFO(board.describe());
  REQUIRE(board.status == 200);
  CHECK(board.body.find("Calendar ending") != std::string::npos);
  CHECK(board.body.find("lists holidays to the end of 2030: 61 days left") != std::string::npos);

  // Past the end: nothing that needs a business day is guessed.
  set_clock(admin, "2031-01-02T12:00:00Z");
  HttpResponse refused = agent.post("/v1/cases", json::value(case_body("retail", "billing", "After the end")));
  INFO(refused.describe());
  CHECK(refused.status == 503);
  CHECK(refused.is_problem());
  CHECK(string_at(refused.json(), "type").find("calendar-exhausted") != std::string::npos);
  CHECK(string_at(refused.json(), "detail").find("retail") != std::string::npos);
  CHECK(string_at(refused.json(), "detail").find("2026-2030") != std::string::npos);
  json::value ended = anyone.get("/healthz").json();
  CHECK(string_at(ended, "status") == "degraded");
  CHECK(ended.at("calendars").at(0).at("days_left").as_int64() == 0);
}

namespace {

const std::string kEnergyFinalResponse =
    "Your supply was restored and we have paid what the Guaranteed Standards owe. If you are unhappy with our "
    "response you may refer your complaint to the Energy Ombudsman, free of charge: www.energyombudsman.org.";

// The automatic payments on a case whose text contains `text`.
int automatic_payments(Client& staff, const std::string& ref, const std::string& text) {
  const json::value c = staff.get(kCases + ref).json();
  int n = 0;
  for (const auto& r : c.at("redress").as_array())
    if (r.at("automatic").as_bool() && std::string(r.at("text").as_string()).find(text) != std::string::npos) ++n;
  return n;
}

std::string due_of(Client& staff, const std::string& ref, const std::string& clock) {
  const json::value c = staff.get(kCases + ref).json();
  for (const auto& k : c.at("commitments").as_array())
    if (k.as_object().contains("pledge") &&
        std::string(k.at("pledge").as_string()).find("/" + clock + "#") != std::string::npos)
      return std::string(k.at("due_at").as_string());
  return {};
}

}  // namespace

TEST_CASE("standards: energy - category 2 severe weather waits 48 hours, a late payment's penalty is owed once per "
          "failure, and a recorded exemption stops automatic payment",
          "[web][standards][energy]") {
  ServerSetup setup;
  setup.manual_clock = true;
  RedressServer server(setup);
  Client admin(server.port(), server.token("admin"));
  Client agent(server.port(), server.token("agent"));
  Client lead(server.port(), server.token("lead"));
  set_clock(admin, "2027-01-11T08:00:00Z");  // Monday 11 January 2027

  json::value storm1 = create(agent, case_body("energy-network", "power_cut_severe_weather", "No power, storm"));
  json::value storm2 =
      create(agent, case_body("energy-network", "power_cut_severe_weather_category_2", "No power, big storm"));
  CHECK(due_of(agent, string_at(storm1, "reference"), "supply_restoration_severe_weather") == "2027-01-12T08:00:00Z");
  CHECK(due_of(agent, string_at(storm2, "reference"), "supply_restoration_severe_weather_category_2") ==
        "2027-01-13T08:00:00Z");

  // An exemption, recorded with its reason by a lead before the 12 hours pass, stops the payment.
  json::value exempt = create(agent, case_body("energy-network", "power_cut", "No power, no access"));
  const std::string exempt_ref = string_at(exempt, "reference");
  const std::string restore = pledge_id(agent, exempt_ref, "supply_restoration");
  CHECK(agent.post("/v1/commitments/" + restore + "/exempt", json::value(json::object{{"reason", "x"}})).status == 403);
  CHECK(lead.post("/v1/commitments/" + restore + "/exempt", json::value(json::object{})).status == 422);
  HttpResponse exempted = lead.post(
      "/v1/commitments/" + restore + "/exempt",
      json::value(json::object{{"reason", "The customer refused access to the meter (regulation 10 exemption)"}}));
  INFO(exempted.describe());
  REQUIRE(exempted.status == 200);
  CHECK(lead.post("/v1/commitments/" + restore + "/exempt", json::value(json::object{{"reason", "again"}})).status ==
        409);
  json::value ordinary = create(agent, case_body("energy-network", "power_cut", "No power"));
  const std::string ref = string_at(ordinary, "reference");

  advance(admin, "PT30H");  // Tuesday 14:00: both 12 hours passed long ago
  CHECK(automatic_payments(agent, exempt_ref, "Guaranteed Standards") == 0);
  CHECK(automatic_payments(agent, ref, "supply not restored within 12 hours") == 1);  // £95 at the breach
  // Restored after 30 hours: a further £45 for the second 12 hours.
  investigate(agent, ref);
  must_act(agent, ref, {{"action", "resolve"}, {"outcome", "upheld"}, {"final_response", kEnergyFinalResponse}});
  CHECK(automatic_payments(agent, ref, "supply not restored within 12 hours") == 2);
  investigate(agent, exempt_ref);
  must_act(agent, exempt_ref, {{"action", "resolve"}, {"outcome", "upheld"}, {"final_response", kEnergyFinalResponse}});
  CHECK(automatic_payments(agent, exempt_ref, "Guaranteed Standards") == 0);  // nor for the late restoration

  // Neither part is paid within 10 working days: one failure to pay, one further £40.
  advance(admin, "P21D");
  CHECK(automatic_payments(agent, ref, "payment not made within 10 working days") == 1);
}

TEST_CASE("standards: CFPB clocks run from when the CFPB routed the complaint", "[web][standards][cfpb]") {
  ServerSetup setup;
  setup.manual_clock = true;
  RedressServer server(setup);
  Client admin(server.port(), server.token("admin"));
  Client agent(server.port(), server.token("agent"));
  set_clock(admin, "2027-01-11T15:00:00Z");  // Monday, 10:00 in New York

  json::object routed = case_body("cfpb", "credit_reporting", "Wrong item on my report");
  routed["regulator_reference"] = "270106-000123";
  routed["routed_at"] = "2027-01-06T15:00:00Z";  // the CFPB routed it five days ago
  json::value created = create(agent, routed);
  const std::string ref = string_at(created, "reference");
  CHECK(string_at(created, "regulator_reference") == "270106-000123");
  CHECK(string_at(created, "routed_at") == "2027-01-06T15:00:00Z");
  CHECK(due_of(agent, ref, "initial_response") == "2027-01-21T15:00:00Z");  // 15 days from routing
  CHECK(due_of(agent, ref, "final_response") == "2027-03-07T15:00:00Z");    // 60 days, in EST
  // A complaint that came to us directly counts from its receipt.
  json::value direct = create(agent, case_body("cfpb", "credit_reporting", "Wrong address"));
  CHECK(direct.at("routed_at").is_null());
  CHECK(due_of(agent, string_at(direct, "reference"), "initial_response") == "2027-01-26T15:00:00Z");
  // Routing is in the past.
  routed["routed_at"] = "2027-01-12T15:00:00Z";
  CHECK(agent.post("/v1/cases", json::value(routed)).status == 422);
}


TEST_CASE("standards: a calendar that has run out is said at start-up, in the log and /healthz, and its deadlines "
          "are refused",
          "[web][standards][calendar]") {
  // The shipped standards, and one whose holidays end with last year (whatever year the test runs in).
  TempDir dir;
  const fs::path workflows = dir.path() / "workflows";
  fs::create_directories(workflows);
  for (const auto& entry : fs::directory_iterator(REDRESS_SOURCE_DIR "/workflows"))
    if (entry.path().extension() == ".toml") fs::copy_file(entry.path(), workflows / entry.path().filename());
  namespace chr = std::chrono;
  const int last_year = static_cast<int>(chr::year_month_day(chr::floor<chr::days>(chr::system_clock::now())).year()) - 1;
  std::ofstream(workflows / "mini.toml") << R"(name = "mini"
title = "Mini"
description = "A standard whose calendar has run out."
pledge = "We answer within 5 business days."
team = "care"
reopen_window = "P14D"

[routing]
categories = ["mini"]

[calendar]
zone = "Europe/London"
holidays = []
first_year = )" << last_year << "\nlast_year = " << last_year << R"(

[calendar.hours]
monday = ["09:00-17:00"]
tuesday = ["09:00-17:00"]
wednesday = ["09:00-17:00"]
thursday = ["09:00-17:00"]
friday = ["09:00-17:00"]

[[escalation]]
name = "Lead"
roles = ["lead"]

[clocks.answer]
text = "We will answer"
start = "received"
target = "P5D"
basis = "business"
[clocks.answer.breach]
escalate_to = 1
notify = ["owner"]
)";
  // Its letters: the retail standard's, copied (the letters directory must hold every standard's).
  const fs::path letters = dir.path() / "letters";
  fs::copy(REDRESS_SOURCE_DIR "/templates/letters", letters, fs::copy_options::recursive);
  fs::copy(letters / "retail", letters / "mini", fs::copy_options::recursive);
  ServerSetup setup;
  setup.config = {"workflows = \"" + workflows.string() + "\"", "letters = \"" + letters.string() + "\""};
  RedressServer server(setup);
  const std::string said = "the mini standard's business calendar (Europe/London) lists holidays to the end of " +
                           std::to_string(last_year) + ": it has run out";
  CHECK(read_text(last_server_log()).find(said) != std::string::npos);

  Client anyone(server.port());
  json::value health = anyone.get("/healthz").json();
  CHECK(string_at(health, "status") == "degraded");
  REQUIRE(health.as_object().contains("calendars"));
  REQUIRE(health.at("calendars").as_array().size() == 1);
  CHECK(string_at(health.at("calendars").as_array()[0], "workflow") == "mini");
  CHECK(health.at("calendars").as_array()[0].at("days_left").as_int64() == 0);

  // A case on it cannot be given a deadline past the calendar's end: refused, and nothing stored.
  Client agent(server.port(), server.token("agent"));
  HttpResponse refused = agent.post("/v1/cases", json::value(case_body("mini", "mini", "Out of calendar")));
  INFO(refused.describe());
  CHECK(refused.status == 503);
  CHECK(agent.get("/v1/cases").json().at("items").as_array().empty());
  // The other standards go on.
  create(agent, case_body("retail", "billing", "Still counted"));
}

}  // namespace redress::webtest
