// BusinessCalendar: when an organisation works, and time measured in working time.
//
// A calendar is an IANA time zone, the working hours of each weekday (none, one or several
// intervals of local wall-clock time), and dated holidays (local dates on which nobody works).
// It answers the questions a service standard asks: when does counting start for a complaint
// received out of hours, when is "4 working hours" or "close of business on the 3rd business day
// after receipt" from a given instant, and how much working time lies between two instants.
// All answers are exact across daylight-saving changes: working hours are local wall-clock times,
// converted to UTC day by day through the tz database (date/tz.h reads the OS database).
// A calendar is immutable once built; all member functions are const and thread-safe.
#pragma once

#include <array>
#include <chrono>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "engine/result.h"
#include "engine/time.h"

namespace date {
class time_zone;
}

namespace redress {

// One span of working time within a local day, in minutes after local midnight: [start, end).
// Invariant: 0 <= start < end <= 24 * 60 (an end of 24:00 is the next local midnight).
struct WorkingInterval {
  std::chrono::minutes start{0};
  std::chrono::minutes end{0};
  friend bool operator==(const WorkingInterval&, const WorkingInterval&) = default;
};

// The working intervals of each weekday, indexed by std::chrono::weekday::c_encoding()
// (0 = Sunday ... 6 = Saturday). Each day's intervals are sorted and do not overlap.
using WeeklyHours = std::array<std::vector<WorkingInterval>, 7>;

// What a complaint received outside working hours counts from.
enum class OutOfHoursRule {
  // Treated as received at the next opening (FCA DISP 1.5.3G: "a complaint received on any day
  // other than a business day, or after close of business on a business day, may be treated as
  // received on the next business day").
  kNextOpening,
  // Treated as received when it arrived; business-time clocks still only count working time.
  kAsReceived,
};

// How a target duration is counted.
enum class TimeBasis {
  kCalendar,  // elapsed time; whole days keep the local wall-clock time across DST changes
  kBusiness,  // whole days count business days to close of business; hours count working time
};

// A half-open span of time [begin, end), e.g. a pause while awaiting the client.
struct TimeInterval {
  Time begin{};
  Time end{};
};

// The years whose holidays a calendar lists, both included. Outside them the calendar cannot say
// which days are business days, so it refuses to count them (CalendarExhausted).
struct CalendarYears {
  int first = 0;
  int last = 0;
  friend bool operator==(const CalendarYears&, const CalendarYears&) = default;
};

class BusinessCalendar;

// Thrown when a count on the business calendar needs a day outside the years it covers, instead
// of silently treating that year's holidays as working days. The planner turns it into a refusal
// (Error::unavailable) naming the calendar and the year; nothing else catches it.
class CalendarExhausted : public std::runtime_error {
 public:
  CalendarExhausted(const BusinessCalendar& calendar, std::chrono::year_month_day day);
  [[nodiscard]] const BusinessCalendar& calendar() const { return *calendar_; }
  [[nodiscard]] std::chrono::year_month_day day() const { return day_; }

 private:
  const BusinessCalendar* calendar_;
  std::chrono::year_month_day day_;
};

class BusinessCalendar {
 public:
  // UTC, Monday to Friday 09:00-17:00, no holidays, out-of-hours complaints count from the next
  // opening, every year. A placeholder for tests and default-constructed workflows.
  BusinessCalendar();

  // Fails with kInvalid when the zone is unknown to the tz database, an interval is malformed
  // or overlaps another of the same day, no weekday has working hours, the years run backwards or
  // a holiday falls outside them. Without `years` the holidays are taken to be every holiday of
  // every year (tests); workflow calendars always say which years they cover.
  static Result<BusinessCalendar> make(const std::string& zone_name, WeeklyHours hours,
                                       std::vector<std::chrono::year_month_day> holidays,
                                       OutOfHoursRule out_of_hours = OutOfHoursRule::kNextOpening,
                                       std::optional<CalendarYears> years = std::nullopt);

  // The years whose holidays the calendar lists; nullopt: every year.
  [[nodiscard]] const std::optional<CalendarYears>& years() const { return years_; }
  // The first day after the covered years (1 January of last + 1); nullopt without years.
  [[nodiscard]] std::optional<std::chrono::year_month_day> end_of_coverage() const;
  // Whether `date` lies within the covered years.
  [[nodiscard]] bool covers(std::chrono::year_month_day date) const;

  [[nodiscard]] const std::string& zone_name() const { return zone_name_; }
  [[nodiscard]] const WeeklyHours& hours() const { return hours_; }
  [[nodiscard]] const std::vector<std::chrono::year_month_day>& holidays() const { return holidays_; }
  [[nodiscard]] OutOfHoursRule out_of_hours() const { return out_of_hours_; }

