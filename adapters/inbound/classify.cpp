#include "adapters/inbound/classify.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace redress::inbound {

namespace {

constexpr std::size_t kMaxDiagnosticBytes = 300;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  const char* space = " \t\r\n";
  auto first = s.find_first_not_of(space);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(space) - first + 1);
}

// The value up to its first ';' (RFC 3834's parameters, RFC 3464's "rfc822;"), trimmed, lower-cased.
std::string keyword(std::string_view value) { return lower(trim(value.substr(0, value.find(';')))); }

std::string local_part(std::string_view address) {
  auto at = address.rfind('@');
  return lower(at == std::string_view::npos ? address : address.substr(0, at));
}

// The comma-separated tokens of X-Auto-Response-Suppress ("DR, OOF, AutoReply").
bool has_token(std::string_view value, std::string_view token) {
  std::string wanted = lower(token);
  std::size_t start = 0;
  while (start <= value.size()) {
    auto end = value.find(',', start);
    if (end == std::string_view::npos) end = value.size();
    if (lower(trim(value.substr(start, end - start))) == wanted) return true;
    start = end + 1;
  }
  return false;
}

std::string shortened(std::string_view text, std::size_t bytes) {
  if (text.size() <= bytes) return std::string(text);
  std::size_t cut = bytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // a UTF-8 boundary
  return std::string(text.substr(0, cut)) + "…";
}

// An address from a DSN field: "rfc822; Jo@Example.com" or "rfc822;<jo@example.com>" -> "jo@example.com".
std::string dsn_address(std::string_view value) {
  auto semicolon = value.find(';');
  std::string_view address = trim(semicolon == std::string_view::npos ? value : value.substr(semicolon + 1));
  if (address.size() >= 2 && address.front() == '<' && address.back() == '>')
    address = trim(address.substr(1, address.size() - 2));
  return lower(address);
}

// A header-like block: "Name: value" lines, continuation lines appended.
using Fields = std::vector<MailHeader>;

std::vector<Fields> field_blocks(std::string_view body) {
  std::vector<Fields> blocks(1);
  std::size_t start = 0;
  while (start < body.size()) {
    auto end = body.find('\n', start);
    if (end == std::string_view::npos) end = body.size();
    std::string_view line = body.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    start = end + 1;
    if (trim(line).empty()) {
      if (!blocks.back().empty()) blocks.emplace_back();
      continue;
    }
    if ((line.front() == ' ' || line.front() == '\t') && !blocks.back().empty()) {
      blocks.back().back().value += " " + std::string(trim(line));
      continue;
    }
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;  // not a field: skipped
    blocks.back().push_back(MailHeader{std::string(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1)))});
  }
  if (blocks.back().empty()) blocks.pop_back();
  return blocks;
}

std::string field(const Fields& fields, std::string_view name) {
  const MailHeader* found = find_header(fields, name);
  return found == nullptr ? std::string() : found->value;
}

}  // namespace

std::optional<BounceReport> parse_delivery_status(std::string_view body) {
  BounceReport report;
  report.permanent = false;
  bool found = false;
  for (const Fields& block : field_blocks(body)) {
    std::string action = keyword(field(block, "Action"));
    std::string final_recipient = dsn_address(field(block, "Final-Recipient"));
    std::string original_recipient = dsn_address(field(block, "Original-Recipient"));
    if (final_recipient.empty() && original_recipient.empty()) continue;  // the per-message block
    std::string status = std::string(trim(field(block, "Status")));
    status = status.substr(0, status.find_first_of(" \t("));
    bool failed = action == "failed" || (action.empty() && !status.empty() && status[0] == '5');
    bool delayed = action == "delayed" || (action.empty() && !status.empty() && status[0] == '4');
    if (!failed && !delayed) continue;
    for (const std::string& address : {final_recipient, original_recipient})
      if (!address.empty() && std::find(report.failed_recipients.begin(), report.failed_recipients.end(), address) ==
                                  report.failed_recipients.end())
        report.failed_recipients.push_back(address);
    if (!found) {
      report.status = status;
      std::string diagnostic = field(block, "Diagnostic-Code");
      auto semicolon = diagnostic.find(';');
      if (semicolon != std::string::npos && semicolon < 12) diagnostic = diagnostic.substr(semicolon + 1);  // "smtp;"
      report.diagnostic = shortened(trim(diagnostic), kMaxDiagnosticBytes);
    }
    if (failed && (status.empty() || status[0] != '4')) report.permanent = true;
    found = true;
  }
  if (!found) return std::nullopt;
  return report;
}

