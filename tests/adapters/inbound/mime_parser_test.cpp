// parse_message over the corpus of real-shaped mail in tests/adapters/inbound/corpus: the decoded
// headers, the text and what the writer added, the files, and the kind of mail.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "adapters/inbound/parsed_message.h"
#include "tests/support/files.h"

using namespace redress;
using namespace redress::inbound;

namespace {

std::string corpus(const std::string& name) {
  std::string bytes =
      testing::read_text(std::filesystem::path(REDRESS_SOURCE_DIR) / "tests/adapters/inbound/corpus" / name);
  REQUIRE_FALSE(bytes.empty());
  return bytes;
}

ParsedMessage parse(const std::string& raw) {
  auto parsed = parse_message(raw);
  REQUIRE(parsed.ok());
  return std::move(parsed).value();
}

ParsedMessage parse_file(const std::string& name) { return parse(corpus(name)); }

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

const std::string kOurThreadRoot = "<CMP-2026-000042@redress.example>";
const std::string kOurNotification = "<n-17.CMP-2026-000042@redress.example>";
const std::string kWeReceived = "[CMP-2026-000042] We have received your complaint";

}  // namespace

TEST_CASE("an Outlook reply: headers, the From/Sent block folded away, the HTML rendition alike", "[inbound]") {
  auto mail = parse_file("outlook_reply.eml");
  CHECK(mail.message_id == "<AM0PR07MB4417A1B2C3D4E5F6@AM0PR07MB4417.eurprd07.prod.outlook.com>");
  CHECK(mail.subject == "RE: " + kWeReceived);
  CHECK(mail.from.name == "Jo Bloggs");
  CHECK(mail.from.address == "Jo.Bloggs@example.com");  // the domain lower-cased, the local part as written
  REQUIRE(mail.to.size() == 1);
  CHECK(mail.to[0].name == "Complaints Team");
  CHECK(mail.to[0].address == "complaints@redress.example");
  CHECK(mail.in_reply_to == std::vector<std::string>{kOurNotification});
  CHECK(mail.references == std::vector<std::string>{kOurThreadRoot, kOurNotification});
  CHECK(mail.return_path == "Jo.Bloggs@example.com");
  CHECK_FALSE(mail.has_empty_return_path);
  REQUIRE(mail.date.has_value());
  CHECK(format_time(*mail.date) == "2026-03-04T09:14:58Z");
  CHECK(mail.kind == MailKind::kPersonal);
  CHECK(mail.kind_reason.empty());
  CHECK_FALSE(mail.from_html);
  CHECK(mail.attachments.empty());
  CHECK(mail.text.find("From: Complaints Team <complaints@redress.example>\nSent: 03 March 2026 10:02\n") !=
        std::string::npos);
  CHECK(mail.new_text == "Hello,\n\nThe refund has still not arrived \u2013 it is now three weeks.\n\nRegards,\nJo");

  // Without the text/plain rendition the HTML one is read: <b>From:</b> lines fold the same way.
  auto html = parse(replaced(corpus("outlook_reply.eml"), "Content-Type: text/plain;", "Content-Type: text/x-other;"));
  CHECK(html.from_html);
  CHECK(html.text.find("From: Complaints Team <complaints@redress.example>\nSent: 03 March 2026 10:02\nTo: Jo") !=
        std::string::npos);
  CHECK(html.text.find("P {margin") == std::string::npos);  // the style sheet is dropped
  CHECK(html.new_text == "Hello,\n\nThe refund has still not arrived \u2013 it is now three weeks.\n\nRegards,\nJo");
}

