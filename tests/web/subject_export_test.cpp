// Subject access through a real `redress serve`: GET /v1/admin/subjects/export and `redress subject
// export` give one client's every case, history, file, email received and mail sent, as a tar
// archive read back here member by member, and nothing of another client's.
#include <sys/stat.h>

#include "adapters/peers.h"
#include "web/support.h"

namespace redress::webtest::subject_export {
namespace {

const std::string kBoundary = "----redress-subject-export-Zx81";

std::string file_part(const std::string& filename, const std::string& type, const std::string& bytes) {
  return "--" + kBoundary + "\r\nContent-Disposition: form-data; name=\"files\"; filename=\"" + filename +
         "\"\r\nContent-Type: " + type + "\r\n\r\n" + bytes + "\r\n";
}

std::string text_part(const std::string& name, const std::string& value) {
  return "--" + kBoundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value + "\r\n";
}

// The members of a ustar archive, by name, checking each header's checksum and the end blocks.
std::map<std::string, std::string> untar(const std::string& tar) {
  std::map<std::string, std::string> members;
  std::size_t at = 0;
  REQUIRE(tar.size() % 512 == 0);
  while (at + 512 <= tar.size()) {
    const char* h = tar.data() + at;
    if (std::all_of(h, h + 512, [](char c) { return c == '\0'; })) break;
    REQUIRE(std::string(h + 257, 5) == "ustar");
    unsigned sum = 0;
    for (int i = 0; i < 512; ++i) sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(h[i]);
    CHECK(std::stoul(std::string(h + 148, 6), nullptr, 8) == sum);
    std::string name(h, strnlen(h, 100));
    std::string prefix(h + 345, strnlen(h + 345, 155));
    if (!prefix.empty()) name = prefix + "/" + name;
    const std::size_t size = std::stoul(std::string(h + 124, 11), nullptr, 8);
    CHECK(std::string(h + 100, 7) == "0000600");
    members[name] = tar.substr(at + 512, size);
    at += 512 + (size + 511) / 512 * 512;
  }
  CHECK(at + 1024 == tar.size());  // two zero blocks close it
  return members;
}

std::string reply_mail(const std::string& reference) {
  return "From: Ana Ruiz <ana@example.org>\r\nTo: complaints@acme.example\r\nSubject: Re: [" + reference +
         "] Charged twice\r\nDate: Sun, 06 Dec 2026 10:00:00 +0000\r\nMessage-ID: <ana-reply-1@mail.example.org>\r\n"
         "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHere is my bank statement line: "
         "ACME*ORDER 4471.\r\n";
}

}  // namespace

TEST_CASE("subject export: one client's every case, history, file, email and mail sent, and nobody else's",
          "[web][subject]") {
  TempDir scratch;
  redress::peers::CaptureServer smtp(scratch.path());
  ServerSetup setup;
  setup.config = {"smtp_url = \"" + smtp.url() + "\"", "smtp_starttls = \"off\"",
                  "mail_from = \"complaints@acme.example\""};
  RedressServer server(setup);
  Client agent(server.port(), server.token("agent"));
  Client intake(server.port(), server.token("intake"));
  Client admin(server.port(), server.token("admin"));

  auto first = agent.post("/v1/cases", new_case_body("Charged twice", "ana@example.org"));
  REQUIRE(first.status == 201);
  const std::string ana_1 = string_at(first.json(), "reference");
  auto second = agent.post("/v1/cases", new_case_body("Late refund", "Ana@Example.org"));
  REQUIRE(second.status == 201);
  const std::string ana_2 = string_at(second.json(), "reference");
  auto other = agent.post("/v1/cases", new_case_body("Broken kettle from Bob", "bob@example.net"));
  REQUIRE(other.status == 201);
  const std::string bob = string_at(other.json(), "reference");

  const std::string receipt = "%PDF-1.4 the receipt for order 4471";
  REQUIRE(agent
              .post("/v1/cases/" + ana_1 + "/messages",
                    text_part("visibility", "client") + text_part("body", "Your receipt, as asked.") +
                        file_part("receipt.pdf", "application/pdf", receipt) + "--" + kBoundary + "--\r\n",
                    {{"Content-Type", "multipart/form-data; boundary=" + kBoundary}})
              .status == 201);
  const std::string raw = reply_mail(ana_1);
  auto threaded = intake.post("/v1/inbound/email", raw, {{"Content-Type", "message/rfc822"}});
  INFO(threaded.describe());
  REQUIRE(threaded.status == 202);
  // The acknowledgement of the first case goes out (its payload is stored when it is sent).
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (smtp.messages().size() < 2 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(50ms);

  SECTION("over the API, admins only") {
    CHECK(agent.get("/v1/admin/subjects/export?email=ana%40example.org").status == 403);
    auto missing = admin.get("/v1/admin/subjects/export");
    CHECK(missing.status == 400);
    CHECK(missing.body.find("query.email") != std::string::npos);
    CHECK(admin.get("/v1/admin/subjects/export?email=not-an-address").status == 422);

    auto answer = admin.get("/v1/admin/subjects/export?email=ANA%40example.org");
    REQUIRE(answer.status == 200);
    CHECK(answer.header("content-type") == "application/x-tar");
    CHECK(answer.header("content-disposition").find("attachment") == 0);
    CHECK(answer.header("x-redress-cases") == "2");
    auto members = untar(answer.body);
    REQUIRE(members.count("README.txt"));
    REQUIRE(members.count("subject.json"));
    json::value subject = json::parse(members["subject.json"]);
    CHECK(subject.at("cases_found").as_int64() == 2);
    const auto& cases = subject.at("cases").as_array();
    REQUIRE(cases.size() == 2);
    CHECK(string_at(cases[0], "reference") == ana_1);  // oldest first
    CHECK(string_at(cases[1], "reference") == ana_2);
    CHECK(cases[0].at("events").as_array().size() >= 3);
    CHECK(string_at(cases[0].at("events").as_array()[0], "type") == "case.received");
    REQUIRE(cases[0].at("mail_received").as_array().size() == 1);
    CHECK(string_at(cases[0].at("mail_received").as_array()[0], "disposition") == "threaded");

    // The file, and the email as it arrived, byte for byte.
    std::string file_member, mail_member, sent_member;
    for (const auto& [name, bytes] : members) {
      if (name.rfind("cases/" + ana_1 + "/files/m-", 0) == 0 && name.ends_with("/1-receipt.pdf")) file_member = name;
      if (name.rfind("cases/" + ana_1 + "/mail-received/m-", 0) == 0) mail_member = name;
      if (name.rfind("cases/" + ana_1 + "/mail-sent/n-", 0) == 0) sent_member = name;
      CHECK(name.find(bob) == std::string::npos);
    }
    REQUIRE(!file_member.empty());
    CHECK(members[file_member] == receipt);
    REQUIRE(!mail_member.empty());
    CHECK(members[mail_member] == raw);
    REQUIRE(!sent_member.empty());
    CHECK(members[sent_member].find("ana@example.org") != std::string::npos);
    // Nothing of the other client's case anywhere in the archive.
    CHECK(answer.body.find("bob@example.net") == std::string::npos);
    CHECK(answer.body.find("Broken kettle from Bob") == std::string::npos);

    // Someone Redress holds nothing about: an archive that says so.
    auto nobody = admin.get("/v1/admin/subjects/export?email=nobody%40example.org");
    REQUIRE(nobody.status == 200);
    CHECK(json::parse(untar(nobody.body)["subject.json"]).at("cases_found").as_int64() == 0);
  }

  SECTION("from the command line, beside the running server: the same cases, a private file") {
    const fs::path out = scratch.path() / "ana.tar";
    auto run = run_redress({"subject", "export", "--email", "ana@example.org", "--out", out.string(),
                            "--data-dir", server.data_dir().string()},
                           scratch.path());
    INFO(run.output);
    REQUIRE(run.status == 0);
    CHECK(run.output.find("2 cases") != std::string::npos);
    struct stat info {};
    REQUIRE(::stat(out.c_str(), &info) == 0);
    CHECK((info.st_mode & 0777) == 0600);
    auto members = untar(read_text(out));
    json::value subject = json::parse(members["subject.json"]);
    CHECK(subject.at("cases_found").as_int64() == 2);
    CHECK(read_text(out).find("bob@example.net") == std::string::npos);

    auto usage = run_redress({"subject", "export", "--data-dir", server.data_dir().string()}, scratch.path());
    CHECK(usage.status == 2);
    CHECK(usage.output.find("--email") != std::string::npos);
  }
}

}  // namespace redress::webtest::subject_export
