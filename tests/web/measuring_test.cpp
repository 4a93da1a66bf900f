// Measuring what matters (issue 26, docs/measuring.md), over real HTTP against the real binary:
// the published workflows with their taxonomies; a resolution that records its root cause and
// product, required where the workflow says so; redress paid on fulfilment; a client flagged as
// vulnerable, which staff see and the client's page, API and mail never do.
#include <sqlite3.h>

#include <regex>

#include "adapters/peers.h"
#include "support/postgres.h"
#include "web/pages/html.h"
#include "web/support.h"

namespace redress::webtest {

namespace measuring_test {

const std::string kCases = "/v1/cases/";

json::object case_body(const std::string& workflow, const std::string& category, const std::string& subject,
                       const std::string& email = "ana@example.org") {
  return json::object{{"client", json::object{{"name", "Ana Ruiz"}, {"email", email}}},
                      {"channel", "web"},
                      {"category", category},
                      {"touchpoint", "billing"},
                      {"subject", subject},
                      {"description", "What happened, in the client's words."},
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

void investigate(Client& staff, const std::string& ref) {
  json::value c = staff.get(kCases + ref).json();
  if (c.at("status").as_string() == "received") must_act(staff, ref, {{"action", "acknowledge"}});
  must_act(staff, ref, {{"action", "take"}});
  must_act(staff, ref, {{"action", "start"}});
}

bool has(const std::vector<std::string>& values, const std::string& value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

// The {key, name} of `key` in a list of terms, or an empty object.
json::object term(const json::value& list, const std::string& key) {
  for (const auto& t : list.as_array())
    if (t.at("key").as_string() == key) return t.as_object();
  return {};
}

const std::string kFcaFinalResponse =
    "We have upheld your complaint and will refund the fee. You may refer your complaint to the Financial Ombudsman "
    "Service within six months; we do not consent to it considering a complaint referred later. "
    "www.financial-ombudsman.org.uk; the leaflet is enclosed.";

void set_clock(Client& admin, const std::string& when) {
  HttpResponse r = admin.post("/v1/admin/clock", json::value(json::object{{"set", when}}));
  INFO(r.describe());
  REQUIRE(r.status == 200);
}

// The return of one workflow in a report.
json::object return_of(const json::value& report, const std::string& workflow) {
  for (const auto& item : report.at("items").as_array())
    if (item.at("workflow").as_string() == workflow) return item.as_object();
  FAIL("no " << workflow << " in the returns");
  return {};
}

std::int64_t closed_in(const json::object& figures, const std::string& field, const std::string& key) {
  for (const auto& row : figures.at(field).as_array())
    if ((row.at("key").is_null() ? std::string() : std::string(row.at("key").as_string())) == key)
      return row.at("closed").as_int64();
  return -1;
}

const std::string kPagePassword = "correct horse battery staple";

// Signs `role` in through the sign-in form; the Cookie header of the session.
Headers signed_in(RedressServer& server, Client& browser, const std::string& role) {
  server.set_password(role, kPagePassword);
  HttpResponse form = browser.get("/staff/login");
  REQUIRE(form.status == 200);
  std::smatch csrf, cookie;
  REQUIRE(std::regex_search(form.body, csrf, std::regex("name=\"csrf\" value=\"([^\"]*)\"")));
  std::string jar;
  auto [begin, end] = form.headers.equal_range("set-cookie");
  for (auto it = begin; it != end; ++it) jar += (jar.empty() ? "" : "; ") + it->second.substr(0, it->second.find(';'));
  const std::string body = "csrf=" + web::form_encode(csrf[1].str()) + "&next=%2Fstaff&email=" +
                           web::form_encode(role + "@example.org") + "&password=" + web::form_encode(kPagePassword);
  HttpResponse answer = browser.post("/staff/login", body,
                                     {{"Content-Type", "application/x-www-form-urlencoded"}, {"Cookie", jar}});
  INFO(answer.describe());
  REQUIRE(answer.status == 303);
  std::map<std::string, std::string> cookies;
  for (const HttpResponse* r : {&form, &answer}) {
    auto [from, to] = r->headers.equal_range("set-cookie");
    for (auto it = from; it != to; ++it) {
      const std::string pair = it->second.substr(0, it->second.find(';'));
      const auto eq = pair.find('=');
      if (it->second.find("Max-Age=0") != std::string::npos)
        cookies.erase(pair.substr(0, eq));
      else
        cookies[pair.substr(0, eq)] = pair.substr(eq + 1);
    }
  }
  std::string session;
  for (const auto& [name, value] : cookies) session += (session.empty() ? "" : "; ") + name + "=" + value;
  return {{"Cookie", session}};
}


TEST_CASE("measuring: GET /v1/workflows lists each workflow's taxonomies with display names, publicly",
          "[web][measuring][workflows]") {
  RedressServer server;
  Client anonymous(server.port());
  HttpResponse r = anonymous.get("/v1/workflows");
  INFO(r.describe());
  REQUIRE(r.status == 200);
  CHECK(r.header("content-type").find("application/json") != std::string::npos);
  json::value body = r.json();
  std::map<std::string, json::object> by_id;
  for (const auto& w : body.at("items").as_array()) by_id[std::string(w.at("id").as_string())] = w.as_object();
  REQUIRE(by_id.size() == 4);
  REQUIRE(by_id.count("fca-disp") == 1);
  const json::object& fca = by_id.at("fca-disp");
  CHECK(fca.at("name").as_string() == "Financial services complaints (FCA DISP)");
  CHECK(fca.at("pledge").as_string().find("eight weeks") != std::string::npos);
  CHECK(term(fca.at("categories"), "payment_services").at("name").as_string() == "Payment services");
  CHECK(term(fca.at("touchpoints"), "phone_contact").at("name").as_string() == "On the phone");
  CHECK(term(fca.at("products"), "credit_cards").at("name").as_string() == "Credit cards");
  CHECK(term(fca.at("root_causes"), "advising_selling_arranging").at("name").as_string() ==
        "Advising, selling and arranging");
  const json::object upheld = term(fca.at("letters"), "final_response_upheld");
  REQUIRE_FALSE(upheld.empty());
  CHECK(upheld.at("purpose").as_string() == "final_response");
  CHECK(upheld.at("outcome").as_string() == "upheld");
  CHECK(upheld.at("name").as_string() == "Final response (Upheld)");
  CHECK_FALSE(term(fca.at("letters"), "summary_resolution").empty());
  const json::object& returns = fca.at("returns").as_object();
  CHECK(returns.at("require_root_cause").as_bool());
  CHECK(returns.at("require_product").as_bool());
  const json::array& buckets = returns.at("buckets").as_array();
  REQUIRE(buckets.size() == 3);
  CHECK(buckets[0].at("key").as_string() == "within_3_business_days");
  CHECK(buckets[0].at("within").as_string() == "P3D business");
  CHECK(buckets[2].at("key").as_string() == "after_8_weeks");
  CHECK(buckets[2].at("within").is_null());
  // The default workflow asks for nothing.
  const json::object& retail = by_id.at("retail");
  CHECK(retail.at("default").as_bool());
  CHECK_FALSE(retail.at("returns").at("require_root_cause").as_bool());
  CHECK_FALSE(retail.at("products").as_array().empty());
}

TEST_CASE("measuring: a resolution records its root cause and product, required where the workflow says so",
          "[web][measuring][resolution]") {
  RedressServer server;
  Client agent(server.port(), server.token("agent"));
  const std::string fca_ref = string_at(create(agent, case_body("fca-disp", "credit", "Card limit lowered")), "reference");
  investigate(agent, fca_ref);
  const std::int64_t version = agent.get(kCases + fca_ref).json().at("version").as_int64();

  // FCA requires both: missing ones are named with the keys to choose from, and nothing is written.
  HttpResponse missing =
      act(agent, fca_ref, {{"action", "resolve"}, {"outcome", "upheld"}, {"final_response", kFcaFinalResponse}});
  INFO(missing.describe());
  CHECK(missing.status == 422);
  CHECK(missing.header("content-type").find("application/problem+json") != std::string::npos);
  CHECK(has(missing.problem_fields(), "root_cause"));
  CHECK(has(missing.problem_fields(), "product"));
  CHECK(missing.body.find("advising_selling_arranging") != std::string::npos);
  HttpResponse unknown = act(agent, fca_ref,
                             {{"action", "resolve"},
                              {"outcome", "upheld"},
                              {"final_response", kFcaFinalResponse},
                              {"root_cause", "bad_luck"},
                              {"product", "credit_cards"}});
  CHECK(unknown.status == 422);
  CHECK(has(unknown.problem_fields(), "root_cause"));
  CHECK_FALSE(has(unknown.problem_fields(), "product"));
  CHECK(string_at(unknown.json(), "detail").find("\"bad_luck\" is not one of") != std::string::npos);
  json::value unchanged = agent.get(kCases + fca_ref).json();
  CHECK(unchanged.at("version").as_int64() == version);
  CHECK(unchanged.at("status").as_string() == "investigating");

  json::value resolved = must_act(agent, fca_ref,
                                  {{"action", "resolve"},
                                   {"outcome", "upheld"},
                                   {"final_response", kFcaFinalResponse},
                                   {"root_cause", "terms_disputed_sums"},
                                   {"product", "credit_cards"}});
  CHECK(resolved.at("root_cause").as_string() == "terms_disputed_sums");
  CHECK(resolved.at("product").as_string() == "credit_cards");
  json::value stored = agent.get(kCases + fca_ref).json();
  CHECK(stored.at("root_cause").as_string() == "terms_disputed_sums");
  CHECK(stored.at("product").as_string() == "credit_cards");
  bool on_event = false;
  const json::value fca_events = agent.get(kCases + fca_ref + "/events").json();
  for (const auto& e : fca_events.at("items").as_array())
    if (e.at("type").as_string() == "case.resolved")
      on_event = e.at("data").at("root_cause").as_string() == "terms_disputed_sums" &&
                 e.at("data").at("product").as_string() == "credit_cards";
  CHECK(on_event);

  // The console's resolve form asks for both on an FCA case, as required.
  const std::string open_ref = string_at(create(agent, case_body("fca-disp", "credit", "Another")), "reference");
  investigate(agent, open_ref);
  Client browser(server.port());
  HttpResponse page = browser.get("/staff/cases/" + open_ref, signed_in(server, browser, "agent"));
  REQUIRE(page.status == 200);
  CHECK(page.body.find("id=\"resolve-root-cause\" name=\"root_cause\" required") != std::string::npos);
  CHECK(page.body.find("id=\"resolve-product\" name=\"product\" required") != std::string::npos);
  CHECK(page.body.find("<option value=\"credit_cards\">Credit cards</option>") != std::string::npos);

  // Retail asks for neither; what is given must still be on its lists.
  const std::string retail_ref = string_at(create(agent, case_body("retail", "billing", "Wrong bill")), "reference");
  investigate(agent, retail_ref);
  HttpResponse off_list = act(agent, retail_ref,
                              {{"action", "resolve"},
                               {"outcome", "upheld"},
                               {"final_response", final_response_text()},
                               {"product", "credit_cards"}});
  CHECK(off_list.status == 422);
  CHECK(has(off_list.problem_fields(), "product"));
  json::value plain = must_act(agent, retail_ref,
                               {{"action", "resolve"}, {"outcome", "upheld"}, {"final_response", final_response_text()}});
  CHECK(plain.at("root_cause").is_null());
  CHECK(plain.at("product").is_null());
}

TEST_CASE("measuring: fulfilled redress records what was paid", "[web][measuring][redress]") {
  RedressServer server;
  Client agent(server.port(), server.token("agent"));
  json::value created = create(agent, case_body("retail", "billing", "Charged twice"));
  const std::string ref = string_at(created, "reference");
  const std::string token = link_token(string_at(created, "client_url"));
  Client client(server.port());
  investigate(agent, ref);
  json::value proposed = must_act(agent, ref,
                                  {{"action", "propose_redress"},
                                   {"outcome", "upheld"},
                                   {"final_response", final_response_text()},
                                   {"root_cause", "billing_error"},
                                   {"offers", json::array{json::object{{"kind", "refund"}, {"amount", "25.00"}, {"currency", "GBP"}, {"text", "The second charge"}},
                                                          json::object{{"kind", "goodwill"}, {"text", "Flowers"}}}}});
  std::vector<std::string> ids;
  for (const auto& r : proposed.at("redress").as_array()) ids.emplace_back(r.at("id").as_string());
  REQUIRE(ids.size() == 2);
  HttpResponse accepted = client.post("/v1/client/" + token + "/redress/" + ids[0] + "/accept", json::value(json::object{}));
  INFO(accepted.describe());
  REQUIRE(accepted.status == 200);

  // Bad input loses nothing: the refund stays accepted and unfulfilled.
  HttpResponse bad = agent.post("/v1/redress/" + ids[0] + "/fulfil", json::value(json::object{{"amount", "-3"}, {"currency", "GBP"}}));
  CHECK(bad.status == 422);
  CHECK(has(bad.problem_fields(), "amount"));
  HttpResponse no_currency = agent.post("/v1/redress/" + ids[0] + "/fulfil", json::value(json::object{{"amount", "20.00"}}));
  CHECK(no_currency.status == 422);
  CHECK(has(no_currency.problem_fields(), "currency"));
  // Paid as offered unless the fulfilment says otherwise.
  HttpResponse paid = agent.post("/v1/redress/" + ids[0] + "/fulfil",
                                 json::value(json::object{{"amount", "20.00"}, {"currency", "GBP"}, {"note", "Less the fee"}}));
  INFO(paid.describe());
  REQUIRE(paid.status == 200);
  const json::value fulfilled = paid.json().at("redress");
  CHECK(fulfilled.at("paid").as_string() == "20.00");
  CHECK(fulfilled.at("paid_currency").as_string() == "GBP");
  CHECK(fulfilled.at("amount").as_string() == "25.00");  // the offer is kept as it was
  json::value stored = agent.get(kCases + ref).json();
  CHECK(stored.at("root_cause").as_string() == "billing_error");
  for (const auto& r : stored.at("redress").as_array())
    if (r.at("id").as_string() == ids[0]) CHECK(r.at("paid").as_string() == "20.00");
}

TEST_CASE("measuring: a vulnerable client's flag shows to staff, never on the client's page, API or mail",
          "[web][measuring][vulnerable][smtp]") {
  TempDir scratch;
  redress::peers::CaptureServer smtp(scratch.path());
  ServerSetup setup;
  setup.config = {"smtp_url = \"" + smtp.url() + "\"", "smtp_starttls = \"off\"",
                  "mail_from = \"complaints@acme.example\""};
  RedressServer server(setup);
  Client agent(server.port(), server.token("agent"));
  json::value created = create(agent, case_body("retail", "billing", "Charged twice", "vera@example.net"));
  const std::string ref = string_at(created, "reference");
  const std::string token = link_token(string_at(created, "client_url"));
  CHECK(agent.get(kCases + ref).json().at("vulnerability").is_null());
  const std::int64_t version = agent.get(kCases + ref).json().at("version").as_int64();

  // Bad input is refused, naming the fields, and writes nothing.
  HttpResponse bad = act(agent, ref, {{"action", "flag_vulnerable"}, {"driver", "sadness"}, {"note", ""}, {"review_on", "31/01/2030"}});
  INFO(bad.describe());
  CHECK(bad.status == 422);
  CHECK(has(bad.problem_fields(), "driver"));
  CHECK(has(bad.problem_fields(), "note"));
  CHECK(has(bad.problem_fields(), "review_on"));
  HttpResponse past = act(agent, ref, {{"action", "flag_vulnerable"}, {"driver", "health"}, {"note", "x"}, {"review_on", "2020-01-31"}});
  CHECK(past.status == 422);
  CHECK(has(past.problem_fields(), "review_on"));
  CHECK(agent.get(kCases + ref).json().at("version").as_int64() == version);
  HttpResponse cleared_nothing = act(agent, ref, {{"action", "clear_vulnerable"}, {"note", "no flag yet"}});
  CHECK(cleared_nothing.status == 409);

  const std::string secret = "VULNMARKER recently bereaved, prefers calls";
  json::value flagged = must_act(agent, ref, {{"action", "flag_vulnerable"}, {"driver", "life_events"}, {"note", secret}, {"review_on", "2030-01-31"}});
  CHECK(flagged.at("vulnerability").at("driver").as_string() == "life_events");
  CHECK(flagged.at("vulnerability").at("review_on").as_string() == "2030-01-31");
  json::value staff_view = agent.get(kCases + ref).json();
  CHECK(staff_view.at("vulnerability").at("note").as_string() == secret);

  // Mail goes out about the case meanwhile: the acknowledgement, a message and the final response.
  must_act(agent, ref, {{"action", "acknowledge"}});
  must_act(agent, ref, {{"action", "take"}});
  HttpResponse message = agent.post(kCases + ref + "/messages",
                                    json::value(json::object{{"visibility", "client"}, {"body", "We are on it, marker-M1."}}));
  REQUIRE(message.status == 201);
  must_act(agent, ref, {{"action", "start"}});
  must_act(agent, ref, {{"action", "resolve"}, {"outcome", "upheld"}, {"final_response", final_response_text() + " marker-M2"}});

  // The client's API and page never show it.
  Client client(server.port());
  HttpResponse api = client.get("/v1/client/" + token);
  REQUIRE(api.status == 200);
  CHECK(api.body.find("VULNMARKER") == std::string::npos);
  CHECK(lower(api.body).find("vulnerab") == std::string::npos);
  CHECK(api.body.find("life_events") == std::string::npos);
  HttpResponse page = client.get("/c/" + token);
  REQUIRE(page.status == 200);
  CHECK(page.body.find("VULNMARKER") == std::string::npos);
  CHECK(lower(page.body).find("vulnerab") == std::string::npos);

  // Nor any mail: wait for the final response's mail, then read every mail sent.
  auto deadline = std::chrono::steady_clock::now() + 60s;
  bool final_mailed = false;
  while (!final_mailed && std::chrono::steady_clock::now() < deadline) {
    for (const auto& file : smtp.messages()) final_mailed = final_mailed || read_text(file).find("marker-M2") != std::string::npos;
    if (!final_mailed) std::this_thread::sleep_for(50ms);
  }
  REQUIRE(final_mailed);
  int mails = 0;
  for (const auto& file : smtp.messages()) {
    ++mails;
    const std::string text = read_text(file);
    CHECK(text.find("VULNMARKER") == std::string::npos);
    CHECK(lower(text).find("vulnerab") == std::string::npos);
    CHECK(text.find("bereaved") == std::string::npos);
  }
  CHECK(mails >= 2);

  // The console shows it on the case, with the form to change or clear it.
  Client browser(server.port());
  const Headers session = signed_in(server, browser, "agent");
  HttpResponse staff_page = browser.get("/staff/cases/" + ref, session);
  REQUIRE(staff_page.status == 200);
  CHECK(staff_page.body.find("Vulnerable client") != std::string::npos);
  CHECK(staff_page.body.find("VULNMARKER") != std::string::npos);
  CHECK(staff_page.body.find("value=\"clear_vulnerable\"") != std::string::npos);

  // Staff clear it, with a reason; the history keeps both.
  json::value cleared = must_act(agent, ref, {{"action", "clear_vulnerable"}, {"note", "Reviewed with Vera"}});
  CHECK(cleared.at("vulnerability").is_null());
  std::vector<std::string> types;
  const json::value events = agent.get(kCases + ref + "/events").json();
  for (const auto& e : events.at("items").as_array()) types.emplace_back(e.at("type").as_string());
  CHECK(has(types, "client.vulnerability_flagged"));
  CHECK(has(types, "client.vulnerability_cleared"));
}

// Both stores: the SQLite file (`database_url` empty) or a PostgreSQL database of the test's own.
void returns_for_a_past_period(const std::string& database_url) {
  ServerSetup setup;
  setup.manual_clock = true;
  setup.database_url = database_url;
  RedressServer server(setup);
  Client admin(server.port(), server.token("admin"));
  Client lead(server.port(), server.token("lead"));
  Client agent(server.port(), server.token("agent"));
  Client client(server.port());
  set_clock(admin, "2027-01-04T10:00:00Z");  // Monday 4 January 2027

  // A: received Monday, resolved Wednesday (within 3 business days), upheld.
  const std::string a = string_at(create(agent, case_body("fca-disp", "credit", "Limit lowered")), "reference");
  investigate(agent, a);
  set_clock(admin, "2027-01-05T10:00:00Z");
  // B: received Tuesday, its client flagged vulnerable, resolved on 20 January (within 8 weeks).
  const std::string b = string_at(create(agent, case_body("fca-disp", "banking", "Fee charged")), "reference");
  investigate(agent, b);
  must_act(agent, b, {{"action", "flag_vulnerable"}, {"driver", "health"}, {"note", "In hospital"}, {"review_on", "2027-06-30"}});
  set_clock(admin, "2027-01-06T11:00:00Z");
  must_act(agent, a, {{"action", "resolve"}, {"outcome", "upheld"}, {"final_response", kFcaFinalResponse},
                      {"root_cause", "terms_disputed_sums"}, {"product", "credit_cards"}});
  set_clock(admin, "2027-01-08T10:00:00Z");
  // C: received Friday 8 January, still open at the end of the month.
  const std::string c = string_at(create(agent, case_body("fca-disp", "credit", "Statement wrong")), "reference");
  // D (retail): redress accepted and paid.
  set_clock(admin, "2027-01-12T10:00:00Z");
  json::value d_created = create(agent, case_body("retail", "billing", "Charged twice"));
  const std::string d = string_at(d_created, "reference");
  investigate(agent, d);
  json::value proposed = must_act(agent, d, {{"action", "propose_redress"}, {"outcome", "partly_upheld"},
                                             {"final_response", final_response_text()}, {"product", "goods"},
                                             {"offers", json::array{json::object{{"kind", "refund"}, {"amount", "30.00"}, {"currency", "GBP"}}}}});
  const std::string offer(proposed.at("redress").as_array().at(0).at("id").as_string());
  REQUIRE(client.post("/v1/client/" + link_token(string_at(d_created, "client_url")) + "/redress/" + offer + "/accept",
                      json::value(json::object{}))
              .status == 200);
  REQUIRE(agent.post("/v1/redress/" + offer + "/fulfil", json::value(json::object{})).status == 200);
  set_clock(admin, "2027-01-20T15:00:00Z");
  must_act(agent, b, {{"action", "resolve"}, {"outcome", "not_upheld"}, {"final_response", kFcaFinalResponse},
                      {"root_cause", "general_admin"}, {"product", "current_accounts"}});

  // On 1 February: January's return, live.
  set_clock(admin, "2027-02-01T09:00:00Z");
  const std::string january = "/v1/reports/returns?from=2027-01-01&to=2027-01-31";
  HttpResponse live = lead.get(january);
  INFO(live.describe());
  REQUIRE(live.status == 200);
  json::object fca = return_of(live.json(), "fca-disp");
  CHECK(fca.at("outstanding_start").as_int64() == 0);
  CHECK(fca.at("opened").as_int64() == 3);
  CHECK(fca.at("closed").as_int64() == 2);
  CHECK(fca.at("outstanding_end").as_int64() == 1);
  CHECK(closed_in(fca, "closed_by_bucket", "within_3_business_days") == 1);
  CHECK(closed_in(fca, "closed_by_bucket", "within_8_weeks") == 1);
  CHECK(closed_in(fca, "closed_by_bucket", "after_8_weeks") == 0);
  CHECK(fca.at("upheld_share").as_double() == 0.5);
  CHECK(closed_in(fca, "by_product", "credit_cards") == 1);
  CHECK(closed_in(fca, "by_root_cause", "general_admin") == 1);
  CHECK(fca.at("vulnerable").at("opened").as_int64() == 1);
  CHECK(fca.at("vulnerable").at("closed").as_int64() == 1);
  CHECK(fca.at("vulnerable").at("outstanding_end").as_int64() == 0);
  REQUIRE(fca.at("months").as_array().size() == 1);
  // The timely-response rate: A and B got their final response within eight weeks.
  CHECK(fca.at("timely_response").at("timely").as_int64() == 2);
  CHECK(fca.at("timely_response").at("late").as_int64() == 0);
  CHECK(fca.at("timely_response").at("rate").as_double() == 1.0);
  json::object retail = return_of(live.json(), "retail");
  CHECK(retail.at("closed").as_int64() == 1);
  REQUIRE(retail.at("redress_paid").as_array().size() == 1);
  CHECK(retail.at("redress_paid").at(0).at("amount").as_string() == "30.00");
  CHECK(retail.at("redress_paid").at(0).at("kind").as_string() == "refund");
  CHECK(closed_in(retail, "by_root_cause", "") == 1);  // retail does not require one
  HttpResponse live_csv = lead.get(january, {{"Accept", "text/csv"}});
  REQUIRE(live_csv.status == 200);
  CHECK(live_csv.header("content-type").find("text/csv") != std::string::npos);
  CHECK(live_csv.body.rfind("workflow,period_start,period_end,measure,key,value\r\n", 0) == 0);
  CHECK(live_csv.body.find("fca-disp,2027-01-01,2027-01-31,closed_by_bucket,within_3_business_days,1\r\n") !=
        std::string::npos);
  CHECK(live_csv.body.find("retail,2027-01-01,2027-01-31,redress_paid,GBP:refund,30.00\r\n") != std::string::npos);
  std::istringstream lines(live_csv.body);
  for (std::string line; std::getline(lines, line);) CHECK(std::count(line.begin(), line.end(), ',') == 5);

  // February changes what January's cases are now: A reopened and resolved again with another
  // cause, C resolved, B's flag cleared, C's client flagged.
  set_clock(admin, "2027-02-10T10:00:00Z");
  must_act(agent, a, {{"action", "reopen"}, {"reason", "New evidence"}});
  must_act(agent, a, {{"action", "resolve"}, {"outcome", "not_upheld"}, {"final_response", kFcaFinalResponse},
                      {"root_cause", "other"}, {"product", "savings"}});
  investigate(agent, c);
  must_act(agent, c, {{"action", "flag_vulnerable"}, {"driver", "capability"}, {"note", "Needs large print"}, {"review_on", "2027-08-01"}});
  must_act(agent, c, {{"action", "resolve"}, {"outcome", "upheld"}, {"final_response", kFcaFinalResponse},
                      {"root_cause", "other"}, {"product", "credit_cards"}});
  must_act(agent, b, {{"action", "clear_vulnerable"}, {"note", "Recovered"}});

  // January recomputed from the history in March is what it was live.
  set_clock(admin, "2027-03-01T09:00:00Z");
  json::value again = lead.get(january).json();
  json::value before = live.json();
  CHECK(json::serialize(again.at("items")) == json::serialize(before.at("items")));
  CHECK(lead.get(january, {{"Accept", "text/csv"}}).body == live_csv.body);
  // February has the later changes.
  json::object february = return_of(lead.get("/v1/reports/returns?from=2027-02-01&to=2027-02-28&workflow=fca-disp").json(), "fca-disp");
  CHECK(february.at("outstanding_start").as_int64() == 1);
  CHECK(february.at("reopened").as_int64() == 1);
  CHECK(february.at("closed").as_int64() == 2);
  CHECK(february.at("outstanding_end").as_int64() == 0);
  CHECK(february.at("vulnerable").at("closed").as_int64() == 1);
  // Both months in one return add up.
  json::object both = return_of(lead.get("/v1/reports/returns?from=2027-01-01&to=2027-02-28").json(), "fca-disp");
  CHECK(both.at("months").as_array().size() == 2);
  CHECK(both.at("closed").as_int64() == 4);

  // The board shows the months with a chart, and exports them.
  Client browser(server.port());
  const Headers session = signed_in(server, browser, "lead");
  HttpResponse board = browser.get("/staff/board", session);
  REQUIRE(board.status == 200);
  CHECK(board.body.find("Returns: Financial services complaints (FCA DISP) (12 months)") != std::string::npos);
  HttpResponse board_csv = browser.get("/staff/board/returns_fca-disp.csv", session);
  REQUIRE(board_csv.status == 200);
  CHECK(board_csv.body.find("2027-01,0,3,2,1,1,1,0,50%,-,1,0,100%") != std::string::npos);
  CHECK(board_csv.body.find("2027-02,1,0,2,0,0,2,0,50%,-,1,0,100%") != std::string::npos);

  // Root causes over time (DISP 1.3.3R): per month, most recorded first, as JSON and CSV, and on the board.
  json::value causes = lead.get("/v1/reports/root_causes?from=2027-01-01&to=2027-02-28&workflow=fca-disp").json();
  const json::object& fca_causes = return_of(causes, "fca-disp");
  CHECK(fca_causes.at("resolved").as_int64() == 4);
  const json::array& ranked = fca_causes.at("root_causes").as_array();
  REQUIRE(ranked.size() == 3);
  CHECK(ranked.at(0).at("key").as_string() == "other");  // A again and C, in February
  CHECK(ranked.at(0).at("resolved").as_int64() == 2);
  CHECK(ranked.at(0).at("upheld").as_int64() == 1);
  REQUIRE(fca_causes.at("months").as_array().size() == 2);
  CHECK(fca_causes.at("months").at(0).at("root_causes").as_array().size() == 2);
  CHECK(fca_causes.at("months").at(1).at("root_causes").at(0).at("name").as_string() == "Other");
  HttpResponse causes_csv = lead.get("/v1/reports/root_causes?from=2027-01-01&to=2027-02-28",
                                     {{"Accept", "text/csv"}});
  REQUIRE(causes_csv.status == 200);
  CHECK(causes_csv.body.rfind("workflow,period_start,period_end,root_cause,root_cause_name,resolved,upheld\r\n", 0) == 0);
  CHECK(causes_csv.body.find("fca-disp,2027-01-01,2027-01-31,terms_disputed_sums,Terms and disputed sums or charges,1,1\r\n") !=
        std::string::npos);
  CHECK(causes_csv.body.find("fca-disp,2027-02-01,2027-02-28,other,Other,2,1\r\n") != std::string::npos);
  CHECK(board.body.find("Root causes per month: Financial services complaints (FCA DISP) (12 months)") !=
        std::string::npos);
  HttpResponse board_causes = browser.get("/staff/board/root_causes_fca-disp.csv", session);
  REQUIRE(board_causes.status == 200);
  CHECK(board_causes.body.find("2027-02,2,") != std::string::npos);  // "Other" leads the columns: 2 in February
  CHECK(agent.get("/v1/reports/root_causes?from=2027-01-01&to=2027-02-28").status == 403);
  CHECK(lead.get("/v1/reports/root_causes?from=2027-01-01").status == 400);

  // Bad queries are problems that name the parameter.
  HttpResponse missing = lead.get("/v1/reports/returns?from=2027-01-01");
  CHECK(missing.status == 400);
  CHECK(missing.body.find("query.to") != std::string::npos);
  CHECK(lead.get("/v1/reports/returns?from=2027-02-01&to=2027-01-01").status == 400);
  CHECK(lead.get("/v1/reports/returns?from=2027-01-01&to=2027-01-32").status == 400);
  CHECK(lead.get("/v1/reports/returns?from=2027-01-01&to=2027-01-31&workflow=nope").status == 400);
  CHECK(agent.get(january).status == 403);

  // A database whose ledger is not built (migrated over stored cases, or imported) is rebuilt from
  // the histories when redress starts: January is what it was.
  if (database_url.empty()) {
    REQUIRE(server.terminate() == 0);
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(server.database().c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "DELETE FROM return_days; UPDATE return_ledger SET built = 0", nullptr, nullptr, nullptr) ==
            SQLITE_OK);
    sqlite3_close(db);
    server.restart();
    CHECK(server.log().find("rebuilding the return ledger") != std::string::npos);
    Client again_lead(server.port(), server.token("lead"));
    json::value rebuilt = again_lead.get(january).json();
    CHECK(json::serialize(rebuilt.at("items")) == json::serialize(before.at("items")));
  }
}

TEST_CASE("measuring: returns for a past period, from the ledger, are the same after later changes (SQLite)",
          "[web][measuring][returns]") {
  returns_for_a_past_period("");
}

TEST_CASE("measuring: returns for a past period, from the ledger, are the same after later changes (PostgreSQL)",
          "[web][measuring][returns][postgres]") {
  returns_for_a_past_period(testing::PostgresServer::shared().fresh_database());
}

void rater_survey(const std::string& database_url) {
  ServerSetup setup;
  setup.database_url = database_url;
  RedressServer server(setup);
  Client agent(server.port(), server.token("agent"));
  Client client(server.port());
  auto resolved_case = [&](const std::string& subject) {
    json::value created = create(agent, case_body("retail", "billing", subject));
    const std::string ref = string_at(created, "reference");
    investigate(agent, ref);
    must_act(agent, ref, {{"action", "resolve"}, {"outcome", "upheld"}, {"final_response", final_response_text()}});
    return std::pair{ref, link_token(string_at(created, "client_url"))};
  };
  const auto [first, first_token] = resolved_case("Charged twice");
  const auto [second, second_token] = resolved_case("Charged three times");

  // The status page asks the five questions and the overall rating.
  HttpResponse page = client.get("/c/" + first_token);
  REQUIRE(page.status == 200);
  CHECK(page.body.find("Reliability: we did what we said we would") != std::string::npos);
  CHECK(page.body.find("name=\"empathy\" value=\"5\"") != std::string::npos);

  // Bad answers are refused, each named, and nothing is written.
  const std::int64_t version = agent.get(kCases + first).json().at("version").as_int64();
  HttpResponse bad = client.post("/v1/client/" + first_token + "/survey",
                                 json::value(json::object{{"overall", 4},
                                                          {"rater", json::object{{"reliability", 7},
                                                                                 {"assurance", 4},
                                                                                 {"tangibles", 3},
                                                                                 {"empathy", 2},
                                                                                 {"sympathy", 1}}}}));
  INFO(bad.describe());
  CHECK(bad.status == 422);
  CHECK(has(bad.problem_fields(), "rater.reliability"));
  CHECK(has(bad.problem_fields(), "rater.responsiveness"));
  CHECK(has(bad.problem_fields(), "rater.sympathy"));
  HttpResponse twice = client.post("/v1/client/" + first_token + "/survey",
                                   json::value(json::object{{"overall", 4}, {"rating", 4}}));
  CHECK(twice.status == 422);
  CHECK(has(twice.problem_fields(), "overall"));
  CHECK(client.post("/v1/client/" + first_token + "/survey", json::value(json::object{{"comment", "x"}})).status == 422);
  CHECK(agent.get(kCases + first).json().at("version").as_int64() == version);

  HttpResponse answered = client.post(
      "/v1/client/" + first_token + "/survey",
      json::value(json::object{{"overall", 4},
                               {"rater", json::object{{"reliability", 5}, {"assurance", 4}, {"tangibles", 3},
                                                      {"empathy", 2}, {"responsiveness", 4}}},
                               {"comment", "Kept every promise, but did not listen."}}));
  INFO(answered.describe());
  REQUIRE(answered.status == 200);
  CHECK(answered.json().at("rating").as_int64() == 4);
  // The rating of before RATER is still taken, as the overall answer.
  REQUIRE(client.post("/v1/client/" + second_token + "/survey", json::value(json::object{{"rating", 3}})).status == 200);
  const json::value events = agent.get(kCases + first + "/events").json();
  bool recorded = false;
  for (const auto& e : events.at("items").as_array())
    if (e.at("type").as_string() == "survey.submitted")
      recorded = e.at("data").at("overall").as_int64() == 4 && e.at("data").at("rater").at("empathy").as_int64() == 2;
  CHECK(recorded);

  // The board: averages by workflow (the RATER ones over the one RATER answer, overall over both),
  // the weakest dimension called out, and the month's shares.
  Client browser(server.port());
  const Headers session = signed_in(server, browser, "lead");
  HttpResponse survey = browser.get("/staff/board/survey.csv", session);
  INFO(survey.body);
  REQUIRE(survey.status == 200);
  CHECK(survey.body.rfind("By,Who or where,Responses,Reliability,Assurance,Tangibles,Empathy,Responsiveness,Overall,Weakest", 0) == 0);
  CHECK(survey.body.find("workflow,retail,2,5.0,4.0,3.0,2.0,4.0,3.5,empathy") != std::string::npos);
  CHECK(survey.body.find("touchpoint,billing,2,") != std::string::npos);
  HttpResponse trend = browser.get("/staff/board/survey_trend.csv", session);
  REQUIRE(trend.status == 200);
  CHECK(trend.body.find(",2,100%,80%,60%,40%,80%,70%") != std::string::npos);
  HttpResponse board = browser.get("/staff/board", session);
  REQUIRE(board.status == 200);
  CHECK(board.body.find("Survey (RATER) per month") != std::string::npos);
  // Each owner's RATER results, beside their promises kept (the agent owns both cases).
  HttpResponse owners = browser.get("/staff/board/owners.csv", session);
  REQUIRE(owners.status == 200);
  CHECK(owners.body.find("Survey responses,Survey overall,Survey weakest (RATER)") != std::string::npos);
  CHECK(owners.body.find(",2,3.5,empathy\r\n") != std::string::npos);
  CHECK(owners.body.find("Survey reliability,Survey assurance,Survey tangibles,Survey empathy,Survey responsiveness") !=
        std::string::npos);
  CHECK(owners.body.find(",5.0,4.0,3.0,2.0,4.0,2,3.5,empathy\r\n") != std::string::npos);
  // GET /v1/reports/owners (and its CSV): each owner's RATER averages and response counts.
  Client lead(server.port(), server.token("lead"));
  json::value report = lead.get("/v1/reports/owners").json();
  bool found = false;
  for (const auto& item : report.at("items").as_array()) {
    if (item.at("owner").at("id").as_string() != server.staff_id("agent")) continue;
    found = true;
    const json::value& results = item.at("survey");
    CHECK(results.at("responses").as_int64() == 2);
    CHECK(results.at("rated").as_int64() == 1);
    CHECK(results.at("overall").as_double() == 3.5);
    CHECK(results.at("rater").at("empathy").as_double() == 2.0);
    CHECK(results.at("rater").at("reliability").as_double() == 5.0);
    CHECK(results.at("weakest").as_string() == "empathy");
  }
  CHECK(found);
  HttpResponse owners_csv = lead.get("/v1/reports/owners", {{"Accept", "text/csv"}});
  REQUIRE(owners_csv.status == 200);
  CHECK(owners_csv.header("content-type").find("text/csv") != std::string::npos);
  CHECK(owners_csv.body.rfind("owner_id,owner_name,team,open_cases,", 0) == 0);
  CHECK(owners_csv.body.find(",survey_responses,survey_overall,survey_reliability,survey_assurance,survey_tangibles,"
                             "survey_empathy,survey_responsiveness,survey_weakest\r\n") != std::string::npos);
  CHECK(owners_csv.body.find(server.staff_id("agent") + ",Test agent,") != std::string::npos);
  CHECK(owners_csv.body.find(",2,3.5,5.0,4.0,3.0,2.0,4.0,empathy\r\n") != std::string::npos);
}

TEST_CASE("measuring: the RATER survey - five dimensions and overall, the old rating still taken, averages on the board "
          "(SQLite)",
          "[web][measuring][rater]") {
  rater_survey("");
}

TEST_CASE("measuring: the RATER survey - five dimensions and overall, the old rating still taken, averages on the board "
          "(PostgreSQL)",
          "[web][measuring][rater][postgres]") {
  rater_survey(testing::PostgresServer::shared().fresh_database());
}

}  // namespace measuring_test

}  // namespace redress::webtest