TEST_CASE("a Gmail reply: a wrapped \"On … wrote:\" and \"> \" quotes fold away, in text and in HTML", "[inbound]") {
  auto mail = parse_file("gmail_reply.eml");
  CHECK(mail.message_id == "<CAF=k3Zs8Qm1xYz+Vb0oLp9aR2cT4uW6eX8yZ0aB1cD2eF3gH4@mail.gmail.com>");
  CHECK(mail.from.address == "jo.bloggs@gmail.com");
  CHECK(mail.subject == "Re: " + kWeReceived);
  CHECK(mail.in_reply_to == std::vector<std::string>{kOurNotification});
  CHECK(mail.text.find("> We have received your complaint and will reply by 17 March 2026.") != std::string::npos);
  const std::string added =
      "Thank you. The caf\u00e9 manager was rude to me again today, so I would like\nthis to go further.\n\nJo";
  CHECK(mail.new_text == added);

  auto html = parse(replaced(corpus("gmail_reply.eml"), "Content-Type: text/plain;", "Content-Type: text/x-other;"));
  CHECK(html.from_html);
  CHECK(html.text.find("> Dear Jo,\n>\n> We have received your complaint") != std::string::npos);
  CHECK(html.new_text ==
        "Thank you. The caf\u00e9 manager was rude to me again today, so I would like this to go further.\n\nJo");
}

TEST_CASE("an Apple Mail reply: the quote below \"Sent from my iPhone\" and the signature fold away", "[inbound]") {
  auto mail = parse_file("apple_mail_reply.eml");
  CHECK(mail.message_id == "<5E1B2C3D-4F5A-6B7C-8D9E-0F1A2B3C4D5E@icloud.com>");
  CHECK(mail.to.size() == 1);
  CHECK(mail.to[0].name.empty());
  CHECK(mail.new_text == "I have attached nothing this time, but I am still waiting for the refund.");

  auto html = parse(replaced(corpus("apple_mail_reply.eml"), "Content-Type: text/plain;", "Content-Type: text/x-other;"));
  CHECK(html.from_html);
  CHECK(html.text.find("> On 3 Mar 2026, at 10:02, Complaints Team <complaints@redress.example> wrote:") !=
        std::string::npos);
  CHECK(html.new_text == "I have attached nothing this time, but I am still waiting for the refund.");
}

TEST_CASE("a Thunderbird reply: an interleaved answer stays, the quote and the \"-- \" signature go", "[inbound]") {
  auto mail = parse_file("thunderbird_reply.eml");
  CHECK(mail.from.address == "jo@bloggs.example");
  REQUIRE(mail.date.has_value());
  CHECK(format_time(*mail.date) == "2026-03-04T12:30:00Z");  // +0100
  CHECK(mail.text.find("-- \nJo Bloggs\n07700 900123") != std::string::npos);
  CHECK(mail.new_text == "Hello,\n\nmy account number is 12345678.\n\nThanks.");
}

TEST_CASE("HTML-only mail becomes readable text: lists, links, entities - no script or style", "[inbound]") {
  auto mail = parse_file("html_only.eml");
  CHECK(mail.from_html);
  CHECK(mail.text ==
        "Dear \u00e9quipe,\n\nThree things went wrong:\n\n"
        "\u2022 the delivery was late,\n\u2022 the box was damaged, and\n"
        "\u2022 nobody answered the phone (tel:+441134960000).\n\n"
        "My order is on your site (https://shop.example/orders/42) & I kept the receipt.\n\nJo\n\n"
        "> On 3 Mar 2026, at 10:02, Complaints Team <complaints@redress.example> wrote:\n\n"
        "> Dear Jo,\n>\n> Please tell us what happened.");
  CHECK(mail.new_text ==
        "Dear \u00e9quipe,\n\nThree things went wrong:\n\n"
        "\u2022 the delivery was late,\n\u2022 the box was damaged, and\n"
        "\u2022 nobody answered the phone (tel:+441134960000).\n\n"
        "My order is on your site (https://shop.example/orders/42) & I kept the receipt.\n\nJo");
}

