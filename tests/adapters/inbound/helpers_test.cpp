// The inbound helpers on their own: references in subjects, plus-addresses and Message-IDs; the
// quote folding of quoting.h; html_to_text; the delivery status fields of classify.h.
#include <catch2/catch.hpp>

#include "adapters/inbound/classify.h"
#include "adapters/inbound/html_text.h"
#include "adapters/inbound/parsed_message.h"
#include "adapters/inbound/quoting.h"

using namespace redress::inbound;

TEST_CASE("the reference tag in a subject", "[inbound]") {
  CHECK(reference_in_subject("Re: [CMP-2026-000042] Your complaint") == std::optional<std::string>("CMP-2026-000042"));
  CHECK(reference_in_subject("AW: [cmp-2026-000042]") == std::optional<std::string>("CMP-2026-000042"));
  CHECK(reference_in_subject("[Consumers] re [CMP-2026-1234567]") == std::optional<std::string>("CMP-2026-1234567"));
  CHECK_FALSE(reference_in_subject("CMP-2026-000042 without brackets").has_value());
  CHECK_FALSE(reference_in_subject("[CMP-2026-42]").has_value());       // fewer than six digits
  CHECK_FALSE(reference_in_subject("[CMP-26-000042]").has_value());     // not a year
  CHECK_FALSE(reference_in_subject("[CMP-2026-000042x]").has_value());  // not only digits
  CHECK_FALSE(reference_in_subject("[CMP-2026-000042").has_value());
  CHECK_FALSE(reference_in_subject("").has_value());
}

TEST_CASE("the reference in a plus-address of our mailbox", "[inbound]") {
  CHECK(reference_in_plus_address("complaints+CMP-2026-000042@example.com", "complaints@example.com") ==
        std::optional<std::string>("CMP-2026-000042"));
  CHECK(reference_in_plus_address("Complaints+cmp-2026-000042@EXAMPLE.com", "complaints@example.com") ==
        std::optional<std::string>("CMP-2026-000042"));
  CHECK_FALSE(reference_in_plus_address("complaints+CMP-2026-000042@other.example", "complaints@example.com"));
  CHECK_FALSE(reference_in_plus_address("sales+CMP-2026-000042@example.com", "complaints@example.com"));
  CHECK_FALSE(reference_in_plus_address("complaints@example.com", "complaints@example.com"));
  CHECK_FALSE(reference_in_plus_address("complaints+news@example.com", "complaints@example.com"));
  CHECK_FALSE(reference_in_plus_address("", "complaints@example.com"));
}

TEST_CASE("Message-IDs Redress made", "[inbound]") {
  auto notification = parse_our_message_id("<n-17.CMP-2026-000042@redress.example>", "redress.example");
  REQUIRE(notification.has_value());
  CHECK(notification->reference == "CMP-2026-000042");
  CHECK(notification->notification_id == 17);
  auto root = parse_our_message_id("<CMP-2026-000042@Redress.Example>", "redress.example");
  REQUIRE(root.has_value());
  CHECK(root->reference == "CMP-2026-000042");
  CHECK(root->notification_id == 0);
  CHECK_FALSE(parse_our_message_id("<n-17.CMP-2026-000042@elsewhere.example>", "redress.example"));
  CHECK_FALSE(parse_our_message_id("<n-0.CMP-2026-000042@redress.example>", "redress.example"));
  CHECK_FALSE(parse_our_message_id("<n-x.CMP-2026-000042@redress.example>", "redress.example"));
  CHECK_FALSE(parse_our_message_id("<n-99999999999999999999.CMP-2026-000042@redress.example>", "redress.example"));
  CHECK_FALSE(parse_our_message_id("<abc@redress.example>", "redress.example"));
  CHECK_FALSE(parse_our_message_id("<CMP-2026-000042@redress.example>", ""));
}

