#include <chrono>
#include <string_view>

#include "tests/fuzz/targets.h"
#include "workflows/loader.h"

namespace redress::fuzz {

namespace {

// Fixed instants around a DST change and a year end, in UTC.
constexpr std::int64_t kStarts[] = {1774828800 /* 2026-03-30 00:00 */, 1792936800 /* 2026-10-25 14:00 */,
                                    1798761599 /* 2026-12-31 23:59:59 */};

void check_target(const BusinessCalendar& calendar, const ClockTarget& target, Time start) {
  Time due = target.from(calendar, start);
  // A loaded target is a positive duration: the deadline is never before the start.
  FUZZ_CHECK(due >= start);
  FUZZ_CHECK(calendar.measure(start, due, target.basis) >= Duration::zero());
}

}  // namespace

int workflow_toml(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto workflow = parse_workflow(text, "fuzz.toml");
  if (!workflow) {
    const Error& error = workflow.error();
    FUZZ_CHECK(error.code == ErrorCode::kInvalid);
    // Every message names the file and a line: "fuzz.toml:14: ...".
    FUZZ_CHECK(error.detail.rfind("fuzz.toml:", 0) == 0);
    return 0;
  }
  const Workflow& w = *workflow;
  FUZZ_CHECK(!w.name.empty());
  for (std::size_t i = 0; i < w.escalation.size(); ++i) FUZZ_CHECK(w.escalation[i].level == static_cast<int>(i) + 1);

  // The loaded calendar answers without looping forever or going backwards.
  const BusinessCalendar& calendar = w.calendar;
  for (std::int64_t seconds : kStarts) {
    Time t = Time{} + std::chrono::seconds(seconds);
    Time receipt = calendar.effective_receipt(t);
    FUZZ_CHECK(receipt >= t);
    Time open = calendar.next_business_instant(t);
    FUZZ_CHECK(open >= t && calendar.is_business_instant(open));
    FUZZ_CHECK(calendar.add_business_days(t, 1) > t);
    for (const auto& clock : w.clocks) {
      check_target(calendar, clock.target, receipt);
      if (clock.exceptional_target) check_target(calendar, *clock.exceptional_target, receipt);
      for (double fraction : clock.warnings) FUZZ_CHECK(fraction > 0 && fraction < 1);
    }
    check_target(calendar, w.redress_target, t);
    if (w.summary_resolution) check_target(calendar, w.summary_resolution->within, receipt);
  }
  return 0;
}

}  // namespace redress::fuzz
