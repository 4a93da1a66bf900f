// Email: MIME composition against known vectors, the shipped templates, and SmtpMailer against a
// real SMTP server (Debian's python3-aiosmtpd, tests/python/smtp_capture.py) on a loopback port,
// with every captured mail parsed by Python's email package in strict mode (tests/python/check_mail.py).
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <sodium.h>

#include "adapters/mail/mail_context.h"
#include "adapters/mail/mime.h"
#include "adapters/mail/smtp_mailer.h"
#include "adapters/mail/templates.h"
#include "peers.h"

using namespace redress;
using namespace redress::peers;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

const Time kDate = *parse_time("2026-03-02T09:00:00Z");

std::string str(const json::value& v) { return v.is_string() ? std::string(v.as_string()) : std::string(); }

mail::MailContent sample_content() {
  mail::MailContent c;
  c.from = {"Acme Complaints", "complaints@acme.example"};
  c.reply_to = mail::MailAddress{"Acme Complaints Team", "replies@acme.example"};
  c.to = {"Zoë Ångström", "zoe@example.org"};
  c.subject = "Votre réclamation a bien été reçue";
  c.text = "Dear Zoë,\n\nThank you.\n.\n..\n.hidden line\nFrom the team\n";
  c.date = kDate;
  mail::thread_into_case(c, 42, "CMP-2026-000042", "redress.acme.example");
  c.headers = {{"X-Redress-Case", "CMP-2026-000042"}, {"Auto-Submitted", "auto-generated"}};
  return c;
}

OutgoingMail composed(const mail::MailContent& c) {
  auto mail = mail::compose(c);
  INFO((mail.ok() ? std::string() : mail.error().detail));
  REQUIRE(mail.ok());
  return std::move(mail).value();
}

OutgoingMail mail_to(const std::string& rcpt, std::int64_t id) {
  mail::MailContent c = sample_content();
  c.to.address = rcpt;
  mail::thread_into_case(c, id, "CMP-2026-000042", "redress.acme.example");
  return composed(c);
}

std::unique_ptr<mail::SmtpMailer> mailer_for(mail::SmtpOptions options) {
  auto mailer = mail::SmtpMailer::create(std::move(options));
  INFO((mailer.ok() ? std::string() : mailer.error().detail));
  REQUIRE(mailer.ok());
  return std::move(mailer).value();
}

mail::SmtpOptions plain_options(const std::string& url) {
  mail::SmtpOptions o;
  o.url = url;
  o.starttls = mail::StartTls::kOff;
  o.connect_timeout = 20s;
  o.response_timeout = 60s;
  o.send_timeout = 120s;
  return o;
}

// Decodes one RFC 2047 encoded-word (test-side, from the RFC, independent of mime.cpp).
std::string decode_word(const std::string& word) {
  REQUIRE(word.rfind("=?UTF-8?", 0) == 0);
  REQUIRE(word.size() >= 12);
  REQUIRE(word.substr(word.size() - 2) == "?=");
  char form = word[8];
  std::string text = word.substr(10, word.size() - 12);
  std::string out;
  if (form == 'Q') {
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '_')
        out += ' ';
      else if (text[i] == '=') {
        out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
        i += 2;
      } else
        out += text[i];
    }
  } else {
    REQUIRE(form == 'B');
    static const std::string kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::uint32_t bits = 0;
    int count = 0;
    for (char c : text) {
      if (c == '=') break;
      bits = (bits << 6) | static_cast<std::uint32_t>(kAlphabet.find(c));
      count += 6;
      if (count >= 8) {
        count -= 8;
        out += static_cast<char>((bits >> count) & 0xFF);
      }
    }
  }
  return out;
}

bool valid_utf8(const std::string& s) {
  std::size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += n;
  }
  return true;
}

