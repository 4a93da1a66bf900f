#include "engine/model.h"

#include <algorithm>
#include <array>

#include "engine/result.h"

namespace redress {

const char* to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalid: return "invalid";
    case ErrorCode::kNotFound: return "not_found";
    case ErrorCode::kRefused: return "refused";
    case ErrorCode::kStaleVersion: return "stale_version";
    case ErrorCode::kConflict: return "conflict";
    case ErrorCode::kForbidden: return "forbidden";
    case ErrorCode::kUnavailable: return "unavailable";
    case ErrorCode::kInternal: return "internal";
    case ErrorCode::kCalendarExhausted: return "calendar_exhausted";
  }
  return "internal";
}

// The text names are stored and published: never reorder or rename them.
#define REDRESS_DEFINE_NAMES(Enum, ...)                                                                 \
  namespace {                                                                                           \
  constexpr auto k##Enum##Names = std::to_array<std::string_view>({__VA_ARGS__});                       \
  }                                                                                                     \
  std::string_view to_string(Enum value) { return k##Enum##Names.at(static_cast<std::size_t>(value)); } \
  std::optional<Enum> parse_##Enum(std::string_view text) {                                             \
    auto it = std::find(k##Enum##Names.begin(), k##Enum##Names.end(), text);                            \
    if (it == k##Enum##Names.end()) return std::nullopt;                                                \
    return static_cast<Enum>(it - k##Enum##Names.begin());                                              \
  }                                                                                                     \
  const std::vector<std::string_view>& all_names_##Enum() {                                             \
    static const std::vector<std::string_view> list(k##Enum##Names.begin(), k##Enum##Names.end());      \
    return list;                                                                                        \
  }

REDRESS_DEFINE_NAMES(CaseStatus, "received", "acknowledged", "investigating", "awaiting_client", "redress_proposed",
                     "resolved", "closed", "withdrawn")
REDRESS_DEFINE_NAMES(Channel, "web", "email", "phone", "in_person", "api", "letter")
REDRESS_DEFINE_NAMES(Severity, "low", "medium", "high", "critical")
REDRESS_DEFINE_NAMES(Outcome, "upheld", "partly_upheld", "not_upheld", "resolved_informally")
REDRESS_DEFINE_NAMES(RedressKind, "apology", "explanation", "refund", "credit", "replacement", "repair", "goodwill",
                     "compensation")
REDRESS_DEFINE_NAMES(RedressStatus, "proposed", "accepted", "rejected", "fulfilled")
REDRESS_DEFINE_NAMES(CommitmentKind, "promise", "pledge", "redress")
REDRESS_DEFINE_NAMES(CommitmentStatus, "open", "kept", "broken", "renegotiated", "cancelled")
REDRESS_DEFINE_NAMES(Visibility, "client", "internal")
REDRESS_DEFINE_NAMES(MessageState, "posted", "held", "accepted", "rejected")
REDRESS_DEFINE_NAMES(Role, "intake", "agent", "lead", "manager", "admin")
REDRESS_DEFINE_NAMES(ClockState, "running", "paused", "stopped")
REDRESS_DEFINE_NAMES(VulnerabilityDriver, "health", "life_events", "resilience", "capability")
#undef REDRESS_DEFINE_NAMES

bool is_open(CaseStatus status) {
  switch (status) {
    case CaseStatus::kResolved:
    case CaseStatus::kClosed:
    case CaseStatus::kWithdrawn: return false;
    default: return true;
  }
}

bool is_ended(CaseStatus status) { return status == CaseStatus::kClosed || status == CaseStatus::kWithdrawn; }

bool role_at_least(Role role, Role minimum) {
  if (minimum == Role::kIntake) return true;
  if (role == Role::kIntake) return false;
  return static_cast<int>(role) >= static_cast<int>(minimum);
}

std::string Actor::text() const {
  switch (kind) {
    case Kind::kStaff: return "staff:" + id;
    case Kind::kClient: return "client";
    case Kind::kSystem: return "system";
    case Kind::kIntake: return "intake:" + id;
  }
  return "system";
}

}  // namespace redress
