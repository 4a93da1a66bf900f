// Each shipped standard, walked through real dates, one table per standard: the FCA over the
// Christmas 2026 bank holidays, Good Friday and the clocks going forward, and the 2028 leap day;
// the CFPB over Thanksgiving week, a daylight-saving change and the New Year's Day 2028 observed on
// 31 December 2027; the energy network across the clocks going back and the leap day; retail with
// its Saturday desk. Every expected instant was worked out by hand from the rule the file cites
// (and checked against an independent calendar). Past the last year a calendar covers, counting
// business days is refused.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "engine/support.h"
#include "engine/workflow.h"
#include "workflows/support.h"

using namespace redress;

namespace {

using enginetest::at;
using workflowtest::shipped;

const Workflow& walked(const std::string& name) {
  const Workflow* found = shipped().find(name);
  REQUIRE(found != nullptr);
  return *found;
}

// When the pledge of `clock` falls due for a complaint received at `received` (no pauses).
std::string walked_due(const Workflow& w, const std::string& clock, const std::string& received) {
  const ClockRule* rule = w.find_clock(clock);
  REQUIRE(rule != nullptr);
  return format_time(rule->due_at(w.calendar, w.clock_start(*rule, at(received))));
}

std::string walked_exceptional(const Workflow& w, const std::string& clock, const std::string& received) {
  const ClockRule* rule = w.find_clock(clock);
  REQUIRE(rule != nullptr);
  auto t = rule->exceptional_due_at(w.calendar, w.clock_start(*rule, at(received)));
  REQUIRE(t.has_value());
  return format_time(*t);
}

struct WalkRow {
  const char* what;
  const char* received;
  const char* clock;  // a clock's name, "summary" for summary_resolution_until, "exceptional:<clock>",
                      // or "redress" for accepted redress due from `received`
  const char* expected;
};

void walk(const Workflow& w, const std::vector<WalkRow>& rows) {
  for (const auto& row : rows) {
    INFO(w.name << ": " << row.what << " (received " << row.received << ", " << row.clock << ")");
    const std::string clock = row.clock;
    std::string got;
    if (clock == "summary")
      got = format_time(*w.summary_resolution_until(at(row.received)));
    else if (clock == "redress")
      got = format_time(w.redress_due_at(at(row.received)));
    else if (clock.rfind("exceptional:", 0) == 0)
      got = walked_exceptional(w, clock.substr(12), row.received);
    else
      got = walked_due(w, clock, row.received);
    CHECK(got == row.expected);
  }
}

}  // namespace

TEST_CASE("FCA DISP walked through Christmas 2026, Easter and the clocks going forward, and the 2028 leap day",
          "[walk][fca]") {
  walk(walked("fca-disp"),
       {
           // Wednesday 23 December 2026, 10:00: 25 and 28 December and 1 January are bank holidays.
           {"acknowledged by close of the next business day", "2026-12-23T10:00:00Z", "acknowledge",
            "2026-12-24T17:00:00Z"},
           {"summary resolution: 24, 29, 30 December", "2026-12-23T10:00:00Z", "summary", "2026-12-30T17:00:00Z"},
           {"payment services: 15 business days over Christmas", "2026-12-23T10:00:00Z",
            "final_response_payment_services", "2027-01-18T17:00:00Z"},
           {"payment services, exceptionally 35", "2026-12-23T10:00:00Z",
            "exceptional:final_response_payment_services", "2027-02-15T17:00:00Z"},
           {"eight weeks, calendar time", "2026-12-23T10:00:00Z", "final_response", "2027-02-17T10:00:00Z"},
           // Christmas Eve, after close: DISP counts the day it arrives; the summary resolution treats
           // it as received at the next opening, Tuesday 29 December (DISP 1.5.3G).
           {"received out of hours on Christmas Eve", "2026-12-24T18:30:00Z", "acknowledge", "2026-12-29T17:00:00Z"},
           {"summary resolution from the next opening", "2026-12-24T18:30:00Z", "summary", "2027-01-04T17:00:00Z"},
           // Good Friday 26 March 2027, 16:00 GMT; Easter Monday follows; BST from Sunday 28 March.
           {"received on Good Friday", "2027-03-26T16:00:00Z", "acknowledge", "2027-03-30T16:00:00Z"},
           {"summary resolution after Easter, in BST", "2027-03-26T16:00:00Z", "summary", "2027-04-02T16:00:00Z"},
           {"eight weeks keeps the wall-clock time across BST", "2027-03-26T16:00:00Z", "final_response",
            "2027-05-21T15:00:00Z"},
           // Monday 28 February 2028: the leap day is a business day.
           {"summary resolution over the leap day", "2028-02-28T10:00:00Z", "summary", "2028-03-02T17:00:00Z"},
           {"payment services over the leap day", "2028-02-28T10:00:00Z", "final_response_payment_services",
            "2028-03-20T17:00:00Z"},
           {"eight weeks from the leap year's February, into BST", "2028-02-28T10:00:00Z", "final_response",
            "2028-04-24T09:00:00Z"},
       });
}