std::vector<std::string> split_words(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

// A self-signed certificate for 127.0.0.1 and localhost, made with the openssl command.
struct Certificate {
  fs::path cert, key;
};
Certificate make_certificate(const fs::path& dir) {
  Certificate c{dir / "cert.pem", dir / "key.pem"};
  auto result =
      run({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
           "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", c.key.string(), "-out", c.cert.string()},
          dir);
  INFO(result.output);
  REQUIRE(result.status == 0);
  return c;
}

// ---- a realistic case for the templates ----

struct Fixture {
  CaseSnapshot snapshot;
  Workflow workflow;
  Staff owner{"u-17", "Priya Natarajan", "priya@acme.example", Role::kAgent, "Billing", true};
  mail::MailSettings settings;
  Fixture() {
    Case& c = snapshot.record;
    c.id = 42;
    c.reference = "CMP-2026-000042";
    c.client = {"Zoë O'Brien", "zoe@example.org", "", "en-GB"};
    c.subject = "Charged twice for my March bill & no reply <urgent>";
    c.description = "I was charged twice.";
    c.category = "billing";
    c.team = "Billing";
    c.status = CaseStatus::kInvestigating;
    c.owner_id = "u-17";
    c.escalation_level = 1;
    c.received_at = kDate;
    Commitment pledge;
    pledge.id = 7;
    pledge.case_id = 42;
    pledge.kind = CommitmentKind::kPledge;
    pledge.text = "We will send you our final response";
    pledge.due_at = *parse_time("2026-04-27T16:00:00Z");
    pledge.created_at = kDate;
    Commitment promise = pledge;
    promise.id = 8;
    promise.kind = CommitmentKind::kPromise;
    promise.text = "We will refund the duplicate payment";
    promise.due_at = *parse_time("2026-03-06T17:00:00Z");
    promise.status = CommitmentStatus::kBroken;
    Commitment renegotiated = promise;
    renegotiated.id = 9;
    renegotiated.status = CommitmentStatus::kOpen;
    renegotiated.due_at = *parse_time("2026-03-10T17:00:00Z");
    renegotiated.replaces_id = 8;
    snapshot.commitments = {pledge, promise, renegotiated};
    Redress refund;
    refund.id = 3;
    refund.case_id = 42;
    refund.kind = RedressKind::kRefund;
    refund.amount_minor = 4599;
    refund.currency = "GBP";
    refund.text = "the duplicate charge of 3 March";
    refund.status = RedressStatus::kProposed;
    Redress goodwill = refund;
    goodwill.id = 4;
    goodwill.kind = RedressKind::kGoodwill;
    goodwill.amount_minor = 2500;
    goodwill.text = "for the trouble this caused";
    goodwill.status = RedressStatus::kAccepted;
    Redress compensation = refund;
    compensation.id = 5;
    compensation.kind = RedressKind::kCompensation;
    compensation.amount_minor = 3000;
    compensation.text = "Guaranteed Standards payment";
    compensation.status = RedressStatus::kAccepted;
    compensation.automatic = true;
    compensation.created_at = *parse_time("2026-03-06T17:00:00Z");
    snapshot.redress = {refund, goodwill, compensation};

    workflow.name = "retail";
    workflow.title = "Retail complaints";
    workflow.pledge =
        "We will acknowledge your complaint within one working day and send our final response within eight weeks.";
    workflow.team = "Billing";
    EscalationLevel lead;
    lead.level = 1;
    lead.name = "team lead";
    workflow.escalation = {lead};
    ClockRule final_response;
    final_response.name = "final_response";
    final_response.text = "We will send you our final response";
    final_response.stop = ClockStop::kResolved;
    workflow.clocks = {final_response};

    settings.organisation = "Acme Energy";
    settings.from = {"Acme Complaints", "complaints@acme.example"};
    settings.reply_to = mail::MailAddress{"", "replies@acme.example"};
    settings.domain = "redress.acme.example";
    settings.support_email = "help@acme.example";
    settings.support_phone = "0800 000 000";
  }

  // The context for template `name`, with the event and message it would come with.
  json::object context_for(const std::string& name) {
    static const mail::LocalTimeFormatter london = std::move(mail::zone_formatter("Europe/London")).value();
    if (name == "manager.digest") {
      std::vector<mail::DigestItem> items;
      items.push_back(mail::DigestItem{"CMP-2026-000042", snapshot.record.subject, "Priya Natarajan",
                                       snapshot.commitments[1],
                                       "https://complaints.acme.example/staff/cases/CMP-2026-000042"});
      mail::DigestItem overdue{"CMP-2026-000051", "Engineer did not arrive", "", snapshot.commitments[2], ""};
      items.push_back(overdue);
      return mail::build_digest_context(items, *parse_time("2026-03-11T07:00:00Z"), "Sam Okafor", settings, london);
    }
    event = Event{};
    event.case_id = 42;
    event.seq = 9;
    event.at = *parse_time("2026-03-06T17:00:00Z");
    event.actor = "staff:u-17";
    json::object data;
    if (name.find("commitment_renegotiated") != std::string::npos) {
      event.type = "commitment.renegotiated";
      data = {{"commitment_id", "k-8"},
              {"successor_id", "k-9"},
              {"reason", "our bank needs two more days to return the money"}};
    } else if (name.find("commitment") != std::string::npos) {
      event.type = name.find("at_risk") != std::string::npos ? "commitment.at_risk" : "commitment.broken";
      data = {{"commitment_id", "k-8"}};
    } else if (name == "client.final_response" || name == "client.redress_proposed") {
      event.type = name == "client.final_response" ? "case.resolved" : "redress.proposed";
      data = {{"final_response",
               "We found that you were charged twice on 3 March. This was our mistake, and the duplicate "
               "payment has been refunded. If you remain unhappy you may refer your complaint to the "
               "Energy Ombudsman within six months of this letter."}};
    } else if (name == "staff.escalated") {
      event.type = "case.escalated";
      data = {{"from_level", 0}, {"to_level", 1}, {"reason", "a commitment to the client broke"}};
    } else if (name.find("reopened") != std::string::npos || name.find("rejected") != std::string::npos) {
      event.type = "case.reopened";
      data = {{"reason", "The second refund has not arrived."}};
    } else if (name == "client.merged") {
      event.type = "case.closed";
      data = {{"via", "merge"}, {"into", "CMP-2026-000031"}, {"from", "investigating"}, {"to", "closed"}};
    } else if (name == "client.info_requested") {
      event.type = "case.info_requested";
      data = {{"body", "Could you send us the last four digits of the card that was charged?"}};
    } else {
      event.type = "case.assigned";
      data = {{"note", "Priya knows the billing system best."}};
    }
    event.data = json::serialize(data);
    message = Message::make(11,
                      42,
                      Visibility::kClient,
                      "staff:u-17",
                      "We have found both payments.\nThe second one will be returned to your card.",
                      event.at);
    mail::MailContextInput input;
    input.snapshot = &snapshot;
    input.workflow = &workflow;
    input.owner = owner;
    input.event = &event;
    input.message = name.find("message") != std::string::npos ? &message : nullptr;
    input.recipient_name = name.rfind("client.", 0) == 0 ? snapshot.record.client.name : owner.name;
    input.status_url = "https://complaints.acme.example/status/tok_abc123";
    input.survey_url = "https://complaints.acme.example/survey/tok_abc123";
    // Only client.merged's case was merged (into the same client's other complaint).
    snapshot.record.merged_into = name == "client.merged" ? "CMP-2026-000031" : "";
    input.merged_into_same_client = name == "client.merged";
    input.merged_into_url = name == "client.merged" ? "https://complaints.acme.example/status/tok_def456" : "";
    input.format_time = london;
    return mail::build_mail_context(input, settings);
  }

  Event event;
  Message message;
};

}  // namespace

