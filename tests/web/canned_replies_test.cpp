// Canned replies (issue 27) through the real server over a real socket: admins write them over the
// API and in the console (bad text refused field by field, nothing stored), staff see the ones for
// a case rendered for it, insert one into the case page's message form and send it; a hostile
// client name stays text everywhere: escaped in HTML, as typed in the text and the mail's text part.
#include <regex>

#include "adapters/peers.h"
#include "tests/web/console_session.h"
#include "tests/web/support.h"
#include "web/pages/html.h"

namespace redress::webtest::canned {

const std::string kCannedPassword = "correct horse battery staple";
const std::string kHostileName = "<script>alert(\"x\")</script> O'Brien & Co";

// The text between an element's tags as a browser reads it: the five references undone.
std::string canned_unescape(std::string text) {
  const std::pair<std::string, std::string> kReferences[] = {
      {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#39;", "'"}, {"&amp;", "&"}};
  for (const auto& [from, to] : kReferences)
    for (std::size_t at = 0; (at = text.find(from, at)) != std::string::npos; at += to.size())
      text.replace(at, from.size(), to);
  return text;
}

std::string textarea_of(const std::string& html, const std::string& id) {
  auto start = html.find("id=\"" + id + "\"");
  REQUIRE(start != std::string::npos);
  start = html.find('>', start) + 1;
  auto end = html.find("</textarea>", start);
  REQUIRE(end != std::string::npos);
  return html.substr(start, end - start);
}

void canned_sign_in(Client& client, CookieJar& jar, const std::string& email) {
  REQUIRE(sign_in(client, jar, email, kCannedPassword).status == 303);
}

HttpResponse canned_patch(Client& client, const std::string& target, const json::object& body) {
  return client.call("PATCH", target, json::serialize(body), {{"Content-Type", "application/json"}});
}

std::vector<std::string> canned_field_names(const json::value& problem) {
  std::vector<std::string> names;
  if (const auto* errors = problem.as_object().if_contains("fields"))
    for (const auto& e : errors->as_array()) names.push_back(string_at(e, "field"));
  return names;
}

TEST_CASE("canned replies: admins write them, bad text is refused field by field and nothing is stored",
          "[web][canned]") {
  RedressServer server;
  Client admin(server.port(), server.token("admin"));
  Client agent(server.port(), server.token("agent"));
  const json::object good{{"title", "We are on it"},
                          {"body", "Dear {{client.name}}, your complaint {{case.reference}} is with {{owner.name}}."},
                          {"workflow", "retail"}};
  CHECK(agent.post("/v1/canned-replies", json::value(good)).status == 403);
  for (const auto& [body, field] : std::vector<std::pair<std::string, std::string>>{
           {"Dear {{{client.name}}}", "body"},
           {"Dear {{&client.name}}", "body"},
           {"{{> client_footer}}", "body"},
           {"Dear {{clientname}}", "body"},
           {"{{#owner}}unclosed", "body"},
           {"", "body"}}) {
    json::object bad = good;
    bad["body"] = body;
    auto refused = admin.post("/v1/canned-replies", json::value(bad));
    INFO(body << ": " << refused.describe());
    CHECK(refused.status == 422);
    CHECK(canned_field_names(refused.json()) == std::vector<std::string>{field});
  }
  auto unknown = admin.post("/v1/canned-replies", json::value(json::object{{"title", ""},
                                                                           {"body", "x"},
                                                                           {"workflow", "nowhere"},
                                                                           {"colour", "red"}}));
  CHECK(unknown.status == 422);
  auto names = canned_field_names(unknown.json());
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{"colour", "title", "workflow"});
  CHECK(admin.get("/v1/canned-replies").json().at("items").as_array().empty());

  auto added = admin.post("/v1/canned-replies", json::value(good));
  INFO(added.describe());
  REQUIRE(added.status == 201);
  const std::string id = string_at(added.json(), "id");
  CHECK(id.rfind("cr-", 0) == 0);
  CHECK(added.header("location") == "/v1/canned-replies/" + id);
  CHECK(string_at(added.json(), "created_by") == server.staff_id("admin"));
  // Agents read them; a filter keeps the workflow's own and those for every workflow.
  CHECK(agent.get("/v1/canned-replies?workflow=retail").json().at("items").as_array().size() == 1);
  CHECK(agent.get("/v1/canned-replies?workflow=cfpb").json().at("items").as_array().empty());
  auto changed = canned_patch(admin, "/v1/canned-replies/" + id, json::object{{"team", "customer-care"}});
  REQUIRE(changed.status == 200);
  CHECK(string_at(changed.json(), "team") == "customer-care");
  CHECK(string_at(changed.json(), "title") == "We are on it");
  CHECK(canned_patch(admin, "/v1/canned-replies/" + id, json::object{{"body", "{{nope}}"}}).status == 422);
  CHECK(string_at(agent.get("/v1/canned-replies/" + id).json(), "body") == string_at(good, "body"));
  CHECK(canned_patch(agent, "/v1/canned-replies/" + id, json::object{{"team", ""}}).status == 403);
  CHECK(agent.call("DELETE", "/v1/canned-replies/" + id).status == 403);
  CHECK(admin.call("DELETE", "/v1/canned-replies/" + id).status == 204);
  CHECK(admin.call("DELETE", "/v1/canned-replies/" + id).status == 404);
  CHECK(agent.get("/v1/canned-replies/" + id).status == 404);
  // A deleted reply's id is not given to the next one.
  auto next = admin.post("/v1/canned-replies", json::value(good));
  REQUIRE(next.status == 201);
  CHECK(string_at(next.json(), "id") != id);
}

TEST_CASE("canned replies: rendered for a case with a hostile client name, escaped in HTML and plain in the text "
          "and the mail's text part",
          "[web][canned][smtp]") {
  TempDir scratch;
  redress::peers::CaptureServer smtp(scratch.path());
  ServerSetup setup;
  setup.config = {"smtp_url = \"" + smtp.url() + "\"", "mail_from = \"complaints@acme.example\""};
  RedressServer server(setup);
  server.set_password("agent", kCannedPassword);
  Client admin(server.port(), server.token("admin"));
  Client agent(server.port(), server.token("agent"));
  const std::string body =
      "Dear {{client.name}},\n\nYour complaint {{case.reference}} is with {{owner.name}}.\n"
      "{{#final_response_due}}Our full response is due by {{final_response_due}}.{{/final_response_due}}";
  auto added = admin.post("/v1/canned-replies", json::value(json::object{
                                                    {"title", "We are on it"}, {"body", body}, {"workflow", "retail"}}));
  REQUIRE(added.status == 201);
  const std::string id = string_at(added.json(), "id");
  REQUIRE(admin.post("/v1/canned-replies", json::value(json::object{{"title", "For the US desk"},
                                                                     {"body", "Hello {{client.name}}"},
                                                                     {"workflow", "cfpb"}}))
              .status == 201);

  json::object hostile = new_case_body("Late refund", "obrien@example.net");
  hostile["client"].as_object()["name"] = kHostileName;
  auto created = agent.post("/v1/cases", json::value(hostile));
  REQUIRE(created.status == 201);
  const std::string reference = string_at(created.json(), "reference");
  for (const char* action : {"acknowledge", "take"})
    REQUIRE(agent.post("/v1/cases/" + reference + "/actions", json::object{{"action", action}}).status == 200);

  // The API: only the retail reply applies; its text has the name as typed, its HTML escaped.
  auto listed = agent.get("/v1/cases/" + reference + "/canned-replies");
  REQUIRE(listed.status == 200);
  const json::value items = listed.json().at("items");
  REQUIRE(items.as_array().size() == 1);
  const json::value& rendered = items.as_array()[0];
  CHECK(string_at(rendered, "id") == id);
  const std::string text = string_at(rendered, "text");
  CHECK(text.rfind("Dear " + kHostileName + ",\n\nYour complaint " + reference + " is with Test agent.", 0) == 0);
  CHECK(text.find("Our full response is due by ") != std::string::npos);
  const std::string html = string_at(rendered, "html");
  CHECK(html.find("Dear &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; O&#39;Brien &amp; Co,") !=
        std::string::npos);
  CHECK(html.find("<script>") == std::string::npos);
  CHECK(agent.get("/v1/cases/" + reference + "/canned-replies/" + id).status == 200);
  auto not_for_it = agent.get("/v1/cases/" + reference + "/canned-replies/cr-" +
                              std::to_string(std::stoll(id.substr(3)) + 1));
  CHECK(not_for_it.status == 404);

  // The console: "Insert" puts the rendered text into the message form, escaped once in the page.
  Client browser(server.port());
  CookieJar jar;
  canned_sign_in(browser, jar, "agent@example.org");
  auto page = browser.get("/staff/cases/" + reference, jar.header());
  REQUIRE(page.status == 200);
  CHECK(page.body.find("<option value=\"" + id + "\">We are on it</option>") != std::string::npos);
  CHECK(page.body.find("For the US desk") == std::string::npos);
  auto inserted = browser.get("/staff/cases/" + reference + "?canned=" + id, jar.header());
  REQUIRE(inserted.status == 200);
  CHECK(inserted.body.find("<script>alert") == std::string::npos);
  const std::string typed = textarea_of(inserted.body, "message-body");
  CHECK(typed.find("Dear &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; O&#39;Brien &amp; Co,") !=
        std::string::npos);
  CHECK(canned_unescape(typed) == text);
  CHECK(inserted.body.find("<option value=\"client\" selected>Message to the client</option>") != std::string::npos);

  // Edited and sent: the client's mail carries it, the name as typed in the text part and escaped
  // in the HTML part.
  const std::string edited = canned_unescape(typed) + "\n\nI will call you tomorrow.";
  auto sent = browser.post("/staff/cases/" + reference + "/act",
                           form_encode({{"csrf", hidden(inserted.body, "csrf")},
                                          {"action", "add_message"},
                                          {"visibility", "client"},
                                          {"body", edited},
                                          {"expected_version", hidden(inserted.body, "expected_version")}}),
                           form_type() + jar.header());
  INFO(sent.describe());
  REQUIRE(sent.status == 303);
  json::value message;
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (message.is_null()) {
    auto mails = smtp.messages();
    if (!mails.empty()) {
      for (const auto& parsed : redress::peers::strict_parse(mails, scratch.path()))
        if (string_at(parsed, "subject").find("A message about your complaint") != std::string::npos) message = parsed;
    }
    if (message.is_null()) {
      if (std::chrono::steady_clock::now() > deadline) FAIL("no message mail within 60 s: " << server.log());
      std::this_thread::sleep_for(100ms);
    }
  }
  const std::string plain = string_at(message, "plain");
  CHECK(plain.find("Dear " + kHostileName + ",") != std::string::npos);
  CHECK(plain.find("I will call you tomorrow.") != std::string::npos);
  const std::string mail_html = string_at(message, "html");
  CHECK(mail_html.find("Dear &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; O&#39;Brien &amp; Co,") !=
        std::string::npos);
  CHECK(mail_html.find("<script>") == std::string::npos);
}

TEST_CASE("canned replies: the console's pages add, refuse with what was typed, change and delete",
          "[web][canned][pages]") {
  RedressServer server;
  server.set_password("admin", kCannedPassword);
  server.set_password("agent", kCannedPassword);
  Client browser(server.port());
  CookieJar agent_jar;
  canned_sign_in(browser, agent_jar, "agent@example.org");
  CHECK(browser.get("/staff/admin/canned-replies", agent_jar.header()).status == 403);

  CookieJar jar;
  canned_sign_in(browser, jar, "admin@example.org");
  auto list = browser.get("/staff/admin/canned-replies", jar.header());
  REQUIRE(list.status == 200);
  CHECK(list.body.find("No canned replies yet.") != std::string::npos);
  const Headers post_headers = form_type() + jar.header();
  auto refused = browser.post("/staff/admin/canned-replies",
                              form_encode({{"csrf", hidden(list.body, "csrf")},
                                             {"title", "<b>Bold</b> title"},
                                             {"workflow", "retail"},
                                             {"team", ""},
                                             {"body", "Dear {{{client.name}}}"}}),
                              post_headers);
  CHECK(refused.status == 422);
  CHECK(refused.body.find("&lt;b&gt;Bold&lt;/b&gt; title") != std::string::npos);
  CHECK(refused.body.find("Dear {{{client.name}}}") != std::string::npos);
  CHECK(refused.body.find("are not allowed") != std::string::npos);

  auto added = browser.post("/staff/admin/canned-replies",
                            form_encode({{"csrf", hidden(list.body, "csrf")},
                                           {"title", "Holding on"},
                                           {"workflow", "retail"},
                                           {"team", "customer-care"},
                                           {"body", "Dear {{client.name}}, we are still on it."}}),
                            post_headers);
  INFO(added.describe());
  REQUIRE(added.status == 303);
  Client admin(server.port(), server.token("admin"));
  auto stored = admin.get("/v1/canned-replies").json().at("items").as_array();
  REQUIRE(stored.size() == 1);
  const std::string id = string_at(stored[0], "id");
  CHECK(string_at(stored[0], "team") == "customer-care");
  auto page = browser.get("/staff/admin/canned-replies/" + id, jar.header());
  REQUIRE(page.status == 200);
  auto saved = browser.post("/staff/admin/canned-replies/" + id,
                            form_encode({{"csrf", hidden(page.body, "csrf")},
                                           {"op", "save"},
                                           {"title", "Holding on, still"},
                                           {"workflow", ""},
                                           {"team", ""},
                                           {"body", "Dear {{client.name}}, we are still on it."}}),
                            post_headers);
  REQUIRE(saved.status == 303);
  auto after = admin.get("/v1/canned-replies/" + id).json();
  CHECK(string_at(after, "title") == "Holding on, still");
  CHECK(string_at(after, "workflow").empty());
  CHECK(string_at(after, "updated_by") == server.staff_id("admin"));
  auto deleted = browser.post("/staff/admin/canned-replies/" + id,
                              form_encode({{"csrf", hidden(page.body, "csrf")}, {"op", "delete"}}),
                              post_headers);
  REQUIRE(deleted.status == 303);
  CHECK(admin.get("/v1/canned-replies").json().at("items").as_array().empty());
}

}  // namespace redress::webtest::canned
