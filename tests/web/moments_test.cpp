// Moments of truth and the published survey (issue 26, docs/measuring.md), over real HTTP against
// the real binary: touchpoints as data in the workflow files, each touchpoint's page for leads and
// managers (complaints that arose there and their weekly trend, broken commitments, survey results
// by RATER dimension, top root causes, the cases behind each number), the index and the board that
// rank them, and the public standards page publishing a workflow's overall survey results when
// its file says so.
#include <regex>

#include "web/pages/html.h"
#include "web/support.h"

namespace redress::webtest {

namespace moments_test {

const std::string kPassword = "correct horse battery staple";

// Signs `role` in through the sign-in form; the Cookie header of the session.
Headers sign_in(RedressServer& server, Client& browser, const std::string& role) {
  server.set_password(role, kPassword);
  HttpResponse form = browser.get("/staff/login");
  REQUIRE(form.status == 200);
  std::smatch csrf;
  REQUIRE(std::regex_search(form.body, csrf, std::regex("name=\"csrf\" value=\"([^\"]*)\"")));
  std::map<std::string, std::string> cookies;
  auto keep = [&](const HttpResponse& r) {
    auto [from, to] = r.headers.equal_range("set-cookie");
    for (auto it = from; it != to; ++it) {
      const std::string pair = it->second.substr(0, it->second.find(';'));
      const auto eq = pair.find('=');
      if (it->second.find("Max-Age=0") != std::string::npos)
        cookies.erase(pair.substr(0, eq));
      else
        cookies[pair.substr(0, eq)] = pair.substr(eq + 1);
    }
  };
  auto jar = [&] {
    std::string out;
    for (const auto& [name, value] : cookies) out += (out.empty() ? "" : "; ") + name + "=" + value;
    return out;
  };
  keep(form);
  const std::string body = "csrf=" + web::form_encode(csrf[1].str()) + "&next=%2Fstaff&email=" +
                           web::form_encode(role + "@example.org") + "&password=" + web::form_encode(kPassword);
  HttpResponse answer = browser.post("/staff/login", body,
                                     {{"Content-Type", "application/x-www-form-urlencoded"}, {"Cookie", jar()}});
  INFO(answer.describe());
  REQUIRE(answer.status == 303);
  keep(answer);
  return {{"Cookie", jar()}};
}

// The shipped workflows in a folder of the test's own, the retail standard publishing its survey.
fs::path workflows_publishing_survey(const TempDir& scratch) {
  const fs::path workflows = scratch.path() / "workflows";
  fs::create_directories(workflows);
  for (const auto& entry : fs::directory_iterator(fs::path(REDRESS_SOURCE_DIR) / "workflows"))
    if (entry.path().extension() == ".toml") {
      std::string text = read_text(entry.path());
      if (entry.path().filename() == "retail.toml") text += "\n[survey]\npublish_results = true\n";
      write_text(workflows / entry.path().filename(), text);
    }
  return workflows;
}

json::object complaint(const std::string& touchpoint, const std::string& subject) {
  return json::object{{"client", json::object{{"name", "Ana Ruiz"}, {"email", "ana@example.org"}}},
                      {"channel", "phone"},
                      {"category", "billing"},
                      {"touchpoint", touchpoint},
                      {"subject", subject},
                      {"description", "What happened, in the client's words."},
                      {"workflow", "retail"}};
}

std::size_t occurrences(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + part.size())) ++n;
  return n;
}