// ---- MIME: known vectors ----

TEST_CASE("mail: which relay URLs are on loopback (spoken to without STARTTLS by default)", "[mail]") {
  using redress::mail::url_host_is_loopback;
  for (const char* url : {"smtp://127.0.0.1:2525", "smtp://127.8.9.10", "smtp://localhost:25", "smtp://LOCALHOST",
                          "smtp://[::1]:2525", "smtps://alice:secret@127.0.0.1:465/", "smtp://user@[::1]"}) {
    INFO(url);
    CHECK(url_host_is_loopback(url));
  }
  for (const char* url : {"smtp://mail.example.org:587", "smtp://10.0.0.5:25", "smtp://192.168.1.2", "smtp://[fe80::1]",
                          "smtp://localhost.example.org", "smtp://127.0.0.1.example.org", "smtp://0.0.0.0:25",
                          "smtp://127.0.0.1@mail.example.org", "not a url", "smtp://[::1"}) {
    INFO(url);
    CHECK_FALSE(url_host_is_loopback(url));
  }
}

TEST_CASE("mail: RFC 2047 encoded-words for known vectors", "[mail]") {
  // "Café": C a f, then U+00E9 = C3 A9 in UTF-8; Q keeps letters and hex-encodes the rest.
  CHECK(mail::encode_header_word("Café") == "=?UTF-8?Q?Caf=C3=A9?=");
  // Space is "_" in Q; "_", "=" and "?" are encoded (RFC 2047 4.2); U+00EF = C3 AF.
  CHECK(mail::encode_header_word("naïve_x=y?") == "=?UTF-8?Q?na=C3=AFve=5Fx=3Dy=3F?=");
  // Cyrillic: every byte needs encoding, so B (base64 of D0 9F D1 80 D0 B8 D0 B2 D0 B5 D1 82) is shorter.
  CHECK(mail::encode_header_word("Привет") == "=?UTF-8?B?0J/RgNC40LLQtdGC?=");
  // ASCII passes through.
  CHECK(mail::encode_header_word("Your complaint CMP-2026-000042") == "Your complaint CMP-2026-000042");
  // Invalid UTF-8 becomes U+FFFD (EF BF BD) rather than a mislabelled byte.
  CHECK(mail::encode_header_word("a\xFF") == "=?UTF-8?Q?a=EF=BF=BD?=");
  // Display names: atoms as they are, quoted-string for specials, encoded-words for non-ASCII.
  CHECK(mail::encode_display_name("Jo Bloggs") == "Jo Bloggs");
  CHECK(mail::encode_display_name("O'Brien, Jo") == "\"O'Brien, Jo\"");
  CHECK(mail::encode_display_name("Jo \"JB\" Bloggs") == "\"Jo \\\"JB\\\" Bloggs\"");
  CHECK(mail::encode_display_name("Zoë") == "=?UTF-8?Q?Zo=C3=AB?=");
  CHECK(mail::rfc5322_date(kDate) == "Mon, 02 Mar 2026 09:00:00 +0000");
  CHECK(mail::rfc5322_date(*parse_time("2026-12-31T23:59:59.999Z")) == "Thu, 31 Dec 2026 23:59:59 +0000");
}

TEST_CASE("mail: long non-ASCII subjects split into words of whole characters", "[mail]") {
  std::string subject;
  for (int i = 0; i < 12; ++i) subject += "Réclamation n°" + std::to_string(i) + " — 日本語のテキスト 🙂 ";
  for (std::size_t first : {std::size_t{67}, std::size_t{75}, std::size_t{30}}) {
    std::string encoded = mail::encode_header_word(subject, first);
    auto words = split_words(encoded);
    REQUIRE(words.size() > 5);
    std::string decoded;
    for (std::size_t i = 0; i < words.size(); ++i) {
      INFO(words[i]);
      CHECK(words[i].size() <= (i == 0 ? first : 75));
      std::string part = decode_word(words[i]);
      CHECK(valid_utf8(part));  // no word splits a UTF-8 sequence
      decoded += part;
    }
    CHECK(decoded == subject);
  }
  mail::MailContent c = sample_content();
  c.subject = subject;
  auto mail = composed(c);
  std::istringstream lines(mail.data);
  std::string line;
  while (std::getline(lines, line) && line != "\r") {
    INFO(line);
    CHECK(line.size() <= 77);  // 76 and the CR
  }
}

