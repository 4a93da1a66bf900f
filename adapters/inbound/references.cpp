// The small helpers of parsed_message.h: kinds' names, header look-up, and where a message names
// its case (subject tag, plus-address, a Message-ID Redress made).
#include <cctype>
#include <charconv>

#include "adapters/inbound/parsed_message.h"

namespace redress::inbound {

namespace {

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

bool digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// "CMP-2026-000042" (any case) -> "CMP-2026-000042": the prefix, a four-digit year, and the
// sequence number (plan_contexts.cpp writes six digits or more).
constexpr std::size_t kMaxSequenceDigits = 12;

std::optional<std::string> reference_of(std::string_view text) {
  if (text.size() < 9 || !equal_ignoring_case(text.substr(0, 4), "CMP-")) return std::nullopt;
  std::string_view year = text.substr(4, 4);
  if (!digits(year) || text[8] != '-') return std::nullopt;
  std::string_view sequence = text.substr(9);
  if (sequence.size() < 6 || sequence.size() > kMaxSequenceDigits || !digits(sequence)) return std::nullopt;
  return "CMP-" + std::string(year) + "-" + std::string(sequence);
}

}  // namespace

std::string_view to_string(MailKind kind) {
  switch (kind) {
    case MailKind::kPersonal: return "personal";
    case MailKind::kAutoReply: return "auto_reply";
    case MailKind::kBulk: return "bulk";
    case MailKind::kList: return "list";
    case MailKind::kBounce: return "bounce";
    case MailKind::kLoop: return "loop";
  }
  return "personal";
}

const MailHeader* find_header(const std::vector<MailHeader>& headers, std::string_view name) {
  for (const MailHeader& header : headers)
    if (equal_ignoring_case(header.name, name)) return &header;
  return nullptr;
}

std::optional<std::string> reference_in_subject(std::string_view subject) {
  std::size_t open = 0;
  while ((open = subject.find('[', open)) != std::string_view::npos) {
    auto close = subject.find(']', open + 1);
    if (close == std::string_view::npos) return std::nullopt;
    if (auto reference = reference_of(subject.substr(open + 1, close - open - 1))) return reference;
    open += 1;
  }
  return std::nullopt;
}

std::optional<std::string> reference_in_plus_address(std::string_view address, std::string_view mailbox_address) {
  auto at = address.rfind('@');
  auto mailbox_at = mailbox_address.rfind('@');
  if (at == std::string_view::npos || mailbox_at == std::string_view::npos) return std::nullopt;
  if (!equal_ignoring_case(address.substr(at + 1), mailbox_address.substr(mailbox_at + 1))) return std::nullopt;
  std::string_view local = address.substr(0, at);
  auto plus = local.find('+');
  if (plus == std::string_view::npos) return std::nullopt;
  if (!equal_ignoring_case(local.substr(0, plus), mailbox_address.substr(0, mailbox_at))) return std::nullopt;
  return reference_of(local.substr(plus + 1));
}

std::optional<OurMessageId> parse_our_message_id(std::string_view message_id, std::string_view domain) {
  std::string_view id = message_id;
  if (id.size() >= 2 && id.front() == '<' && id.back() == '>') id = id.substr(1, id.size() - 2);
  auto at = id.rfind('@');
  if (at == std::string_view::npos || domain.empty() || !equal_ignoring_case(id.substr(at + 1), domain))
    return std::nullopt;
  std::string_view left = id.substr(0, at);
  OurMessageId result;
  if (left.size() > 2 && (left[0] == 'n' || left[0] == 'N') && left[1] == '-') {
    auto dot = left.find('.');
    if (dot == std::string_view::npos) return std::nullopt;
    std::string_view number = left.substr(2, dot - 2);
    if (!digits(number)) return std::nullopt;
    auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), result.notification_id);
    if (error != std::errc() || end != number.data() + number.size() || result.notification_id <= 0)
      return std::nullopt;
    left = left.substr(dot + 1);
  }
  auto reference = reference_of(left);
  if (!reference) return std::nullopt;
  result.reference = std::move(*reference);
  return result;
}

}  // namespace redress::inbound
