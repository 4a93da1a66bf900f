#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "engine/calendar.h"
#include "engine/support.h"
#include "engine/time.h"

using namespace redress;
using std::chrono::hours;
using std::chrono::minutes;

namespace {

using enginetest::at;

std::chrono::year_month_day ymd(int y, unsigned m, unsigned d) {
  return std::chrono::year_month_day(std::chrono::year(y), std::chrono::month(m), std::chrono::day(d));
}

WeeklyHours weekdays(std::vector<WorkingInterval> day) {
  WeeklyHours hours;
  for (unsigned wd = 1; wd <= 5; ++wd) hours[wd] = day;
  return hours;
}

WorkingInterval hours_of(const char* text) {
  auto interval = parse_working_interval(text);
  REQUIRE(interval.has_value());
  return *interval;
}

// England and Wales bank holidays 2026.
std::vector<std::chrono::year_month_day> england_2026() {
  return {ymd(2026, 1, 1),  ymd(2026, 4, 3),  ymd(2026, 4, 6),   ymd(2026, 5, 4),
          ymd(2026, 5, 25), ymd(2026, 8, 31), ymd(2026, 12, 25), ymd(2026, 12, 28)};
}

BusinessCalendar london(OutOfHoursRule rule = OutOfHoursRule::kNextOpening) {
  auto calendar = BusinessCalendar::make("Europe/London", weekdays({hours_of("09:00-17:00")}), england_2026(), rule);
  REQUIRE(calendar.ok());
  return calendar.value();
}

BusinessCalendar new_york() {
  auto calendar = BusinessCalendar::make("America/New_York", weekdays({hours_of("09:00-17:00")}),
                                         {ymd(2026, 7, 3), ymd(2026, 11, 26)});
  REQUIRE(calendar.ok());
  return calendar.value();
}

}  // namespace

TEST_CASE("working hours parse and format", "[calendar]") {
  CHECK(parse_working_interval("09:00-17:30") == WorkingInterval{minutes(540), minutes(1050)});
  CHECK(parse_working_interval("00:00-24:00") == WorkingInterval{minutes(0), minutes(1440)});
  CHECK_FALSE(parse_working_interval("17:00-09:00"));
  CHECK_FALSE(parse_working_interval("09:00-09:00"));
  CHECK_FALSE(parse_working_interval("9:00-17:00"));
  CHECK_FALSE(parse_working_interval("09:60-17:00"));
  CHECK_FALSE(parse_working_interval("24:00-24:00"));
  CHECK_FALSE(parse_working_interval("09:00-24:30"));
  CHECK_FALSE(parse_working_interval("09:00 17:00"));
  CHECK(format_working_interval(WorkingInterval{minutes(540), minutes(1440)}) == "09:00-24:00");
}

TEST_CASE("calendar construction refuses bad input", "[calendar]") {
  CHECK_FALSE(BusinessCalendar::make("Europe/Londn", weekdays({hours_of("09:00-17:00")}), {}).ok());
  CHECK_FALSE(BusinessCalendar::make("Europe/London", WeeklyHours{}, {}).ok());
  CHECK_FALSE(
      BusinessCalendar::make("Europe/London", weekdays({hours_of("09:00-13:00"), hours_of("12:00-17:00")}), {}).ok());
  auto bad_zone = BusinessCalendar::make("Mars/Olympus", weekdays({hours_of("09:00-17:00")}), {});
  REQUIRE_FALSE(bad_zone.ok());
  CHECK(bad_zone.error().detail.find("Mars/Olympus") != std::string::npos);
}

TEST_CASE("weekends carry business time to Monday", "[calendar]") {
  const auto calendar = london();
  // Friday 9 January 2026, 15:00 GMT, plus 4 working hours: 2 on Friday, 2 on Monday.
  CHECK(calendar.add_business_time(at("2026-01-09T15:00:00Z"), hours(4)) == at("2026-01-12T11:00:00Z"));
  CHECK(calendar.business_time_between(at("2026-01-09T15:00:00Z"), at("2026-01-12T11:00:00Z")) == hours(4));
  // A whole week of working time is five days of 8 hours.
  CHECK(calendar.business_time_between(at("2026-01-12T00:00:00Z"), at("2026-01-19T00:00:00Z")) == hours(40));
  // Reversed bounds give the negative.
  CHECK(calendar.business_time_between(at("2026-01-12T11:00:00Z"), at("2026-01-09T15:00:00Z")) == -hours(4));
  // Landing exactly on a close gives the close, not the next opening.
  CHECK(calendar.add_business_time(at("2026-01-12T09:00:00Z"), hours(8)) == at("2026-01-12T17:00:00Z"));
  CHECK(calendar.add_business_time(at("2026-01-12T09:00:00Z"), hours(0)) == at("2026-01-12T09:00:00Z"));
  CHECK(calendar.is_business_instant(at("2026-01-12T09:00:00Z")));
  CHECK_FALSE(calendar.is_business_instant(at("2026-01-12T17:00:00Z")));
  CHECK_FALSE(calendar.is_business_instant(at("2026-01-10T12:00:00Z")));
}