TEST_CASE("new_text_of: what the writer added", "[inbound]") {
  // Outlook's "-----Original Message-----".
  CHECK(new_text_of("Yes, that is right.\r\n\r\n-----Original Message-----\r\nFrom: x\r\nSent: y\r\n\r\nOld") ==
        "Yes, that is right.");
  // Outlook for Mac: From/Date/To/Subject, and a German Outlook.
  CHECK(new_text_of("Fine.\n\nFrom: Team <t@example.com>\nDate: Tuesday, 3 March 2026 at 10:02\nTo: Jo\n"
                    "Subject: Hi\n\nOld text") == "Fine.");
  CHECK(new_text_of("Gut.\n\nVon: Team <t@example.com>\nGesendet: Dienstag, 3. März 2026 10:02\nAn: Jo\n"
                    "Betreff: Hallo\n\nAlt") == "Gut.");
  // A line that merely starts with "From:" is the writer's.
  CHECK(new_text_of("From: my old address, nothing arrived.\nThanks") == "From: my old address, nothing arrived.\nThanks");
  // Bottom-posting and inline answers keep the writer's lines.
  CHECK(new_text_of("Complaints Team wrote:\n> Your account number?\n12345678\n> And your postcode?\nLS1 4AP") ==
        "12345678\nLS1 4AP");
  // "On … wrote:" with no quote marks below: what follows is history.
  CHECK(new_text_of("See below.\n\nOn Tue, 3 Mar 2026 at 10:02 Team wrote:\nDear Jo,\nOld") == "See below.");
  // German attribution.
  CHECK(new_text_of("Danke.\n\nAm 03.03.2026 um 10:02 schrieb Complaints Team:\n> Alt") == "Danke.");
  // "wrote:" inside a sentence followed by no quote is kept.
  CHECK(new_text_of("This is what I wrote:\nthe parcel never came.") == "This is what I wrote:\nthe parcel never came.");
  // Signatures: "-- ", a bare "--", mobile lines.
  CHECK(new_text_of("Hello\n-- \nJo\n+44 113") == "Hello");
  CHECK(new_text_of("Hello\n--\nJo") == "Hello");
  CHECK(new_text_of("Hello\n\nGet Outlook for Android") == "Hello");
  CHECK(new_text_of("Hello\n\nVon meinem iPhone gesendet\n") == "Hello");
  CHECK(new_text_of("Sent from my iPhone, the refund is missing.\nPlease help.") ==
        "Sent from my iPhone, the refund is missing.\nPlease help.");
  // Folding that would leave nothing shows the whole text.
  CHECK(new_text_of("> only a quote\n> nothing else\n") == "> only a quote\n> nothing else");
  CHECK(new_text_of("") == "");
}

TEST_CASE("html_to_text renders blocks, lists, links, pre and quotes - never scripts", "[inbound]") {
  CHECK(html_to_text("<p>One</p><p>Two<br>Three</p>") == "One\n\nTwo\nThree");
  CHECK(html_to_text("<div>a</div><div>b</div>") == "a\nb");
  CHECK(html_to_text("<ol><li>first</li><li>second<ul><li>inner</li></ul></li></ol>") ==
        "1. first\n2. second\n  \u2022 inner");
  CHECK(html_to_text("<a href=\"https://x.example/a\">see</a> and <a href=\"https://x.example/b\">https://x.example/b</a>") ==
        "see (https://x.example/a) and https://x.example/b");
  CHECK(html_to_text("<a href=\"mailto:jo@x.example\">jo@x.example</a>") == "jo@x.example");
  CHECK(html_to_text("<pre>a  b\n  c</pre>") == "a  b\n  c");
  CHECK(html_to_text("<script>var a = '<p>no</p>';</script><style>p{}</style><p>yes &amp; &lt;ok&gt; &#8364;</p>") ==
        "yes & <ok> \u20ac");
  CHECK(html_to_text("<p>reply</p><blockquote><p>old</p><blockquote>older</blockquote></blockquote>") ==
        "reply\n\n> old\n>\n> > older");
  CHECK(html_to_text("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>") == "a b\nc");
  CHECK(html_to_text("<p>unclosed <b>bold <i>and") == "unclosed bold and");
  CHECK(html_to_text("") == "");
  // Deep nesting renders its text without exhausting the stack.
  std::string deep;
  for (int i = 0; i < 5000; ++i) deep += "<div>";
  deep += "deep";
  CHECK(html_to_text(deep) == "deep");
}

TEST_CASE("parse_delivery_status reads RFC 3464 blocks", "[inbound]") {
  auto report = parse_delivery_status(
      "Reporting-MTA: dns; mx.example\r\n\r\n"
      "Final-Recipient: rfc822; a@x.example\r\nAction: delivered\r\nStatus: 2.0.0\r\n\r\n"
      "Final-Recipient: rfc822; <B@X.example>\r\nAction: failed\r\nStatus: 5.2.2 (mailbox full)\r\n"
      "Diagnostic-Code: smtp; 552 5.2.2 Mailbox full\r\n\r\n"
      "Final-Recipient: rfc822; c@x.example\r\nAction: delayed\r\nStatus: 4.4.7\r\n");
  REQUIRE(report.has_value());
  CHECK(report->failed_recipients == std::vector<std::string>{"b@x.example", "c@x.example"});
  CHECK(report->status == "5.2.2");
  CHECK(report->diagnostic == "552 5.2.2 Mailbox full");
  CHECK(report->permanent);
  CHECK_FALSE(parse_delivery_status("Reporting-MTA: dns; mx\n\nFinal-Recipient: rfc822; a@x\nAction: relayed\n"));
  CHECK_FALSE(parse_delivery_status(""));
}