TEST_CASE("ISO-8859-1 and Shift_JIS bodies and encoded words become UTF-8", "[inbound]") {
  auto latin = parse_file("iso_8859_1.eml");
  CHECK(latin.subject == "R\u00e9clamation : service tr\u00e8s d\u00e9cevant");
  CHECK(latin.from.name == "Marie Lef\u00e8vre");
  CHECK(latin.text == "Bonjour,\n\nTr\u00e8s d\u00e9\u00e7u par le service. \u00c7a suffit !\n\nMarie\n");
  CHECK(latin.new_text == "Bonjour,\n\nTr\u00e8s d\u00e9\u00e7u par le service. \u00c7a suffit !\n\nMarie");

  auto japanese = parse_file("shift_jis.eml");
  CHECK(japanese.subject == "\u8fd4\u91d1\u306e\u4ef6\u306b\u3064\u3044\u3066");  // 返金の件について
  CHECK(japanese.from.name == "\u5c71\u7530 \u592a\u90ce");                       // 山田 太郎 (ISO-2022-JP)
  CHECK(japanese.text ==
        "\u304a\u4e16\u8a71\u306b\u306a\u3063\u3066\u304a\u308a\u307e\u3059\u3002\n"   // お世話になっております。
        "\u8fd4\u91d1\u304c\u307e\u3060\u5c4a\u3044\u3066\u3044\u307e\u305b\u3093\u3002\n\n"  // 返金がまだ届いていません。
        "\u5c71\u7530\u592a\u90ce\n");
}

TEST_CASE("RFC 2047 section 8: the example message and the encoded-word vectors", "[inbound]") {
  auto mail = parse_file("rfc2047_example.eml");
  CHECK(mail.subject == "If you can read this you understand the example.");
  CHECK(mail.from.name == "Keith Moore");
  CHECK(mail.from.address == "moore@cs.utk.edu");
  REQUIRE(mail.to.size() == 1);
  CHECK(mail.to[0].name == "Keld J\u00f8rn Simonsen");
  REQUIRE(mail.cc.size() == 1);
  CHECK(mail.cc[0].name == "Andr\u00e9 Pirard");
  CHECK(mail.cc[0].address == "PIRARD@vm1.ulg.ac.be");

  // The section's table: encoded text, and what is displayed.
  const std::pair<const char*, const char*> vectors[] = {
      {"=?ISO-8859-1?Q?a?=", "a"},
      {"=?ISO-8859-1?Q?a?= b", "a b"},
      {"=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=", "ab"},
      {"=?ISO-8859-1?Q?a?=  =?ISO-8859-1?Q?b?=", "ab"},
      {"=?ISO-8859-1?Q?a?=\r\n    =?ISO-8859-1?Q?b?=", "ab"},
      {"=?ISO-8859-1?Q?a_b?=", "a b"},
      {"=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=", "a b"},
  };
  for (const auto& [encoded, displayed] : vectors) {
    INFO(encoded);
    auto parsed = parse(std::string("From: a@example.com\r\nSubject: ") + encoded + "\r\n\r\nbody\r\n");
    CHECK(parsed.subject == displayed);
  }
}

TEST_CASE("files: RFC 2231 names, a PDF, an inline image with its Content-ID", "[inbound]") {
  auto named = parse_file("rfc2231_filenames.eml");
  CHECK(named.text == "Two documents attached.\n");
  REQUIRE(named.attachments.size() == 2);
  CHECK(named.attachments[0].filename == "R\u00e9clamation d\u00e9taill\u00e9e.pdf");
  CHECK(named.attachments[0].content_type == "application/pdf");
  CHECK(named.attachments[0].bytes.size() == 142);
  CHECK(named.attachments[0].bytes.rfind("%PDF-1.4\n", 0) == 0);
  CHECK(named.attachments[1].filename == "Relev\u00e9 de compte mars.txt");  // continued, ISO-8859-1
  CHECK(named.attachments[1].content_type == "text/plain");
  CHECK(named.attachments[1].bytes == "Balance: 0.00");

  auto mail = parse_file("attachments.eml");
  CHECK(mail.text == "The parcel arrived crushed. A photo is below and the receipt is attached.\n");
  CHECK_FALSE(mail.from_html);
  REQUIRE(mail.attachments.size() == 2);
  const auto& photo = mail.attachments[0];
  CHECK(photo.filename == "damage.png");
  CHECK(photo.content_type == "image/png");
  CHECK(photo.bytes.size() == 70);
  CHECK(photo.bytes.rfind("\x89PNG\r\n\x1a\n", 0) == 0);
  CHECK(photo.is_inline);
  CHECK(photo.content_id == "photo1@bloggs.example");
  const auto& receipt = mail.attachments[1];
  CHECK(receipt.filename == "receipt.pdf");
  CHECK(receipt.content_type == "application/pdf");
  CHECK(receipt.bytes.size() == 142);
  CHECK_FALSE(receipt.is_inline);
  CHECK(receipt.content_id.empty());
}

