// RFC 3339 instants and ISO 8601 durations.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "engine/support.h"
#include "engine/time.h"

using namespace redress;
using namespace std::chrono_literals;

namespace {

using enginetest::at;

}  // namespace

TEST_CASE("RFC 3339: UTC instants format and parse back to the same instant", "[time]") {
  for (const char* text :
       {"2026-11-27T17:00:00Z", "1970-01-01T00:00:00Z", "2024-02-29T23:59:59Z", "2026-01-01T00:00:00.5Z",
        "2026-06-30T12:34:56.123456Z", "1999-12-31T23:59:59.000001Z", "1969-12-31T23:59:59.25Z", "0001-01-01T00:00:00Z",
        "0999-09-09T09:09:09.09Z", "9999-12-31T23:59:59.999999Z", "2026-12-02T03:10:26.276368Z",
        "2026-10-25T01:00:00.100001Z"}) {
    INFO(text);
    auto t = parse_time(text);
    REQUIRE(t.has_value());
    CHECK(format_time(*t) == text);
  }
  CHECK(to_micros(at("1970-01-01T00:00:00Z")) == 0);
  CHECK(to_micros(at("1970-01-01T00:00:01.5Z")) == 1'500'000);
  CHECK(to_micros(at("1969-12-31T23:59:59.25Z")) == -750'000);
  // Whole seconds carry no fraction; fractions drop trailing zeros.
  CHECK(format_time(from_micros(1'000'000)) == "1970-01-01T00:00:01Z");
  CHECK(format_time(from_micros(1'100'000)) == "1970-01-01T00:00:01.1Z");
  CHECK(format_time(from_micros(1'000'010)) == "1970-01-01T00:00:01.00001Z");
  // Beyond four-digit years (not RFC 3339): still written, never truncated.
  CHECK(format_time(at("9999-12-31T23:59:59Z") + std::chrono::seconds(1)) == "10000-01-01T00:00:00Z");
}

TEST_CASE("RFC 3339: offsets, lower case and fractions are read as the same instant in UTC", "[time]") {
  const Time utc = at("2026-11-27T16:00:00Z");
  CHECK(at("2026-11-27T17:00:00+01:00") == utc);
  CHECK(at("2026-11-27T11:00:00-05:00") == utc);
  CHECK(at("2026-11-27T21:30:00+05:30") == utc);
  CHECK(at("2026-11-27t16:00:00z") == utc);
  CHECK(at("2026-11-27 16:00:00Z") == utc);
  CHECK(at("2026-11-27T16:00:00.000Z") == utc);
  CHECK(format_time(at("2026-11-27T17:00:00+01:00")) == "2026-11-27T16:00:00Z");
  // An offset crossing midnight changes the date.
  CHECK(format_time(at("2026-01-01T00:30:00+01:00")) == "2025-12-31T23:30:00Z");
  // More than six fractional digits are truncated to microseconds.
  CHECK(to_micros(at("1970-01-01T00:00:00.1234567Z")) == 123456);
}

TEST_CASE("RFC 3339: malformed times are refused", "[time]") {
  for (const char* text : {"",
                           "2026-11-27",
                           "2026-11-27T17:00:00",
                           "2026-11-27T17:00Z",
                           "2026-11-27T17:00:00ZZ",
                           "2026-13-01T00:00:00Z",
                           "2026-00-10T00:00:00Z",
                           "2026-02-30T00:00:00Z",
                           "2025-02-29T00:00:00Z",
                           "2026-11-27T24:00:00Z",
                           "2026-11-27T23:60:00Z",
                           "2026-11-27T23:59:61Z",
                           "2026-11-27T17:00:00.Z",
                           "2026-11-27T17:00:00+0100",
                           "2026-11-27T17:00:00+24:00",
                           "2026-11-27T17:00:00+01:60",
                           "26-11-27T17:00:00Z",
                           "2026/11/27T17:00:00Z",
                           "2026-11-27X17:00:00Z",
                           " 2026-11-27T17:00:00Z",
                           "2026-11-27T17:00:00Z ",
                           "2026-1a-27T17:00:00Z",
                           "tomorrow",
                           "2026-11-27T17:00:00 Z"}) {
    INFO('"' << text << '"');
    CHECK_FALSE(parse_time(text).has_value());
  }
}

TEST_CASE("ISO 8601 durations: weeks, days and time parts", "[time]") {
  auto d = [](const char* text) {
    auto parsed = parse_duration(text);
    INFO(text);
    REQUIRE(parsed.has_value());
    return *parsed;
  };
  CHECK(d("PT4H").days == 0);
  CHECK(d("PT4H").time == 4h);
  CHECK(d("PT4H").total() == 4h);
  CHECK(d("P3D").days == 3);
  CHECK(d("P3D").time == 0s);
  CHECK(d("P3D").total() == 72h);
  CHECK(d("P1W").days == 7);
  CHECK(d("P2W").total() == 14 * 24h);
  CHECK(d("PT4H30M").time == 270min);
  CHECK(d("P1DT12H").total() == 36h);
  CHECK(d("PT90S").time == 90s);
  CHECK(d("PT1.5S").time == 1500ms);
  CHECK(d("PT0,25S").time == 250ms);
  CHECK(d("PT15M").total() == 15min);
  CHECK(d("P0D").total() == 0s);
}

TEST_CASE("ISO 8601 durations: years, months and garbage are refused", "[time]") {
  for (const char* text :
       {"", "P", "PT", "P1Y", "P1M", "P1Y2D", "P2M3D", "4H", "PT4", "P4H", "PT3D", "P1DT", "PT1.5H", "P1.5D", "PT-4H",
        "P-1D", "PT4H4H", "PT30M4H", "P1D1W", "PTT4H", "P1DT4H ", " PT4H", "PT4HX", "one hour", "PT4h30", "P1W1W",
        // Found by fuzzing (tests/fuzz/regressions/api_body): a decimal mark alone threw from std::stod.
        "PT.S", "PT,s", "PT.5S", "PT5.S", "PT1.2.3S", "PT1,2,S"}) {
    INFO('"' << text << '"');
    CHECK_FALSE(parse_duration(text).has_value());
  }
}

TEST_CASE("ISO 8601 durations: absurdly long durations are refused, not overflowed", "[time]") {
  // A duration whose length in microseconds does not fit is refused rather than wrapped around.
  for (const char* text : {"P999999999999999D", "P99999999999999W", "PT999999999999999H", "PT999999999999999M",
                           "PT999999999999999S", "P9999999D"}) {
    INFO(text);
    auto d = parse_duration(text);
    CHECK_FALSE(d.has_value());
  }
  // Long but sensible durations are fine.
  auto year = parse_duration("P365D");
  REQUIRE(year.has_value());
  CHECK(year->total() == 365 * 24h);
}

TEST_CASE("durations format in ISO 8601 and parse back", "[time]") {
  CHECK(format_duration(0s) == "PT0S");
  CHECK(format_duration(4h) == "PT4H");
  CHECK(format_duration(72h) == "P3D");
  CHECK(format_duration(36h + 30min) == "P1DT12H30M");
  CHECK(format_duration(1500ms) == "PT1.5S");
  CHECK(format_duration(-4h) == "-PT4H");
  for (Duration value : {Duration(4h), Duration(72h), Duration(90s), Duration(1500ms), Duration(26h + 1min + 1s)}) {
    auto parsed = parse_duration(format_duration(value));
    REQUIRE(parsed.has_value());
    CHECK(parsed->total() == value);
  }
}