TEST_CASE("holidays are not business days", "[calendar]") {
  const auto calendar = london();
  CHECK_FALSE(calendar.is_business_day(ymd(2026, 4, 3)));  // Good Friday
  CHECK_FALSE(calendar.is_business_day(ymd(2026, 4, 4)));  // Saturday
  CHECK(calendar.is_business_day(ymd(2026, 4, 7)));
  // Thursday 2 April 2026 (BST), the next business day is Tuesday 7 April: 17:00 BST = 16:00Z.
  CHECK(calendar.add_business_days(at("2026-04-02T09:00:00Z"), 1) == at("2026-04-07T16:00:00Z"));
  // Working time skips the four-day Easter weekend.
  CHECK(calendar.add_business_time(at("2026-04-02T15:00:00Z"), hours(2)) == at("2026-04-07T09:00:00Z"));
  CHECK(calendar.business_time_between(at("2026-04-02T00:00:00Z"), at("2026-04-08T00:00:00Z")) == hours(16));
  // Christmas 2026: Friday 25 and the substitute Boxing Day, Monday 28 December.
  CHECK(calendar.next_business_instant(at("2026-12-24T17:30:00Z")) == at("2026-12-29T09:00:00Z"));
}

TEST_CASE("business-day counting", "[calendar]") {
  const auto calendar = london();
  // n = 0: close of the same business day, or of the next one from a weekend.
  CHECK(calendar.add_business_days(at("2026-01-12T10:00:00Z"), 0) == at("2026-01-12T17:00:00Z"));
  CHECK(calendar.add_business_days(at("2026-01-10T10:00:00Z"), 0) == at("2026-01-12T17:00:00Z"));
  // Counting starts from the day after the start's local date, even after close of business.
  CHECK(calendar.add_business_days(at("2026-01-12T20:00:00Z"), 3) == at("2026-01-15T17:00:00Z"));
  // From a Saturday: Monday is the first.
  CHECK(calendar.add_business_days(at("2026-01-10T10:00:00Z"), 1) == at("2026-01-12T17:00:00Z"));
  // Ten business days over Christmas 2026: Dec 21-24 (4), 29-31 (7), Jan 4-6 (10).
  auto with_2027 = england_2026();
  with_2027.push_back(ymd(2027, 1, 1));
  auto calendar_2027 = BusinessCalendar::make("Europe/London", weekdays({hours_of("09:00-17:00")}), with_2027);
  REQUIRE(calendar_2027.ok());
  CHECK(calendar_2027->add_business_days(at("2026-12-18T10:00:00Z"), 10) == at("2027-01-06T17:00:00Z"));
  // A local date is the zone's: 23:30Z on 30 June is already 1 July in London.
  CHECK(calendar.local_date(at("2026-06-30T23:30:00Z")) == ymd(2026, 7, 1));
}

TEST_CASE("FCA: Friday evening before a bank holiday Monday", "[calendar]") {
  // Received Friday 1 May 2026 at 18:30 BST (17:30Z); Monday 4 May is the Early May bank holiday.
  const Time received = at("2026-05-01T17:30:00Z");
  const auto lenient = london(OutOfHoursRule::kNextOpening);
  // Treated as received at the next opening: Tuesday 5 May 09:00 BST.
  CHECK(lenient.effective_receipt(received) == at("2026-05-05T08:00:00Z"));
  // Close of business on the 3rd business day after Tuesday: Friday 8 May, 17:00 BST = 16:00Z.
  CHECK(lenient.add_business_days(lenient.effective_receipt(received), 3) == at("2026-05-08T16:00:00Z"));
  // Counted from the day it arrived (Friday): Tuesday, Wednesday, Thursday 7 May.
  const auto strict = london(OutOfHoursRule::kAsReceived);
  CHECK(strict.effective_receipt(received) == received);
  CHECK(strict.add_business_days(strict.effective_receipt(received), 3) == at("2026-05-07T16:00:00Z"));
}

