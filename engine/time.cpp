#include "engine/time.h"

#include <date/date.h>

#include <cctype>
#include <charconv>
#include <cstdio>

namespace redress {

std::string format_time(Time t) {
  auto seconds = std::chrono::floor<std::chrono::seconds>(t);
  auto fraction = (t - seconds).count();
  auto day = std::chrono::floor<date::days>(seconds);
  date::year_month_day ymd{day};
  date::hh_mm_ss<std::chrono::seconds> hms{seconds - day};
  int year = static_cast<int>(ymd.year());
  if (year < 0 || year > 9999) {  // outside RFC 3339's four digits: the general form
    char buffer[64];
    int n =
        std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02d:%02d:%02d", year, static_cast<unsigned>(ymd.month()),
                      static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                      static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()));
    std::string text(buffer, static_cast<std::size_t>(n));
    if (fraction != 0) {
      std::snprintf(buffer, sizeof buffer, ".%06lld", static_cast<long long>(fraction));
      std::string frac(buffer);
      while (frac.back() == '0') frac.pop_back();
      text += frac;
    }
    return text + 'Z';
  }
  // "YYYY-MM-DDTHH:MM:SS.ffffffZ", written digit by digit: this runs for every time in every event,
  // view and clock state, and snprintf was a visible share of a write.
  char buffer[28];
  auto two = [&](int at, int value) {
    buffer[at] = static_cast<char>('0' + value / 10);
    buffer[at + 1] = static_cast<char>('0' + value % 10);
  };
  two(0, year / 100);
  two(2, year % 100);
  buffer[4] = '-';
  two(5, static_cast<int>(static_cast<unsigned>(ymd.month())));
  buffer[7] = '-';
  two(8, static_cast<int>(static_cast<unsigned>(ymd.day())));
  buffer[10] = 'T';
  two(11, static_cast<int>(hms.hours().count()));
  buffer[13] = ':';
  two(14, static_cast<int>(hms.minutes().count()));
  buffer[16] = ':';
  two(17, static_cast<int>(hms.seconds().count()));
  std::size_t length = 19;
  if (fraction != 0) {
    buffer[length++] = '.';
    long long micros = static_cast<long long>(fraction);
    char digits[6];
    for (int i = 5; i >= 0; --i, micros /= 10) digits[i] = static_cast<char>('0' + micros % 10);
    int last = 5;
    while (digits[last] == '0') --last;  // fraction != 0, so some digit is not 0
    for (int i = 0; i <= last; ++i) buffer[length++] = digits[i];
  }
  buffer[length++] = 'Z';
  return std::string(buffer, length);
}

namespace {

bool read_int(std::string_view& s, std::size_t digits, int& out) {
  if (s.size() < digits) return false;
  for (std::size_t i = 0; i < digits; ++i)
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  std::from_chars(s.data(), s.data() + digits, out);
  s.remove_prefix(digits);
  return true;
}

bool expect(std::string_view& s, char c) {
  if (s.empty() || (s.front() != c && std::tolower(static_cast<unsigned char>(s.front())) != c)) return false;
  s.remove_prefix(1);
  return true;
}

}  // namespace

std::optional<Time> parse_time(std::string_view s) {
  int year, month, day, hour, minute, second;
  if (!read_int(s, 4, year) || !expect(s, '-') || !read_int(s, 2, month) || !expect(s, '-') || !read_int(s, 2, day))
    return std::nullopt;
  if (s.empty() || (s.front() != 'T' && s.front() != 't' && s.front() != ' ')) return std::nullopt;
  s.remove_prefix(1);
  if (!read_int(s, 2, hour) || !expect(s, ':') || !read_int(s, 2, minute) || !expect(s, ':') || !read_int(s, 2, second))
    return std::nullopt;
  std::int64_t micros = 0;
  if (!s.empty() && s.front() == '.') {
    s.remove_prefix(1);
    int digits = 0;
    while (!s.empty() && std::isdigit(static_cast<unsigned char>(s.front()))) {
      if (digits < 6) micros = micros * 10 + (s.front() - '0');
      ++digits;
      s.remove_prefix(1);
    }
    if (digits == 0) return std::nullopt;
    for (int i = digits; i < 6; ++i) micros *= 10;
  }
  int offset_minutes = 0;
  if (s == "Z" || s == "z") {
    s.remove_prefix(1);
  } else if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    int sign = s.front() == '-' ? -1 : 1;
    s.remove_prefix(1);
    int oh, om;
    if (!read_int(s, 2, oh) || !expect(s, ':') || !read_int(s, 2, om) || oh > 23 || om > 59) return std::nullopt;
    offset_minutes = sign * (oh * 60 + om);
  } else {
    return std::nullopt;
  }
  if (!s.empty()) return std::nullopt;
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  date::year_month_day ymd{date::year{year}, date::month{static_cast<unsigned>(month)},
                           date::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) return std::nullopt;
  if (second == 60) second = 59;  // a leap second is read as the second before it
  auto t = date::sys_days{ymd} + std::chrono::hours(hour) + std::chrono::minutes(minute) +
           std::chrono::seconds(second) - std::chrono::minutes(offset_minutes);
  return Time(std::chrono::duration_cast<Duration>(t.time_since_epoch()) + Duration(micros));
}