TEST_CASE("a forward carries the original message as one message/rfc822 file", "[inbound]") {
  auto mail = parse_file("forward_rfc822.eml");
  CHECK(mail.subject == "Fwd: Complaint about the branch in Leeds");
  CHECK(mail.text == "I am writing on behalf of my mother; her original message is attached.\n");
  REQUIRE(mail.attachments.size() == 1);
  const auto& original = mail.attachments[0];
  CHECK(original.filename == "Complaint about the branch in Leeds.eml");
  CHECK(original.content_type == "message/rfc822");
  // The file is a message itself, parsed as such.
  auto inner = parse(original.bytes);
  CHECK(inner.message_id == "<original@family.example>");
  CHECK(inner.from.address == "ann@family.example");
  CHECK(inner.text == "I waited two hours and nobody helped me.\n");
}

TEST_CASE("auto-replies: RFC 3834 Auto-Submitted, and Exchange's out-of-office by header and subject together",
          "[inbound]") {
  auto vacation = parse_file("out_of_office.eml");
  CHECK(vacation.kind == MailKind::kAutoReply);
  CHECK(vacation.kind_reason == "Auto-Submitted: auto-replied (vacation)");
  CHECK(vacation.text == "I am away until 20 March with no access to email.\n");

  auto exchange = parse_file("exchange_oof.eml");
  CHECK(exchange.kind == MailKind::kAutoReply);
  CHECK(exchange.kind_reason == "X-Auto-Response-Suppress: OOF and an automatic-reply subject");
  CHECK(exchange.subject == "Automatic reply: " + kWeReceived);

  // The subject alone never decides: a client may write "Automatic reply: …".
  auto subject_only = parse(replaced(replaced(corpus("exchange_oof.eml"), "X-Auto-Response-Suppress: OOF\r\n", ""),
                                     "X-MS-Exchange-Inbox-Rules-Loop: jo.bloggs@example.com\r\n", ""));
  CHECK(subject_only.kind == MailKind::kPersonal);
  // Nor does the weak header alone, without the subject.
  auto header_only =
      parse(replaced(corpus("exchange_oof.eml"), "Subject: Automatic reply: ", "Subject: More about "));
  CHECK(header_only.kind == MailKind::kPersonal);
  // "All" is Exchange's own auto-reply marker, enough by itself.
  auto suppress_all = parse(replaced(corpus("forged_reference.eml"), "MIME-Version", "X-Auto-Response-Suppress: All\r\nMIME-Version"));
  CHECK(suppress_all.kind == MailKind::kAutoReply);
  CHECK(suppress_all.kind_reason == "X-Auto-Response-Suppress: All");
  // "Auto-Submitted: no" is a person.
  auto person = parse(replaced(corpus("forged_reference.eml"), "MIME-Version", "Auto-Submitted: no\r\nMIME-Version"));
  CHECK(person.kind == MailKind::kPersonal);
}

