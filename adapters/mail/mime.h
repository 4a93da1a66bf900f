// MIME composition: a notification's content turned into one RFC 5322 message with MIME parts.
//
// compose() writes a text/plain part (UTF-8, quoted-printable) and, when there is an HTML body, a
// multipart/alternative with both; with attachments, a multipart/mixed of that body and the files
// (base64 in 76-character lines). Non-ASCII header text becomes RFC 2047 encoded-words; lines end
// in CRLF, headers fold at 78 characters and no line exceeds 998. The output depends on the input
// only (the multipart boundary is derived from the Message-ID, nothing is random and the date is
// given), so a retried notification is the same mail byte for byte. Header input containing CR or
// LF is refused, never passed through: it could inject headers. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/outbound.h"
#include "engine/result.h"
#include "engine/time.h"

namespace redress::mail {

// A mailbox: a display name (any UTF-8, may be empty) and a bare ASCII address.
struct MailAddress {
  std::string name;
  std::string address;  // "jo@example.org": no angle brackets, no spaces
};

// A file sent with a mail: a base64 part with Content-Disposition attachment; a short printable
// ASCII name as `filename="..."`, any other as RFC 2231 `filename*` (UTF-8, percent-encoded, in
// numbered sections on short lines).
struct MailAttachment {
  std::string filename;      // UTF-8; path parts are the caller's to drop
  std::string content_type;  // "image/png"; anything not type/subtype is sent as application/octet-stream
  std::string bytes;
};

struct MailContent {
  MailAddress from;
  std::optional<MailAddress> reply_to;
  MailAddress to;
  std::string subject;                  // UTF-8; encoded as needed
  std::string text;                     // the plain-text body, UTF-8; "\n" or "\r\n" line ends
  std::string html;                     // the HTML body; empty for none
  std::string message_id;               // "<n-42.CMP-2026-000042@redress.example>"
  std::string in_reply_to;              // "<CMP-2026-000042@redress.example>"; empty for none
  std::vector<std::string> references;  // message ids, oldest first
  Time date{};
  // Further headers, in this order: {"X-Redress-Case", "CMP-2026-000042"}, {"Auto-Submitted", "auto-generated"}.
  std::vector<std::pair<std::string, std::string>> headers;
  // With files the message is multipart/mixed: the body (text, or the alternative), then each file.
  std::vector<MailAttachment> attachments;
};

// RFC 2047 encoded-words for unstructured header text. ASCII text without control characters whose
// words fit a folded line (the first within `first_word_max`) is returned as it is. Otherwise the whole text is encoded
// as "=?UTF-8?Q?...?=" or "=?UTF-8?B?...?=" (Q unless it is over 25% longer than B), split into words joined by single
// spaces. No word is longer than 75 characters (the first at most `first_word_max`, to fit beside a header name) and no
// word splits a UTF-8 sequence. Invalid UTF-8 is replaced by U+FFFD first. The Q form uses only characters allowed in a
// phrase, so the result is valid in Subject and in display names alike.
[[nodiscard]] std::string encode_header_word(std::string_view text, std::size_t first_word_max = 75);

// A display name as it goes before "<address>": atoms as they are, a quoted-string for ASCII with
// specials ("O'Brien, Jo" -> "\"O'Brien, Jo\""), encoded-words for non-ASCII and for names longer
// than 60 characters (escapes counted).
[[nodiscard]] std::string encode_display_name(std::string_view name);

// "Mon, 02 Mar 2026 09:00:00 +0000": the RFC 5322 date-time of `t` in UTC, whole seconds.
[[nodiscard]] std::string rfc5322_date(Time t);

// `Content-Disposition: attachment; filename="..."` for a short printable ASCII name, else
// `attachment; filename*0*=UTF-8''...; filename*1*=...` (RFC 2231), one parameter a line, each
// line within 78 characters. Pure.
[[nodiscard]] std::string attachment_disposition(std::string_view filename);

// The message. kInvalid, naming the field, for CR or LF in any header input, an address that is
// not a bare ASCII addr-spec, a message id that is not "<left@right>", or a malformed extra
// header name (or one of the headers compose() writes itself).
[[nodiscard]] Result<OutgoingMail> compose(const MailContent& content);

// ---- threading per case ----
// Every mail of a case answers the case's thread root, a message id that is never sent itself:
// In-Reply-To and References name it, so mail clients group a case's mails into one thread.

// "<CMP-2026-000042@redress.example>"
[[nodiscard]] std::string thread_root_id(std::string_view reference, std::string_view domain);
// "<n-42.CMP-2026-000042@redress.example>": one per notification, the same on every attempt.
[[nodiscard]] std::string notification_message_id(std::int64_t notification_id, std::string_view reference,
                                                  std::string_view domain);
// "[CMP-2026-000042] subject"; a subject that already carries the tag is returned as it is.
[[nodiscard]] std::string subject_with_reference(std::string_view reference, std::string_view subject);
// Sets message_id, in_reply_to and references of `content` for notification `notification_id` of
// the case, and adds the subject tag.
void thread_into_case(MailContent& content, std::int64_t notification_id, std::string_view reference,
                      std::string_view domain);

}  // namespace redress::mail