// Durations longer than this are refused, so that no duration read from a request or a workflow
// file can overflow a Time (int64 microseconds).
constexpr std::int64_t kMaxDurationDays = 36525;  // 100 years

std::optional<IsoDuration> parse_duration(std::string_view s) {
  if (s.empty() || (s.front() != 'P' && s.front() != 'p')) return std::nullopt;
  s.remove_prefix(1);
  IsoDuration result;
  bool in_time = false;
  bool any = false;
  char last_unit = 0;
  static constexpr std::string_view kDateUnits = "WD";
  static constexpr std::string_view kTimeUnits = "HMS";
  while (!s.empty()) {
    char c = static_cast<char>(std::toupper(static_cast<unsigned char>(s.front())));
    if (c == 'T') {
      if (in_time) return std::nullopt;
      in_time = true;
      last_unit = 0;
      s.remove_prefix(1);
      if (s.empty()) return std::nullopt;
      continue;
    }
    std::size_t i = 0;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.' || s[i] == ',')) ++i;
    if (i == 0 || i == s.size() || i > 15) return std::nullopt;
    std::string number(s.substr(0, i));
    for (auto& ch : number)
      if (ch == ',') ch = '.';
    // Digits, then at most one decimal mark between digits: "0.5", never ".5", "5." or "1.2.3"
    // (std::stod would throw on "." and silently drop the rest of "1.2.3").
    auto mark = number.find('.');
    if (mark != std::string::npos &&
        (mark == 0 || mark + 1 == number.size() || number.find('.', mark + 1) != std::string::npos))
      return std::nullopt;
    char unit = static_cast<char>(std::toupper(static_cast<unsigned char>(s[i])));
    s.remove_prefix(i + 1);
    std::string_view units = in_time ? kTimeUnits : kDateUnits;
    auto pos = units.find(unit);
    if (pos == std::string_view::npos) return std::nullopt;              // years and months are refused
    if (last_unit && units.find(last_unit) >= pos) return std::nullopt;  // units in order, once each
    last_unit = unit;
    bool fractional = number.find('.') != std::string::npos;
    if (fractional && !(in_time && unit == 'S')) return std::nullopt;
    any = true;
    // Each part is bounded before it is converted, so that no value can overflow microseconds.
    if (!in_time) {
      std::int64_t value = std::stoll(number);
      std::int64_t days = unit == 'W' ? value * 7 : value;  // value < 10^15: no overflow
      if (days > kMaxDurationDays) return std::nullopt;
      result.days += days;
    } else if (unit == 'S') {
      double seconds = std::stod(number);
      if (seconds > kMaxDurationDays * 86400.0) return std::nullopt;
      result.time += Duration(static_cast<std::int64_t>(seconds * 1'000'000 + 0.5));
    } else {
      std::int64_t value = std::stoll(number);
      if (value > kMaxDurationDays * (unit == 'H' ? 24 : 24 * 60)) return std::nullopt;
      result.time += unit == 'H' ? Duration(std::chrono::hours(value)) : Duration(std::chrono::minutes(value));
    }
  }
  if (!any) return std::nullopt;
  if (result.total() > std::chrono::days(kMaxDurationDays)) return std::nullopt;
  return result;
}

std::string format_duration(Duration d) {
  using namespace std::chrono;
  if (d.count() == 0) return "PT0S";
  std::string text = d.count() < 0 ? "-P" : "P";
  auto rest = d < Duration::zero() ? -d : d;
  auto days_part = duration_cast<days>(rest);
  rest -= days_part;
  if (days_part.count()) text += std::to_string(days_part.count()) + "D";
  if (rest.count()) {
    text += "T";
    auto h = duration_cast<hours>(rest);
    rest -= h;
    auto m = duration_cast<minutes>(rest);
    rest -= m;
    if (h.count()) text += std::to_string(h.count()) + "H";
    if (m.count()) text += std::to_string(m.count()) + "M";
    if (rest.count()) {
      auto s = duration_cast<seconds>(rest);
      auto us = (rest - s).count();
      text += std::to_string(s.count());
      if (us) {
        char buffer[16];
        std::snprintf(buffer, sizeof buffer, ".%06lld", static_cast<long long>(us));
        std::string frac(buffer);
        while (frac.back() == '0') frac.pop_back();
        text += frac;
      }
      text += "S";
    }
  }
  return text;
}

std::string format_date(std::chrono::year_month_day date) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02u", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  return buffer;
}

std::optional<std::chrono::year_month_day> parse_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  auto number = [&](std::size_t at, std::size_t length) -> int {
    int value = 0;
    for (std::size_t i = at; i < at + length; ++i) {
      if (text[i] < '0' || text[i] > '9') return -1;
      value = value * 10 + (text[i] - '0');
    }
    return value;
  };
  const int year = number(0, 4), month = number(5, 2), day = number(8, 2);
  if (year < 0 || month < 0 || day < 0) return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month)),
                                         std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok()) return std::nullopt;
  return date;
}

}  // namespace redress
