// ParsedMessage: one inbound email taken apart — who sent it, what it answers, its text, its files,
// and what kind of mail it is (a person writing, or a machine: auto-reply, bulk, list, bounce).
//
// parse_message() builds it from the raw RFC 5322 bytes with GMime 3 (charsets, RFC 2047/2231,
// nested multiparts, message/rfc822, malformed input); HTML-only mail becomes text through
// libxml2's HTML parser. Parsing never throws and never fails on odd mail: what cannot be decoded
// is replaced (U+FFFD) or skipped, and only input that is not a message at all is an Error.
// Plain values; parse_message and the helpers below are pure and thread-safe (GMime is initialised
// once, on first use, under std::call_once).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/result.h"
#include "engine/time.h"

namespace redress::inbound {

struct MailAddress {
  std::string name;     // display name, decoded to UTF-8; may be empty
  std::string address;  // addr-spec, domain lower-cased; empty when absent or unparseable
};

struct MailHeader {
  std::string name;   // as written, e.g. "Auto-Submitted"
  std::string value;  // unfolded, RFC 2047 words decoded to UTF-8
};
// The first header named `name` (compared case-insensitively); nullptr when there is none.
[[nodiscard]] const MailHeader* find_header(const std::vector<MailHeader>& headers, std::string_view name);

struct ParsedAttachment {
  std::string filename;      // decoded (RFC 2231/2047), path parts removed; "attachment-N" when absent
  std::string content_type;  // "application/pdf"; lower-cased type/subtype only
  std::string bytes;         // decoded content (base64/quoted-printable undone)
  bool is_inline = false;    // Content-Disposition inline with a Content-ID (an image in HTML mail)
  std::string content_id;    // without angle brackets; "" when none (what an HTML body's cid: names)
};

// What kind of mail this is. Only kPersonal may open a case or be answered.
enum class MailKind {
  kPersonal,   // a person wrote it
  kAutoReply,  // RFC 3834 Auto-Submitted other than "no", X-Autoreply, out-of-office markers
  kBulk,       // Precedence: bulk/junk, or similar bulk markers
  kList,       // Precedence: list, or List-Id / List-Unsubscribe headers
  kBounce,     // a delivery status report (multipart/report; report-type=delivery-status), or from
               // MAILER-DAEMON/postmaster with an empty return path
  kLoop,       // carries Redress's own loop header: our own mail came back
};
[[nodiscard]] std::string_view to_string(MailKind kind);

// A delivery status report (RFC 3464), when kind is kBounce.
struct BounceReport {
  std::vector<std::string> failed_recipients;  // Final-Recipient / Original-Recipient addresses, lower-cased
  std::string status;                          // "5.1.1"
  std::string diagnostic;                      // Diagnostic-Code text, short
  std::string original_message_id;             // the bounced message's Message-ID (from the returned headers)
  bool permanent = true;                       // 5.x.x; false for 4.x.x (delayed)
};

struct ParsedMessage {
  std::string message_id;                // with angle brackets, e.g. "<abc@example.com>"; empty when absent
  std::vector<std::string> in_reply_to;  // Message-IDs, with angle brackets
  std::vector<std::string> references;   // Message-IDs, with angle brackets, in header order
  MailAddress from;
  MailAddress reply_to;  // empty address when absent
  std::vector<MailAddress> to;
  std::vector<MailAddress> cc;
  std::string return_path;  // without angle brackets; "" for "<>" (and see has_empty_return_path)
  bool has_empty_return_path = false;
  std::string subject;         // decoded to UTF-8, unfolded
  std::optional<Time> date;    // the Date header, when it parses
  std::string text;            // the whole body as UTF-8 text (from text/plain, else from text/html)
  std::string new_text;        // text without the quoted history and the signature: what the writer added
  bool from_html = false;      // text came from an HTML part (no text/plain alternative)
  std::vector<ParsedAttachment> attachments;
  MailKind kind = MailKind::kPersonal;
  std::string kind_reason;  // why it is not personal, e.g. "Auto-Submitted: auto-replied"
  std::optional<BounceReport> bounce;
  std::vector<MailHeader> headers;  // the top-level headers, in order (the classifier reads them)
};

struct ParseLimits {
  std::size_t max_message_bytes = 25u << 20;  // larger input is an Error (nothing parsed)
  std::size_t max_parts = 200;                // MIME parts walked; the rest are ignored
  std::size_t max_text_bytes = 1u << 20;      // text is cut (on a UTF-8 boundary) beyond this
};

// Takes the raw message (RFC 5322, CRLF or LF line ends) apart. kInvalid only when the input is
// empty, too large, or has no header block at all.
[[nodiscard]] Result<ParsedMessage> parse_message(std::string_view raw, const ParseLimits& limits = {});

// The case reference tagged in a subject, "[CMP-2026-000042]" -> "CMP-2026-000042"; nullopt when none.
[[nodiscard]] std::optional<std::string> reference_in_subject(std::string_view subject);

// The reference of a plus-address "complaints+CMP-2026-000042@example.com" -> "CMP-2026-000042",
// when the address's local part before '+' and its domain equal `mailbox_address`'s; nullopt otherwise.
[[nodiscard]] std::optional<std::string> reference_in_plus_address(std::string_view address,
                                                                   std::string_view mailbox_address);

// A Message-ID Redress made (adapters/mail/mime.h: "<n-17.CMP-2026-000042@domain>" for a notification,
// "<CMP-2026-000042@domain>" for a case's thread root), when its domain is `domain`.
struct OurMessageId {
  std::string reference;
  std::int64_t notification_id = 0;  // 0 for a thread root
};
[[nodiscard]] std::optional<OurMessageId> parse_our_message_id(std::string_view message_id, std::string_view domain);

}  // namespace redress::inbound