TEST_CASE("mail: header injection is refused", "[mail]") {
  auto refused = [](mail::MailContent c, const std::string& field) {
    auto mail = mail::compose(c);
    REQUIRE_FALSE(mail.ok());
    CHECK(mail.error().code == ErrorCode::kInvalid);
    REQUIRE(mail.error().fields.size() == 1);
    CHECK(mail.error().fields[0].field == field);
  };
  mail::MailContent c = sample_content();
  c.subject = "Hello\r\nBcc: everyone@example.org";
  refused(c, "subject");
  c = sample_content();
  c.subject = "Hello\nBcc: everyone@example.org";
  refused(c, "subject");
  c = sample_content();
  c.to.name = "Zoë\r\nBcc: x@example.org";
  refused(c, "to.name");
  c = sample_content();
  c.to.address = "zoe@example.org\r\nRCPT TO:<x@example.org>";
  refused(c, "to.address");
  c = sample_content();
  c.from.address = "Acme <complaints@acme.example>";
  refused(c, "from.address");
  c = sample_content();
  c.message_id = "<a@b>\r\nBcc: x@example.org";
  refused(c, "message_id");
  c = sample_content();
  c.headers.emplace_back("X-Note", "one\rtwo");
  refused(c, "headers.X-Note");
  c = sample_content();
  c.headers.emplace_back("Bcc", "x@example.org");
  refused(c, "headers");
  c = sample_content();
  c.headers.emplace_back("X-Bad: Name", "v");
  refused(c, "headers");
}

TEST_CASE("mail: compose is deterministic, threaded per case and well formed", "[mail]") {
  mail::MailContent c = sample_content();
  c.html = "<p>Dear Zoë,</p><p>Thank you &amp; welcome.</p>";
  auto first = composed(c);
  auto again = composed(c);
  CHECK(first.data == again.data);  // a retry is the same mail, byte for byte
  CHECK(first.message_id == "<n-42.CMP-2026-000042@redress.acme.example>");
  CHECK(first.envelope_from == "complaints@acme.example");
  CHECK(first.recipients == std::vector<std::string>{"zoe@example.org"});
  const std::string& d = first.data;
  CHECK(d.find("Message-ID: <n-42.CMP-2026-000042@redress.acme.example>\r\n") != std::string::npos);
  CHECK(d.find("In-Reply-To: <CMP-2026-000042@redress.acme.example>\r\n") != std::string::npos);
  CHECK(d.find("References: <CMP-2026-000042@redress.acme.example>\r\n") != std::string::npos);
  CHECK(d.find("Date: Mon, 02 Mar 2026 09:00:00 +0000\r\n") != std::string::npos);
  CHECK(d.find("MIME-Version: 1.0\r\n") != std::string::npos);
  CHECK(d.find("Content-Type: multipart/alternative;") != std::string::npos);
  CHECK(d.find("Reply-To: Acme Complaints Team <replies@acme.example>\r\n") != std::string::npos);
  CHECK(d.find("Subject: =?UTF-8?Q?=5BCMP-2026-000042=5D_Votre_r=C3=A9clamation") != std::string::npos);
  // CRLF only, and no line over 998.
  for (std::size_t i = 0; i < d.size(); ++i) {
    if (d[i] == '\n') REQUIRE((i > 0 && d[i - 1] == '\r'));
    if (d[i] == '\r') REQUIRE((i + 1 < d.size() && d[i + 1] == '\n'));
  }
  std::size_t start = 0;
  while (start < d.size()) {
    auto end = d.find("\r\n", start);
    CHECK(end - start <= 998);
    start = end + 2;
  }
  // Another notification of the same case: another id and boundary, the same thread root.
  mail::MailContent other = sample_content();
  other.html = c.html;
  mail::thread_into_case(other, 43, "CMP-2026-000042", "redress.acme.example");
  auto second = composed(other);
  CHECK(second.data != first.data);
  CHECK(second.data.find("In-Reply-To: <CMP-2026-000042@redress.acme.example>") != std::string::npos);
  CHECK(mail::subject_with_reference("CMP-2026-000042", "[CMP-2026-000042] Re: x") == "[CMP-2026-000042] Re: x");

  TempDir dir;
  write_text(dir.path() / "a.eml", first.data);
  mail::MailContent long_lines = sample_content();
  long_lines.text = std::string(3000, 'x') + "\n" + std::string(200, ' ') + "\n\ttab\t\n";
  write_text(dir.path() / "b.eml", composed(long_lines).data);
  auto parsed = strict_parse({dir.path() / "a.eml", dir.path() / "b.eml"}, dir.path());
  REQUIRE(parsed.size() == 2);
  const auto& a = parsed[0].as_object();
  CHECK(str(a.at("subject")) == "[CMP-2026-000042] Votre réclamation a bien été reçue");
  CHECK(str(a.at("to_name")) == "Zoë Ångström");
  CHECK(str(a.at("message_id")) == first.message_id);
  CHECK(str(a.at("date")) == "2026-03-02T09:00:00+00:00");
  CHECK(str(a.at("html")).find("Thank you &amp; welcome.") != std::string::npos);
  std::string plain = str(a.at("plain"));
  plain.erase(std::remove(plain.begin(), plain.end(), '\r'), plain.end());
  CHECK(plain == c.text);
  std::string long_plain = str(parsed[1].as_object().at("plain"));
  long_plain.erase(std::remove(long_plain.begin(), long_plain.end(), '\r'), long_plain.end());
  CHECK(long_plain == long_lines.text);
}

// ---- templates ----