TEST_CASE("moments of truth: a touchpoint's page, the ranking on the board, the survey on the standards page",
          "[web][measuring][touchpoints]") {
  TempDir scratch;
  ServerSetup setup;
  setup.manual_clock = true;
  setup.config = {"workflows = \"" + workflows_publishing_survey(scratch).string() + "\""};
  RedressServer server(setup);
  Client admin(server.port(), server.token("admin"));
  Client agent(server.port(), server.token("agent"));
  Client client(server.port());
  REQUIRE(admin.post("/v1/admin/clock", json::value(json::object{{"set", "2027-03-01T10:00:00Z"}})).status == 200);

  // Three complaints arose on the phone, one at delivery.
  std::vector<std::string> phone;
  std::vector<std::string> links;
  for (const char* subject : {"Kept on hold for an hour", "Promised call-back never came", "Advisor was rude"}) {
    HttpResponse created = agent.post("/v1/cases", json::value(complaint("phone_contact", subject)));
    REQUIRE(created.status == 201);
    phone.push_back(string_at(created.json(), "reference"));
    links.push_back(link_token(string_at(created.json(), "client_url")));
  }
  REQUIRE(agent.post("/v1/cases", json::value(complaint("delivery", "Parcel never came"))).status == 201);
  auto act = [&](const std::string& ref, json::object body) {
    HttpResponse r = agent.post("/v1/cases/" + ref + "/actions", json::value(std::move(body)));
    INFO(r.describe());
    REQUIRE(r.status == 200);
  };
  for (const auto& ref : phone) {
    act(ref, {{"action", "acknowledge"}});
    act(ref, {{"action", "take"}});
    act(ref, {{"action", "start"}});
  }
  // A promise on the second breaks; the first is resolved with a root cause and rated.
  HttpResponse promised = agent.post("/v1/cases/" + phone[1] + "/commitments",
                                     json::value(json::object{{"text", "We will call you back within the hour"},
                                                              {"due_in", "PT1H"},
                                                              {"client_visible", true}}));
  INFO(promised.describe());
  REQUIRE(promised.status == 201);
  act(phone[0], {{"action", "resolve"}, {"outcome", "upheld"}, {"final_response", final_response_text()},
                 {"root_cause", "communication"}, {"product", "store_service"}});
  REQUIRE(client.post("/v1/client/" + links[0] + "/survey",
                      json::value(json::object{{"overall", 4},
                                               {"rater", json::object{{"reliability", 5}, {"assurance", 4},
                                                                      {"tangibles", 4}, {"empathy", 2},
                                                                      {"responsiveness", 3}}}}))
              .status == 200);
  REQUIRE(admin.post("/v1/admin/clock", json::value(json::object{{"advance", "PT2H"}})).status == 200);

  Client browser(server.port());
  const Headers lead = sign_in(server, browser, "lead");
  HttpResponse page = browser.get("/staff/touchpoints/phone_contact", lead);
  INFO(page.body.substr(0, 2000));
  REQUIRE(page.status == 200);
  // Touchpoints are data: the name, what happens there and the team that owns it, from retail.toml.
  CHECK(page.body.find("Moments of truth: On the phone") != std::string::npos);
  CHECK(page.body.find("Calls to and from the contact centre") != std::string::npos);
  CHECK(page.body.find("<strong>contact-centre</strong>") != std::string::npos);
  // The complaints and their weekly trend, as a chart and its table.
  CHECK(page.body.find("<svg") != std::string::npos);
  CHECK(page.body.find("id=\"touchpoint-weeks\"") != std::string::npos);
  std::smatch received;
  REQUIRE(std::regex_search(page.body, received, std::regex("<span class=\"big\">([0-9]+)</span></a><br>complaints arose")));
  CHECK(received[1] == "3");
  // The broken promise, linked to its case.
  CHECK(page.body.find("We will call you back within the hour") != std::string::npos);
  const std::string broken_table = page.body.substr(page.body.find("id=\"touchpoint-broken\""));
  CHECK(broken_table.find("href=\"/staff/cases/" + phone[1] + "\"") != std::string::npos);
  // What the client said, by RATER dimension, the weakest flagged.
  CHECK(page.body.find("<span class=\"flag at-risk\">Empathy</span>") != std::string::npos);
  CHECK(page.body.find("survey overall (1 answers)") != std::string::npos);
  // The top root cause, with its case.
  CHECK(page.body.find("Poor communication") != std::string::npos);
  const std::string causes = page.body.substr(page.body.find("id=\"touchpoint-causes\""));
  CHECK(causes.find("href=\"/staff/cases/" + phone[0] + "\"") != std::string::npos);
  // Every complaint behind the count is linked; the delivery one is not here.
  const std::string cases = page.body.substr(page.body.find("id=\"touchpoint-cases\""));
  for (const auto& ref : phone) CHECK(cases.find("href=\"/staff/cases/" + ref + "\"") != std::string::npos);
  CHECK(occurrences(cases, "<tr><td><a href=\"/staff/cases/") == 3);
  CHECK(occurrences(cases, "<span class=\"flag broken\">1</span>") == 1);  // only the case with a broken promise
  CHECK(cases.find("<span class=\"flag broken\">0</span>") == std::string::npos);

  // The index and the board rank the touchpoints and link their pages.
  HttpResponse index = browser.get("/staff/touchpoints", lead);
  REQUIRE(index.status == 200);
  CHECK(index.body.find("href=\"/staff/touchpoints/phone_contact\"") != std::string::npos);
  CHECK(index.body.find("href=\"/staff/touchpoints/online\"") != std::string::npos);  // described, no complaint yet
  CHECK(index.body.find("phone_contact") < index.body.find("/staff/touchpoints/delivery"));
  HttpResponse board = browser.get("/staff/board", lead);
  REQUIRE(board.status == 200);
  CHECK(board.body.find("Moments of truth: touchpoints ranked") != std::string::npos);
  CHECK(board.body.find("href=\"/staff/touchpoints/phone_contact\"") != std::string::npos);
  HttpResponse ranked = browser.get("/staff/board/touchpoints.csv", lead);
  REQUIRE(ranked.status == 200);
  INFO(ranked.body);
  CHECK(ranked.body.rfind("Touchpoint,Team,Complaints per week,Complaints (90 days),Commitments broken (90 days),"
                          "Rank by complaints,Rank by broken commitments\r\n",
                          0) == 0);
  CHECK(ranked.body.find("On the phone,contact-centre,") != std::string::npos);
  CHECK(ranked.body.find(",3,1,1,1\r\n") != std::string::npos);  // the most complaints and the most broken
  CHECK(ranked.body.find("At delivery,logistics,") != std::string::npos);

  // Leads and managers only; an unknown touchpoint is not found.
  CHECK(browser.get("/staff/touchpoints/nowhere", lead).status == 404);
  Client agent_browser(server.port());
  const Headers agent_session = sign_in(server, agent_browser, "agent");
  CHECK(agent_browser.get("/staff/touchpoints/phone_contact", agent_session).status == 403);
  Client manager_browser(server.port());
  CHECK(manager_browser.get("/staff/touchpoints/phone_contact", sign_in(server, manager_browser, "manager")).status ==
        200);

  // The public standards page publishes the retail standard's survey results (its file says so),
  // and no other standard's.
  Client anyone(server.port());
  HttpResponse standards = anyone.get("/standards");
  REQUIRE(standards.status == 200);
  CHECK(occurrences(standards.body, "What you told us") == 1);
  CHECK(standards.body.find("rated our service <strong>4.0 out of 5</strong>") != std::string::npos);
  CHECK(standards.body.find("<tr><td>Empathy</td><td class=\"num\">2.0</td></tr>") != std::string::npos);
}

TEST_CASE("moments of truth: the shipped standards publish no survey results, and describe their touchpoints",
          "[web][measuring][touchpoints]") {
  RedressServer server;
  Client anyone(server.port());
  HttpResponse standards = anyone.get("/standards");
  REQUIRE(standards.status == 200);
  CHECK(standards.body.find("What you told us") == std::string::npos);
  // The forms still offer every touchpoint by its name.
  HttpResponse form = anyone.get("/complain");
  REQUIRE(form.status == 200);
  CHECK(form.body.find("On the phone") != std::string::npos);
  CHECK(form.body.find("On our website or app") != std::string::npos);
}

}  // namespace moments_test

}  // namespace redress::webtest
