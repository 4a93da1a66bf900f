// Staff files go out with the client's mail, through a real `redress serve` and a real SMTP server
// (tests/python/smtp_capture.py): a client-visible message's files are attached (base64, RFC 2231
// names), read back by Python's strict email parser; past the mail size cap they are linked to the
// status page instead, and the mail says so.
#include "adapters/peers.h"
#include "web/support.h"

using namespace redress::webtest;

namespace {

const std::string kBoundary = "----redress-outbound-files-Hq3Xw";

std::string file_part(const std::string& filename, const std::string& type, const std::string& bytes) {
  return "--" + kBoundary + "\r\nContent-Disposition: form-data; name=\"files\"; filename*=UTF-8''" + filename +
         "\r\nContent-Type: " + type + "\r\n\r\n" + bytes + "\r\n";
}

std::string text_part(const std::string& name, const std::string& value) {
  return "--" + kBoundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value + "\r\n";
}

Headers multipart_type() { return {{"Content-Type", "multipart/form-data; boundary=" + kBoundary}}; }

// The captured mail whose text holds `marker`, waiting up to 60 s for it.
fs::path captured_with(const redress::peers::CaptureServer& smtp, const std::string& marker) {
  auto deadline = std::chrono::steady_clock::now() + 60s;
  for (;;) {
    for (const auto& file : smtp.messages())
      if (read_text(file).find(marker) != std::string::npos) return file;
    if (std::chrono::steady_clock::now() > deadline) FAIL("no mail with " << marker << " within 60 s");
    std::this_thread::sleep_for(50ms);
  }
}

}  // namespace

TEST_CASE("outbound files: a staff message's files go with the client's mail, or are linked past the cap",
          "[web][attachments][smtp]") {
  TempDir scratch;
  redress::peers::CaptureServer smtp(scratch.path());
  ServerSetup setup;
  setup.config = {"smtp_url = \"" + smtp.url() + "\"",       "smtp_starttls = \"off\"",
                  "mail_from = \"complaints@acme.example\"", "max_body_bytes = 16000000",
                  "attachment_max_file_bytes = 8000000",     "attachment_max_total_bytes = 15000000"};
  RedressServer server(setup);
  Client agent(server.port(), server.token("agent"));
  auto created = agent.post("/v1/cases", new_case_body("Damaged parcel", "priya@example.net"));
  REQUIRE(created.status == 201);
  const std::string reference = string_at(created.json(), "reference");

  std::string photo;
  for (int i = 0; i < 5000; ++i) photo.push_back(static_cast<char>((i * 131 + 7) % 256));
  HttpResponse sent =
      agent.post("/v1/cases/" + reference + "/messages",
                 text_part("visibility", "client") + text_part("body", "Our courier's report marker-A") +
                     file_part("Lieferschein%20M%C3%A4rz.pdf", "application/pdf", "%PDF-1.4 report") +
                     file_part("photo.jpg", "image/jpeg", photo) + "--" + kBoundary + "--\r\n",
                 multipart_type());
  INFO(sent.describe());
  REQUIRE(sent.status == 201);
  // An internal note's files never go to the client.
  REQUIRE(agent
              .post("/v1/cases/" + reference + "/messages",
                    text_part("visibility", "internal") + text_part("body", "internal marker-I") +
                        file_part("internal.txt", "text/plain", "SECRET") + "--" + kBoundary + "--\r\n",
                    multipart_type())
              .status == 201);

  fs::path attached = captured_with(smtp, "marker-A");
  auto parsed = redress::peers::strict_parse({attached}, scratch.path());
  REQUIRE(parsed.size() == 1);
  const auto& mail = parsed[0].as_object();
  CHECK(string_at(mail, "content_type") == "multipart/mixed");
  CHECK(string_at(mail, "to_address") == "priya@example.net");
  CHECK(string_at(mail, "plain").find("Attached to this email:") != std::string::npos);
  const auto& files = mail.at("attachments").as_array();
  REQUIRE(files.size() == 2);
  CHECK(string_at(files[0], "filename") == "Lieferschein März.pdf");
  CHECK(string_at(files[0], "base64") == base64("%PDF-1.4 report"));
  CHECK(string_at(files[1], "filename") == "photo.jpg");
  CHECK(string_at(files[1], "content_type") == "image/jpeg");
  CHECK(string_at(files[1], "base64") == base64(photo));
  for (const auto& file : smtp.messages()) CHECK(read_text(file).find("internal.txt") == std::string::npos);

  // Two files of 6 MB: 12 MB in all is over the 10 MiB a mail carries, so the mail links them.
  const std::string big(6000000, 'x');
  HttpResponse large = agent.post("/v1/cases/" + reference + "/messages",
                                  text_part("visibility", "client") + text_part("body", "Scans marker-B") +
                                      file_part("scan-1.tif", "image/tiff", big) +
                                      file_part("scan-2.tif", "image/tiff", big) + "--" + kBoundary + "--\r\n",
                                  multipart_type());
  INFO(large.describe());
  REQUIRE(large.status == 201);
  fs::path linked = captured_with(smtp, "marker-B");
  CHECK(fs::file_size(linked) < 100000);
  auto linked_parsed = redress::peers::strict_parse({linked}, scratch.path());
  const auto& linked_mail = linked_parsed[0].as_object();
  CHECK(linked_mail.at("attachments").as_array().empty());
  std::string plain = string_at(linked_mail, "plain");
  CHECK(plain.find("too large to send by email together") != std::string::npos);
  CHECK(plain.find("/c/") != std::string::npos);  // the status page link
  CHECK(plain.find("scan-1.tif") != std::string::npos);
  CHECK(plain.find("scan-2.tif") != std::string::npos);
}
