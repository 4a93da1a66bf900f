// Personal data through a real `redress serve` and the real binary (docs/personal-data.md):
// erasure leaves no byte of the client in any file of the data directory while the cases, their
// facts and their hash chains remain; an erasure killed half-way is finished by running it again;
// bad requests are refused with nothing changed.
#include <sys/stat.h>

#include "adapters/peers.h"
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
    auto erased = admin.post("/v1/admin/subjects/erase", json::object{{"email", "Ana.Quintero@example.org"},
                                                                      {"reason", "Article 17 request of 2026-12-06"}});
    INFO(erased.describe());
    REQUIRE(erased.status == 200);
    CHECK(strings_at(erased.json(), "erased") == std::vector<std::string>{ana});
    CHECK(erased.json().at("restricted").as_array().empty());
    CHECK(erased.json().at("files_deleted").as_int64() >= 2);  // the receipt and the raw mail

    for (const auto& needle : ana_needles) {
      INFO(needle);
      CHECK(files_holding(server.data_dir(), needle).empty());
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
    CHECK(string_at(view.json(), "status") == "acknowledged");
    CHECK(string_at(view.json(), "workflow") == "retail");
    CHECK(string_at(view.json().at("privacy"), "state") == "erased");
    auto events = agent.get("/v1/cases/" + ana + "/events");
    REQUIRE(events.status == 200);
    const auto& items = events.json().at("items").as_array();
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
    CHECK(files_holding(server.data_dir(), needle).empty());
  }
  CHECK(server.run({"audit", "verify"}).status == 0);
  auto nothing_left = server.run({"subject", "erase", "--email", "ines.v@example.org", "--reason", "request 77"});
  CHECK(nothing_left.status == 0);
  CHECK(nothing_left.output.find("Nothing left to erase") != std::string::npos);
}

}  // namespace redress::webtest::personal_data