TEST_CASE("a delivery status report is a bounce with its RFC 3464 fields and the bounced Message-ID", "[inbound]") {
  auto mail = parse_file("dsn_bounce.eml");
  CHECK(mail.kind == MailKind::kBounce);
  CHECK(mail.kind_reason == "delivery status report (multipart/report)");
  CHECK(mail.has_empty_return_path);
  CHECK(mail.return_path.empty());
  CHECK(mail.from.address == "MAILER-DAEMON@mx.redress.example");
  REQUIRE(mail.bounce.has_value());
  CHECK(mail.bounce->failed_recipients == std::vector<std::string>{"jo.bloggs@example.com"});
  CHECK(mail.bounce->status == "5.1.1");
  CHECK(mail.bounce->permanent);
  CHECK(mail.bounce->diagnostic ==
        "550 5.1.1 <jo.bloggs@example.com>: Recipient address rejected: User unknown in virtual mailbox table");
  CHECK(mail.bounce->original_message_id == kOurNotification);
  CHECK(mail.text.rfind("This is the mail system at host mx.redress.example.", 0) == 0);
  REQUIRE(mail.attachments.size() == 1);
  CHECK(mail.attachments[0].content_type == "message/rfc822");

  // A delay is a bounce too, not permanent.
  auto delayed = parse(replaced(replaced(corpus("dsn_bounce.eml"), "Action: failed", "Action: delayed"),
                                "Status: 5.1.1", "Status: 4.4.1"));
  CHECK(delayed.kind == MailKind::kBounce);
  REQUIRE(delayed.bounce.has_value());
  CHECK(delayed.bounce->status == "4.4.1");
  CHECK_FALSE(delayed.bounce->permanent);
  // A report that everything was delivered is no bounce, and no person either.
  auto delivered = parse(replaced(replaced(corpus("dsn_bounce.eml"), "Action: failed", "Action: delivered"),
                                  "From: MAILER-DAEMON@", "From: reports@"));
  CHECK(delivered.kind == MailKind::kAutoReply);
  CHECK_FALSE(delivered.bounce.has_value());
}

TEST_CASE("MAILER-DAEMON and postmaster with a null sender are bounces without a status report", "[inbound]") {
  const std::string plain_bounce =
      "Return-Path: <>\r\nFrom: Mail Delivery Subsystem <MAILER-DAEMON@mail.example.net>\r\n"
      "To: complaints@redress.example\r\nSubject: Mail delivery failed\r\n"
      "X-Failed-Recipients: Jo@Example.com\r\n\r\nA message could not be delivered.\r\n";
  auto mail = parse(plain_bounce);
  CHECK(mail.kind == MailKind::kBounce);
  CHECK(mail.kind_reason == "X-Failed-Recipients: Jo@Example.com");
  REQUIRE(mail.bounce.has_value());
  CHECK(mail.bounce->failed_recipients == std::vector<std::string>{"jo@example.com"});

  auto postmaster = parse(
      "Return-Path: <>\r\nFrom: postmaster@mail.example.net\r\nSubject: Undeliverable\r\n\r\nNot delivered.\r\n");
  CHECK(postmaster.kind == MailKind::kBounce);
  CHECK(postmaster.kind_reason == "From: postmaster@mail.example.net with an empty return path");
  // A postmaster writing as a person, with a return path, is a person.
  auto person = parse("Return-Path: <postmaster@mail.example.net>\r\nFrom: postmaster@mail.example.net\r\n"
                      "Subject: Your complaint\r\n\r\nWe looked into it.\r\n");
  CHECK(person.kind == MailKind::kPersonal);
  // Any other null sender is an automatic message: never answered.
  auto null_sender = parse("Return-Path: <>\r\nFrom: robot@example.net\r\nSubject: Hi\r\n\r\nHi.\r\n");
  CHECK(null_sender.kind == MailKind::kAutoReply);
  CHECK(null_sender.kind_reason == "Return-Path: <> (null sender)");
}

TEST_CASE("list and bulk mail, and Redress's own mail coming back", "[inbound]") {
  auto list = parse_file("mailing_list.eml");
  CHECK(list.kind == MailKind::kList);
  CHECK(list.kind_reason == "Precedence: list");
  auto list_id_only = parse(replaced(corpus("mailing_list.eml"), "Precedence: list\r\n", ""));
  CHECK(list_id_only.kind == MailKind::kList);
  CHECK(list_id_only.kind_reason == "List-Id: Consumer rights discussion <consumers.lists.example.org>");

  auto newsletter = parse_file("newsletter.eml");
  CHECK(newsletter.kind == MailKind::kBulk);
  CHECK(newsletter.kind_reason == "Precedence: bulk");
  CHECK(newsletter.from_html);
  CHECK(newsletter.text ==
        "Spring sale\n\nEverything \u00a310 off. Shop now (https://shop.example/sale)\n\n"
        "Unsubscribe (https://shop.example/unsubscribe?u=42)");

  auto loop = parse_file("loop.eml");
  CHECK(loop.kind == MailKind::kLoop);
  CHECK(loop.kind_reason == "X-Redress-Notification: n-18");
  auto relayed = parse(replaced(corpus("forged_reference.eml"), "MIME-Version", "X-Redress-Loop: redress.example\r\nMIME-Version"));
  CHECK(relayed.kind == MailKind::kLoop);
  CHECK(relayed.kind_reason == "X-Redress-Loop: redress.example");
  REQUIRE(find_header(loop.headers, "x-redress-case") != nullptr);
  CHECK(find_header(loop.headers, "x-redress-case")->value == "CMP-2026-000042");
}