TEST_CASE("mail: every shipped template renders with a realistic context and parses strictly", "[mail]") {
  auto templates = mail::MailTemplates::load(mail::MailTemplates::shipped_dir());
  INFO((templates.ok() ? std::string() : templates.error().detail));
  REQUIRE(templates.ok());
  Fixture fixture;
  TempDir dir;
  std::vector<fs::path> files;
  std::int64_t id = 100;
  for (const auto& name : mail::MailTemplates::required_names()) {
    INFO(name);
    auto context = fixture.context_for(name);
    auto rendered = templates->render(name, context);
    REQUIRE(rendered.ok());
    INFO(rendered->text);
    CHECK_FALSE(rendered->subject.empty());
    CHECK(rendered->text.find("{{") == std::string::npos);
    CHECK(rendered->text.find("}}") == std::string::npos);
    CHECK(rendered->text.find("CMP-2026-000042") != std::string::npos);
    CHECK(rendered->text.find("\n\n\n") == std::string::npos);  // no holes left by empty sections
    if (name.rfind("client.", 0) == 0) {
      CHECK(rendered->text.find("Dear Zoë O'Brien,") != std::string::npos);
      CHECK(rendered->text.find("https://complaints.acme.example/status/tok_abc123") != std::string::npos);
      // Text is never HTML-escaped.
      CHECK(rendered->text.find("&amp;") == std::string::npos);
    }
    mail::MailNotification n;
    n.id = id++;
    n.reference = name == "manager.digest" ? "" : "CMP-2026-000042";
    n.template_name = name;
    n.to = {name.rfind("client.", 0) == 0 ? "Zoë O'Brien" : "Priya Natarajan",
            name.rfind("client.", 0) == 0 ? "zoe@example.org" : "priya@acme.example"};
    n.created_at = kDate;
    auto mail = mail::compose_notification(n, context, *templates, fixture.settings);
    INFO((mail.ok() ? std::string() : mail.error().detail));
    REQUIRE(mail.ok());
    files.push_back(dir.path() / (name + ".eml"));
    write_text(files.back(), mail->data);
  }
  auto parsed = strict_parse(files, dir.path());
  REQUIRE(parsed.size() == files.size());
  for (std::size_t i = 0; i < parsed.size(); ++i) {
    const auto& m = parsed[i].as_object();
    const std::string& name = mail::MailTemplates::required_names()[i];
    INFO(name);
    CHECK(str(m.at("headers").as_object().at("Auto-Submitted")) == "auto-generated");
    if (name == "manager.digest") {
      CHECK(str(m.at("in_reply_to")).empty());
      continue;
    }
    CHECK(str(m.at("subject")).rfind("[CMP-2026-000042] ", 0) == 0);
    CHECK(str(m.at("in_reply_to")) == "<CMP-2026-000042@redress.acme.example>");
    CHECK(str(m.at("references")) == "<CMP-2026-000042@redress.acme.example>");
  }
  // Spot checks of the wording that each client mail must carry.
  auto text_of = [&](const std::string& name) { return templates->render(name, fixture.context_for(name))->text; };
  CHECK(text_of("client.acknowledged").find("Our full response is due by: Monday 27 April 2026 at 17:00 BST") !=
        std::string::npos);
  CHECK(text_of("client.acknowledged").find(fixture.workflow.pledge) != std::string::npos);
  CHECK(text_of("client.acknowledged").find("Priya Natarajan") != std::string::npos);
  CHECK(text_of("client.commitment_broken").find("we apologise") != std::string::npos);
  CHECK(text_of("client.commitment_broken").find("Compensation of 30.00 GBP") != std::string::npos);
  CHECK(text_of("client.redress_proposed").find("A refund of 45.99 GBP: the duplicate charge of 3 March") !=
        std::string::npos);
  CHECK(text_of("client.commitment_renegotiated").find("by Tuesday 10 March 2026 at 17:00 GMT") != std::string::npos);
  CHECK(text_of("client.closed").find("https://complaints.acme.example/survey/tok_abc123") != std::string::npos);
  CHECK(text_of("client.merged").find("your other complaint, CMP-2026-000031, so we have joined the two") !=
        std::string::npos);
  CHECK(text_of("client.merged").find("https://complaints.acme.example/status/tok_def456") != std::string::npos);
  CHECK(templates->render("client.merged", fixture.context_for("client.merged"))->subject ==
        "Your complaint is now handled under CMP-2026-000031");
  // Merged into another client's case: the reference alone, not "your other complaint", no link.
  auto strangers = fixture.context_for("client.merged");
  strangers["merged_into"] = json::object{{"reference", "CMP-2026-000031"}, {"yours", false}};
  auto stranger = templates->render("client.merged", strangers);
  REQUIRE(stranger.ok());
  CHECK(stranger->text.find("the same matter as complaint CMP-2026-000031, so we have joined") != std::string::npos);
  CHECK(stranger->text.find("your other complaint") == std::string::npos);
  CHECK(stranger->text.find("tok_def456") == std::string::npos);
  CHECK(text_of("client.message").find("The second one will be returned to your card.") != std::string::npos);
  CHECK(text_of("client.final_response").find("Energy Ombudsman") != std::string::npos);
  CHECK(text_of("manager.digest").find("broken: We will refund the duplicate payment") != std::string::npos);
  CHECK(text_of("manager.digest").find("CMP-2026-000051") != std::string::npos);
  // The HTML alternative escapes what the client wrote; the text part keeps it as written.
  auto ack = templates->render("client.acknowledged", fixture.context_for("client.acknowledged"));
  REQUIRE(ack.ok());
  CHECK(ack->html.find("Charged twice for my March bill &amp; no reply &lt;urgent&gt;") != std::string::npos);
  CHECK(ack->text.find("Charged twice for my March bill & no reply <urgent>") != std::string::npos);
  CHECK(ack->html.find("Dear Zoë O&#39;Brien,") != std::string::npos);
}

TEST_CASE("mail: missing variables render empty", "[mail]") {
  auto templates = mail::MailTemplates::load(mail::MailTemplates::shipped_dir());
  REQUIRE(templates.ok());
  for (const auto& name : templates->names()) {
    INFO(name);
    auto rendered = templates->render(name, json::object{});
    REQUIRE(rendered.ok());
    CHECK(rendered->text.find("{{") == std::string::npos);
  }
  CHECK(templates->render("client.no_such_template", json::object{}).error().code == ErrorCode::kNotFound);
}