TEST_CASE("out-of-hours receipt starts counting at the next opening", "[calendar]") {
  const auto calendar = london();
  CHECK(calendar.next_business_instant(at("2026-01-12T10:00:00Z")) == at("2026-01-12T10:00:00Z"));
  CHECK(calendar.next_business_instant(at("2026-01-12T07:00:00Z")) == at("2026-01-12T09:00:00Z"));
  CHECK(calendar.next_business_instant(at("2026-01-09T17:00:00Z")) == at("2026-01-12T09:00:00Z"));
  CHECK(calendar.next_business_instant(at("2026-01-10T12:00:00Z")) == at("2026-01-12T09:00:00Z"));
  // Summer: 09:00 BST is 08:00Z.
  CHECK(calendar.next_business_instant(at("2026-06-13T12:00:00Z")) == at("2026-06-15T08:00:00Z"));
  // Several intervals a day: the lunch break is out of hours.
  auto split =
      BusinessCalendar::make("Europe/London", weekdays({hours_of("09:00-12:00"), hours_of("13:00-17:00")}), {});
  REQUIRE(split.ok());
  CHECK(split->next_business_instant(at("2026-01-12T12:30:00Z")) == at("2026-01-12T13:00:00Z"));
  CHECK(split->add_business_time(at("2026-01-12T11:00:00Z"), hours(2)) == at("2026-01-12T14:00:00Z"));
  CHECK(split->business_time_between(at("2026-01-12T00:00:00Z"), at("2026-01-13T00:00:00Z")) == hours(7));
  CHECK(split->add_business_days(at("2026-01-12T10:00:00Z"), 1) == at("2026-01-13T17:00:00Z"));
}

TEST_CASE("DST start and end in Europe/London", "[calendar][dst]") {
  const auto calendar = london();
  // Clocks go forward on Sunday 29 March 2026. Friday 15:00 GMT + 4h: 2h Friday, then Monday
  // 09:00 BST (08:00Z) + 2h = 10:00Z.
  CHECK(calendar.add_business_time(at("2026-03-27T15:00:00Z"), hours(4)) == at("2026-03-30T10:00:00Z"));
  CHECK(calendar.business_time_between(at("2026-03-27T15:00:00Z"), at("2026-03-30T10:00:00Z")) == hours(4));
  // Clocks go back on Sunday 25 October 2026. Friday 15:00 BST (14:00Z) + 4h: Monday 11:00 GMT.
  CHECK(calendar.add_business_time(at("2026-10-23T14:00:00Z"), hours(4)) == at("2026-10-26T11:00:00Z"));
  // A day of calendar time keeps the wall-clock time: Saturday noon GMT to Sunday noon BST is 23h.
  CHECK(calendar.add_calendar_time(at("2026-03-28T12:00:00Z"), IsoDuration{1, Duration{0}}) ==
        at("2026-03-29T11:00:00Z"));
  CHECK(calendar.add_calendar_time(at("2026-10-24T11:00:00Z"), IsoDuration{1, Duration{0}}) ==
        at("2026-10-25T12:00:00Z"));
  // The time part is elapsed time.
  CHECK(calendar.add_calendar_time(at("2026-03-28T23:00:00Z"), IsoDuration{0, hours(12)}) ==
        at("2026-03-29T11:00:00Z"));

  // A calendar that works all Sunday: the short and the long day are measured exactly.
  WeeklyHours sundays;
  sundays[0] = {hours_of("00:00-24:00")};
  auto all_sunday = BusinessCalendar::make("Europe/London", sundays, {});
  REQUIRE(all_sunday.ok());
  CHECK(all_sunday->business_time_between(at("2026-03-28T00:00:00Z"), at("2026-03-31T00:00:00Z")) == hours(23));
  CHECK(all_sunday->business_time_between(at("2026-10-24T00:00:00Z"), at("2026-10-27T00:00:00Z")) == hours(25));
  CHECK(all_sunday->add_business_time(at("2026-03-29T00:00:00Z"), hours(23)) == at("2026-03-29T23:00:00Z"));
  CHECK(all_sunday->add_business_time(at("2026-03-29T00:00:00Z"), hours(24)) == at("2026-04-05T00:00:00Z"));
  CHECK(all_sunday->add_business_time(at("2026-10-24T23:00:00Z"), hours(25)) == at("2026-10-26T00:00:00Z"));
  // The repeated hour 01:00-02:00 BST/GMT on 25 October is working time twice.
  CHECK(all_sunday->is_business_instant(at("2026-10-25T00:30:00Z")));
  CHECK(all_sunday->is_business_instant(at("2026-10-25T01:30:00Z")));

  // An interval inside the skipped hour does not exist that day.
  WeeklyHours night;
  night[0] = {hours_of("01:00-02:00")};
  auto skipped = BusinessCalendar::make("Europe/London", night, {});
  REQUIRE(skipped.ok());
  CHECK_FALSE(skipped->is_business_day(ymd(2026, 3, 29)));
  CHECK(skipped->is_business_day(ymd(2026, 4, 5)));
  CHECK(skipped->business_time_between(at("2026-10-25T00:00:00Z"), at("2026-10-26T00:00:00Z")) == hours(2));
}