bool auto_reply_subject(std::string_view subject) {
  std::string s = lower(trim(subject));
  constexpr std::array<std::string_view, 14> kOpenings = {
      "automatic reply:", "auto:",  "autoreply:",  "auto-reply:", "auto reply:", "out of office",
      "automatische antwort:", "abwesenheitsnotiz", "réponse automatique", "respuesta automática",
      "risposta automatica", "automatisch antwoord", "fuera de la oficina", "absence du bureau"};
  return std::any_of(kOpenings.begin(), kOpenings.end(), [&](std::string_view p) { return s.rfind(p, 0) == 0; });
}

Classification classify_mail(const ClassifyInput& input) {
  static const std::vector<MailHeader> kNone;
  const std::vector<MailHeader>& headers = input.headers == nullptr ? kNone : *input.headers;
  auto value_of = [&](std::string_view name) -> const std::string* {
    const MailHeader* header = find_header(headers, name);
    return header == nullptr ? nullptr : &header->value;
  };
  auto said = [](std::string_view name, std::string_view value) {
    return std::string(name) + ": " + shortened(trim(value), 80);
  };

  for (std::string_view name : {"X-Redress-Notification", "X-Redress-Loop"})
    if (const std::string* value = value_of(name)) return {MailKind::kLoop, said(name, *value)};

  if (input.report_type == "delivery-status" && input.delivery)
    return {MailKind::kBounce, "delivery status report (multipart/report)"};
  if (const std::string* value = value_of("X-Failed-Recipients")) return {MailKind::kBounce, said("X-Failed-Recipients", *value)};
  std::string sender = local_part(input.from.address);
  if (sender == "mailer-daemon") return {MailKind::kBounce, "From: " + input.from.address};
  if (sender == "postmaster" && input.has_empty_return_path)
    return {MailKind::kBounce, "From: " + input.from.address + " with an empty return path"};

  if (const std::string* value = value_of("Auto-Submitted"); value != nullptr && keyword(*value) != "no")
    return {MailKind::kAutoReply, said("Auto-Submitted", *value)};
  for (std::string_view name : {"X-Autoreply", "X-Autorespond", "X-Autoresponder"})
    if (const std::string* value = value_of(name)) return {MailKind::kAutoReply, said(name, *value)};
  const std::string* suppress = value_of("X-Auto-Response-Suppress");
  if (suppress != nullptr && (has_token(*suppress, "All") || has_token(*suppress, "AutoReply")))
    return {MailKind::kAutoReply, said("X-Auto-Response-Suppress", *suppress)};
  if (input.report_type == "delivery-status") return {MailKind::kAutoReply, "delivery status report without a failure"};
  if (input.report_type == "disposition-notification") return {MailKind::kAutoReply, "read receipt (multipart/report)"};
  if (input.has_empty_return_path) return {MailKind::kAutoReply, "Return-Path: <> (null sender)"};
  if (auto_reply_subject(input.subject)) {
    for (std::string_view name : {"X-Auto-Response-Suppress", "X-MS-Exchange-Inbox-Rules-Loop", "X-Autogenerated"})
      if (const std::string* value = value_of(name))
        return {MailKind::kAutoReply, said(name, *value) + " and an automatic-reply subject"};
  }

  const std::string* precedence = value_of("Precedence");
  std::string precedence_word = precedence == nullptr ? std::string() : keyword(*precedence);
  if (precedence_word == "bulk" || precedence_word == "junk") return {MailKind::kBulk, said("Precedence", *precedence)};
  if (precedence_word == "list") return {MailKind::kList, said("Precedence", *precedence)};
  for (std::string_view name : {"List-Id", "List-Unsubscribe"})
    if (const std::string* value = value_of(name)) return {MailKind::kList, said(name, *value)};
  return {};
}

}  // namespace redress::inbound