TEST_CASE("mail: loading templates names the file and line of a mistake", "[mail]") {
  TempDir dir;
  auto copy_shipped = [&](const fs::path& to) {
    fs::create_directories(to);
    for (const auto& entry : fs::directory_iterator(mail::MailTemplates::shipped_dir()))
      fs::copy_file(entry.path(), to / entry.path().filename());
  };
  fs::path broken = dir.path() / "broken";
  copy_shipped(broken);
  write_text(broken / "client.message.txt", "Subject: Hello\n\nDear {{client.name}},\n\n{{#owner}}\nno end here\n");
  auto loaded = mail::MailTemplates::load(broken);
  REQUIRE_FALSE(loaded.ok());
  CHECK(loaded.error().detail.find("client.message.txt:5: Unclosed section \"owner\"") != std::string::npos);

  fs::path no_subject = dir.path() / "no_subject";
  copy_shipped(no_subject);
  write_text(no_subject / "client.closed.txt", "Dear {{client.name}},\n");
  loaded = mail::MailTemplates::load(no_subject);
  REQUIRE_FALSE(loaded.ok());
  CHECK(loaded.error().detail.find("client.closed.txt:1:") != std::string::npos);

  fs::path partial = dir.path() / "partial";
  copy_shipped(partial);
  write_text(partial / "staff.reopened.txt", "Subject: x\n\nline 3\n{{> nowhere}}\n");
  loaded = mail::MailTemplates::load(partial);
  REQUIRE_FALSE(loaded.ok());
  CHECK(loaded.error().detail.find("staff.reopened.txt:4: no partial \"nowhere\"") != std::string::npos);

  fs::path missing = dir.path() / "missing";
  copy_shipped(missing);
  fs::remove(missing / "client.reopened.txt");
  fs::remove(missing / "manager.digest.txt");
  loaded = mail::MailTemplates::load(missing);
  REQUIRE_FALSE(loaded.ok());
  CHECK(loaded.error().detail.find("missing client.reopened.txt, manager.digest.txt") != std::string::npos);

  CHECK(mail::MailTemplates::load(dir.path() / "nowhere").error().code == ErrorCode::kNotFound);
}

// ---- SMTP against aiosmtpd ----

TEST_CASE("mail: SmtpMailer delivers to aiosmtpd over one reused connection", "[mail][smtp]") {
  TempDir dir;
  CaptureServer server(dir.path());
  auto mailer = mailer_for(plain_options(server.url()));
  std::vector<OutgoingMail> sent;
  for (int i = 0; i < 5; ++i) {
    sent.push_back(mail_to("zoe@example.org", 42 + i));
    auto result = mailer->send(sent.back());
    INFO(result.detail);
    CHECK(result.outcome == DeliveryOutcome::kDelivered);
    CHECK(result.status_code == 250);
    CHECK(result.detail.find("250 2.0.0 Ok: queued as capture-") == 0);
  }
  auto files = server.messages();
  REQUIRE(files.size() == sent.size());
  CHECK(server.connections() == 1);
  CHECK(mailer->connections_opened() == 1);
  for (std::size_t i = 0; i < files.size(); ++i) {
    // Byte for byte what was composed: libcurl dot-stuffed ".", ".." and ".hidden" and the server undid it.
    CHECK(read_text(files[i]) == sent[i].data);
    auto envelope = server.envelope(files[i]);
    CHECK(str(envelope.at("mail_from")) == "complaints@acme.example");
    CHECK(envelope.at("rcpt_tos").as_array() == json::array{"zoe@example.org"});
  }
  auto parsed = strict_parse(files, dir.path());
  for (std::size_t i = 0; i < parsed.size(); ++i) {
    const auto& m = parsed[i].as_object();
    CHECK(str(m.at("message_id")) == sent[i].message_id);
    CHECK(str(m.at("subject")) == "[CMP-2026-000042] Votre réclamation a bien été reçue");
    CHECK(str(m.at("in_reply_to")) == "<CMP-2026-000042@redress.acme.example>");
    CHECK(str(m.at("plain")).find(".hidden line") != std::string::npos);
  }
}

TEST_CASE("mail: 550 is a permanent failure and 451 a retry, and the next mail still goes", "[mail][smtp]") {
  TempDir dir;
  CaptureServer server(dir.path(), {"--refuse", "nobody@example.org=550 5.1.1 <nobody@example.org>: no such user",
                                    "--refuse", "busy@example.org=451 4.3.0 mailbox busy, try later", "--data-reply",
                                    "quota@example.org=552 5.2.2 mailbox full", "--data-reply",
                                    "later@example.org=452 4.3.1 insufficient storage"});
  auto mailer = mailer_for(plain_options(server.url()));

  auto refused = mailer->send(mail_to("nobody@example.org", 1));
  INFO(refused.detail);
  CHECK(refused.outcome == DeliveryOutcome::kPermanentFailure);
  CHECK(refused.status_code == 550);
  CHECK(refused.detail == "the server answered RCPT TO with 550 5.1.1 <nobody@example.org>: no such user");

  auto busy = mailer->send(mail_to("busy@example.org", 2));
  CHECK(busy.outcome == DeliveryOutcome::kRetry);
  CHECK(busy.status_code == 451);

  auto full = mailer->send(mail_to("quota@example.org", 3));
  CHECK(full.outcome == DeliveryOutcome::kPermanentFailure);
  CHECK(full.status_code == 552);
  CHECK(full.detail.find("end of message") != std::string::npos);

  auto later = mailer->send(mail_to("later@example.org", 4));
  CHECK(later.outcome == DeliveryOutcome::kRetry);
  CHECK(later.status_code == 452);

  auto ok = mailer->send(mail_to("zoe@example.org", 5));
  INFO(ok.detail);
  CHECK(ok.outcome == DeliveryOutcome::kDelivered);
  REQUIRE(server.messages().size() == 1);
  (void)strict_parse(server.messages(), dir.path());
}

