// Personal data through a real `redress serve` and the real binary (docs/personal-data.md):
// erasure leaves no byte of the client in any file of the data directory while the cases, their
// facts and their hash chains remain; an erasure killed half-way is finished by running it again;
// bad requests are refused with nothing changed.
#include <sys/stat.h>

#include <regex>

#include "adapters/peers.h"
#include "support/postgres.h"
#include "web/pages/html.h"
#include "tests/web/console_session.h"
#include "web/support.h"

namespace redress::webtest::personal_data {

const std::string kBoundary = "----redress-personal-data-Qw77";

// Every regular file under `dir` (databases, their -wal and -shm, the search index, the blobs).
inline std::vector<fs::path> data_files(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir))
    if (entry.is_regular_file()) files.push_back(entry.path());
  return files;
}

// The files under `dir` whose bytes contain `needle`.
inline std::vector<std::string> files_holding(const fs::path& dir, const std::string& needle) {
  std::vector<std::string> found;
  for (const auto& file : data_files(dir))
    if (read_text(file).find(needle) != std::string::npos) found.push_back(file.filename().string());
  return found;
}

// The files still holding `needle` once nothing holds it, or after 30 s. For an erasure made by
// another process beside a running server: an indexing round of the server's that began before the
// erasure may write the old text into the search index after it, and its next round (within a
// second) re-indexes the case and merges the index (adapters/sqlite/search_index.cpp).
inline std::vector<std::string> files_holding_soon(const fs::path& dir, const std::string& needle) {
  auto deadline = std::chrono::steady_clock::now() + 30s;
  for (;;) {
    auto holding = files_holding(dir, needle);
    if (holding.empty() || std::chrono::steady_clock::now() > deadline) return holding;
    std::this_thread::sleep_for(100ms);
  }
}

inline json::object client_case(const std::string& name, const std::string& email, const std::string& phone,
                                const std::string& subject, const std::string& description) {
  return json::object{{"client", json::object{{"name", name}, {"email", email}, {"phone", phone}}},
                      {"channel", "web"},
                      {"category", "billing"},
                      {"touchpoint", "billing"},
                      {"subject", subject},
                      {"description", description},
                      {"workflow", "retail"}};
}

inline std::string upload(const std::string& body, const std::string& filename, const std::string& bytes) {
  return "--" + kBoundary + "\r\nContent-Disposition: form-data; name=\"visibility\"\r\n\r\nclient\r\n--" + kBoundary +
         "\r\nContent-Disposition: form-data; name=\"body\"\r\n\r\n" + body + "\r\n--" + kBoundary +
         "\r\nContent-Disposition: form-data; name=\"files\"; filename=\"" + filename +
         "\"\r\nContent-Type: application/pdf\r\n\r\n" + bytes + "\r\n--" + kBoundary + "--\r\n";
}

inline std::string reply_mail(const std::string& from, const std::string& reference, const std::string& text) {
  return "From: " + from + "\r\nTo: complaints@acme.example\r\nSubject: Re: [" + reference +
         "] my complaint\r\nDate: Sun, 06 Dec 2026 10:00:00 +0000\r\nMessage-ID: <reply-" + reference +
         "@mail.example.org>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + text + "\r\n";
}

// The shipped workflows in `dir`, with retail's [retention] replaced by `retention` ("" for none):
// a retail case is then erased at once, or kept as the test says.
inline fs::path workflows_with_retail_retention(const fs::path& dir, const std::string& retention) {
  fs::create_directories(dir);
  for (const auto& entry : fs::directory_iterator(fs::path(REDRESS_SOURCE_DIR) / "workflows"))
    if (entry.path().extension() == ".toml") {
      std::string text = read_text(entry.path());
      if (entry.path().filename() == "retail.toml") {
        const std::string shipped = "[retention]\nyears = 6\nfrom = \"closure\"\n";
        auto at = text.find(shipped);
        REQUIRE(at != std::string::npos);
        text.replace(at, shipped.size(), retention);
      }
      write_text(dir / entry.path().filename(), text);
    }
  return dir;
}

