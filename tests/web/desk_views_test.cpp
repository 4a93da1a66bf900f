// Issue 27, tags, merge and link, saved views and bulk actions, through the real server over a real
// socket: tags with their before and after (bad ones named, nothing written), the case list and
// the search filtered by tag, the count by tag; a merge seen from both client links; links on both
// cases; a bulk action answered per case with one refusal among many; the console's case list
// with its filters, a saved view and the bulk bar, and the case page's tag, link and merge forms.
#include <regex>

#include "tests/web/support.h"
#include "web/pages/html.h"

namespace redress::webtest::desk_views {

const std::string kDeskPassword = "correct horse battery staple";

// The console as a browser uses it: a session cookie and the CSRF token of the last page read.
struct Console {
  Client client;
  std::map<std::string, std::string> cookies;
  std::string csrf;

  Console(unsigned short port, const std::string& email) : client(port) {
    auto form = get("/staff/login");
    REQUIRE(form.status == 200);
    auto answer = post("/staff/login", {{"next", "/staff"}, {"email", email}, {"password", kDeskPassword}});
    INFO(answer.describe());
    REQUIRE(answer.status == 303);
  }
  Headers cookie_header() const {
    std::string value;
    for (const auto& [k, v] : cookies) value += (value.empty() ? "" : "; ") + k + "=" + v;
    return value.empty() ? Headers{} : Headers{{"Cookie", value}};
  }
  void take(const HttpResponse& response) {
    auto [begin, end] = response.headers.equal_range("set-cookie");
    for (auto it = begin; it != end; ++it) {
      std::string pair = it->second.substr(0, it->second.find(';'));
      cookies[pair.substr(0, pair.find('='))] = pair.substr(pair.find('=') + 1);
    }
    std::smatch m;
    if (std::regex_search(response.body, m, std::regex("name=\"csrf\" value=\"([^\"]*)\""))) csrf = m[1];
  }
  HttpResponse get(const std::string& target) {
    auto answer = client.get(target, cookie_header());
    take(answer);
    return answer;
  }
  HttpResponse post(const std::string& target, std::vector<std::pair<std::string, std::string>> fields) {
    fields.emplace_back("csrf", csrf);
    std::string body;
    for (const auto& [name, value] : fields)
      body += (body.empty() ? "" : "&") + web::form_encode(name) + "=" + web::form_encode(value);
    auto answer =
        client.post(target, body, Headers{{"Content-Type", "application/x-www-form-urlencoded"}} + cookie_header());
    take(answer);
    return answer;
  }
};

std::int64_t version_of(Client& api, const std::string& reference) {
  auto answer = api.get("/v1/cases/" + reference);
  REQUIRE(answer.status == 200);
  return answer.json().as_object().at("version").as_int64();
}

std::vector<std::string> references(const HttpResponse& page) {
  std::vector<std::string> out;
  INFO(page.describe());
  REQUIRE(page.status == 200);
  const json::value page_items = page.json();
  for (const auto& item : page_items.as_object().at("items").as_array()) out.push_back(string_at(item, "reference"));
  std::sort(out.begin(), out.end());
  return out;
}

json::object last_event(Client& api, const std::string& reference, const std::string& type) {
  auto events = api.get("/v1/cases/" + reference + "/events");
  REQUIRE(events.status == 200);
  json::object found;
  const json::value events_items = events.json();
  for (const auto& e : events_items.as_object().at("items").as_array())
    if (string_at(e, "type") == type) found = e.as_object().at("data").as_object();
  INFO("no " << type << " on " << reference);
  REQUIRE(!found.empty());
  return found;
}

HttpResponse act(Client& api, const std::string& reference, json::object body) {
  return api.post("/v1/cases/" + reference + "/actions", json::value(std::move(body)));
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST_CASE("desk: tags with before and after, bad tags named with nothing written, filters and the count by tag",
          "[web][desk][tags]") {
  RedressServer server;
  Client agent(server.port(), server.token("agent"));
  const std::string a = string_at(create_case(agent, "Charged twice"), "reference");
  const std::string b = string_at(create_case(agent, "Refund never came"), "reference");
  const std::string c = string_at(create_case(agent, "Rude on the phone"), "reference");

  auto tagged = act(agent, a, {{"action", "tag"}, {"tags", json::array{"VIP", "billing"}}});
  INFO(tagged.describe());
  REQUIRE(tagged.status == 200);
  CHECK(strings_at(tagged.json(), "tags") == std::vector<std::string>{"billing", "vip"});
  json::object data = last_event(agent, a, "case.tagged");
  CHECK(data.at("before").as_array().empty());
  CHECK(data.at("after").as_array().size() == 2);
  REQUIRE(act(agent, b, {{"action", "tag"}, {"tags", json::array{"vip"}}}).status == 200);

  // Bad tags: every one named, and nothing written.
  const std::int64_t before = version_of(agent, c);
  auto bad = act(agent, c, {{"action", "tag"}, {"tags", json::array{"two words", 7, "ok"}}});
  INFO(bad.describe());
  CHECK(bad.status == 422);
  CHECK(bad.is_problem());
  std::vector<std::string> fields;
  const json::value bad_fields = bad.json();
  for (const auto& f : bad_fields.as_object().at("fields").as_array()) fields.push_back(string_at(f, "field"));
  CHECK(fields == std::vector<std::string>{"tags[0]", "tags[1]"});
  CHECK(act(agent, c, {{"action", "tag"}, {"tags", json::array{std::string(41, 'x')}}}).status == 422);
  CHECK(act(agent, c, {{"action", "tag"}, {"tags", json::array{}}}).status == 422);
  CHECK(version_of(agent, c) == before);
  // The same tag again changes nothing: 409 with the reason.
  auto again = act(agent, b, {{"action", "tag"}, {"tags", json::array{"vip"}}});
  CHECK(again.status == 409);
  CHECK(again.body.find("already tagged vip") != std::string::npos);

  // The list and the search by tag (every tag given must be on the case).
  CHECK(references(agent.get("/v1/cases?tag=vip")) == sorted({a, b}));
  CHECK(references(agent.get("/v1/cases?tag=VIP,billing")) == std::vector<std::string>{a});
  CHECK(references(agent.get("/v1/cases?tag=nobody-has-this")).empty());
  CHECK(references(agent.get("/v1/cases?tag=vip&q=Refund")) == std::vector<std::string>{b});
  auto bad_query = agent.get("/v1/cases?tag=no%20spaces%21");
  CHECK(bad_query.status == 400);
  CHECK(bad_query.body.find("query.tag") != std::string::npos);

  // The count by tag, for leads and above.
  Client lead(server.port(), server.token("lead"));
  auto report = lead.get("/v1/reports/tags");
  INFO(report.describe());
  REQUIRE(report.status == 200);
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> counts;
  const json::value report_items = report.json();
  for (const auto& item : report_items.as_object().at("items").as_array())
    counts[string_at(item, "tag")] = {item.as_object().at("cases").as_int64(),
                                      item.as_object().at("open_cases").as_int64()};
  CHECK(counts["vip"] == std::pair<std::int64_t, std::int64_t>{2, 2});
  CHECK(counts["billing"] == std::pair<std::int64_t, std::int64_t>{1, 1});
  CHECK(agent.get("/v1/reports/tags").status == 403);

  // Untagged: the filter and the report follow at once.
  REQUIRE(act(agent, a, {{"action", "untag"}, {"tags", json::array{"vip"}}}).status == 200);
  data = last_event(agent, a, "case.untagged");
  CHECK(data.at("before").as_array().size() == 2);
  CHECK(data.at("after").as_array().size() == 1);
  CHECK(references(agent.get("/v1/cases?tag=vip")) == std::vector<std::string>{b});
  auto after = lead.get("/v1/reports/tags");
  CHECK(after.body.find("\"tag\":\"vip\",\"cases\":1") != std::string::npos);
}

TEST_CASE("desk: a merge seen from both client links, refused with nothing written, and only by whoever decides",
          "[web][desk][merge]") {
  RedressServer server;
  Client admin(server.port(), server.token("admin"));
  Client agent(server.port(), server.token("agent"));
  Client lead(server.port(), server.token("lead"));
  json::value first = create_case(agent, "Charged twice");
  json::value second = create_case(agent, "Charged twice, again");
  const std::string survivor = string_at(first, "reference");
  const std::string duplicate = string_at(second, "reference");
  for (const auto& reference : {survivor, duplicate})
    REQUIRE(act(agent, reference, {{"action", "take"}}).status == 200);
  REQUIRE(agent.post("/v1/cases/" + duplicate + "/commitments",
                     json::value(json::object{{"text", "We will call you back"}, {"due_in", "P2D"}}))
              .status == 201);

  // Into a case that does not exist, or into itself: refused, nothing written.
  const std::int64_t survivor_version = version_of(agent, survivor);
  const std::int64_t duplicate_version = version_of(agent, duplicate);
  CHECK(act(agent, duplicate, {{"action", "merge"}, {"into", "CMP-2026-999999"}}).status == 404);
  CHECK(act(agent, duplicate, {{"action", "merge"}, {"into", duplicate}}).status == 422);
  CHECK(act(agent, duplicate, {{"action", "merge"}}).status == 422);
  // A colleague's case is its owner's or a lead's to merge.
  auto [colleague_id, colleague_token] = [&] {
    auto added = admin.post("/v1/staff", json::object{{"name", "Ana Colleague"},
                                                      {"email", "colleague@example.org"},
                                                      {"role", "agent"}});
    REQUIRE(added.status == 201);
    std::string id = string_at(added.json(), "id");
    auto token = admin.post("/v1/staff/" + id + "/tokens", json::object{{"label", "test"}});
    REQUIRE(token.status == 201);
    return std::pair<std::string, std::string>{id, string_at(token.json(), "token")};
  }();
  Client colleague(server.port(), colleague_token);
  auto forbidden = act(colleague, duplicate, {{"action", "merge"}, {"into", survivor}});
  CHECK(forbidden.status == 403);
  CHECK(version_of(agent, survivor) == survivor_version);
  CHECK(version_of(agent, duplicate) == duplicate_version);

  auto merged = act(agent, duplicate, {{"action", "merge"}, {"into", survivor}, {"note", "The client wrote twice"}});
  INFO(merged.describe());
  REQUIRE(merged.status == 200);
  CHECK(string_at(merged.json(), "status") == "closed");
  CHECK(string_at(merged.json(), "merged_into") == survivor);
  CHECK(strings_at(merged.json(), "links") == std::vector<std::string>{survivor});
  const json::value merged_commitments = merged.json();
  for (const auto& k : merged_commitments.as_object().at("commitments").as_array()) CHECK(string_at(k, "status") != "open");
  auto carries_on = agent.get("/v1/cases/" + survivor);
  CHECK(strings_at(carries_on.json(), "links") == std::vector<std::string>{duplicate});
  CHECK(version_of(agent, survivor) == survivor_version + 1);
  CHECK(string_at(json::value(last_event(agent, survivor, "case.duplicate_merged")), "duplicate") == duplicate);
  CHECK(string_at(json::value(last_event(agent, duplicate, "case.closed")), "via") == "merge");

  // From the duplicate's client link: the case that carries on, with the link to its page.
  Client anyone(server.port());
  const std::string duplicate_link = link_token(string_at(second, "client_url"));
  const std::string survivor_link = link_token(string_at(first, "client_url"));
  auto seen = anyone.get("/v1/client/" + duplicate_link);
  INFO(seen.describe());
  REQUIRE(seen.status == 200);
  const json::value seen_body = seen.json();
  const json::value& into = seen_body.as_object().at("merged_into");
  CHECK(string_at(into, "reference") == survivor);
  CHECK(link_token(string_at(into, "client_url")) == survivor_link);
  auto page = anyone.get("/c/" + duplicate_link);
  REQUIRE(page.status == 200);
  CHECK(page.body.find("together with your complaint " + survivor) != std::string::npos);
  CHECK(page.body.find("href=\"" + string_at(into, "client_url") + "\"") != std::string::npos);
  // From the survivor's: the duplicate merged into it.
  auto kept = anyone.get("/v1/client/" + survivor_link);
  CHECK(strings_at(kept.json(), "merged_cases") == std::vector<std::string>{duplicate});
  CHECK(kept.json().as_object().at("merged_into").is_null());
  auto kept_page = anyone.get("/c/" + survivor_link);
  CHECK(kept_page.body.find("complaint " + duplicate) != std::string::npos);

  // Another client's case merged into it: named to neither client by link, nor listed.
  auto other_body = new_case_body("Same fault, another household", "someone.else@example.org");
  auto other = agent.post("/v1/cases", json::value(other_body));
  REQUIRE(other.status == 201);
  const std::string stranger = string_at(other.json(), "reference");
  REQUIRE(act(lead, stranger, {{"action", "merge"}, {"into", survivor}}).status == 200);
  auto stranger_view = anyone.get("/v1/client/" + link_token(string_at(other.json(), "client_url")));
  CHECK(string_at(stranger_view.json().as_object().at("merged_into"), "reference") == survivor);
  CHECK(string_at(stranger_view.json().as_object().at("merged_into"), "client_url").empty());
  CHECK(strings_at(anyone.get("/v1/client/" + survivor_link).json(), "merged_cases") ==
        std::vector<std::string>{duplicate});

  // Into a closed case (the duplicate): refused on the survivor's side, and the case merged stays open.
  const std::string third = string_at(create_case(agent, "A third time"), "reference");
  const std::int64_t third_version = version_of(agent, third);
  auto refused = act(agent, third, {{"action", "merge"}, {"into", duplicate}});
  INFO(refused.describe());
  CHECK(refused.status == 409);
  CHECK(refused.body.find("merged into " + survivor) != std::string::npos);
  CHECK(version_of(agent, third) == third_version);
  CHECK(string_at(agent.get("/v1/cases/" + third).json(), "status") == "received");
}

TEST_CASE("desk: a link is seen on both cases, refused twice, and unlinked from either", "[web][desk][links]") {
  RedressServer server;
  Client agent(server.port(), server.token("agent"));
  const std::string a = string_at(create_case(agent, "Late delivery"), "reference");
  const std::string b = string_at(create_case(agent, "Late delivery next door"), "reference");
  auto linked = act(agent, a, {{"action", "link"}, {"case", b}, {"note", "Same van"}});
  INFO(linked.describe());
  REQUIRE(linked.status == 200);
  CHECK(strings_at(linked.json(), "links") == std::vector<std::string>{b});
  CHECK(strings_at(agent.get("/v1/cases/" + b).json(), "links") == std::vector<std::string>{a});
  CHECK(string_at(json::value(last_event(agent, b, "case.linked")), "case") == a);
  CHECK(act(agent, b, {{"action", "link"}, {"case", a}}).status == 409);
  CHECK(act(agent, a, {{"action", "link"}, {"case", "CMP-2026-999999"}}).status == 404);
  REQUIRE(act(agent, b, {{"action", "unlink"}, {"case", a}}).status == 200);
  CHECK(strings_at(agent.get("/v1/cases/" + a).json(), "links").empty());
  CHECK(act(agent, a, {{"action", "unlink"}, {"case", b}}).status == 409);
}

TEST_CASE("desk: a bulk action is answered per case, one refusal among many, each with its reason",
          "[web][desk][bulk]") {
  RedressServer server;
  Client agent(server.port(), server.token("agent"));
  Client lead(server.port(), server.token("lead"));
  std::vector<std::string> cases;
  for (int i = 0; i < 6; ++i) cases.push_back(string_at(create_case(agent, "Bulk " + std::to_string(i)), "reference"));
  // One of them withdrawn: escalating it is refused by the lifecycle.
  REQUIRE(act(agent, cases[3], {{"action", "withdraw"}, {"reason", "Sorted out by phone"}}).status == 200);
  std::map<std::string, std::int64_t> versions;
  for (const auto& c : cases) versions[c] = version_of(agent, c);

  json::array refs;
  for (const auto& c : cases) refs.emplace_back(c);
  refs.emplace_back("CMP-2026-999999");
  auto answer = lead.post("/v1/cases/bulk", json::value(json::object{
                                                {"action", "escalate"},
                                                {"cases", refs},
                                                {"arguments", json::object{{"reason", "Press enquiry"}}}}));
  INFO(answer.describe());
  REQUIRE(answer.status == 200);
  const json::value answered = answer.json();
  const json::object& body = answered.as_object();
  CHECK(body.at("done").as_int64() == 5);
  CHECK(body.at("refused").as_int64() == 2);
  const json::array& results = body.at("results").as_array();
  REQUIRE(results.size() == 7);
  for (std::size_t i = 0; i < results.size(); ++i) {
    const json::object& r = results[i].as_object();
    INFO(json::serialize(r));
    CHECK(string_at(results[i], "reference") == std::string(refs[i].as_string()));
    if (i == 3) {
      CHECK(r.at("status").as_int64() == 409);
      CHECK(string_at(results[i], "outcome") == "refused");
      CHECK(string_at(r.at("problem"), "detail").find("withdrawn") != std::string::npos);
      CHECK(version_of(agent, cases[i]) == versions[cases[i]]);  // the refusal wrote nothing
    } else if (i == 6) {
      CHECK(r.at("status").as_int64() == 404);
    } else {
      CHECK(r.at("status").as_int64() == 200);
      CHECK(r.at("version").as_int64() > versions[cases[i]]);
      CHECK(version_of(agent, cases[i]) == r.at("version").as_int64());
      CHECK(agent.get("/v1/cases/" + cases[i]).json().as_object().at("escalation_level").as_int64() == 1);
    }
  }

  // Per case, the same rules as alone: an agent may not assign (403 for each).
  auto assign = agent.post("/v1/cases/bulk", json::value(json::object{
                                                 {"action", "assign"},
                                                 {"cases", json::array{json::value(cases[0]), json::value(cases[1])}},
                                                 {"arguments", json::object{{"owner", server.staff_id("agent")}}}}));
  REQUIRE(assign.status == 200);
  const json::value assign_results = assign.json();
  for (const auto& r : assign_results.as_object().at("results").as_array())
    CHECK(r.as_object().at("status").as_int64() == 403);

  // Bulk tagging: the filter finds them all.
  auto tag = agent.post("/v1/cases/bulk", json::value(json::object{{"action", "tag"},
                                                                   {"cases", json::array{json::value(cases[0]),
                                                                                         json::value(cases[1])}},
                                                                   {"arguments", json::object{{"tags", json::array{"press"}}}}}));
  REQUIRE(tag.status == 200);
  CHECK(tag.json().as_object().at("done").as_int64() == 2);
  CHECK(references(agent.get("/v1/cases?tag=press")) == sorted({cases[0], cases[1]}));

  // Bad requests are refused whole, every field named, nothing written.
  const std::int64_t kept = version_of(agent, cases[0]);
  auto invalid = lead.post("/v1/cases/bulk", json::value(json::object{
                                                 {"action", "close_everything"},
                                                 {"cases", json::array{json::value(cases[0]), json::value(cases[0]), 7}},
                                                 {"arguments", json::object{{"expected_version", 3}}},
                                                 {"extra", true}}));
  INFO(invalid.describe());
  CHECK(invalid.status == 422);
  std::vector<std::string> fields;
  const json::value invalid_fields = invalid.json();
  for (const auto& f : invalid_fields.as_object().at("fields").as_array()) fields.push_back(string_at(f, "field"));
  CHECK(sorted(fields) == sorted({"action", "cases[1]", "cases[2]", "extra", "arguments.expected_version"}));
  auto unknown_argument = lead.post("/v1/cases/bulk", json::value(json::object{
                                                          {"action", "escalate"},
                                                          {"cases", json::array{json::value(cases[0])}},
                                                          {"arguments", json::object{{"reasn", "typo"}}}}));
  CHECK(unknown_argument.status == 422);
  CHECK(unknown_argument.body.find("arguments.reasn") != std::string::npos);
  CHECK(unknown_argument.body.find("arguments.reason") != std::string::npos);
  json::array too_many;
  for (int i = 0; i < 1001; ++i) too_many.emplace_back("CMP-2026-" + std::to_string(100000 + i));
  CHECK(lead.post("/v1/cases/bulk", json::value(json::object{{"action", "escalate"},
                                                             {"cases", too_many},
                                                             {"arguments", json::object{{"reason", "x"}}}}))
            .status == 422);
  CHECK(version_of(agent, cases[0]) == kept);
}

TEST_CASE("desk: the console's case list filters, saves a view and applies a bulk action with a refusal",
          "[web][desk][pages]") {
  RedressServer server;
  server.set_password("agent", kDeskPassword);
  server.set_password("lead", kDeskPassword);
  Client agent(server.port(), server.token("agent"));
  std::vector<std::string> cases;
  for (int i = 0; i < 3; ++i) cases.push_back(string_at(create_case(agent, "Console " + std::to_string(i)), "reference"));
  REQUIRE(act(agent, cases[0], {{"action", "tag"}, {"tags", json::array{"vip"}}}).status == 200);
  REQUIRE(act(agent, cases[2], {{"action", "withdraw"}, {"reason", "No longer needed"}}).status == 200);

  Console lead(server.port(), "lead@example.org");
  auto list = lead.get("/staff/cases?tag=vip");
  INFO(list.describe());
  REQUIRE(list.status == 200);
  CHECK(list.body.find(cases[0]) != std::string::npos);
  CHECK(list.body.find(cases[1]) == std::string::npos);
  // A bad filter is named, not ignored.
  auto bad = lead.get("/staff/cases?from=yesterday&tag=a%20b");
  CHECK(bad.status == 400);
  CHECK(bad.body.find("from: must be a date") != std::string::npos);
  // The received-between filter takes whole days in the standard's zone.
  CHECK(lead.get("/staff/cases?from=2000-01-01&to=2000-12-31").body.find("No case matches") != std::string::npos);

  // A view saved, listed, opened and deleted; a name used twice is refused.
  auto saved = lead.post("/staff/views", {{"name", "VIP cases"}, {"filter", "tag=vip&status=received"}});
  INFO(saved.describe());
  REQUIRE(saved.status == 303);
  auto with_view = lead.get("/staff/cases");
  CHECK(with_view.body.find("VIP cases") != std::string::npos);
  CHECK(with_view.body.find("href=\"/staff/cases?status=received&amp;tag=vip\"") != std::string::npos);
  CHECK(lead.post("/staff/views", {{"name", "VIP cases"}, {"filter", "tag=vip"}}).status == 409);
  CHECK(lead.post("/staff/views", {{"name", "Broken"}, {"filter", "status=nonsense"}}).status == 422);
  // Another person does not see a view that is not shared with their team, nor delete it.
  Console other(server.port(), "agent@example.org");
  CHECK(other.get("/staff/cases").body.find("VIP cases") == std::string::npos);
  std::smatch id;
  REQUIRE(std::regex_search(with_view.body, id, std::regex("/staff/views/([0-9]+)/delete")));
  CHECK(other.post("/staff/views/" + id[1].str() + "/delete", {}).status == 404);

  // The bulk bar: tag three cases, one of them refused (it has the tag already), with its reason.
  lead.get("/staff/cases");
  auto bulk = lead.post("/staff/cases/bulk", {{"cases", cases[0]},
                                              {"cases", cases[1]},
                                              {"cases", cases[2]},
                                              {"action", "tag"},
                                              {"tags", "vip"},
                                              {"back", "status=received"}});
  INFO(bulk.describe());
  REQUIRE(bulk.status == 200);
  CHECK(bulk.body.find("tag: done on 2 of 3 cases; 1 refused") != std::string::npos);
  CHECK(bulk.body.find(cases[0] + "</a>: the case is already tagged vip") != std::string::npos);
  CHECK(references(agent.get("/v1/cases?tag=vip")) == sorted(cases));
  // Nothing ticked: said, nothing done.
  CHECK(lead.post("/staff/cases/bulk", {{"action", "tag"}, {"tags", "x"}}).status == 422);
  CHECK(lead.post("/staff/views/" + id[1].str() + "/delete", {}).status == 303);
  CHECK(lead.get("/staff/cases").body.find("VIP cases") == std::string::npos);

  // The case page: tag, link and merge forms.
  auto page = lead.get("/staff/cases/" + cases[1]);
  REQUIRE(page.status == 200);
  std::smatch version;
  REQUIRE(std::regex_search(page.body, version, std::regex("name=\"expected_version\" value=\"([0-9]+)\"")));
  auto tag = lead.post("/staff/cases/" + cases[1] + "/act",
                       {{"action", "tag"}, {"tags", "Press, urgent"}, {"expected_version", version[1].str()}});
  INFO(tag.describe());
  CHECK(tag.status == 303);
  CHECK(strings_at(agent.get("/v1/cases/" + cases[1]).json(), "tags") ==
        std::vector<std::string>{"press", "urgent", "vip"});
  page = lead.get("/staff/cases/" + cases[1]);
  auto merge = lead.post("/staff/cases/" + cases[1] + "/act", {{"action", "merge"}, {"into", cases[0]}});
  INFO(merge.describe());
  CHECK(merge.status == 303);
  page = lead.get("/staff/cases/" + cases[1]);
  CHECK(page.body.find("This case was merged into <a href=\"/staff/cases/" + cases[0] + "\">") != std::string::npos);
  page = lead.get("/staff/cases/" + cases[0]);
  CHECK(page.body.find("merged into this case") != std::string::npos);
}

}  // namespace redress::webtest::desk_views