TEST_CASE("mail: the server down then up is a retry, then delivered exactly once", "[mail][smtp]") {
  TempDir dir;
  int port = 0;
  {
    CaptureServer probe(dir.path());  // finds a free port, then frees it
    port = probe.port();
  }
  auto mailer = mailer_for(plain_options("smtp://127.0.0.1:" + std::to_string(port)));
  OutgoingMail mail = mail_to("zoe@example.org", 77);
  auto down = mailer->send(mail);
  INFO(down.detail);
  CHECK(down.outcome == DeliveryOutcome::kRetry);
  CHECK(down.status_code == 0);
  CHECK_FALSE(down.detail.empty());

  CaptureServer server(dir.path(), {}, port);
  auto up = mailer->send(mail);
  INFO(up.detail);
  CHECK(up.outcome == DeliveryOutcome::kDelivered);
  auto files = server.messages();
  REQUIRE(files.size() == 1);
  CHECK(read_text(files[0]) == mail.data);

  // The server goes away while the mailer holds its connection: the next send is a retry...
  server.stop();
  auto gone = mailer->send(mail_to("zoe@example.org", 78));
  CHECK(gone.outcome == DeliveryOutcome::kRetry);
  // ...and when it is back, a fresh connection delivers.
  CaptureServer again(dir.path(), {}, port);
  auto back = mailer->send(mail_to("zoe@example.org", 78));
  INFO(back.detail);
  CHECK(back.outcome == DeliveryOutcome::kDelivered);
  CHECK(again.messages().size() == 1);
}

TEST_CASE("mail: a connection lost after DATA is a retry, and the retry is the same mail", "[mail][smtp]") {
  TempDir dir;
  CaptureServer server(dir.path(), {"--drop-after-data", "zoe@example.org"});
  auto mailer = mailer_for(plain_options(server.url()));
  OutgoingMail mail = mail_to("zoe@example.org", 90);
  auto first = mailer->send(mail);
  INFO(first.detail);
  CHECK(first.outcome == DeliveryOutcome::kRetry);
  CHECK(first.detail.find("a retry sends the same Message-ID") != std::string::npos);
  auto second = mailer->send(mail);
  CHECK(second.outcome == DeliveryOutcome::kRetry);
  auto files = server.messages();
  REQUIRE(files.size() == 2);
  // The server got the mail twice: the same bytes, the same Message-ID, so the client's mail
  // system keeps one (the outbox's retry never makes a second, different mail).
  CHECK(read_text(files[0]) == read_text(files[1]));
  auto parsed = strict_parse(files, dir.path());
  CHECK(str(parsed[0].as_object().at("message_id")) == str(parsed[1].as_object().at("message_id")));
  CHECK(mailer->connections_opened() == 2);
}

TEST_CASE("mail: STARTTLS required against a server without it is a retry with a clear detail", "[mail][smtp]") {
  TempDir dir;
  CaptureServer server(dir.path());
  mail::SmtpOptions options = plain_options(server.url());
  options.starttls = mail::StartTls::kRequired;
  auto mailer = mailer_for(options);
  auto result = mailer->send(mail_to("zoe@example.org", 5));
  INFO(result.detail);
  CHECK(result.outcome == DeliveryOutcome::kRetry);
  CHECK(result.detail.find("STARTTLS is required but the server does not offer it") == 0);
  CHECK(server.messages().empty());
  // Opportunistic STARTTLS sends in clear to the same server.
  options.starttls = mail::StartTls::kOpportunistic;
  auto opportunistic = mailer_for(options);
  CHECK(opportunistic->send(mail_to("zoe@example.org", 6)).outcome == DeliveryOutcome::kDelivered);
}

TEST_CASE("mail: STARTTLS and implicit TLS verify the server's certificate", "[mail][smtp]") {
  TempDir dir;
  auto cert = make_certificate(dir.path());
  CaptureServer starttls(dir.path(), {"--starttls", cert.cert.string(), cert.key.string()});
  mail::SmtpOptions options = plain_options(starttls.url());
  options.starttls = mail::StartTls::kRequired;
  // The system's CAs do not know the test certificate: refused, as a retry.
  auto unverified = mailer_for(options)->send(mail_to("zoe@example.org", 1));
  INFO(unverified.detail);
  CHECK(unverified.outcome == DeliveryOutcome::kRetry);
  CHECK(starttls.messages().empty());
  options.ca_file = cert.cert.string();
  auto mailer = mailer_for(options);
  CHECK(mailer->description().find("STARTTLS required") != std::string::npos);
  for (int i = 0; i < 2; ++i) {
    auto result = mailer->send(mail_to("zoe@example.org", 2 + i));
    INFO(result.detail);
    CHECK(result.outcome == DeliveryOutcome::kDelivered);
  }
  auto files = starttls.messages();
  REQUIRE(files.size() == 2);
  CHECK(starttls.envelope(files[0]).at("tls").as_bool());
  CHECK(mailer->connections_opened() == 1);

  CaptureServer implicit(dir.path(), {"--implicit-tls", cert.cert.string(), cert.key.string()});
  mail::SmtpOptions tls = plain_options(implicit.url("smtps"));
  tls.ca_file = cert.cert.string();
  auto result = mailer_for(tls)->send(mail_to("zoe@example.org", 9));
  INFO(result.detail);
  CHECK(result.outcome == DeliveryOutcome::kDelivered);
  REQUIRE(implicit.messages().size() == 1);
  (void)strict_parse(implicit.messages(), dir.path());
}

