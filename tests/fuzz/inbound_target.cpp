// The inbound mail parser and the threader's helpers (adapters/inbound/parsed_message.h) on
// arbitrary bytes: parse_message never crashes, refuses only with kInvalid, and what it returns
// keeps the header's promises (UTF-8 everywhere, one-line subjects, bracketed ids, safe file
// names, the text within its limit, new_text made of the text's own lines).
#include <set>
#include <string>

#include "adapters/inbound/parsed_message.h"
#include "tests/fuzz/targets.h"
#include "tests/fuzz/text.h"

namespace redress::fuzz {

namespace {

bool one_line(std::string_view s) { return s.find_first_of("\r\n") == std::string_view::npos; }

bool bracketed(std::string_view id) {
  if (id.size() < 3 || id.front() != '<' || id.back() != '>') return false;
  for (char c : id.substr(1, id.size() - 2))
    if (c <= ' ' || c >= 127 || c == '<' || c == '>') return false;
  return true;
}

std::string_view right_trimmed(std::string_view line) {
  auto last = line.find_last_not_of(" \t");
  return last == std::string_view::npos ? std::string_view() : line.substr(0, last + 1);
}

void check_address(const inbound::MailAddress& address) {
  FUZZ_CHECK(strict_utf8(address.name) && one_line(address.name));
  FUZZ_CHECK(strict_utf8(address.address) && address.address.find_first_of(" \r\n<>,") == std::string::npos);
}

void check_reference(const std::optional<std::string>& reference) {
  if (!reference) return;
  FUZZ_CHECK(reference->size() >= 15 && reference->rfind("CMP-", 0) == 0);
}

}  // namespace

int inbound(const std::uint8_t* data, std::size_t size) {
  std::string_view raw(reinterpret_cast<const char*>(data), size);
  inbound::ParseLimits limits;
  limits.max_parts = 50;
  limits.max_text_bytes = 32 * 1024;
  auto parsed = inbound::parse_message(raw, limits);
  if (!parsed) {
    FUZZ_CHECK(parsed.error().code == ErrorCode::kInvalid);
    return 0;
  }
  const inbound::ParsedMessage& mail = parsed.value();
  FUZZ_CHECK(mail.message_id.empty() || bracketed(mail.message_id));
  for (const auto& id : mail.in_reply_to) FUZZ_CHECK(bracketed(id));
  for (const auto& id : mail.references) FUZZ_CHECK(bracketed(id));
  check_address(mail.from);
  check_address(mail.reply_to);
  for (const auto& address : mail.to) check_address(address);
  for (const auto& address : mail.cc) check_address(address);
  FUZZ_CHECK(strict_utf8(mail.subject) && one_line(mail.subject));
  FUZZ_CHECK(strict_utf8(mail.return_path) && one_line(mail.return_path));
  FUZZ_CHECK(!mail.has_empty_return_path || mail.return_path.empty());
  FUZZ_CHECK(strict_utf8(mail.text) && mail.text.find('\r') == std::string::npos);
  FUZZ_CHECK(mail.text.size() <= limits.max_text_bytes);
  FUZZ_CHECK(strict_utf8(mail.new_text));
  // new_text is made of the text's own lines.
  std::set<std::string_view> lines;
  for (std::string_view line : split(mail.text, "\n")) lines.insert(right_trimmed(line));
  for (std::string_view line : split(mail.new_text, "\n")) FUZZ_CHECK(line.empty() || lines.count(line) == 1);
  FUZZ_CHECK(mail.new_text.empty() == (mail.text.find_first_not_of(" \t\n") == std::string::npos));
  for (const auto& file : mail.attachments) {
    FUZZ_CHECK(!file.filename.empty() && strict_utf8(file.filename) && one_line(file.filename));
    FUZZ_CHECK(file.filename.find_first_of("/\\") == std::string::npos && file.filename.front() != '.');
    FUZZ_CHECK(file.content_type.find('/') != std::string::npos);
    FUZZ_CHECK(!file.is_inline || !file.content_id.empty());
  }
  for (const auto& header : mail.headers) FUZZ_CHECK(strict_utf8(header.value) && one_line(header.value));
  FUZZ_CHECK(mail.kind_reason.empty() == (mail.kind == inbound::MailKind::kPersonal));
  FUZZ_CHECK(mail.bounce.has_value() == (mail.kind == inbound::MailKind::kBounce));
  if (mail.bounce) {
    FUZZ_CHECK(mail.bounce->original_message_id.empty() || bracketed(mail.bounce->original_message_id));
    for (const auto& address : mail.bounce->failed_recipients) FUZZ_CHECK(!address.empty() && strict_utf8(address));
  }

  // The threader's helpers on what the message names.
  check_reference(inbound::reference_in_subject(mail.subject));
  check_reference(inbound::reference_in_plus_address(mail.from.address, "complaints@redress.example"));
  for (const auto& address : mail.to)
    check_reference(inbound::reference_in_plus_address(address.address, "complaints@redress.example"));
  for (const auto* ids : {&mail.in_reply_to, &mail.references})
    for (const auto& id : *ids)
      if (auto ours = inbound::parse_our_message_id(id, "redress.example")) {
        check_reference(ours->reference);
        FUZZ_CHECK(ours->notification_id >= 0);
      }
  return 0;
}

}  // namespace redress::fuzz
