// The pages over a real socket against the real binary: the client's status page and its forms,
// staff sign-in (sessions, CSRF, lock-out), the console's actions, the board's role check and CSV,
// and the security headers. The browser tests (tests/browser) drive the same pages in Chromium.
#include <poll.h>

#include <algorithm>
#include <regex>

#include "tests/web/console_session.h"
#include "tests/web/support.h"
#include "web/pages/html.h"

namespace redress::webtest {

namespace {

const std::string kPassword = "correct horse battery staple";

std::string client_path(const json::value& created) {
  std::string url(created.at("client_url").as_string());
  return url.substr(url.find("/c/"));
}

// A multipart/form-data body as a browser sends a form with files: text parts, then file parts.
struct Part {
  Part(std::string name, std::string value, std::string filename = {}, std::string type = "application/octet-stream")
      : name(std::move(name)), value(std::move(value)), filename(std::move(filename)), type(std::move(type)) {}
  std::string name;
  std::string value;
  std::string filename;  // non-empty: a file
  std::string type;
};

const std::string kBoundary = "----redress-pages-boundary-q8Zr2LkP";

std::string multipart_body(const std::vector<Part>& parts) {
  std::string body;
  for (const auto& p : parts) {
    body += "--" + kBoundary + "\r\nContent-Disposition: form-data; name=\"" + p.name + "\"";
    if (!p.filename.empty()) body += "; filename=\"" + p.filename + "\"\r\nContent-Type: " + p.type;
    body += "\r\n\r\n" + p.value + "\r\n";
  }
  return body + "--" + kBoundary + "--\r\n";
}

Headers multipart_type() { return {{"Content-Type", "multipart/form-data; boundary=" + kBoundary}}; }

}  // namespace

TEST_CASE("pages: every page carries the security headers", "[web][pages]") {
  RedressServer server;
  Client client(server.port());
  for (std::string path : {"/standards", "/staff/login"}) {
    auto page = client.get(path);
    INFO(path);
    CHECK(page.status == 200);
    CHECK(page.header("content-type") == "text/html; charset=utf-8");
    CHECK(page.header("content-security-policy").find("default-src 'none'") != std::string::npos);
    CHECK(page.header("content-security-policy").find("frame-ancestors 'none'") != std::string::npos);
    CHECK(page.header("content-security-policy").find("script-src 'self'") != std::string::npos);
    CHECK(page.header("x-content-type-options") == "nosniff");
    CHECK(page.header("referrer-policy") == "same-origin");
    CHECK(page.header("cache-control") == "no-store");
  }
  CHECK(client.get("/static/redress.css").header("content-type") == "text/css; charset=utf-8");
  auto standards = client.get("/standards");
  CHECK(standards.body.find("Retail complaints") != std::string::npos);
  CHECK(standards.body.find("<script>") == std::string::npos);  // scripts only from files
}

TEST_CASE("pages: the client's page shows their case, never an internal note or another case", "[web][pages]") {
  RedressServer server;
  Client staff(server.port(), server.token("agent"));
  auto body = new_case_body("Broken <b>kettle</b>", "zoe@example.org");
  body["client"].as_object()["name"] = "Zoë <script>alert(1)</script>";
  auto created = staff.post("/v1/cases", body);
  REQUIRE(created.status == 201);
  std::string reference(created.json().at("reference").as_string());
  std::string path = client_path(created.json());
  auto other = staff.post("/v1/cases", new_case_body("Someone else's complaint", "bob@example.org"));
  REQUIRE(other.status == 201);
  REQUIRE(staff
              .post("/v1/cases/" + reference + "/messages",
                    json::object{{"visibility", "internal"}, {"body", "INTERNAL: client sounds litigious"}})
              .status == 201);
  REQUIRE(staff
              .post("/v1/cases/" + reference + "/messages",
                    json::object{{"visibility", "client"}, {"body", "We are on it <i>now</i>"}})
              .status == 201);

  Client browser(server.port());
  auto page = browser.get(path);
  REQUIRE(page.status == 200);
  CHECK(page.body.find(reference) != std::string::npos);
  CHECK(page.body.find("We are on it &lt;i&gt;now&lt;/i&gt;") != std::string::npos);
  CHECK(page.body.find("Broken &lt;b&gt;kettle&lt;/b&gt;") != std::string::npos);
  CHECK(page.body.find("INTERNAL") == std::string::npos);
  CHECK(page.body.find("Someone else") == std::string::npos);
  CHECK(page.body.find(std::string(other.json().at("reference").as_string())) == std::string::npos);
  CHECK(page.body.find("<i>now</i>") == std::string::npos);

  SECTION("a reply through the form lands on the case and the page says so") {
    auto posted = browser.post(path + "/reply",
                               form_encode({{"body", "Here is my receipt <img src=x onerror=alert(1)>"}}), form_type());
    REQUIRE(posted.status == 303);
    CHECK(posted.header("location") == path + "?done=reply");
    auto after = browser.get(posted.header("location"));
    CHECK(after.body.find("your message is with us") != std::string::npos);
    CHECK(after.body.find("Here is my receipt &lt;img src=x onerror=alert(1)&gt;") != std::string::npos);
    auto messages = staff.get("/v1/cases/" + reference);
    CHECK(messages.body.find("Here is my receipt") != std::string::npos);
  }
  SECTION("bad input is refused with the reason, and what was typed is kept") {
    auto posted =
        browser.post(path + "/survey", form_encode({{"rating", "9"}, {"comment", "my long comment"}}), form_type());
    CHECK(posted.status == 422);
    CHECK(posted.body.find("class=\"error\"") != std::string::npos);
    auto empty = browser.post(path + "/reply", form_encode({{"body", ""}}), form_type());
    CHECK(empty.status == 422);
    auto broken = browser.post(path + "/reply", std::string("body=%zz"), form_type());
    CHECK(broken.status == 422);
    auto json_body =
        browser.post(path + "/reply", std::string("{\"body\":\"x\"}"), {{"Content-Type", "application/json"}});
    CHECK(json_body.status == 422);
  }
  SECTION("a post from another site is refused") {
    auto posted = browser.post(path + "/reply", form_encode({{"body", "forged"}}),
                               form_type() + Headers{{"Origin", "https://evil.example"}});
    CHECK(posted.status == 403);
    CHECK(staff.get("/v1/cases/" + reference).body.find("forged") == std::string::npos);
  }
  SECTION("an unknown or revoked link opens nothing") {
    CHECK(browser.get("/c/cl_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").status == 404);
    REQUIRE(staff.post("/v1/cases/" + reference + "/client-link", std::string()).status == 201);
    auto old = browser.get(path);
    CHECK(old.status == 404);
    CHECK(old.body.find(reference) == std::string::npos);
  }
}

TEST_CASE("pages: staff sign in with a password, sessions end on sign-out, failures lock the account", "[web][pages]") {
  RedressServer server;
  server.set_password("agent", kPassword);
  Client client(server.port());

  SECTION("a staff page without a session redirects to the sign-in form") {
    auto page = client.get("/staff/queue");
    CHECK(page.status == 303);
    CHECK(page.header("location") == "/staff/login?next=%2Fstaff%2Fqueue");
  }
  SECTION("the right password gives a session cookie that opens the console; sign-out ends it") {
    CookieJar jar;
    auto signed_in = sign_in(client, jar, "agent@example.org", kPassword);
    REQUIRE(signed_in.status == 303);
    CHECK(signed_in.header("location") == "/staff");
    std::string cookie;
    auto [b, e] = signed_in.headers.equal_range("set-cookie");
    for (auto it = b; it != e; ++it)
      if (it->second.rfind("redress_staff=", 0) == 0) cookie = it->second;
    CHECK(cookie.find("HttpOnly") != std::string::npos);
    CHECK(cookie.find("SameSite=Strict") != std::string::npos);
    auto mine = client.get("/staff", jar.header());
    REQUIRE(mine.status == 200);
    CHECK(mine.body.find("Test agent") != std::string::npos);
    std::string csrf = hidden(mine.body, "csrf");
    auto saved = jar;
    auto out = client.post("/staff/logout", form_encode({{"csrf", csrf}}), form_type() + jar.header());
    CHECK(out.status == 303);
    // The old cookie no longer opens anything: the session ended in the database.
    CHECK(client.get("/staff", saved.header()).status == 303);
  }
  SECTION("a wrong password is refused; five failures lock the address even for the right password") {
    CookieJar jar;
    for (int i = 0; i < 4; ++i) CHECK(sign_in(client, jar, "agent@example.org", "wrong password!!").status == 401);
    auto fifth = sign_in(client, jar, "agent@example.org", "wrong password!!");
    CHECK(fifth.status == 429);
    auto right = sign_in(client, jar, "agent@example.org", kPassword);
    CHECK(right.status == 429);
    CHECK(right.body.find("locked") != std::string::npos);
    // Both 429s say when to come back: Retry-After within the 15-minute lock, and the page says 15
    // minutes (rounded up from what is left), not 16.
    for (const auto* locked : {&fifth, &right}) {
      INFO(locked->describe());
      REQUIRE(locked->has_header("retry-after"));
      long retry = std::atol(locked->header("retry-after").c_str());
      CHECK(retry > 14 * 60);
      CHECK(retry <= 15 * 60);
      CHECK(locked->body.find("locked for 15 more minutes") != std::string::npos);
      CHECK(locked->body.find("16 more minutes") == std::string::npos);
    }
    CHECK(jar.cookies.count("redress_staff") == 0);
    // An unknown address answers like a wrong password and is locked the same way.
    CHECK(sign_in(client, jar, "nobody@example.org", "whatever password").status == 401);
  }
  SECTION("the sign-in form refuses a post without its token") {
    auto answer = client.post("/staff/login", form_encode({{"email", "agent@example.org"}, {"password", kPassword}}),
                              form_type());
    CHECK(answer.status == 403);
  }
  SECTION("an intake account or a staff member without a password cannot sign in") {
    CookieJar jar;
    CHECK(sign_in(client, jar, "intake@example.org", kPassword).status == 401);
    CHECK(sign_in(client, jar, "lead@example.org", kPassword).status == 401);
  }
}

TEST_CASE("pages: one address guessing across many accounts is refused before any password is checked",
          "[web][pages]") {
  ServerSetup setup;
  // Requests come from 127.0.0.1, taken here for a proxy: X-Forwarded-For names the client.
  setup.config = {"sign_in_failures_per_address = 3", "trusted_proxies = \"127.0.0.1/32\""};
  RedressServer server(setup);
  server.set_password("agent", kPassword);
  Client client(server.port());
  CookieJar jar;
  const Headers guesser{{"X-Forwarded-For", "198.51.100.7"}};
  // Three failures on three accounts: none of them is locked (the account limit is five).
  for (const char* email : {"one@example.org", "two@example.org", "agent@example.org"})
    CHECK(sign_in(client, jar, email, "a wrong guess!!", guesser).status == 401);
  // Now even the right password, from that address, is refused, with the wait.
  auto refused = sign_in(client, jar, "agent@example.org", kPassword, guesser);
  CHECK(refused.status == 429);
  CHECK(refused.body.find("from your network") != std::string::npos);
  CHECK(std::atoi(refused.header("retry-after").c_str()) >= 1);
  CHECK(jar.cookies.count("redress_staff") == 0);
  // An address a client wrote itself, left of what the proxy appended, changes nothing.
  CHECK(sign_in(client, jar, "agent@example.org", kPassword, Headers{{"X-Forwarded-For", "192.0.2.1, 198.51.100.7"}})
            .status == 429);
  // Another client behind the same proxy signs in, and the account was never locked.
  auto other = sign_in(client, jar, "agent@example.org", kPassword, Headers{{"X-Forwarded-For", "198.51.100.8"}});
  CHECK(other.status == 303);
  CHECK(jar.cookies.count("redress_staff") == 1);
  // Each request's log line names its client as the proxy reported it.
  CHECK(server.log().find("client=198.51.100.7") != std::string::npos);
  CHECK(server.log().find("client=198.51.100.8") != std::string::npos);
  CHECK(server.log().find("client=192.0.2.1") == std::string::npos);
}

TEST_CASE("pages: without trusted proxies the peer is the client and X-Forwarded-For is ignored", "[web][pages]") {
  ServerSetup setup;
  setup.config = {"sign_in_failures_per_address = 2"};
  RedressServer server(setup);
  server.set_password("agent", kPassword);
  Client client(server.port());
  CookieJar jar;
  CHECK(
      sign_in(client, jar, "one@example.org", "a wrong guess!!", Headers{{"X-Forwarded-For", "198.51.100.1"}}).status ==
      401);
  CHECK(
      sign_in(client, jar, "two@example.org", "a wrong guess!!", Headers{{"X-Forwarded-For", "198.51.100.2"}}).status ==
      401);
  // A forged header does not buy a fresh budget: both failures were 127.0.0.1's.
  CHECK(sign_in(client, jar, "agent@example.org", kPassword, Headers{{"X-Forwarded-For", "198.51.100.3"}}).status ==
        429);
}

TEST_CASE("pages: password checks run off the I/O thread - sign-ins do not hold up other requests", "[web][pages]") {
  ServerSetup setup;
  setup.threads = 1;  // one I/O thread: a check made on it would stall every connection
  RedressServer server(setup);
  server.set_password("agent", kPassword);
  Client client(server.port());
  CookieJar jar;
  auto form = client.get("/staff/login");
  REQUIRE(form.status == 200);
  jar.take(form);
  std::string body = form_encode({{"csrf", hidden(form.body, "csrf")},
                                  {"next", "/staff"},
                                  {"email", "agent@example.org"},
                                  {"password", "not the password"}});
  // Eight sign-ins, each an argon2id check, sent at once on their own connections.
  std::vector<Connection> posts(8);
  for (auto& post : posts) {
    REQUIRE(post.connect(server.port()));
    REQUIRE(post.send_raw(build_request("POST", "/staff/login", form_type() + jar.header(), body)));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the server reads them first
  // The I/O thread answers another request while the checks are still running.
  Connection probe(server.port());
  REQUIRE(probe.send_raw(build_request("GET", "/healthz")));
  auto health = probe.read_response();
  REQUIRE(health);
  CHECK(health->status == 200);
  int answered = 0;
  for (auto& post : posts) {
    pollfd ready{post.fd(), POLLIN, 0};
    answered += ::poll(&ready, 1, 0) == 1;
  }
  CHECK(answered < 8);  // with the checks on the I/O thread, all eight came first
  for (auto& post : posts) {
    auto answer = post.read_response(60s);
    REQUIRE(answer);
    CHECK((answer->status == 401 || answer->status == 429));  // the fifth failure locks the address
  }
}

TEST_CASE("pages: the console acts through the engine, with CSRF, version checks and roles", "[web][pages]") {
  RedressServer server;
  server.set_password("agent", kPassword);
  server.set_password("manager", kPassword);
  Client api(server.port(), server.token("agent"));
  auto created = api.post("/v1/cases", new_case_body("Late delivery"));
  REQUIRE(created.status == 201);
  std::string reference(created.json().at("reference").as_string());
  Client client(server.port());
  CookieJar jar;
  REQUIRE(sign_in(client, jar, "agent@example.org", kPassword).status == 303);

  auto queue = client.get("/staff/queue", jar.header());
  REQUIRE(queue.status == 200);
  REQUIRE(queue.body.find(reference) != std::string::npos);
  std::string csrf = hidden(queue.body, "csrf");
  std::string version = hidden(queue.body, "expected_version");

  SECTION("a form without the session's CSRF token changes nothing") {
    auto forged = client.post("/staff/cases/" + reference + "/act",
                              form_encode({{"action", "take"}, {"csrf", "forged"}}), form_type() + jar.header());
    CHECK(forged.status == 403);
    auto missing = client.post("/staff/cases/" + reference + "/act", form_encode({{"action", "take"}}),
                               form_type() + jar.header());
    CHECK(missing.status == 403);
    CHECK(api.get("/v1/cases/" + reference).json().at("owner").is_null());
  }
  SECTION("take, then a promise; a stale version is refused and the typed text kept") {
    auto take = client.post("/staff/cases/" + reference + "/act",
                            form_encode({{"csrf", csrf}, {"action", "take"}, {"expected_version", version}}),
                            form_type() + jar.header());
    REQUIRE(take.status == 303);
    CHECK(api.get("/v1/cases/" + reference).json().at("owner").at("id") == json::value(server.staff_id("agent")));
    auto stale = client.post("/staff/cases/" + reference + "/act",
                             form_encode({{"csrf", csrf},
                                          {"action", "make_commitment"},
                                          {"expected_version", version},
                                          {"text", "Call you back <b>today</b>"},
                                          {"due_local", "2031-05-02T10:00"}}),
                             form_type() + jar.header());
    CHECK(stale.status == 412);
    CHECK(stale.body.find("Call you back &lt;b&gt;today&lt;/b&gt;") != std::string::npos);
    auto page = client.get("/staff/cases/" + reference, jar.header());
    auto promise = client.post("/staff/cases/" + reference + "/act",
                               form_encode({{"csrf", csrf},
                                            {"action", "make_commitment"},
                                            {"expected_version", hidden(page.body, "expected_version")},
                                            {"text", "Call you back"},
                                            {"due_local", "2031-05-02T10:00"},
                                            {"client_visible", "true"}}),
                               form_type() + jar.header());
    REQUIRE(promise.status == 303);
    auto view = api.get("/v1/cases/" + reference).json();
    bool found = false;
    for (const auto& k : view.at("commitments").as_array())
      if (k.at("text") == json::value("Call you back")) {
        found = true;
        // 10:00 in Europe/London in May is 09:00 UTC (BST).
        CHECK(k.at("due_at") == json::value("2031-05-02T09:00:00Z"));
      }
    CHECK(found);
    auto mine = client.get("/staff", jar.header());
    CHECK(mine.body.find(reference) != std::string::npos);
    auto bad_time = client.post(
        "/staff/cases/" + reference + "/act",
        form_encode({{"csrf", csrf}, {"action", "make_commitment"}, {"text", "x"}, {"due_local", "tomorrow"}}),
        form_type() + jar.header());
    CHECK(bad_time.status == 422);
    CHECK(bad_time.body.find("due_local") != std::string::npos);
    // A NUL byte or a bidirectional override in a console form is refused, and nothing is stored.
    auto before = api.get("/v1/cases/" + reference).json().at("version");
    for (std::string text : {std::string("Call\0back", 9), std::string("Call \xE2\x80\xAE back")}) {
      auto refused = client.post(
          "/staff/cases/" + reference + "/act",
          form_encode(
              {{"csrf", csrf}, {"action", "make_commitment"}, {"text", text}, {"due_local", "2031-05-02T10:00"}}),
          form_type() + jar.header());
      CHECK(refused.status >= 400);
      CHECK(refused.status < 500);
      CHECK(refused.body.find(std::string(1, '\0')) == std::string::npos);
    }
    CHECK(api.get("/v1/cases/" + reference).json().at("version") == before);
  }
  SECTION("an agent may not open the review board; a manager may, and exports each table as CSV") {
    CHECK(client.get("/staff/board", jar.header()).status == 403);
    CookieJar manager;
    REQUIRE(sign_in(client, manager, "manager@example.org", kPassword).status == 303);
    auto board = client.get("/staff/board", manager.header());
    REQUIRE(board.status == 200);
    CHECK(board.body.find("<svg class=\"chart\"") != std::string::npos);
    auto csv = client.get("/staff/board/standards.csv", manager.header());
    REQUIRE(csv.status == 200);
    CHECK(csv.header("content-type") == "text/csv; charset=utf-8");
    CHECK(csv.body.rfind("Standard,Pledge,", 0) == 0);
    CHECK(csv.body.find("Retail complaints") != std::string::npos);
    CHECK(client.get("/staff/board/nothing.csv", manager.header()).status == 404);
  }
  SECTION("search finds the case by subject and escapes the query") {
    auto found = client.get("/staff/search?q=Late+deliv", jar.header());
    CHECK(found.body.find(reference) != std::string::npos);
    auto hostile = client.get("/staff/search?q=%3Cscript%3Ex%3C%2Fscript%3E", jar.header());
    CHECK(hostile.status == 200);
    CHECK(hostile.body.find("<script>x") == std::string::npos);
    CHECK(hostile.body.find("&lt;script&gt;x") != std::string::npos);
  }
}

TEST_CASE("pages: form bodies, CSV fields and ages", "[web][pages]") {
  auto form = web::Form::parse_text("a=1&b=hello+world&c=%C3%A9t%C3%A9&empty=&flag");
  REQUIRE(form);
  CHECK(form->get("a") == "1");
  CHECK(form->get("b") == "hello world");
  CHECK(form->get("c") == "\xC3\xA9t\xC3\xA9");
  CHECK(form->has("empty"));
  CHECK(form->has("flag"));
  CHECK(form->get("missing").empty());
  CHECK_FALSE(web::Form::parse_text("a=%4"));
  CHECK_FALSE(web::Form::parse_text("a=%zz"));
  CHECK_FALSE(web::Form::parse_text("a=%FF%FE"));  // not UTF-8
  // The text rules of JSON bodies hold for forms: no NUL byte, no bidirectional override, and
  // embeddings and isolates only in free texts; a password may carry any control but NUL.
  auto nul = web::Form::parse_text("note=a%00b");
  REQUIRE_FALSE(nul);
  CHECK(nul.error().fields.at(0).field == "note");
  CHECK_FALSE(web::Form::parse_text("text=%E2%80%AEtxt.exe"));                      // U+202E, even in a free text
  CHECK_FALSE(web::Form::parse_text("email=a%E2%81%A6b%40example.org"));            // an isolate outside a free text
  CHECK(web::Form::parse_text("note=%E2%81%A6%D7%A9%D7%9C%D7%95%D7%9D%E2%81%A9"));  // an isolate in a note
  CHECK(web::Form::parse_text("password=%E2%80%AE-long-passphrase"));
  CHECK_FALSE(web::Form::parse_text("password=a%00b"));
  CHECK(web::duration_text(std::chrono::seconds(45)) == "45 s");
  CHECK(web::duration_text(std::chrono::minutes(200)) == "3 h 20 min");
  CHECK(web::duration_text(std::chrono::hours(52)) == "2 d 4 h");
}

// OWASP's CSV-injection rules, case by case: what a spreadsheet could run as a formula is defused
// with a leading ' and quoted; numbers and plain text stay as they are; separators are quoted.
TEST_CASE("pages: CSV fields follow OWASP's CSV-injection rules", "[web][pages]") {
  struct Row {
    std::string input;
    std::string expected;
  };
  const std::vector<Row> table{
      // plain data
      {"plain", "plain"},
      {"", ""},
      {"Ana Ruiz", "Ana Ruiz"},
      {"-", "-"},
      {"-12.5", "-12.5"},
      {"+3", "+3"},
      {"40%", "40%"},
      {"12", "12"},
      {"a=b", "a=b"},
      // separators, quotes and line breaks are quoted
      {"a,b", "\"a,b\""},
      {"a;b", "\"a;b\""},
      {"say \"hi\"", "\"say \"\"hi\"\"\""},
      {"two\nlines", "\"two\nlines\""},
      // a formula at the start
      {"=1+1", "\"'=1+1\""},
      {"+1+1", "\"'+1+1\""},
      {"-2+3", "\"'-2+3\""},
      {"@SUM(A1)", "\"'@SUM(A1)\""},
      {"%=1", "\"'%=1\""},
      {"=HYPERLINK(\"x\")", "\"'=HYPERLINK(\"\"x\"\")\""},
      {"\t=1", "\"'\t=1\""},
      {"\r=1", "\"'\r=1\""},
      {"\n=1", "\"'\n=1\""},
      {"\tplain", "\"'\tplain\""},
      // after leading white space or invisible characters
      {" =1+1", "\"' =1+1\""},
      {"   @x", "\"'   @x\""},
      {"\xC2\xA0=1", "\"'\xC2\xA0=1\""},
      {"\xE2\x80\x8B+1", "\"'\xE2\x80\x8B+1\""},
      {"\xEF\xBB\xBF-1+1", "\"'\xEF\xBB\xBF-1+1\""},
      // fullwidth forms
      {"\xEF\xBC\x9D"
       "1+1",
       "\"'\xEF\xBC\x9D"
       "1+1\""},
      {"\xEF\xBC\xA0SUM(A1)", "\"'\xEF\xBC\xA0SUM(A1)\""},
      // a formula in a cell that a separator would start is inside one quoted field
      {"x,=1+1", "\"x,=1+1\""},
      {"x;=1+1", "\"x;=1+1\""},
  };
  for (const auto& row : table) {
    INFO("input: " << row.input);
    CHECK(web::csv_field(row.input) == row.expected);
  }
}

namespace {

// The console's "Log a complaint" form, filled in for a letter received two days before the test's clock.
std::vector<Part> logged_letter(const std::string& csrf, const std::string& received_local, const std::string& reason) {
  std::vector<Part> parts{{"csrf", csrf},
                          {"name", "Ruth Okafor"},
                          {"email", "ruth@example.org"},
                          {"phone", "+44 20 7946 0000"},
                          {"channel", "letter"},
                          {"received_local", received_local},
                          {"category", "billing"},
                          {"touchpoint", "billing"},
                          {"subject", "Charged for a cancelled order"},
                          {"description", "Her letter says she cancelled order 4471 and was charged anyway."},
                          {"remedy_requested", "A refund"},
                          {"files", "%PDF-1.4 scanned letter", "letter.pdf", "application/pdf"},
                          {"take", "on"}};
  if (!reason.empty()) parts.push_back({"received_reason", reason});
  return parts;
}

}  // namespace

TEST_CASE("pages: the console logs a letter with its receipt time and file, and takes it in the same go",
          "[web][pages][desk]") {
  ServerSetup setup;
  setup.manual_clock = true;
  RedressServer server(setup);
  server.set_password("agent", kPassword);
  Client admin(server.port(), server.token("admin"));
  Client api(server.port(), server.token("agent"));
  // 10:00 in London in January is 10:00 UTC.
  REQUIRE(admin.post("/v1/admin/clock", json::value(json::object{{"set", "2027-01-06T10:00:00Z"}})).status == 200);
  Client client(server.port());
  CookieJar jar;
  REQUIRE(sign_in(client, jar, "agent@example.org", kPassword).status == 303);
  auto mine = client.get("/staff", jar.header());
  CHECK(mine.body.find("href=\"/staff/new\"") != std::string::npos);
  auto form = client.get("/staff/new", jar.header());
  REQUIRE(form.status == 200);
  for (std::string id : {"name", "email", "phone", "channel", "received_local", "received_reason", "category",
                         "touchpoint", "subject", "description", "remedy_requested", "files", "take"})
    CHECK(form.body.find("<label for=\"" + id + "\"") != std::string::npos);
  CHECK(form.body.find("On a bill or statement") != std::string::npos);  // touchpoints in words
  std::string csrf = hidden(form.body, "csrf");

  SECTION("a letter received two days ago: its clocks run from then, the file is on the case, the agent owns it") {
    auto logged = client.post(
        "/staff/new", multipart_body(logged_letter(csrf, "2027-01-04T10:00", "Letter opened after the holiday")),
        multipart_type() + jar.header());
    INFO(logged.body);
    REQUIRE(logged.status == 303);
    std::string location = logged.header("location");
    REQUIRE(location.rfind("/staff/cases/", 0) == 0);
    std::string reference = location.substr(13, location.find('?') - 13);
    CHECK(location.find("logged%20and%20taken") != std::string::npos);
    auto view = api.get("/v1/cases/" + reference).json();
    CHECK(view.at("channel") == json::value("letter"));
    CHECK(std::string(view.at("received_at").as_string()).rfind("2027-01-04T10:00:00", 0) == 0);
    CHECK(view.at("owner").at("id") == json::value(server.staff_id("agent")));
    CHECK(view.at("client").at("phone") == json::value("+44 20 7946 0000"));
    bool has_file = false;
    for (const auto& m : view.at("messages").as_array())
      if (m.as_object().contains("attachments"))
        for (const auto& a : m.at("attachments").as_array()) has_file |= a.at("filename") == json::value("letter.pdf");
    CHECK(has_file);
    auto events = api.get("/v1/cases/" + reference + "/events");
    CHECK(events.body.find("Letter opened after the holiday") != std::string::npos);
    auto page = client.get(location, jar.header());
    CHECK(page.body.find("Done: logged and taken.") != std::string::npos);
  }
  SECTION("without take it now, the case waits in the queue") {
    auto parts = logged_letter(csrf, "", "");
    parts.erase(std::remove_if(parts.begin(), parts.end(), [](const Part& p) { return p.name == "take"; }),
                parts.end());
    auto logged = client.post("/staff/new", multipart_body(parts), multipart_type() + jar.header());
    REQUIRE(logged.status == 303);
    std::string location = logged.header("location");
    std::string reference = location.substr(13, location.find('?') - 13);
    auto view = api.get("/v1/cases/" + reference).json();
    CHECK(view.at("owner").is_null());
    CHECK(std::string(view.at("received_at").as_string()).rfind("2027-01-06T10:00:00", 0) == 0);
  }
  SECTION("a time in the future is refused at its field, what was typed is kept, and nothing is stored") {
    auto refused = client.post("/staff/new", multipart_body(logged_letter(csrf, "2027-01-06T10:05", "clock skew")),
                               multipart_type() + jar.header());
    CHECK(refused.status == 422);
    CHECK(refused.body.find("id=\"received-error\">must not be in the future") != std::string::npos);
    CHECK(refused.body.find("value=\"Charged for a cancelled order\"") != std::string::npos);
    CHECK(refused.body.find("Her letter says she cancelled order 4471") != std::string::npos);
    CHECK(refused.body.find("value=\"clock skew\"") != std::string::npos);
    CHECK(api.get("/v1/cases").json().at("items").as_array().empty());
  }
  SECTION("an earlier time without a reason is refused at the reason; beyond the window at the time") {
    auto no_reason = client.post("/staff/new", multipart_body(logged_letter(csrf, "2027-01-05T09:00", "")),
                                 multipart_type() + jar.header());
    CHECK(no_reason.status == 422);
    CHECK(no_reason.body.find("id=\"reason-error\">is required") != std::string::npos);
    CHECK(no_reason.body.find("value=\"2027-01-05T09:00\"") != std::string::npos);
    auto too_old =
        client.post("/staff/new", multipart_body(logged_letter(csrf, "2026-11-01T09:00", "found in a drawer")),
                    multipart_type() + jar.header());
    CHECK(too_old.status == 422);
    CHECK(too_old.body.find("id=\"received-error\">may be at most") != std::string::npos);
    auto bad = logged_letter(csrf, "yesterday", "x");
    bad[1].value = "";  // no name
    auto refused = client.post("/staff/new", multipart_body(bad), multipart_type() + jar.header());
    CHECK(refused.status == 422);
    CHECK(api.get("/v1/cases").json().at("items").as_array().empty());
  }
  SECTION("without the session's CSRF token nothing is logged") {
    auto forged =
        client.post("/staff/new", multipart_body(logged_letter("forged", "", "")), multipart_type() + jar.header());
    CHECK(forged.status == 403);
    CHECK(api.get("/v1/cases").json().at("items").as_array().empty());
  }
}

TEST_CASE("pages: the status page links the client's files, never an internal one's, and a reply carries files",
          "[web][pages][attachments]") {
  ServerSetup setup;
  setup.config = {"attachment_max_files = 2", "attachment_max_file_bytes = 1000", "max_body_bytes = 8192"};
  RedressServer server(setup);
  Client staff(server.port(), server.token("agent"));
  auto created = staff.post("/v1/cases", new_case_body("Damaged parcel"));
  REQUIRE(created.status == 201);
  std::string reference(created.json().at("reference").as_string());
  std::string path = client_path(created.json());
  std::string token = path.substr(3);
  REQUIRE(staff
              .post("/v1/cases/" + reference + "/messages",
                    multipart_body({{"body", "Our courier's report"},
                                    {"visibility", "client"},
                                    {"files", "COURIER REPORT", "courier report.txt", "text/plain"}}),
                    multipart_type())
              .status == 201);
  REQUIRE(staff
              .post("/v1/cases/" + reference + "/messages",
                    multipart_body({{"body", "Staff only"},
                                    {"visibility", "internal"},
                                    {"files", "SECRET", "internal-notes.txt", "text/plain"}}),
                    multipart_type())
              .status == 201);

  Client browser(server.port());
  auto page = browser.get(path);
  REQUIRE(page.status == 200);
  std::smatch link;
  std::regex download("href=\"(/v1/client/[^\"]+/attachments/0)\" download>courier report.txt</a>");
  REQUIRE(std::regex_search(page.body, link, download));
  CHECK(page.body.find("internal-notes.txt") == std::string::npos);
  CHECK(page.body.find("enctype=\"multipart/form-data\"") != std::string::npos);
  CHECK(page.body.find("<label for=\"reply-files\"") != std::string::npos);
  auto file = browser.get(link[1]);
  CHECK(file.status == 200);
  CHECK(file.body == "COURIER REPORT");
  CHECK(file.header("content-disposition").rfind("attachment", 0) == 0);
  CHECK(file.header("x-content-type-options") == "nosniff");

  SECTION("a reply with a file lands on the case with it, and the page links it") {
    auto posted = browser.post(
        path + "/reply",
        multipart_body({{"body", "Photo of the box attached"}, {"files", "\x89PNG\r\n\x1a\n", "box.png", "image/png"}}),
        multipart_type());
    INFO(posted.body);
    REQUIRE(posted.status == 303);
    auto view = staff.get("/v1/cases/" + reference).json();
    bool found = false;
    for (const auto& m : view.at("messages").as_array())
      if (m.at("body") == json::value("Photo of the box attached")) {
        REQUIRE(m.as_object().contains("attachments"));
        found = m.at("attachments").at(0).at("filename") == json::value("box.png");
      }
    CHECK(found);
    CHECK(browser.get(path).body.find(">box.png</a>") != std::string::npos);
  }
  SECTION("too many files or too big a file is refused as by the API, the text kept and nothing stored") {
    auto before = staff.get("/v1/cases/" + reference).json().at("messages").as_array().size();
    auto too_many = browser.post(
        path + "/reply",
        multipart_body(
            {{"body", "Three photos"}, {"files", "a", "a.png"}, {"files", "b", "b.png"}, {"files", "c", "c.png"}}),
        multipart_type());
    CHECK(too_many.status == 422);
    CHECK(too_many.body.find("Three photos") != std::string::npos);
    auto too_big = browser.post(path + "/reply",
                                multipart_body({{"body", "A big photo"}, {"files", std::string(1001, 'x'), "big.png"}}),
                                multipart_type());
    CHECK(too_big.status == 422);
    CHECK(too_big.body.find("big.png") != std::string::npos);
    auto huge = browser.post(path + "/reply",
                             multipart_body({{"body", "Huge"}, {"files", std::string(20000, 'x'), "huge.png"}}),
                             multipart_type());
    CHECK(huge.status == 413);
    CHECK(staff.get("/v1/cases/" + reference).json().at("messages").as_array().size() == before);
  }
}

TEST_CASE("pages: staff attach files to a message in the console and download every message's files",
          "[web][pages][attachments]") {
  RedressServer server;
  server.set_password("agent", kPassword);
  Client api(server.port(), server.token("agent"));
  auto created = api.post("/v1/cases", new_case_body("Wrong size delivered"));
  REQUIRE(created.status == 201);
  std::string reference(created.json().at("reference").as_string());
  Client client(server.port());
  CookieJar jar;
  REQUIRE(sign_in(client, jar, "agent@example.org", kPassword).status == 303);
  auto page = client.get("/staff/cases/" + reference, jar.header());
  REQUIRE(page.status == 200);
  CHECK(page.body.find("<label for=\"message-files\"") != std::string::npos);
  std::string csrf = hidden(page.body, "csrf");
  const std::string binary("\x00\x01\xff\r\n--not a boundary\r\n", 24);

  auto posted = client.post("/staff/cases/" + reference + "/act",
                            multipart_body({{"csrf", csrf},
                                            {"action", "add_message"},
                                            {"visibility", "internal"},
                                            {"body", "Warehouse photo attached"},
                                            {"files", binary, "warehouse.jpg", "image/jpeg"}}),
                            multipart_type() + jar.header());
  INFO(posted.body);
  REQUIRE(posted.status == 303);
  auto after = client.get("/staff/cases/" + reference, jar.header());
  std::smatch link;
  std::regex download("href=\"(/staff/cases/[^\"]+/files/0)\" download>warehouse.jpg</a>");
  REQUIRE(std::regex_search(after.body, link, download));
  auto file = client.get(link[1], jar.header());
  CHECK(file.status == 200);
  CHECK(file.body == binary);
  CHECK(file.header("content-disposition").rfind("attachment", 0) == 0);
  CHECK(file.header("content-security-policy").find("sandbox") != std::string::npos);
  // Without a session: to the sign-in page, no bytes.
  auto anonymous = Client(server.port()).get(link[1]);
  CHECK(anonymous.status == 303);
  CHECK(anonymous.body.find("not a boundary") == std::string::npos);
  CHECK(client.get("/staff/cases/" + reference + "/messages/m-999999/files/0", jar.header()).status == 404);

  // Files on anything but a message are refused, and the case is unchanged.
  auto version = api.get("/v1/cases/" + reference).json().at("version");
  auto refused = client.post("/staff/cases/" + reference + "/act",
                             multipart_body({{"csrf", csrf}, {"action", "take"}, {"files", "x", "x.txt"}}),
                             multipart_type() + jar.header());
  CHECK(refused.status == 422);
  CHECK(api.get("/v1/cases/" + reference).json().at("version") == version);
}


TEST_CASE("pages: a lead records an exemption on a compensating pledge in the console - an agent is not offered it",
          "[web][pages][standards]") {
  RedressServer server;
  server.set_password("lead", kPassword);
  server.set_password("agent", kPassword);
  Client api(server.port(), server.token("agent"));
  json::object body{{"client", json::object{{"name", "Ana Ruiz"}, {"email", "ana@example.org"}}},
                    {"channel", "phone"},
                    {"category", "power_cut"},
                    {"subject", "No power, no access"},
                    {"description", "The engineer could not reach the meter."},
                    {"workflow", "energy-network"}};
  auto created = api.post("/v1/cases", json::value(body));
  REQUIRE(created.status == 201);
  const std::string reference = string_at(created.json(), "reference");
  std::string pledge;
  const json::value view = api.get("/v1/cases/" + reference).json();
  for (const auto& k : view.at("commitments").as_array())
    if (k.as_object().contains("pledge") &&
        std::string(k.at("pledge").as_string()).find("/supply_restoration#") != std::string::npos)
      pledge = std::string(k.at("id").as_string());
  REQUIRE(!pledge.empty());
  const std::string page = "/staff/cases/" + reference;

  Client agent_browser(server.port());
  CookieJar agent_jar;
  REQUIRE(sign_in(agent_browser, agent_jar, "agent@example.org", kPassword).status == 303);
  CHECK(agent_browser.get(page, agent_jar.header()).body.find("value=\"exempt_commitment\"") == std::string::npos);

  Client browser(server.port());
  CookieJar jar;
  REQUIRE(sign_in(browser, jar, "lead@example.org", kPassword).status == 303);
  auto before = browser.get(page, jar.header());
  REQUIRE(before.status == 200);
  CHECK(before.body.find("value=\"exempt_commitment\"") != std::string::npos);
  CHECK(before.body.find("<label for=\"exempt-" + pledge + "\"") != std::string::npos);
  const std::string csrf = hidden(before.body, "csrf");

  // Without a reason: refused at the field, nothing recorded.
  auto refused = browser.post(
      page + "/act", form_encode({{"csrf", csrf}, {"action", "exempt_commitment"}, {"commitment_id", pledge}}),
      form_type() + jar.header());
  CHECK(refused.status == 422);
  CHECK(api.get("/v1/cases/" + reference + "/events").body.find("commitment.exempted") == std::string::npos);

  const std::string reason = "The customer refused access to the meter (regulation 10 exemption)";
  auto done = browser.post(page + "/act",
                           form_encode({{"csrf", csrf},
                                        {"action", "exempt_commitment"},
                                        {"commitment_id", pledge},
                                        {"reason", reason}}),
                           form_type() + jar.header());
  INFO(done.body);
  REQUIRE(done.status == 303);
  bool exempt = false;
  const json::value now = api.get("/v1/cases/" + reference).json();
  for (const auto& k : now.at("commitments").as_array())
    if (k.at("id") == json::value(pledge)) exempt = k.as_object().contains("exemption") && k.at("exemption") == json::value(reason);
  CHECK(exempt);
  auto after = browser.get(page, jar.header());
  CHECK(after.body.find("Exempt from automatic compensation: " + reason) != std::string::npos);
  CHECK(after.body.find("value=\"exempt_commitment\"") == std::string::npos);  // recorded once
}

}  // namespace redress::webtest