TEST_CASE("DST start and end in America/New_York", "[calendar][dst]") {
  const auto calendar = new_york();
  // Clocks go forward on Sunday 8 March 2026: Friday 15:00 EST (20:00Z) + 4h = Monday 11:00 EDT.
  CHECK(calendar.add_business_time(at("2026-03-06T20:00:00Z"), hours(4)) == at("2026-03-09T15:00:00Z"));
  // Clocks go back on Sunday 1 November 2026: Friday 15:00 EDT (19:00Z) + 4h = Monday 11:00 EST.
  CHECK(calendar.add_business_time(at("2026-10-30T19:00:00Z"), hours(4)) == at("2026-11-02T16:00:00Z"));
  CHECK(calendar.business_time_between(at("2026-10-30T19:00:00Z"), at("2026-11-02T16:00:00Z")) == hours(4));
  // Fifteen calendar days across the change keep 10:00 local: EST 15:00Z becomes EDT 14:00Z.
  CHECK(calendar.add_calendar_time(at("2026-03-01T15:00:00Z"), IsoDuration{15, Duration{0}}) ==
        at("2026-03-16T14:00:00Z"));
  // Holidays: Thanksgiving Thursday 26 November; Wednesday close + 1 business day is Friday.
  CHECK(calendar.add_business_days(at("2026-11-25T15:00:00Z"), 1) == at("2026-11-27T22:00:00Z"));
  // Independence Day observed on Friday 3 July: Thursday 17:00 EDT to Monday 09:00 EDT.
  CHECK(calendar.next_business_instant(at("2026-07-02T21:30:00Z")) == at("2026-07-06T13:00:00Z"));
}

TEST_CASE("targets on a basis, and pauses", "[calendar]") {
  const auto calendar = london();
  const Time monday = at("2026-01-12T10:00:00Z");
  CHECK(calendar.add(monday, IsoDuration{3, Duration{0}}, TimeBasis::kBusiness) == at("2026-01-15T17:00:00Z"));
  CHECK(calendar.add(monday, IsoDuration{0, hours(9)}, TimeBasis::kBusiness) == at("2026-01-13T11:00:00Z"));
  CHECK(calendar.add(monday, IsoDuration{3, Duration{0}}, TimeBasis::kCalendar) == at("2026-01-15T10:00:00Z"));
  CHECK(calendar.measure(monday, at("2026-01-13T11:00:00Z"), TimeBasis::kBusiness) == hours(9));
  CHECK(calendar.measure(monday, at("2026-01-13T11:00:00Z"), TimeBasis::kCalendar) == hours(25));

  // A pause across a weekend costs only its working time: Friday 16:00 to Monday 10:00 is 2h.
  const Time base = at("2026-01-23T17:00:00Z");  // a deadline on Friday 23 January
  const std::vector<TimeInterval> pauses{{at("2026-01-16T16:00:00Z"), at("2026-01-19T10:00:00Z")}};
  CHECK(calendar.extend_for_pauses(base, TimeBasis::kBusiness, pauses) == at("2026-01-26T11:00:00Z"));
  // In calendar time the same pause is 2 days 18 hours.
  CHECK(calendar.extend_for_pauses(base, TimeBasis::kCalendar, pauses) == base + hours(66));
  // A pause that begins after the deadline changes nothing; an open pause has no deadline.
  const std::vector<TimeInterval> late{{at("2026-01-24T10:00:00Z"), at("2026-01-25T10:00:00Z")}};
  CHECK(calendar.extend_for_pauses(base, TimeBasis::kBusiness, late) == base);
  const std::vector<TimeInterval> open{{at("2026-01-20T10:00:00Z"), Time::max()}};
  CHECK(calendar.extend_for_pauses(base, TimeBasis::kBusiness, open) == Time::max());
  // A pause that pushes the deadline past a later pause's start: both count.
  const std::vector<TimeInterval> chained{{at("2026-01-22T09:00:00Z"), at("2026-01-23T09:00:00Z")},
                                          {at("2026-01-26T09:00:00Z"), at("2026-01-26T13:00:00Z")}};
  // First adds 8h: Monday 26 17:00. Second begins before that and adds 4h: Tuesday 27 13:00.
  CHECK(calendar.extend_for_pauses(base, TimeBasis::kBusiness, chained) == at("2026-01-27T13:00:00Z"));
}

TEST_CASE("default calendar is UTC weekdays 9 to 5", "[calendar]") {
  const BusinessCalendar calendar;
  CHECK(calendar.zone_name() == "UTC");
  CHECK(calendar.add_business_time(at("2026-01-09T16:00:00Z"), hours(2)) == at("2026-01-12T10:00:00Z"));
  CHECK(calendar.local_date(at("2026-01-09T23:59:59Z")) == ymd(2026, 1, 9));
}