TEST_CASE("mail: AUTH with the URL's credentials, and the password never shows", "[mail][smtp]") {
  TempDir dir;
  const std::string password = "s3cr@t pass";
  CaptureServer server(dir.path(), {"--auth", "outbox:" + password});
  mail::SmtpOptions options = plain_options("smtp://outbox:s3cr%40t%20pass@127.0.0.1:" + std::to_string(server.port()));
  auto mailer = mailer_for(options);
  CHECK(mailer->description().find("s3cr") == std::string::npos);
  CHECK(mailer->description().find("AUTH as outbox") != std::string::npos);
  auto ok = mailer->send(mail_to("zoe@example.org", 1));
  INFO(ok.detail);
  CHECK(ok.outcome == DeliveryOutcome::kDelivered);
  REQUIRE(server.messages().size() == 1);
  CHECK(server.envelope(server.messages()[0]).at("authenticated").as_bool());

  mail::SmtpOptions wrong = plain_options(server.url());
  wrong.username = "outbox";
  wrong.password = "not the password";
  auto refused = mailer_for(wrong)->send(mail_to("zoe@example.org", 2));
  INFO(refused.detail);
  CHECK(refused.outcome == DeliveryOutcome::kRetry);  // our settings, not this mail: retried, not dead-lettered
  CHECK(refused.status_code == 535);
  CHECK(refused.detail.find("not the password") == std::string::npos);
  CHECK(server.messages().size() == 1);

  for (const char* bad : {"http://127.0.0.1:25", "not a url", "smtp://"}) {
    INFO(bad);
    mail::SmtpOptions o;
    o.url = bad;
    CHECK(mail::SmtpMailer::create(o).error().code == ErrorCode::kInvalid);
  }
}

// ---- attachments ----

namespace {

std::string attachment_base64(const std::string& bytes) {
  std::string out(sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  out.resize(std::strlen(out.c_str()));
  return out;
}

}  // namespace

TEST_CASE("mail: files make a multipart/mixed with base64 parts and RFC 2231 names that parse strictly",
          "[mail][attachments]") {
  std::string binary;
  for (int i = 0; i < 1000; ++i) binary.push_back(static_cast<char>((i * 37 + 11) % 256));
  const std::string long_name =
      "Rechnung für Zoë Ångström — März 2026, Kopie mit einem sehr langen Namen, der umbrechen muss.pdf";
  std::vector<mail::MailAttachment> files{{long_name, "application/pdf", binary},
                                          {"say \"hi\".txt", "text/plain", "hello\r\n"},
                                          {"odd.bin", "not a type; x=\"y\"", std::string("\0\r\n", 3)}};
  mail::MailContent text_only = sample_content();
  text_only.attachments = files;
  mail::MailContent with_html = sample_content();
  with_html.html = "<p>Dear Zoë,</p>";
  with_html.attachments = files;
  auto first = composed(text_only);
  CHECK(first.data == composed(text_only).data);  // a retry is the same mail
  CHECK(first.data.find("Content-Type: multipart/mixed;") != std::string::npos);
  CHECK(first.data.find("Content-Transfer-Encoding: base64") != std::string::npos);
  CHECK(first.data.find("filename*0*=UTF-8''Rechnung%20f%C3%BCr") != std::string::npos);
  CHECK(first.data.find("Content-Type: application/octet-stream\r\n") != std::string::npos);  // the odd type
  auto second = composed(with_html);
  CHECK(second.data.find("multipart/alternative") != std::string::npos);
  // Every line of the file parts within 78 characters.
  std::istringstream lines(first.data.substr(first.data.find("\r\n\r\n")));
  for (std::string line; std::getline(lines, line);) CHECK(line.size() <= 79);  // with its CR

  TempDir dir;
  write_text(dir.path() / "text.eml", first.data);
  write_text(dir.path() / "html.eml", second.data);
  auto parsed = strict_parse({dir.path() / "text.eml", dir.path() / "html.eml"}, dir.path());
  REQUIRE(parsed.size() == 2);
  for (const auto& mail : parsed) {
    const auto& o = mail.as_object();
    CHECK(str(o.at("content_type")) == "multipart/mixed");
    CHECK(str(o.at("plain")).find("Thank you.") != std::string::npos);
    const auto& attached = o.at("attachments").as_array();
    REQUIRE(attached.size() == 3);
    CHECK(str(attached[0].at("filename")) == long_name);
    CHECK(str(attached[0].at("content_type")) == "application/pdf");
    CHECK(str(attached[0].at("base64")) == attachment_base64(binary));
    CHECK(str(attached[1].at("filename")) == "say \"hi\".txt");
    CHECK(str(attached[1].at("base64")) == attachment_base64("hello\r\n"));
    CHECK(str(attached[2].at("content_type")) == "application/octet-stream");
    CHECK(str(attached[2].at("base64")) == attachment_base64(std::string("\0\r\n", 3)));
  }
  CHECK(str(parsed[1].as_object().at("html")).find("Dear Zoë") != std::string::npos);
}