  // The local calendar date of an instant in the calendar's zone.
  [[nodiscard]] std::chrono::year_month_day local_date(Time t) const;
  // The UTC instant of a local date and wall-clock time. A time skipped by a DST change maps to
  // the instant of the change; a repeated time maps to its first occurrence.
  [[nodiscard]] Time to_time(std::chrono::year_month_day date, std::chrono::minutes time_of_day) const;

  // Every count below that needs a day outside the covered years throws CalendarExhausted.

  // A day with working hours that is not a holiday.
  [[nodiscard]] bool is_business_day(std::chrono::year_month_day date) const;
  // True when t lies within working hours of a business day.
  [[nodiscard]] bool is_business_instant(Time t) const;
  // t when it is within working hours, else the next opening.
  [[nodiscard]] Time next_business_instant(Time t) const;
  // The instant from which a complaint received at t counts, per the out-of-hours rule.
  [[nodiscard]] Time effective_receipt(Time t) const { return effective_receipt(t, out_of_hours_); }
  [[nodiscard]] Time effective_receipt(Time t, OutOfHoursRule rule) const;

  // The earliest instant by which `d` of working time has elapsed after `start`: working time
  // only, so 4 hours from Friday 15:00 on a 9-17 calendar is Monday 11:00. A result that falls
  // exactly at a closing time is that closing time. d <= 0 gives start.
  [[nodiscard]] Time add_business_time(Time start, Duration d) const;
  // Close of business on the nth business day after the local date of `start` ("by close of
  // business on the third business day following the day of receipt": n = 3). n = 0 gives the
  // close of the first business day on or after that date. Pass effective_receipt(received) to
  // honour the out-of-hours rule. Negative n is treated as 0.
  [[nodiscard]] Time add_business_days(Time start, int n) const;
  // Calendar time: whole days move the local date and keep the wall-clock time (so "P1D" across
  // a DST change is 23 or 25 hours), then the time part is added as elapsed time.
  [[nodiscard]] Time add_calendar_time(Time start, const IsoDuration& d) const;
  // Working time in [a, b); negative when b < a.
  [[nodiscard]] Duration business_time_between(Time a, Time b) const;

  // A target on a basis. Business: a duration of whole days (no time part) counts business days
  // with add_business_days; a duration with only a time part counts working time. A duration
  // mixing both is counted as the days, then the time as working time from that close.
  [[nodiscard]] Time add(Time start, const IsoDuration& target, TimeBasis basis) const;
  // Running time between two instants on a basis: elapsed time, or working time.
  [[nodiscard]] Duration measure(Time a, Time b, TimeBasis basis) const;
  // Moves `base` (a deadline computed without pauses) later by the running time of each pause
  // that begins before the deadline reached so far. Pauses must be sorted and not overlap; an
  // open pause has end = Time::max() and gives Time::max(). The result keeps the running time
  // from start to deadline, outside pauses, equal to the running time from start to base.
  [[nodiscard]] Time extend_for_pauses(Time base, TimeBasis basis, std::span<const TimeInterval> pauses) const;

 private:
  // The working intervals of a local date as UTC instants, in order; empty on holidays. Throws
  // CalendarExhausted for a date outside the covered years.
  [[nodiscard]] std::vector<TimeInterval> working_intervals(std::chrono::sys_days date) const;
  // The same for a day a search looks at only in case a zone's offset moves a day (the day before
  // a start, the day after an end): outside the covered years it has no working time.
  [[nodiscard]] std::vector<TimeInterval> margin_intervals(std::chrono::sys_days date) const;
  [[nodiscard]] bool is_holiday(std::chrono::sys_days date) const;
  [[nodiscard]] std::chrono::sys_days local_day(Time t) const;

  std::string zone_name_;
  const date::time_zone* zone_ = nullptr;  // owned by the tz database, which lives forever
  WeeklyHours hours_;
  std::vector<std::chrono::year_month_day> holidays_;  // sorted, unique
  std::vector<std::chrono::sys_days> holiday_days_;    // the same, as day points, for lookup
  OutOfHoursRule out_of_hours_ = OutOfHoursRule::kNextOpening;
  std::optional<CalendarYears> years_;
  std::chrono::sys_days first_day_{}, last_day_{};  // of the covered years, when years_
};

// "09:00-17:30" → interval; nullopt when malformed. Hours 00-24, minutes 00-59, "24:00" only as
// an end, start before end.
[[nodiscard]] std::optional<WorkingInterval> parse_working_interval(std::string_view text);
[[nodiscard]] std::string format_working_interval(const WorkingInterval& interval);
[[nodiscard]] std::string_view to_string(OutOfHoursRule rule);
[[nodiscard]] std::optional<OutOfHoursRule> parse_OutOfHoursRule(std::string_view text);
[[nodiscard]] std::string_view to_string(TimeBasis basis);
[[nodiscard]] std::optional<TimeBasis> parse_TimeBasis(std::string_view text);

}  // namespace redress
