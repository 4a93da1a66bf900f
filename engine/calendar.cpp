#include "engine/calendar.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <stdexcept>

#include <date/tz.h>

namespace redress {

namespace {

using std::chrono::minutes;
using std::chrono::sys_days;

constexpr minutes kDay{24 * 60};
// A search for working time gives up after this many consecutive days without any: only a
// calendar whose every day is a holiday gets there, and that is a bug in validation.
constexpr int kMaxIdleDays = 366 * 20;

std::chrono::days to_days(std::int64_t n) { return std::chrono::days(n); }

date::local_days to_local_days(sys_days day) {
  return date::local_days(date::days(static_cast<int>(day.time_since_epoch().count())));
}

sys_days from_local_days(date::local_days day) { return sys_days(to_days(day.time_since_epoch().count())); }

[[noreturn]] void no_working_time() { throw std::logic_error("business calendar has no working time in twenty years"); }

}  // namespace

CalendarExhausted::CalendarExhausted(const BusinessCalendar& calendar, std::chrono::year_month_day day)
    : std::runtime_error([&] {
        const auto& years = calendar.years();
        std::string text = "the business calendar (" + calendar.zone_name() + ") lists holidays for " +
                           (years ? std::to_string(years->first) + "-" + std::to_string(years->last) : "no year") +
                           " only, so it cannot count " + format_date(day) + " as a business day or not";
        return text;
      }()),
      calendar_(&calendar),
      day_(day) {}

BusinessCalendar::BusinessCalendar() : zone_name_("UTC") {
  for (unsigned wd = 1; wd <= 5; ++wd) hours_[wd] = {WorkingInterval{minutes(9 * 60), minutes(17 * 60)}};
}

Result<BusinessCalendar> BusinessCalendar::make(const std::string& zone_name, WeeklyHours hours,
                                                std::vector<std::chrono::year_month_day> holidays,
                                                OutOfHoursRule out_of_hours, std::optional<CalendarYears> years) {
  BusinessCalendar calendar;
  calendar.zone_name_ = zone_name;
  try {
    calendar.zone_ = date::locate_zone(zone_name);
  } catch (const std::exception&) {
    return Error::invalid("unknown time zone \"" + zone_name + "\" (expected an IANA name like \"Europe/London\")");
  }
  bool any_hours = false;
  static const char* const kDayNames[] = {"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"};
  for (std::size_t wd = 0; wd < hours.size(); ++wd) {
    auto& day = hours[wd];
    std::sort(day.begin(), day.end(),
              [](const WorkingInterval& a, const WorkingInterval& b) { return a.start < b.start; });
    for (std::size_t i = 0; i < day.size(); ++i) {
      const auto& iv = day[i];
      if (iv.start < minutes(0) || iv.end > kDay || iv.start >= iv.end) {
        return Error::invalid(std::string(kDayNames[wd]) + ": interval " + format_working_interval(iv) +
                              " must start before it ends, within 00:00-24:00");
      }
      if (i > 0 && day[i - 1].end > iv.start) {
        return Error::invalid(std::string(kDayNames[wd]) + ": intervals " + format_working_interval(day[i - 1]) +
                              " and " + format_working_interval(iv) + " overlap");
      }
    }
    any_hours = any_hours || !day.empty();
  }
  if (!any_hours) return Error::invalid("no weekday has working hours");
  for (const auto& holiday : holidays) {
    if (!holiday.ok()) return Error::invalid("a holiday is not a valid date");
  }
  if (years) {
    if (years->first < 1970 || years->last > 9999 || years->last < years->first)
      return Error::invalid("the years " + std::to_string(years->first) + "-" + std::to_string(years->last) +
                            " run backwards or out of range");
    for (const auto& holiday : holidays) {
      const int year = static_cast<int>(holiday.year());
      if (year < years->first || year > years->last)
        return Error::invalid("the holiday " + format_date(holiday) + " is outside the years the calendar covers (" +
                              std::to_string(years->first) + "-" + std::to_string(years->last) + ")");
    }
    calendar.years_ = years;
    calendar.first_day_ = sys_days(std::chrono::year(years->first) / std::chrono::January / 1);
    calendar.last_day_ = sys_days(std::chrono::year(years->last) / std::chrono::December / 31);
  }
  std::sort(holidays.begin(), holidays.end());
  holidays.erase(std::unique(holidays.begin(), holidays.end()), holidays.end());
  calendar.hours_ = std::move(hours);
  calendar.holidays_ = std::move(holidays);
  calendar.holiday_days_.clear();
  for (const auto& holiday : calendar.holidays_) calendar.holiday_days_.push_back(sys_days(holiday));
  calendar.out_of_hours_ = out_of_hours;
  return calendar;
}

sys_days BusinessCalendar::local_day(Time t) const {
  if (zone_ == nullptr) return std::chrono::floor<std::chrono::days>(t);
  const auto local = zone_->to_local(t);
  return from_local_days(date::floor<date::days>(local));
}

std::chrono::year_month_day BusinessCalendar::local_date(Time t) const {
  return std::chrono::year_month_day(local_day(t));
}

namespace {

Time local_to_time(const date::time_zone* zone, sys_days day, minutes time_of_day, date::choose choice) {
  if (zone == nullptr) return Time(day) + time_of_day;
  const auto local = to_local_days(day) + time_of_day;
  const auto utc = zone->to_sys(local, choice);
  return Time(std::chrono::duration_cast<Duration>(utc.time_since_epoch()));
}

}  // namespace

Time BusinessCalendar::to_time(std::chrono::year_month_day date, minutes time_of_day) const {
  return local_to_time(zone_, sys_days(date), time_of_day, date::choose::earliest);
}

std::optional<std::chrono::year_month_day> BusinessCalendar::end_of_coverage() const {
  if (!years_) return std::nullopt;
  return std::chrono::year_month_day(last_day_ + to_days(1));
}

bool BusinessCalendar::covers(std::chrono::year_month_day date) const {
  if (!years_) return true;
  const sys_days day(date);
  return first_day_ <= day && day <= last_day_;
}

bool BusinessCalendar::is_holiday(sys_days day) const {
  if (years_ && (day < first_day_ || day > last_day_)) throw CalendarExhausted(*this, std::chrono::year_month_day(day));
  return std::binary_search(holiday_days_.begin(), holiday_days_.end(), day);
}

std::vector<TimeInterval> BusinessCalendar::margin_intervals(sys_days day) const {
  if (years_ && (day < first_day_ || day > last_day_)) return {};
  return working_intervals(day);
}

std::vector<TimeInterval> BusinessCalendar::working_intervals(sys_days day) const {
  std::vector<TimeInterval> out;
  if (is_holiday(day)) return out;
  const auto& intervals = hours_[std::chrono::weekday(day).c_encoding()];
  out.reserve(intervals.size());
  for (const auto& iv : intervals) {
    // Earliest for the opening and latest for the closing: the interval covers every instant
    // whose wall-clock time lies within it, including both passes through a repeated hour.
    const Time begin = local_to_time(zone_, day, iv.start, date::choose::earliest);
    const Time end = local_to_time(zone_, day, iv.end, date::choose::latest);
    if (begin < end) out.push_back(TimeInterval{begin, end});  // empty when skipped by DST
  }
  return out;
}

bool BusinessCalendar::is_business_day(std::chrono::year_month_day date) const {
  return !working_intervals(sys_days(date)).empty();
}

bool BusinessCalendar::is_business_instant(Time t) const {
  const sys_days day = local_day(t);
  for (const auto& iv : working_intervals(day)) {
    if (iv.begin <= t && t < iv.end) return true;
  }
  return false;
}

Time BusinessCalendar::next_business_instant(Time t) const {
  // Start a day early: no interval of an earlier local day can end after t, but this is cheap
  // insurance against zones whose offsets change by a day.
  sys_days day = local_day(t) - to_days(1);
  for (int idle = 0; idle < kMaxIdleDays; ++idle, day += to_days(1)) {
    for (const auto& iv : idle == 0 ? margin_intervals(day) : working_intervals(day)) {
      if (iv.end > t) return std::max(iv.begin, t);
    }
  }
  no_working_time();
}

Time BusinessCalendar::effective_receipt(Time t, OutOfHoursRule rule) const {
  return rule == OutOfHoursRule::kNextOpening ? next_business_instant(t) : t;
}

Time BusinessCalendar::add_business_time(Time start, Duration d) const {
  if (d <= Duration::zero()) return start;
  const sys_days margin = local_day(start) - to_days(1);
  sys_days day = margin;
  int idle = 0;
  while (idle < kMaxIdleDays) {
    const auto intervals = day == margin ? margin_intervals(day) : working_intervals(day);
    bool worked = false;
    for (const auto& iv : intervals) {
      if (iv.end <= start) continue;
      const Time from = std::max(iv.begin, start);
      const Duration available = iv.end - from;
      if (d <= available) return from + d;
      d -= available;
      worked = true;
    }
    idle = worked ? 0 : idle + 1;
    day += to_days(1);
  }
  no_working_time();
}

Time BusinessCalendar::add_business_days(Time start, int n) const {
  sys_days day = local_day(start);
  int counted = 0;
  if (n <= 0) {
    for (int idle = 0; idle < kMaxIdleDays; ++idle, day += to_days(1)) {
      const auto intervals = working_intervals(day);
      if (!intervals.empty()) return intervals.back().end;
    }
    no_working_time();
  }
  for (int idle = 0; idle < kMaxIdleDays;) {
    day += to_days(1);
    const auto intervals = working_intervals(day);
    if (intervals.empty()) {
      ++idle;
      continue;
    }
    idle = 0;
    if (++counted == n) return intervals.back().end;
  }
  no_working_time();
}

Time BusinessCalendar::add_calendar_time(Time start, const IsoDuration& d) const {
  Time t = start;
  if (d.days != 0) {
    if (zone_ == nullptr) {
      t = start + to_days(d.days);
    } else {
      const auto local = zone_->to_local(start) + date::days(static_cast<int>(d.days));
      const auto utc = zone_->to_sys(local, date::choose::earliest);
      t = Time(std::chrono::duration_cast<Duration>(utc.time_since_epoch()));
    }
  }
  return t + d.time;
}

Duration BusinessCalendar::business_time_between(Time a, Time b) const {
  if (b < a) return -business_time_between(b, a);
  Duration total{0};
  const sys_days first = local_day(a) - to_days(1);
  const sys_days last = local_day(b) + to_days(1);
  for (sys_days day = first; day <= last; day += to_days(1)) {
    for (const auto& iv : day == first || day == last ? margin_intervals(day) : working_intervals(day)) {
      const Time from = std::max(iv.begin, a);
      const Time to = std::min(iv.end, b);
      if (from < to) total += to - from;
    }
  }
  return total;
}

Time BusinessCalendar::add(Time start, const IsoDuration& target, TimeBasis basis) const {
  if (basis == TimeBasis::kCalendar) return add_calendar_time(start, target);
  Time t = start;
  if (target.days > 0) t = add_business_days(t, static_cast<int>(target.days));
  if (target.time > Duration::zero()) t = add_business_time(t, target.time);
  return t;
}

Duration BusinessCalendar::measure(Time a, Time b, TimeBasis basis) const {
  return basis == TimeBasis::kCalendar ? b - a : business_time_between(a, b);
}

Time BusinessCalendar::extend_for_pauses(Time base, TimeBasis basis, std::span<const TimeInterval> pauses) const {
  Time deadline = base;
  for (const auto& pause : pauses) {
    if (pause.begin >= deadline) break;  // sorted: every later pause begins later still
    if (pause.end == Time::max()) return Time::max();
    if (pause.end <= pause.begin) continue;
    const Duration paused = measure(pause.begin, pause.end, basis);
    deadline = basis == TimeBasis::kCalendar ? deadline + paused : add_business_time(deadline, paused);
  }
  return deadline;
}

std::optional<WorkingInterval> parse_working_interval(std::string_view text) {
  // Exactly "HH:MM-HH:MM".
  if (text.size() != 11 || text[2] != ':' || text[5] != '-' || text[8] != ':') return std::nullopt;
  auto number = [&](std::size_t at) -> std::optional<int> {
    int value = 0;
    const char* first = text.data() + at;
    if (!std::isdigit(static_cast<unsigned char>(first[0])) || !std::isdigit(static_cast<unsigned char>(first[1]))) {
      return std::nullopt;
    }
    std::from_chars(first, first + 2, value);
    return value;
  };
  const auto h1 = number(0), m1 = number(3), h2 = number(6), m2 = number(9);
  if (!h1 || !m1 || !h2 || !m2) return std::nullopt;
  if (*m1 > 59 || *m2 > 59 || *h1 > 23 || *h2 > 24 || (*h2 == 24 && *m2 != 0)) return std::nullopt;
  WorkingInterval iv{minutes(*h1 * 60 + *m1), minutes(*h2 * 60 + *m2)};
  if (iv.start >= iv.end) return std::nullopt;
  return iv;
}

std::string format_working_interval(const WorkingInterval& interval) {
  auto two = [](long long v) {
    std::string s = std::to_string(v);
    return s.size() < 2 ? "0" + s : s;
  };
  auto hhmm = [&](minutes m) { return two(m.count() / 60) + ":" + two(m.count() % 60); };
  return hhmm(interval.start) + "-" + hhmm(interval.end);
}

std::string_view to_string(OutOfHoursRule rule) {
  return rule == OutOfHoursRule::kNextOpening ? "next_opening" : "as_received";
}

std::optional<OutOfHoursRule> parse_OutOfHoursRule(std::string_view text) {
  if (text == "next_opening") return OutOfHoursRule::kNextOpening;
  if (text == "as_received") return OutOfHoursRule::kAsReceived;
  return std::nullopt;
}

std::string_view to_string(TimeBasis basis) { return basis == TimeBasis::kCalendar ? "calendar" : "business"; }

std::optional<TimeBasis> parse_TimeBasis(std::string_view text) {
  if (text == "calendar") return TimeBasis::kCalendar;
  if (text == "business") return TimeBasis::kBusiness;
  return std::nullopt;
}

}  // namespace redress