inline void wait_for_mail(redress::peers::CaptureServer& smtp, std::size_t count) {
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (smtp.messages().size() < count && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(50ms);
  REQUIRE(smtp.messages().size() >= count);
}

TEST_CASE("erasure: no byte of the client left in the data directory, the cases and their proof kept",
          "[web][personal]") {
  TempDir scratch;
  redress::peers::CaptureServer smtp(scratch.path());
  ServerSetup setup;
  setup.config = {"smtp_url = \"" + smtp.url() + "\"", "smtp_starttls = \"off\"",
                  "mail_from = \"complaints@acme.example\"",
                  "workflows = \"" + workflows_with_retail_retention(scratch.path() / "workflows", "").string() + "\""};
  RedressServer server(setup);
  Client agent(server.port(), server.token("agent"));
  Client intake(server.port(), server.token("intake"));
  Client admin(server.port(), server.token("admin"));

  // Ana: a complaint, a file, an internal note, an email reply; Bart: a complaint of his own.
  auto created = agent.post("/v1/cases", client_case("Ana Quintero-Ruiz", "ana.quintero@example.org", "+44 7700 900461",
                                                     "Double charge on order ZX-88412",
                                                     "I was charged twice for order ZX-88412 on my card ending 4471."));
  REQUIRE(created.status == 201);
  const std::string ana = string_at(created.json(), "reference");
  REQUIRE(agent
              .post("/v1/cases/" + ana + "/messages",
                    upload("My receipt, as asked", "quintero-receipt.pdf", "%PDF-1.4 Quintero receipt RCPT-6610"),
                    {{"Content-Type", "multipart/form-data; boundary=" + kBoundary}})
              .status == 201);
  REQUIRE(agent
              .post("/v1/cases/" + ana + "/messages",
                    json::object{{"visibility", "internal"}, {"body", "Called her back: she sounded upset about it"}})
              .status == 201);
  REQUIRE(intake
              .post("/v1/inbound/email",
                    reply_mail("Ana Quintero-Ruiz <ana.quintero@example.org>", ana,
                               "Here is my bank statement line QX-TRACE-5521."),
                    {{"Content-Type", "message/rfc822"}})
              .status == 202);
  auto bart_created = agent.post("/v1/cases", client_case("Bartholomew Kettleworth", "bart.kettle@example.net",
                                                          "+44 7700 900999", "Kettle element failed KT-9931",
                                                          "The element of kettle KT-9931 failed in a week."));
  REQUIRE(bart_created.status == 201);
  const std::string bart = string_at(bart_created.json(), "reference");
  wait_for_mail(smtp, 3);  // both acknowledgements, and the message to Ana: their payloads are stored

  const std::vector<std::string> ana_needles{"Ana Quintero-Ruiz", "ana.quintero@example.org", "7700 900461",
                                             "ZX-88412",          "card ending 4471",         "RCPT-6610",
                                             "quintero-receipt",  "sounded upset",            "QX-TRACE-5521"};
  const std::vector<std::string> bart_needles{"Bartholomew Kettleworth", "bart.kettle@example.net", "KT-9931"};

  // Before: what the files hold of Ana, her export holds too.
  auto exported = admin.get("/v1/admin/subjects/export?email=ana.quintero%40example.org");
  REQUIRE(exported.status == 200);
  for (const auto& needle : ana_needles) {
    INFO(needle);
    CHECK(!files_holding(server.data_dir(), needle).empty());
    CHECK(exported.body.find(needle) != std::string::npos);
  }

  SECTION("bad requests are refused, and nothing changes") {
    CHECK(agent.post("/v1/admin/subjects/erase", json::object{{"email", "ana.quintero@example.org"}, {"reason", "x"}})
              .status == 403);
    auto no_reason = admin.post("/v1/admin/subjects/erase", json::object{{"email", "ana.quintero@example.org"}});
    CHECK(no_reason.status == 422);
    CHECK(no_reason.body.find("reason") != std::string::npos);
    auto blank_reason =
        admin.post("/v1/admin/subjects/erase", json::object{{"email", "ana.quintero@example.org"}, {"reason", " "}});
    CHECK(blank_reason.status == 422);
    auto unknown = admin.post("/v1/admin/subjects/erase",
                              json::object{{"email", "ana.quintero@example.org"}, {"reason", "r"}, {"force", true}});
    CHECK(unknown.status == 422);
    CHECK(unknown.body.find("force") != std::string::npos);
    CHECK(admin.post("/v1/admin/subjects/erase", json::object{{"email", "not-an-address"}, {"reason", "r"}}).status ==
          422);
    auto nobody =
        admin.post("/v1/admin/subjects/erase", json::object{{"email", "nobody@example.org"}, {"reason", "request"}});
    CHECK(nobody.status == 404);
    CHECK(nobody.header("content-type") == "application/problem+json");
    auto still = agent.get("/v1/cases/" + ana);
    REQUIRE(still.status == 200);
    CHECK(string_at(still.json().at("client"), "name") == "Ana Quintero-Ruiz");
    auto usage = server.run({"subject", "erase", "--email", "ana.quintero@example.org"});
    CHECK(usage.status == 2);
    CHECK(usage.output.find("--reason") != std::string::npos);
    auto none = server.run({"subject", "erase", "--email", "nobody@example.org", "--reason", "request"});
    CHECK(none.status == 1);
    CHECK(none.output.find("no case") != std::string::npos);
  }

  SECTION("over the API: erased everywhere, the case and its chain kept, Bart untouched") {
    // Both cases' views rendered and kept in the server's memory: the erasure drops hers at once.
    REQUIRE(agent.get("/v1/cases/" + ana).status == 200);
    REQUIRE(agent.get("/v1/cases/" + bart).status == 200);
    auto cached_views = [&] {
      const std::string metrics = agent.get("/metrics").body;
      std::smatch m;
      REQUIRE(std::regex_search(metrics, m, std::regex("\nredress_view_cache_entries ([0-9]+)")));
      return std::stoi(m[1]);
    };
    const int views_before = cached_views();
    CHECK(views_before >= 2);
    auto erased = admin.post("/v1/admin/subjects/erase", json::object{{"email", "Ana.Quintero@example.org"},
                                                                      {"reason", "Article 17 request of 2026-12-06"}});
    INFO(erased.describe());
    REQUIRE(erased.status == 200);
    CHECK(strings_at(erased.json(), "erased") == std::vector<std::string>{ana});
    CHECK(erased.json().at("restricted").as_array().empty());
    CHECK(erased.json().at("files_deleted").as_int64() >= 2);  // the receipt and the raw mail
    INFO(server.log());
    CHECK(string_at(erased.json(), "copies_left") == "none");
    CHECK(cached_views() == views_before - 1);

    for (const auto& needle : ana_needles) {
      INFO(needle);
      const auto holding = files_holding(server.data_dir(), needle);
      INFO((holding.empty() ? std::string() : holding.front()));
      CHECK(holding.empty());
    }
    for (const auto& needle : bart_needles) {
      INFO(needle);
      CHECK(!files_holding(server.data_dir(), needle).empty());
    }
    auto audit = server.run({"audit", "verify"});
    INFO(audit.output);
    CHECK(audit.status == 0);

    // The case stays, with its facts; its history says what happened, without the personal data.
    auto view = agent.get("/v1/cases/" + ana);
    REQUIRE(view.status == 200);
    CHECK(string_at(view.json().at("client"), "name") == "[erased]");
    CHECK(string_at(view.json(), "status") == "received");
    CHECK(string_at(view.json(), "workflow") == "retail");
    CHECK(string_at(view.json().at("privacy"), "state") == "erased");
    auto events = agent.get("/v1/cases/" + ana + "/events");
    REQUIRE(events.status == 200);
    const json::value history = events.json();
    const auto& items = history.at("items").as_array();
    CHECK(string_at(items.back(), "type") == "case.erased");
    CHECK(string_at(items.front(), "type") == "case.received");
    CHECK(string_at(items.front().at("data"), "description") == "[erased]");
    auto bart_view = agent.get("/v1/cases/" + bart);
    REQUIRE(bart_view.status == 200);
    CHECK(string_at(bart_view.json().at("client"), "name") == "Bartholomew Kettleworth");
    // Search finds her no more; his case it does.
    CHECK(agent.get("/v1/cases?q=Quintero").json().at("items").as_array().empty());
    CHECK(agent.get("/v1/cases?q=Kettleworth").json().at("items").as_array().size() == 1);

    // The export does not fail on what is left: nothing is held about her any more.
    auto after = admin.get("/v1/admin/subjects/export?email=ana.quintero%40example.org");
    REQUIRE(after.status == 200);
    CHECK(after.header("x-redress-cases") == "0");
    // The erasure is recorded, without her address.
    auto records = admin.get("/v1/admin/erasures");
    REQUIRE(records.status == 200);
    CHECK(records.body.find("Article 17 request") != std::string::npos);
    CHECK(records.body.find("quintero") == std::string::npos);
    // Asked again: nothing left, and it says when it was erased.
    auto again = admin.post("/v1/admin/subjects/erase",
                            json::object{{"email", "ana.quintero@example.org"}, {"reason", "asked again"}});
    REQUIRE(again.status == 200);
    CHECK(again.json().at("erased_before").is_string());
    CHECK(again.json().at("erased").as_array().empty());
  }
}

// ---- the console: a signed-in browser's cookies and forms --------------------------------------

const std::string kConsolePassword = "correct horse battery staple";

inline void console_sign_in(Client& browser, CookieJar& jar, const std::string& email) {
  REQUIRE(sign_in(browser, jar, email, kConsolePassword).status == 303);
}

inline HttpResponse console_post(Client& browser, const CookieJar& jar, const std::string& path,
                                 const std::string& page, std::vector<std::pair<std::string, std::string>> fields) {
  return post_form(browser, jar, path, page, std::move(fields));
}

TEST_CASE("erasure: killed half-way it leaves each case whole or erased, and running it again finishes it",
          "[web][personal]") {
  TempDir scratch;
  ServerSetup setup;
  setup.config = {"workflows = \"" + workflows_with_retail_retention(scratch.path() / "workflows", "").string() + "\""};
  RedressServer server(setup);
  Client agent(server.port(), server.token("agent"));
  std::vector<std::string> references;
  for (int i = 0; i < 5; ++i) {
    auto created = agent.post("/v1/cases", client_case("Ines Valderrama", "ines.v@example.org", "+34 600 111 222",
                                                       "Late delivery VX-" + std::to_string(i),
                                                       "Parcel VX-" + std::to_string(i) + " never came to Valderrama"));
    REQUIRE(created.status == 201);
    references.push_back(string_at(created.json(), "reference"));
  }
  ::setenv("TEST_REDRESS_KILL_ERASURE_AFTER", "2", 1);
  auto killed = server.run({"subject", "erase", "--email", "ines.v@example.org", "--reason", "request 77"});
  ::unsetenv("TEST_REDRESS_KILL_ERASURE_AFTER");
  INFO(killed.output);
  REQUIRE(killed.status == 128 + SIGKILL);

  int erased = 0, whole = 0;
  for (const auto& reference : references) {
    auto view = agent.get("/v1/cases/" + reference);
    REQUIRE(view.status == 200);
    const std::string name = string_at(view.json().at("client"), "name");
    const std::string description = string_at(view.json(), "description");
    if (name == "[erased]") {
      ++erased;
      CHECK(description == "[erased]");
      CHECK(view.body.find("Valderrama") == std::string::npos);
    } else {
      ++whole;
      CHECK(name == "Ines Valderrama");
      CHECK(description.find("Valderrama") != std::string::npos);
    }
  }
  CHECK(erased == 2);
  CHECK(whole == 3);
  auto audit = server.run({"audit", "verify"});
  INFO(audit.output);
  CHECK(audit.status == 0);

  auto finished = server.run({"subject", "erase", "--email", "ines.v@example.org", "--reason", "request 77"});
  INFO(finished.output);
  REQUIRE(finished.status == 0);
  CHECK(finished.output.find("3 cases erased") != std::string::npos);
  for (const std::string needle : {"Valderrama", "ines.v@example.org", "600 111 222"}) {
    INFO(needle);
    const auto holding = files_holding_soon(server.data_dir(), needle);
    INFO((holding.empty() ? std::string() : holding.front()));
    CHECK(holding.empty());
  }
  CHECK(server.run({"audit", "verify"}).status == 0);
  auto nothing_left = server.run({"subject", "erase", "--email", "ines.v@example.org", "--reason", "request 77"});
  CHECK(nothing_left.status == 0);
  CHECK(nothing_left.output.find("Nothing left to erase") != std::string::npos);
}

TEST_CASE("personal data: a restricted case is hidden and refused to all but admins - holds are for managers",
          "[web][personal]") {
  TempDir scratch;
  ServerSetup setup;
  setup.manual_clock = true;
  // Retail keeps a case one month after closure here (the shipped six years, shortened).
  setup.config = {"workflows = \"" +
                  workflows_with_retail_retention(scratch.path() / "workflows",
                                                  "[retention]\nmonths = 1\nfrom = \"closure\"\n")
                      .string() +
                  "\""};
  RedressServer server(setup);
  for (const std::string role : {"agent", "manager", "admin"}) server.set_password(role, kConsolePassword);
  Client agent(server.port(), server.token("agent"));
  Client lead(server.port(), server.token("lead"));
  Client manager(server.port(), server.token("manager"));
  Client admin(server.port(), server.token("admin"));
  auto created = agent.post("/v1/cases", client_case("Rosa Lindqvist", "rosa.l@example.org", "+46 70 123 4567",
                                                     "Faulty heater RL-204", "The heater RL-204 broke on day two."));
  REQUIRE(created.status == 201);
  const std::string rosa = string_at(created.json(), "reference");

  // Legal holds: managers and admins, with a reason, as events.
  CHECK(agent.post("/v1/cases/" + rosa + "/legal-hold", json::object{{"reason", "x"}}).status == 403);
  CHECK(lead.post("/v1/cases/" + rosa + "/legal-hold", json::object{{"reason", "x"}}).status == 403);
  auto no_reason = manager.post("/v1/cases/" + rosa + "/legal-hold", json::object{});
  CHECK(no_reason.status == 422);
  CHECK(no_reason.body.find("reason") != std::string::npos);
  auto held = manager.post("/v1/cases/" + rosa + "/legal-hold",
                           json::object{{"reason", "Ombudsman referral FOS-2291"}});
  INFO(held.describe());
  REQUIRE(held.status == 200);
  CHECK(string_at(held.json().at("event"), "type") == "case.legal_hold_set");
  CHECK(string_at(held.json().at("privacy").at("legal_hold"), "reason") == "Ombudsman referral FOS-2291");
  CHECK(manager.post("/v1/cases/" + rosa + "/legal-hold", json::object{{"reason", "again"}}).status == 409);

  // An erasure request restricts the held case instead.
  auto erased = admin.post("/v1/admin/subjects/erase",
                           json::object{{"email", "rosa.l@example.org"}, {"reason", "request of 2026-12-07"}});
  INFO(erased.describe());
  REQUIRE(erased.status == 200);
  CHECK(erased.json().at("erased").as_array().empty());
  REQUIRE(erased.json().at("restricted").as_array().size() == 1);
  CHECK(string_at(erased.json().at("restricted").as_array()[0], "why").find("legal hold") != std::string::npos);
  CHECK(!files_holding(server.data_dir(), "Rosa Lindqvist").empty());

  // Hidden and refused to all but admins, on the API and the console.
  auto refused = agent.get("/v1/cases/" + rosa);
  CHECK(refused.status == 403);
  CHECK(refused.body.find("case-restricted") != std::string::npos);
  CHECK(refused.body.find("legal hold") != std::string::npos);
  CHECK(manager.get("/v1/cases/" + rosa).status == 403);
  CHECK(agent.get("/v1/cases/" + rosa + "/events").status == 403);
  CHECK(agent.post("/v1/cases/" + rosa + "/messages", json::object{{"visibility", "internal"}, {"body", "hello"}})
            .status == 403);
  CHECK(agent.get("/v1/cases").body.find(rosa) == std::string::npos);
  CHECK(agent.get("/v1/cases?q=Lindqvist").json().at("items").as_array().empty());
  auto shown = admin.get("/v1/cases/" + rosa);
  REQUIRE(shown.status == 200);
  CHECK(string_at(shown.json().at("privacy"), "state") == "restricted");
  CHECK(string_at(shown.json().at("client"), "name") == "Rosa Lindqvist");
  {
    Client browser(server.port());
    CookieJar jar;
    console_sign_in(browser, jar, "agent@example.org");
    auto page = browser.get("/staff/cases/" + rosa, jar.header());
    CHECK(page.status == 403);
    CHECK(page.body.find("Rosa Lindqvist") == std::string::npos);
  }

  // The manager lifts the hold from the console's form; the case stays restricted until it is
  // closed and its period has ended, then the retention run erases it.
  Client browser(server.port());
  CookieJar jar;
  console_sign_in(browser, jar, "admin@example.org");
  auto page = browser.get("/staff/cases/" + rosa, jar.header());
  REQUIRE(page.status == 200);
  CHECK(page.body.find("Legal hold") != std::string::npos);
  CHECK(page.body.find("Ombudsman referral FOS-2291") != std::string::npos);
  CHECK(page.body.find("restricted") != std::string::npos);
  auto lifted = console_post(browser, jar, "/staff/cases/" + rosa + "/hold/lift", page.body,
                             {{"reason", "the referral is settled"}});
  CHECK(lifted.status == 303);
  auto lifted_events = admin.get("/v1/cases/" + rosa + "/events");
  CHECK(lifted_events.body.find("case.legal_hold_lifted") != std::string::npos);
  REQUIRE(admin.post("/v1/cases/" + rosa + "/actions", json::object{{"action", "withdraw"}, {"reason", "by phone"}})
              .status == 200);
  CHECK(string_at(admin.get("/v1/cases/" + rosa).json().at("privacy"), "state") == "restricted");  // a month to go
  // A month and more later the server's daily retention run erases it.
  REQUIRE(admin.post("/v1/admin/clock", json::object{{"advance", "P40D"}}).status == 200);
  auto after = admin.get("/v1/cases/" + rosa);
  REQUIRE(after.status == 200);
  CHECK(string_at(after.json().at("privacy"), "state") == "erased");
  CHECK(string_at(after.json(), "status") == "withdrawn");
  for (const std::string needle : {"Rosa Lindqvist", "rosa.l@example.org", "RL-204", "123 4567"}) {
    INFO(needle);
    CHECK(files_holding(server.data_dir(), needle).empty());
  }
  auto audit = server.run({"audit", "verify"});
  INFO(audit.output);
  CHECK(audit.status == 0);
}

TEST_CASE("retention: `redress retention run` erases the closed cases past their period, never a held one",
          "[web][personal]") {
  TempDir scratch;
  ServerSetup setup;
  // Retail keeps a case one month from receipt here; receipts may be backdated by staff.
  setup.config = {"backdate_window = \"P400D\"",
                  "workflows = \"" +
                      workflows_with_retail_retention(scratch.path() / "workflows",
                                                      "[retention]\nmonths = 1\nfrom = \"receipt\"\n")
                          .string() +
                      "\""};
  RedressServer server(setup);
  Client agent(server.port(), server.token("agent"));
  Client manager(server.port(), server.token("manager"));
  const std::string two_months_ago = format_time(std::chrono::time_point_cast<std::chrono::microseconds>(
      std::chrono::system_clock::now() - std::chrono::hours(24 * 60)));
  auto logged = [&](const std::string& name, const std::string& email) {
    json::object body = client_case(name, email, "+44 7700 900321", "Letter of complaint " + name,
                                    "Written to us by " + name + " two months ago.");
    body["received_at"] = two_months_ago;
    body["received_reason"] = "a letter logged late";
    auto created = agent.post("/v1/cases", body);
    INFO(created.describe());
    REQUIRE(created.status == 201);
    return string_at(created.json(), "reference");
  };
  const std::string expired = logged("Tomasz Wroblewski", "tomasz@example.org");
  const std::string held = logged("Una Featherstone", "una@example.org");
  const std::string open = logged("Vilja Korhonen", "vilja@example.org");
  for (const auto& reference : {expired, held})
    REQUIRE(agent.post("/v1/cases/" + reference + "/actions", json::object{{"action", "withdraw"}, {"reason", "done"}})
                .status == 200);
  REQUIRE(manager.post("/v1/cases/" + held + "/legal-hold", json::object{{"reason", "litigation 2026-17"}}).status ==
          200);

  auto dry = server.run({"retention", "run", "--dry-run"});
  INFO(dry.output);
  REQUIRE(dry.status == 0);
  CHECK(dry.output.find("would erase " + expired) != std::string::npos);
  CHECK(dry.output.find("kept " + held + ": it is under legal hold: litigation 2026-17") != std::string::npos);
  CHECK(dry.output.find(open) == std::string::npos);  // open: not closed, so not erased by retention
  CHECK(dry.output.find("1 case would be erased, 1 expired but held") != std::string::npos);
  CHECK(!files_holding(server.data_dir(), "Tomasz Wroblewski").empty());  // a dry run erases nothing

  auto run = server.run({"retention", "run"});
  INFO(run.output);
  REQUIRE(run.status == 0);
  CHECK(run.output.find("erased " + expired) != std::string::npos);
  CHECK(run.output.find("1 case erased, 1 expired but held") != std::string::npos);
  CHECK(files_holding_soon(server.data_dir(), "Tomasz Wroblewski").empty());
  CHECK(files_holding_soon(server.data_dir(), "tomasz@example.org").empty());
  CHECK(!files_holding(server.data_dir(), "Una Featherstone").empty());
  CHECK(!files_holding(server.data_dir(), "Vilja Korhonen").empty());
  CHECK(string_at(agent.get("/v1/cases/" + expired).json().at("privacy"), "state") == "erased");
  CHECK(server.run({"audit", "verify"}).status == 0);
  auto again = server.run({"retention", "run"});
  CHECK(again.output.find("0 cases erased") != std::string::npos);
}

TEST_CASE("retention: two processes on one database run the day's retention once", "[web][personal]") {
  TempDir scratch;
  ServerSetup setup;
  setup.manual_clock = true;
  setup.config = {"workflows = \"" +
                  workflows_with_retail_retention(scratch.path() / "workflows",
                                                  "[retention]\nmonths = 1\nfrom = \"closure\"\n")
                      .string() +
                  "\""};
  RedressServer server(setup);
  SecondNode second(server, scratch.path() / "second.log", {"--clock", "manual"});
  Client agent(server.port(), server.token("agent"));
  std::vector<std::string> references;
  for (int i = 0; i < 3; ++i) {
    auto created = agent.post("/v1/cases", client_case("Wen Okonkwo", "wen@example.org", "+44 7700 900654",
                                                       "Late refund WO-" + std::to_string(i), "Still waiting."));
    REQUIRE(created.status == 201);
    references.push_back(string_at(created.json(), "reference"));
    REQUIRE(agent
                .post("/v1/cases/" + references.back() + "/actions",
                      json::object{{"action", "withdraw"}, {"reason", "sorted"}})
                .status == 200);
  }
  // Both processes' clocks move past the period; each looks for the day's run as its clock moves.
  Client first_admin(server.port(), server.token("admin"));
  Client second_admin(second.port(), server.token("admin"));
  auto second_moved = second_admin.post("/v1/admin/clock", json::object{{"advance", "P40D"}});
  INFO(second_moved.describe());
  REQUIRE(second_moved.status == 200);
  auto first_moved = first_admin.post("/v1/admin/clock", json::object{{"advance", "P40D"}});
  INFO(first_moved.describe());
  REQUIRE(first_moved.status == 200);

  auto erasures = first_admin.get("/v1/admin/erasures");
  REQUIRE(erasures.status == 200);
  int runs = 0;
  const json::value erasures_body = erasures.json();
  for (const auto& e : erasures_body.at("items").as_array())
    if (string_at(e, "source") == "retention") {
      ++runs;
      CHECK(e.at("cases_erased").as_int64() == 3);
    }
  CHECK(runs == 1);
  // Info lines reach the log files once a second: wait for one run's line, then past the next flush.
  auto erasing_runs = [&] {
    const std::string logs = server.log() + read_text(scratch.path() / "second.log");
    std::size_t count = 0;
    for (auto at = logs.find("3 cases erased"); at != std::string::npos; at = logs.find("3 cases erased", at + 1))
      ++count;
    return count;
  };
  for (auto deadline = std::chrono::steady_clock::now() + 10s;
       erasing_runs() == 0 && std::chrono::steady_clock::now() < deadline;)
    std::this_thread::sleep_for(50ms);
  std::this_thread::sleep_for(1500ms);
  CHECK(erasing_runs() == 1);
  for (const auto& reference : references)
    CHECK(string_at(agent.get("/v1/cases/" + reference).json().at("privacy"), "state") == "erased");
  CHECK(files_holding(server.data_dir(), "Okonkwo").empty());
  CHECK(server.run({"audit", "verify"}).status == 0);
}

TEST_CASE("retention on PostgreSQL: with retention_compact on, the daily run compacts - no file of the cluster "
          "holds the client",
          "[web][personal][postgres]") {
  TempDir scratch;
  auto& cluster = testing::PostgresServer::shared();
  ServerSetup setup;
  setup.database_url = cluster.fresh_database();
  setup.manual_clock = true;
  setup.config = {"retention_compact = \"on\"",
                  "workflows = \"" +
                      workflows_with_retail_retention(scratch.path() / "workflows",
                                                      "[retention]\nmonths = 1\nfrom = \"closure\"\n")
                          .string() +
                      "\""};
  RedressServer server(setup);
  Client agent(server.port(), server.token("agent"));
  Client admin(server.port(), server.token("admin"));
  auto created = agent.post("/v1/cases", client_case("Wen Okonkwo", "wen@example.org", "+44 7700 900654",
                                                     "Late refund WO-7731", "Still waiting for WO-7731."));
  REQUIRE(created.status == 201);
  const std::string reference = string_at(created.json(), "reference");
  REQUIRE(agent.post("/v1/cases/" + reference + "/actions", json::object{{"action", "withdraw"}, {"reason", "sorted"}})
              .status == 200);
  auto kept = agent.post("/v1/cases", client_case("Maud Linnell", "maud@example.net", "", "Broken lamp", "ML-7"));
  REQUIRE(kept.status == 201);
  CHECK(!cluster.files_holding("Okonkwo").empty());

  auto moved = admin.post("/v1/admin/clock", json::object{{"advance", "P40D"}});
  INFO(moved.describe());
  REQUIRE(moved.status == 200);
  CHECK(string_at(agent.get("/v1/cases/" + reference).json().at("privacy"), "state") == "erased");
  CHECK(server.log_shows("1 case erased, 0 expired but held, 1 checked; compacted"));
  CHECK(server.log_shows("compaction: VACUUM (FULL, ANALYZE) events"));
  INFO(server.log());
  for (const std::string needle : {"Okonkwo", "wen@example.org", "7700 900654", "WO-7731"}) {
    const auto files = cluster.files_holding(needle);
    INFO(needle << " in " << (files.empty() ? std::string("none") : files.front()));
    CHECK(files.empty());
  }
  CHECK(!cluster.files_holding("Maud Linnell").empty());
  CHECK(server.run({"audit", "verify"}).status == 0);
  // A bad value is refused at start-up, naming the setting.
  auto refused = server.run({"serve", "--retention-compact", "sometimes"});
  CHECK(refused.status != 0);
  CHECK(refused.output.find("retention-compact must be \"on\" or \"off\"") != std::string::npos);
}

TEST_CASE("redaction: one value out of the case's bytes, as an event, the chain whole", "[web][personal]") {
  TempDir scratch;
  RedressServer server;
  server.set_password("lead", kConsolePassword);
  Client agent(server.port(), server.token("agent"));
  Client lead(server.port(), server.token("lead"));
  Client intake(server.port(), server.token("intake"));
  auto created = agent.post("/v1/cases", client_case("Xavier Quist", "xavier@example.org", "+44 7700 900888",
                                                     "Double charge", "Card 4929 1234 5678 9012 charged twice."));
  REQUIRE(created.status == 201);
  const std::string reference = string_at(created.json(), "reference");
  REQUIRE(intake
              .post("/v1/inbound/email",
                    reply_mail("Xavier Quist <xavier@example.org>", reference,
                               "The card is 4000 0566 5566 5556, expiry 09/29."),
                    {{"Content-Type", "message/rfc822"}})
              .status == 202);
  auto view = agent.get("/v1/cases/" + reference);
  REQUIRE(view.status == 200);
  std::string message_id;
  const json::value view_body = view.json();
  for (const auto& m : view_body.at("messages").as_array())
    if (string_at(m, "body").find("4000 0566") != std::string::npos) message_id = string_at(m, "id");
  REQUIRE(!message_id.empty());
  for (const std::string card : {"4929 1234 5678 9012", "4000 0566 5566 5556"})
    CHECK(!files_holding(server.data_dir(), card).empty());

  // Bad requests change nothing.
  const std::string route = "/v1/cases/" + reference + "/redactions";
  CHECK(agent.post(route, json::object{{"message", message_id}, {"reason", "card"}}).status == 403);
  CHECK(lead.post(route, json::object{{"message", message_id}}).status == 422);
  CHECK(lead.post(route, json::object{{"message", message_id}, {"event", 1}, {"field", "/body"}, {"reason", "x"}})
            .status == 422);
  auto unknown = lead.post(route, json::object{{"event", 1}, {"field", "/channel"}, {"reason", "x"}});
  CHECK(unknown.status == 404);
  CHECK(unknown.body.find("/description") != std::string::npos);
  CHECK(lead.post(route, json::object{{"message", "m-999999"}, {"reason", "x"}}).status == 404);

  // The message over the API; the description from the console's form.
  auto redacted = lead.post(route, json::object{{"message", message_id}, {"reason", "card number pasted"}});
  INFO(redacted.describe());
  REQUIRE(redacted.status == 201);
  CHECK(string_at(redacted.json().at("event"), "type") == "case.redacted");
  CHECK(redacted.body.find("4000 0566") == std::string::npos);
  Client browser(server.port());
  CookieJar jar;
  console_sign_in(browser, jar, "lead@example.org");
  auto page = browser.get("/staff/cases/" + reference, jar.header());
  REQUIRE(page.status == 200);
  CHECK(page.body.find("Redact a value") != std::string::npos);
  CHECK(page.body.find("event:1:/description") != std::string::npos);
  auto posted = console_post(browser, jar, "/staff/cases/" + reference + "/redact", page.body,
                             {{"target", "event:1:/description"}, {"reason", "card number in the complaint"}});
  CHECK(posted.status == 303);

  for (const std::string card : {"4929 1234 5678 9012", "4000 0566 5566 5556"}) {
    INFO(card);
    CHECK(files_holding(server.data_dir(), card).empty());
  }
  CHECK(!files_holding(server.data_dir(), "Xavier Quist").empty());  // nothing else
  auto after = agent.get("/v1/cases/" + reference);
  CHECK(string_at(after.json(), "description") == "[redacted]");
  auto events = agent.get("/v1/cases/" + reference + "/events");
  int redactions = 0;
  const json::value events_body = events.json();
  for (const auto& e : events_body.at("items").as_array())
    if (string_at(e, "type") == "case.redacted") ++redactions;
  CHECK(redactions == 2);
  auto audit = server.run({"audit", "verify"});
  INFO(audit.output);
  CHECK(audit.status == 0);
}

TEST_CASE("erasure ledger: a database restored from before an erasure is erased again at start-up",
          "[web][personal]") {
  TempDir scratch;
  ServerSetup setup;
  setup.config = {"workflows = \"" + workflows_with_retail_retention(scratch.path() / "workflows", "").string() + "\""};
  RedressServer server(setup);
  {
    Client agent(server.port(), server.token("agent"));
    REQUIRE(agent
                .post("/v1/cases", client_case("Yusuf Ablewhite", "yusuf@example.org", "+44 7700 900432",
                                               "Missing refund YA-3", "Refund YA-3 never arrived."))
                .status == 201);
    REQUIRE(agent
                .post("/v1/cases", client_case("Zara Penhaligon", "zara@example.org", "+44 7700 900433",
                                               "Broken chair ZP-1", "The chair ZP-1 broke."))
                .status == 201);
  }
  // The nightly backup: the database files, copied while the server is stopped.
  REQUIRE(server.terminate() == 0);
  const fs::path backup = scratch.path() / "backup";
  fs::create_directories(backup);
  for (const auto& file : data_files(server.data_dir()))
    if (file.filename().string().rfind("redress", 0) == 0) fs::copy_file(file, backup / file.filename());
  server.restart();
  Client admin(server.port(), server.token("admin"));
  auto erased =
      admin.post("/v1/admin/subjects/erase", json::object{{"email", "yusuf@example.org"}, {"reason", "request"}});
  REQUIRE(erased.status == 200);
  CHECK(files_holding(server.data_dir(), "Ablewhite").empty());

  // The disk is lost; the backup is restored, the ledger beside it kept. At start-up the server
  // finds the erasure the database lacks and makes it again.
  REQUIRE(server.terminate() == 0);
  for (const auto& file : data_files(server.data_dir()))
    if (file.filename().string().rfind("redress", 0) == 0) fs::remove(file);
  for (const auto& file : data_files(backup)) fs::copy_file(file, server.data_dir() / file.filename());
  CHECK(!files_holding(server.data_dir(), "Ablewhite").empty());  // the backup holds him
  server.restart();
  CHECK(server.log().find("erasure ledger: the database lacked erasures") != std::string::npos);
  for (const std::string needle : {"Ablewhite", "yusuf@example.org", "YA-3"}) {
    INFO(needle);
    CHECK(files_holding_soon(server.data_dir(), needle).empty());
  }
  CHECK(!files_holding(server.data_dir(), "Zara Penhaligon").empty());
  Client after(server.port(), server.token("admin"));
  auto records = after.get("/v1/admin/erasures");
  REQUIRE(records.status == 200);
  CHECK(records.body.find("re-applied after a restore") != std::string::npos);
  CHECK(server.run({"audit", "verify"}).status == 0);
  // A second start finds nothing missing.
  REQUIRE(server.terminate() == 0);
  server.restart();
  CHECK(server.log().find("erasure ledger: the database lacked erasures") == std::string::npos);
}

}  // namespace redress::webtest::personal_data