TEST_CASE("CFPB walked through Thanksgiving week, a daylight-saving change, the leap day and New Year 2028",
          "[walk][cfpb]") {
  walk(walked("cfpb"),
       {
           // Monday 23 November 2026, 09:00 EST: Thanksgiving is Thursday 26 November.
           {"15 calendar days from Thanksgiving week", "2026-11-23T14:00:00Z", "initial_response",
            "2026-12-08T14:00:00Z"},
           {"60 calendar days", "2026-11-23T14:00:00Z", "final_response", "2027-01-22T14:00:00Z"},
           {"redress in 10 business days skips Thanksgiving", "2026-11-25T17:00:00Z", "redress",
            "2026-12-10T23:00:00Z"},
           // Saturday 13 March 2027, 12:00 EST; EDT from Sunday 14 March.
           {"15 days across the clocks going forward", "2027-03-13T17:00:00Z", "initial_response",
            "2027-03-28T16:00:00Z"},
           // Monday 28 February 2028, 12:00 EST; EDT from Sunday 12 March 2028.
           {"15 days over the leap day and into EDT", "2028-02-28T17:00:00Z", "initial_response",
            "2028-03-14T16:00:00Z"},
           // Thursday 23 December 2027: Christmas observed Friday 24, New Year's Day 2028 observed 31.
           {"redress over the observed Christmas and New Year", "2027-12-23T17:00:00Z", "redress",
            "2028-01-10T23:00:00Z"},
       });
}

TEST_CASE("Energy network walked across the clocks going back, Christmas 2026 and the 2028 leap day",
          "[walk][energy]") {
  walk(walked("energy-network"),
       {
           // Saturday 30 October 2027, 20:00 BST; GMT from 02:00 Sunday: 12 elapsed hours.
           {"12 elapsed hours across the clocks going back", "2027-10-30T19:00:00Z", "supply_restoration",
            "2027-10-31T07:00:00Z"},
           {"24 elapsed hours in severe weather, across it", "2027-10-30T19:00:00Z",
            "supply_restoration_severe_weather", "2027-10-31T19:00:00Z"},
           // Tuesday 22 December 2026: paid within 10 working days, Christmas and New Year skipped.
           {"payment in 10 working days over Christmas", "2026-12-22T12:00:00Z", "redress", "2027-01-08T18:00:00Z"},
           {"eight weeks from the leap day, into BST", "2028-02-29T10:00:00Z", "complaint_response",
            "2028-04-25T09:00:00Z"},
       });
}

TEST_CASE("Retail walked through Christmas 2026 with its Saturday desk, the leap day and Easter 2027",
          "[walk][retail]") {
  walk(walked("retail"),
       {
           // Christmas Eve 2026 after the desk closed: counted from the Saturday desk, 26 December.
           {"acknowledged after Christmas", "2026-12-24T18:00:00Z", "acknowledge", "2026-12-29T17:30:00Z"},
           {"14 days from the next opening", "2026-12-24T18:00:00Z", "final_response", "2027-01-09T10:00:00Z"},
           {"acknowledged the day after the leap day", "2028-02-29T12:00:00Z", "acknowledge", "2028-03-01T17:30:00Z"},
           {"14 days over the leap day", "2028-02-29T12:00:00Z", "final_response", "2028-03-14T12:00:00Z"},
           // Saturday 27 March 2027: Easter Monday, then BST.
           {"acknowledged after Easter Monday, in BST", "2027-03-27T13:00:00Z", "acknowledge", "2027-03-30T16:30:00Z"},
           {"14 days keep the wall-clock time across BST", "2027-03-27T13:00:00Z", "final_response",
            "2027-04-10T12:00:00Z"},
       });
}

TEST_CASE("Every shipped calendar covers 2026 to 2030 and refuses to count past it", "[walk][calendar]") {
  for (const auto& w : shipped().all()) {
    INFO(w.name);
    REQUIRE(w.calendar.years().has_value());
    CHECK(w.calendar.years()->first == 2026);
    CHECK(w.calendar.years()->last == 2030);
  }
  const Workflow& retail = walked("retail");
  // Inside the years: Monday 30 December 2030 is acknowledged by close of Tuesday 31 December.
  CHECK(walked_due(retail, "acknowledge", "2030-12-30T10:00:00Z") == "2030-12-31T17:30:00Z");
  // Calendar time needs no holidays: the 14 days run into 2031.
  CHECK(walked_due(retail, "final_response", "2030-12-30T10:00:00Z") == "2031-01-13T10:00:00Z");
  // A business day in 2031 is not guessed: refused.
  const ClockRule* acknowledge = retail.find_clock("acknowledge");
  REQUIRE(acknowledge);
  CHECK_THROWS_AS(acknowledge->due_at(retail.calendar, at("2030-12-31T10:00:00Z")), CalendarExhausted);
  try {
    (void)acknowledge->due_at(retail.calendar, at("2030-12-31T10:00:00Z"));
  } catch (const CalendarExhausted& exhausted) {
    CHECK(format_date(exhausted.day()) == "2031-01-01");
    CHECK(std::string(exhausted.what()).find("2026-2030") != std::string::npos);
  }
  // 90 days before the end the calendars are reported; before that, not.
  CHECK(calendars_ending(shipped(), at("2030-09-01T00:00:00Z")).empty());
  const auto ending = calendars_ending(shipped(), at("2030-11-01T00:00:00Z"));
  REQUIRE(ending.size() == shipped().all().size());
  CHECK(ending.front().days_left == 61);
  CHECK(format_date(ending.front().ends) == "2031-01-01");
  CHECK(calendar_warning(ending.front()).find("61 days left") != std::string::npos);
}
