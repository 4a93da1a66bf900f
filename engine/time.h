// Time points, RFC 3339 timestamps and ISO 8601 durations.
//
// All times in Redress are UTC instants with microsecond resolution. Text forms follow the SPEC:
// RFC 3339 in UTC for instants ("2026-11-27T17:00:00Z"), ISO 8601 for durations ("PT4H", "P3D").
// Pure functions; thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace redress {

using Duration = std::chrono::microseconds;
using Time = std::chrono::sys_time<Duration>;

// "2026-11-27T17:00:00Z", or with ".123456" when the instant has sub-second parts.
[[nodiscard]] std::string format_time(Time t);
// Accepts RFC 3339 with any offset ("Z", "+01:00") and optional fractions; nullopt when malformed.
[[nodiscard]] std::optional<Time> parse_time(std::string_view text);

// "2026-12-25".
[[nodiscard]] std::string format_date(std::chrono::year_month_day date);
// "2027-03-31" into a valid date; nullopt for anything else.
[[nodiscard]] std::optional<std::chrono::year_month_day> parse_date(std::string_view text);

[[nodiscard]] inline std::int64_t to_micros(Time t) { return t.time_since_epoch().count(); }
[[nodiscard]] inline Time from_micros(std::int64_t us) { return Time(Duration(us)); }

// An ISO 8601 duration. Years and months are refused (their length depends on the calendar);
// weeks, days, hours, minutes and (fractional) seconds are accepted. "P1W", "P3D", "PT4H30M".
struct IsoDuration {
  std::int64_t days = 0;  // whole days, weeks included (7 days each)
  Duration time{0};       // the part after "T"
  // Calendar meaning: days of 24 hours plus the time part.
  [[nodiscard]] Duration total() const { return std::chrono::days(days) + time; }
};
[[nodiscard]] std::optional<IsoDuration> parse_duration(std::string_view text);
[[nodiscard]] std::string format_duration(Duration d);

}  // namespace redress
