// ReturnEntry: one line of the return ledger (engine/return_ledger.h) — what one event of a case
// adds to a figure of its workflow's regulatory return on one local day. A plain value; the names
// of the measures are stored (the stores' return_days summary) and never change.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/model.h"
#include "engine/time.h"

namespace redress {

// What an entry counts. Each is summed per workflow, local day and key.
enum class ReturnMeasure {
  kOpened,                 // a case received
  kClosed,                 // a resolution or a withdrawal
  kReopened,               // a reopening
  kWithdrawn,              // a withdrawal (also counted in kClosed)
  kOutcome,                // a resolution, by outcome (key)
  kBucket,                 // a closure, by the return bucket of its time from receipt (key)
  kProductClosed,          // a resolution, by the product it recorded (key; "" for none)
  kProductUpheld,          // ... of which upheld in full or in part
  kRootCauseClosed,        // a resolution, by the root cause it recorded (key; "" for none)
  kRootCauseUpheld,        // ... of which upheld in full or in part
  kPaid,                   // redress paid, in minor units, keyed "GBP:refund" (currency and kind)
  kVulnerableClosed,       // a closure while the client was flagged vulnerable
  kVulnerableOutstanding,  // +1/-1 as a case both open and flagged starts or stops being so
  // +1 when the client of a case is flagged, -1 when the flag is cleared: dated by the day the
  // case was RECEIVED, keyed by the day of the flag's change ("2027-01-05"), so that "cases opened
  // in a period whose client was flagged by its end" is a sum over the period's days.
  kVulnerableOpened,
  kResponseTimely,  // a response pledge (the workflow's [returns] timely_response) met in time
  kResponseLate,    // ... broken, or kept only on a date renegotiated past its rule's
};

[[nodiscard]] std::string_view to_string(ReturnMeasure measure);
[[nodiscard]] std::optional<ReturnMeasure> parse_ReturnMeasure(std::string_view text);

struct ReturnEntry {
  std::string workflow;
  std::int32_t day = 0;  // the local date in the workflow's time zone, in days since 1970-01-01
  ReturnMeasure measure = ReturnMeasure::kOpened;
  std::string key;
  std::int64_t value = 0;
  friend auto operator<=>(const ReturnEntry&, const ReturnEntry&) = default;
};

// One event of a case as a return counts it: a closure (resolution or withdrawal), a reopening,
// the client's vulnerability flag set or cleared, or redress paid.
struct ReturnEvent {
  enum class Kind { kResolved, kWithdrawn, kReopened, kFlagged, kCleared, kPaid };
  Kind kind = Kind::kResolved;
  Time at{};
  std::optional<Outcome> outcome;  // kResolved
  std::string root_cause;          // kResolved: as recorded by the resolution ("" when none)
  std::string product;             // kResolved
  std::int64_t paid_minor = 0;     // kPaid
  std::string currency;            // kPaid
  std::string redress_kind;        // kPaid
};

// The return event of one stored event (`type`, `at`, its `data` JSON), or nullopt for an event a
// return does not count (and a fulfilment that recorded no amount, as those before issue 26 did).
// The ledger's fold and both stores' histories read events through it, so they count the same.
[[nodiscard]] std::optional<ReturnEvent> return_event_of(std::string_view type, Time at, std::string_view data);

}  // namespace redress