TEST_CASE("a stranger's reply with a guessed reference parses as a person's: the pipeline holds it", "[inbound]") {
  auto mail = parse_file("forged_reference.eml");
  CHECK(mail.kind == MailKind::kPersonal);
  CHECK(mail.from.address == "mallory@evil.example");
  CHECK(reference_in_subject(mail.subject) == std::optional<std::string>("CMP-2026-000042"));
  REQUIRE(mail.in_reply_to.size() == 1);
  auto ours = parse_our_message_id(mail.in_reply_to[0], "redress.example");
  REQUIRE(ours.has_value());
  CHECK(ours->reference == "CMP-2026-000042");
  CHECK(ours->notification_id == 17);
}

TEST_CASE("malformed mail: 8-bit headers, no closing boundary, bad base64, no body", "[inbound]") {
  auto mail = parse_file("malformed.eml");
  CHECK(mail.subject == "Beschwerde \u00fcber die Rechnung");  // raw ISO-8859-1 in the header
  CHECK(mail.from.name == "J\u00f6rg M\u00fcller");             // raw UTF-8 in the header
  CHECK(mail.text == "The invoice is wrong.\n\nAnd the total is twice what I agreed.\n");
  REQUIRE(mail.attachments.size() == 1);
  CHECK(mail.attachments[0].filename == "scan.bin");
  CHECK(mail.attachments[0].bytes == "Hello world");  // the invalid characters skipped

  auto empty = parse_file("no_body.eml");
  CHECK(empty.subject == "(no body)");
  CHECK(empty.from.name.empty());
  CHECK(empty.from.address == "jo@bloggs.example");
  CHECK(empty.text.empty());
  CHECK(empty.new_text.empty());
  CHECK(empty.attachments.empty());
  CHECK_FALSE(empty.date.has_value());

  // Invalid UTF-8 declared as UTF-8 is replaced, never passed on.
  auto broken = parse("From: a@example.com\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nok \xC3\x28 done\r\n");
  CHECK(broken.text == "ok \xEF\xBF\xBD( done\n");
}

TEST_CASE("input that is not a message is refused - limits hold", "[inbound]") {
  CHECK(parse_message("").error().code == ErrorCode::kInvalid);
  CHECK(parse_message("hello world, this is not mail\r\n").error().code == ErrorCode::kInvalid);
  CHECK(parse_message("\r\n\r\nbody only\r\n").error().code == ErrorCode::kInvalid);
  ParseLimits small;
  small.max_message_bytes = 100;
  auto big = parse_message(corpus("gmail_reply.eml"), small);
  REQUIRE_FALSE(big.ok());
  CHECK(big.error().detail.find("more than the limit of 100") != std::string::npos);

  // An mbox "From " line (a Postfix pipe) is skipped.
  auto mbox = parse("From jo@bloggs.example Wed Mar  4 13:30:00 2026\n" + corpus("thunderbird_reply.eml"));
  CHECK(mbox.from.address == "jo@bloggs.example");

  // The text is cut on a character boundary.
  ParseLimits short_text;
  short_text.max_text_bytes = 5;
  auto cut = parse_message("From: a@example.com\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nabcd\xC3\xA9\r\n",
                           short_text);
  REQUIRE(cut.ok());
  CHECK(cut.value().text == "abcd");

  // Parts beyond max_parts are not walked.
  ParseLimits few_parts;
  few_parts.max_parts = 2;
  auto truncated = parse_message(corpus("attachments.eml"), few_parts);
  REQUIRE(truncated.ok());
  CHECK(truncated.value().attachments.empty());
}
