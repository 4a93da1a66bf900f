#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "engine/support.h"
#include "engine/workflow.h"
#include "workflows/loader.h"
#include "workflows/support.h"

using namespace redress;
using std::chrono::hours;

namespace {

const std::string kWorkflows = REDRESS_SOURCE_DIR "/workflows";

using enginetest::at;
using workflowtest::shipped;

const Workflow& workflow(const std::string& name) {
  const Workflow* found = shipped().find(name);
  REQUIRE(found != nullptr);
  return *found;
}

const ClockRule& clock(const Workflow& w, const std::string& name) {
  const ClockRule* found = w.find_clock(name);
  REQUIRE(found != nullptr);
  return *found;
}

std::vector<std::string> keys(const std::vector<RequiredElement>& elements) {
  std::vector<std::string> out;
  for (const auto& e : elements) out.push_back(e.key);
  return out;
}

bool has(const std::vector<std::string>& values, const std::string& value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

// A small valid workflow; the error tests break one line of it at a time.
const std::string kMinimal = R"(name = "mini"
title = "Mini"
description = "A minimal standard."
pledge = "We answer within 5 business days."
team = "care"
reopen_window = "P14D"

[routing]
categories = ["mini"]

[calendar]
zone = "Europe/London"
holidays = [2026-12-25]
first_year = 2026
last_year = 2027

[calendar.hours]
monday = ["09:00-17:00"]
friday = ["09:00-12:00", "13:00-17:00"]

[[escalation]]
name = "Lead"
roles = ["lead"]

[clocks.answer]
text = "We will answer"
start = "received"
target = "P5D"
basis = "business"
warnings = [0.5, 0.75]
[clocks.answer.breach]
escalate_to = 1
notify = ["owner"]
)";

std::string replace(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  text.replace(at, from.size(), to);
  return text;
}

std::string error_of(const std::string& text) {
  auto parsed = parse_workflow(text, "workflows/mini.toml");
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.error().code == ErrorCode::kInvalid);
  return parsed.error().detail;
}

}  // namespace

TEST_CASE("the minimal workflow parses", "[loader]") {
  auto parsed = parse_workflow(kMinimal, "workflows/mini.toml");
  REQUIRE(parsed.ok());
  const Workflow& w = parsed.value();
  CHECK(w.name == "mini");
  CHECK(w.source == "workflows/mini.toml");
  CHECK(w.reopen_window == hours(24 * 14));
  CHECK(w.redress_due == hours(24 * 10));
  CHECK(w.calendar.hours()[5].size() == 2);
  CHECK(w.calendar.hours()[2].empty());
  REQUIRE(w.clocks.size() == 1);
  CHECK(w.clocks[0].target.basis == TimeBasis::kBusiness);
  CHECK(w.clocks[0].target.duration.days == 5);
  CHECK(w.clocks[0].breach.escalate_to == 1);
  CHECK(w.max_escalation_level() == 1);
}

TEST_CASE("every shipped workflow loads, routed without collisions", "[loader]") {
  const auto& set = shipped();
  CHECK(set.all().size() >= 4);
  CHECK(set.default_name() == "retail");
  CHECK(workflow("retail").is_default);
  CHECK(set.route("payment_services", Channel::kWeb).name == "fca-disp");
  CHECK(set.route("mortgages", Channel::kEmail).name == "fca-disp");
  CHECK(set.route("credit_reporting", Channel::kApi).name == "cfpb");
  CHECK(set.route("power_cut", Channel::kPhone).name == "energy-network");
  CHECK(set.route("billing", Channel::kWeb).name == "retail");
  CHECK(set.route("something-else", Channel::kWeb).name == "retail");
  for (const auto& w : set.all()) {
    INFO(w.name);
    CHECK_FALSE(w.title.empty());
    CHECK_FALSE(w.pledge.empty());
    CHECK_FALSE(w.clocks.empty());
    CHECK_FALSE(w.final_response_elements.empty());
    CHECK(w.max_escalation_level() >= 2);
  }
}

TEST_CASE("FCA DISP figures", "[loader][fca]") {
  const Workflow& fca = workflow("fca-disp");
  CHECK(fca.calendar.zone_name() == "Europe/London");
  CHECK(fca.auto_acknowledge);
  CHECK_FALSE(fca.calendar.is_business_day(
      std::chrono::year_month_day(std::chrono::year(2026), std::chrono::May, std::chrono::day(4))));
  CHECK_FALSE(fca.calendar.is_business_day(
      std::chrono::year_month_day(std::chrono::year(2027), std::chrono::December, std::chrono::day(28))));

  const ClockRule& final_response = clock(fca, "final_response");
  CHECK(final_response.target.basis == TimeBasis::kCalendar);
  CHECK(final_response.target.duration.days == 56);  // 8 weeks
  CHECK(final_response.pause == PauseRule::kRuns);
  CHECK_FALSE(final_response.applies_to("payment_services"));
  const ClockRule& psd = clock(fca, "final_response_payment_services");
  CHECK(psd.target.basis == TimeBasis::kBusiness);
  CHECK(psd.target.duration.days == 15);
  REQUIRE(psd.exceptional_target.has_value());
  CHECK(psd.exceptional_target->duration.days == 35);
  CHECK(psd.applies_to("payment_services"));
  CHECK_FALSE(psd.applies_to("mortgages"));
  CHECK(fca.clocks_for("payment_services").size() == 3);  // acknowledge, keep informed, PSD final response
  const ClockRule& informed = clock(fca, "keep_informed");
  CHECK(informed.stop == ClockStop::kClientUpdate);
  CHECK(informed.recurrence == Recurrence::kRepeatUntilResolved);

  REQUIRE(fca.summary_resolution.has_value());
  CHECK(fca.summary_resolution->within.duration.days == 3);
  CHECK(fca.summary_resolution->within.basis == TimeBasis::kBusiness);

  const auto required = keys(fca.final_response_elements);
  CHECK(has(required, "ombudsman_referral"));
  CHECK(has(required, "ombudsman_waiver"));
  CHECK(has(required, "ombudsman_website"));
  const std::string letter =
      "Our final response. You have the right to refer your complaint to the Financial Ombudsman Service, free of "
      "charge, but you must do so within six months of the date of this letter. If you do not refer your complaint "
      "in time, the Ombudsman will not have our permission to consider it. See www.financial-ombudsman.org.uk and "
      "the enclosed leaflet.";
  CHECK(fca.missing_elements(letter).empty());
  const auto missing = fca.missing_elements("We have decided to uphold your complaint.");
  CHECK(missing.size() == fca.final_response_elements.size());
}

TEST_CASE("FCA scenario: received on a Friday evening before a bank holiday", "[loader][fca]") {
  const Workflow& fca = workflow("fca-disp");
  // Friday 1 May 2026, 18:30 BST; Monday 4 May is the Early May bank holiday.
  const Time received = at("2026-05-01T17:30:00Z");

  // Summary resolution (DISP 1.5, 1.5.3G): treated as received Tuesday 5 May; close of business on
  // the 3rd business day after is Friday 8 May, 17:00 BST.
  CHECK(fca.summary_resolution_allowed(received, at("2026-05-08T15:59:59Z")));
  CHECK(fca.summary_resolution_allowed(received, at("2026-05-08T16:00:00Z")));
  CHECK_FALSE(fca.summary_resolution_allowed(received, at("2026-05-08T16:00:01Z")));

  // Eight weeks from receipt: Friday 26 June 2026, 18:30 BST.
  const ClockRule& final_response = clock(fca, "final_response");
  const Time start = fca.clock_start(final_response, received);
  CHECK(start == received);
  CHECK(final_response.due_at(fca.calendar, start) == at("2026-06-26T17:30:00Z"));
  const auto warnings = final_response.warning_times(fca.calendar, start);
  REQUIRE(warnings.size() == 2);
  CHECK(warnings[0] == received + hours(24 * 28));

  // Payment services: 15 business days after Friday 1 May (4 and 25 May are bank holidays):
  // Tuesday 26 May, close of business; exceptionally 35: Tuesday 23 June.
  const ClockRule& psd = clock(fca, "final_response_payment_services");
  CHECK(psd.due_at(fca.calendar, fca.clock_start(psd, received)) == at("2026-05-26T16:00:00Z"));
  CHECK(psd.exceptional_target->from(fca.calendar, fca.clock_start(psd, received)) == at("2026-06-23T16:00:00Z"));

  // Acknowledgement: close of the next business day, Tuesday 5 May.
  const ClockRule& acknowledge = clock(fca, "acknowledge");
  CHECK(acknowledge.due_at(fca.calendar, fca.clock_start(acknowledge, received)) == at("2026-05-05T16:00:00Z"));
}

TEST_CASE("CFPB figures", "[loader][cfpb]") {
  const Workflow& cfpb = workflow("cfpb");
  CHECK(cfpb.calendar.zone_name() == "America/New_York");
  const ClockRule& initial = clock(cfpb, "initial_response");
  const ClockRule& final_response = clock(cfpb, "final_response");
  CHECK(initial.target.duration.days == 15);
  CHECK(initial.target.basis == TimeBasis::kCalendar);
  CHECK(final_response.target.duration.days == 60);
  // Received Sunday 1 March 2026, 10:00 EST; 15 days later is 10:00 EDT after the DST change.
  const Time received = at("2026-03-01T15:00:00Z");
  CHECK(initial.due_at(cfpb.calendar, cfpb.clock_start(initial, received)) == at("2026-03-16T14:00:00Z"));
  CHECK(final_response.due_at(cfpb.calendar, cfpb.clock_start(final_response, received)) == at("2026-04-30T14:00:00Z"));
  CHECK_FALSE(cfpb.calendar.is_business_day(
      std::chrono::year_month_day(std::chrono::year(2026), std::chrono::July, std::chrono::day(3))));
}

TEST_CASE("energy network figures and automatic compensation", "[loader][energy]") {
  const Workflow& energy = workflow("energy-network");
  const ClockRule& restore = clock(energy, "supply_restoration");
  CHECK(restore.target.duration.time == hours(12));
  CHECK(restore.target.basis == TimeBasis::kCalendar);
  REQUIRE(restore.breach.compensation.has_value());
  const Compensation& pay = *restore.breach.compensation;
  CHECK(pay.currency == "GBP");
  CHECK(pay.fixed_minor == 9500);
  CHECK(pay.per_period_minor == 4500);
  CHECK(pay.period == hours(12));
  // Reported 02:00 on a Saturday: restoration is due 14:00 the same day, whatever the hour.
  const Time reported = at("2026-01-10T02:00:00Z");
  const Time due = restore.due_at(energy.calendar, energy.clock_start(restore, reported));
  CHECK(due == at("2026-01-10T14:00:00Z"));
  CHECK(pay.amount_for(-hours(1)) == 0);
  CHECK(pay.amount_for(hours(0)) == 9500);
  CHECK(pay.amount_for(hours(11)) == 9500);
  CHECK(pay.amount_for(hours(12)) == 14000);  // off supply for 24 hours: £95 + £45
  CHECK(pay.amount_for(hours(30)) == 18500);

  const ClockRule& severe = clock(energy, "supply_restoration_severe_weather");
  REQUIRE(severe.breach.compensation.has_value());
  CHECK(severe.breach.compensation->cap_minor == 200000);
  CHECK(severe.breach.compensation->amount_for(hours(6)) == 12000);
  CHECK(severe.breach.compensation->amount_for(hours(24 * 30)) == 200000);

  // Paid within 10 working days, else a further payment.
  CHECK(energy.redress_target.basis == TimeBasis::kBusiness);
  CHECK(energy.redress_target.duration.days == 10);
  CHECK(energy.redress_due_at(at("2026-12-18T10:00:00Z")) == at("2027-01-06T18:00:00Z"));
  REQUIRE(energy.redress_breach.compensation.has_value());
  CHECK(energy.redress_breach.compensation->fixed_minor > 0);
}

TEST_CASE("retail: a pause while awaiting the client moves the deadline", "[loader][retail]") {
  const Workflow& retail = workflow("retail");
  const ClockRule& answer = clock(retail, "final_response");
  CHECK(answer.pause == PauseRule::kPausesWhileAwaitingClient);
  const Time received = at("2026-01-12T10:00:00Z");  // Monday, in hours
  CHECK(answer.due_at(retail.calendar, received) == at("2026-01-26T10:00:00Z"));
  const std::vector<TimeInterval> pauses{{at("2026-01-16T10:00:00Z"), at("2026-01-19T10:00:00Z")}};
  CHECK(answer.due_at(retail.calendar, received, pauses) == at("2026-01-29T10:00:00Z"));
  // A clock that does not pause ignores the pauses.
  const ClockRule& acknowledge = clock(retail, "acknowledge");
  CHECK(acknowledge.due_at(retail.calendar, received, pauses) == acknowledge.due_at(retail.calendar, received));
  // Received Saturday after the desk closed: counts from Monday's opening.
  CHECK(retail.clock_start(answer, at("2026-01-10T15:00:00Z")) == at("2026-01-12T09:00:00Z"));
}

TEST_CASE("loader errors name the file, the line and the key", "[loader][errors]") {
  SECTION("bad TOML syntax") {
    const auto detail = error_of(replace(kMinimal, "team = \"care\"", "team = \"care"));
    CHECK(detail.rfind("workflows/mini.toml:5: ", 0) == 0);
    CHECK(detail.find("TOML syntax") != std::string::npos);
  }
  SECTION("unknown key") {
    const auto detail = error_of(replace(kMinimal, "target = \"P5D\"", "target = \"P5D\"\ntargte = \"P6D\""));
    CHECK(detail.rfind("workflows/mini.toml:29: clocks.answer.targte: unknown key", 0) == 0);
  }
  SECTION("unknown top-level key") {
    const auto detail = error_of(replace(kMinimal, "team = \"care\"", "team = \"care\"\nauto_acknowlege = true"));
    CHECK(detail.rfind("workflows/mini.toml:6: auto_acknowlege: unknown key", 0) == 0);
  }
  SECTION("wrong type") {
    const auto detail = error_of(replace(kMinimal, "categories = [\"mini\"]", "categories = \"mini\""));
    CHECK(detail.rfind("workflows/mini.toml:9: routing.categories: expected an array of strings", 0) == 0);
  }
  SECTION("bad duration") {
    const auto detail = error_of(replace(kMinimal, "target = \"P5D\"", "target = \"5 days\""));
    CHECK(detail.rfind("workflows/mini.toml:28: clocks.answer.target: expected an ISO 8601 duration like \"P8W\"", 0) ==
          0);
  }
  SECTION("duration in months") {
    const auto detail = error_of(replace(kMinimal, "reopen_window = \"P14D\"", "reopen_window = \"P1M\""));
    CHECK(detail.rfind("workflows/mini.toml:6: reopen_window: expected an ISO 8601 duration", 0) == 0);
  }
  SECTION("bad zone") {
    const auto detail = error_of(replace(kMinimal, "Europe/London", "Europe/Londres"));
    CHECK(detail.rfind("workflows/mini.toml:12: calendar.zone: unknown time zone \"Europe/Londres\"", 0) == 0);
  }
  SECTION("bad weekday hours") {
    const auto detail = error_of(replace(kMinimal, "monday = [\"09:00-17:00\"]", "monday = [\"17:00-09:00\"]"));
    CHECK(detail.rfind("workflows/mini.toml:18: calendar.hours.monday[0]: expected working hours like \"09:00-17:00\"",
                       0) == 0);
  }
  SECTION("misspelt weekday") {
    const auto detail = error_of(replace(kMinimal, "monday = ", "munday = "));
    CHECK(detail.rfind("workflows/mini.toml:18: calendar.hours.munday: unknown key", 0) == 0);
  }
  SECTION("overlapping hours") {
    const auto detail = error_of(replace(kMinimal, "\"13:00-17:00\"", "\"11:00-17:00\""));
    CHECK(detail.rfind("workflows/mini.toml:19: calendar.hours.friday[1]: 11:00-17:00 overlaps 09:00-12:00", 0) == 0);
  }
  SECTION("missing required key") {
    const auto detail = error_of(replace(kMinimal, "pledge = \"We answer within 5 business days.\"\n", ""));
    CHECK(detail.find("workflows/mini.toml:") == 0);
    CHECK(detail.find(": pledge: required key is missing") != std::string::npos);
  }
  SECTION("misspelt required key") {
    const auto detail = error_of(replace(kMinimal, "name = \"Lead\"", "nmae = \"Lead\""));
    CHECK(detail.rfind("workflows/mini.toml:22: escalation[0].nmae: unknown key; did you mean \"name\"?", 0) == 0);
  }
  SECTION("missing required key in a table") {
    const auto detail = error_of(replace(kMinimal, "start = \"received\"\n", ""));
    CHECK(detail.rfind("workflows/mini.toml:25: clocks.answer.start: required key is missing", 0) == 0);
  }
  SECTION("bad enum value") {
    const auto detail = error_of(replace(kMinimal, "start = \"received\"", "start = \"arrived\""));
    CHECK(detail.rfind("workflows/mini.toml:27: clocks.answer.start: \"arrived\" is not one of", 0) == 0);
  }
  SECTION("bad role") {
    const auto detail = error_of(replace(kMinimal, "roles = [\"lead\"]", "roles = [\"boss\"]"));
    CHECK(detail.rfind("workflows/mini.toml:23: escalation[0].roles[0]: \"boss\" is not one of", 0) == 0);
  }
  SECTION("escalation beyond the ladder") {
    const auto detail = error_of(replace(kMinimal, "escalate_to = 1", "escalate_to = 3"));
    CHECK(detail.rfind("workflows/mini.toml:32: clocks.answer.breach.escalate_to: must name a level", 0) == 0);
  }
  SECTION("warning fractions out of range") {
    const auto detail = error_of(replace(kMinimal, "warnings = [0.5, 0.75]", "warnings = [0.5, 1.5]"));
    CHECK(detail.rfind("workflows/mini.toml:30: clocks.answer.warnings[1]: expected a fraction", 0) == 0);
  }
  SECTION("holiday that is not a date") {
    const auto detail = error_of(replace(kMinimal, "holidays = [2026-12-25]", "holidays = [\"Christmas\"]"));
    CHECK(detail.rfind("workflows/mini.toml:13: calendar.holidays[0]: expected a date like 2026-12-25", 0) == 0);
  }
  SECTION("business target mixing days and hours") {
    const auto detail = error_of(replace(kMinimal, "target = \"P5D\"", "target = \"P1DT4H\""));
    CHECK(detail.rfind("workflows/mini.toml:28: clocks.answer.target: a business target counts either", 0) == 0);
  }
  SECTION("clock category not routed") {
    const auto detail =
        error_of(replace(kMinimal, "basis = \"business\"", "basis = \"business\"\ncategories = [\"maxi\"]"));
    CHECK(detail.find("clocks.answer.categories: \"maxi\" is not one of this workflow's routing.categories") !=
          std::string::npos);
  }
  SECTION("the error carries the field") {
    auto parsed = parse_workflow(replace(kMinimal, "target = \"P5D\"", "target = 5"), "mini.toml");
    REQUIRE_FALSE(parsed.ok());
    REQUIRE(parsed.error().fields.size() == 1);
    CHECK(parsed.error().fields[0].field == "clocks.answer.target");
  }
}

TEST_CASE("the loader refuses a trigger it cannot evaluate, naming the line", "[loader][errors][triggers]") {
  auto with_triggers = [](const std::string& triggers) {
    return replace(kMinimal, "roles = [\"lead\"]", "roles = [\"lead\"]\ntriggers = [" + triggers + "]");
  };
  // Every kind the engine evaluates loads.
  auto parsed = parse_workflow(
      with_triggers("{ on = \"clock_warning\", clock = \"answer\", fraction = 0.75 }, { on = \"clock_breach\" }, "
                    "{ on = \"commitment_broken\", commitment = \"promise\", client_visible = true }, "
                    "{ on = \"redress_rejected\" }, { on = \"client_request\" }, "
                    "{ on = \"severity\", severity = \"critical\" }"),
      "workflows/mini.toml");
  if (!parsed.ok()) FAIL(parsed.error().detail);
  const auto& triggers = parsed->escalation[0].triggers;
  REQUIRE(triggers.size() == 6);
  CHECK(triggers[2].commitment == CommitmentKind::kPromise);
  CHECK(triggers[2].client_visible_only);
  CHECK(triggers[2].matches_broken(CommitmentKind::kPromise, true));
  CHECK_FALSE(triggers[2].matches_broken(CommitmentKind::kPromise, false));
  CHECK_FALSE(triggers[2].matches_broken(CommitmentKind::kPledge, true));
  CHECK(parsed->levels_naming(TriggerKind::kClientRequest) == std::vector<int>{1});

  SECTION("a warning the clock never gives") {
    const auto detail = error_of(with_triggers("{ on = \"clock_warning\", clock = \"answer\", fraction = 0.9 }"));
    CHECK(detail.rfind("workflows/mini.toml:24: escalation[0].triggers[0]: clock \"answer\" never warns at fraction 0.9",
                       0) == 0);
  }
  SECTION("a warning no clock gives") {
    const auto detail = error_of(with_triggers("{ on = \"clock_warning\", fraction = 0.9 }"));
    CHECK(detail.find("escalation[0].triggers[0]: no clock of this workflow warns at fraction 0.9") !=
          std::string::npos);
  }
  SECTION("a clock that does not exist") {
    const auto detail = error_of(with_triggers("{ on = \"clock_breach\", clock = \"anwser\" }"));
    CHECK(detail.rfind("workflows/mini.toml:24: escalation[0].triggers[0].clock: no clock named \"anwser\"", 0) == 0);
  }
  SECTION("a key its kind never reads") {
    CHECK(error_of(with_triggers("{ on = \"severity\", severity = \"high\", clock = \"answer\" }"))
              .find("escalation[0].triggers[0].clock: applies to clock_warning and clock_breach triggers only") !=
          std::string::npos);
    CHECK(error_of(with_triggers("{ on = \"clock_breach\", fraction = 0.5 }"))
              .find("triggers[0].fraction: applies to clock_warning triggers only") != std::string::npos);
    CHECK(error_of(with_triggers("{ on = \"client_request\", severity = \"high\" }"))
              .find("triggers[0].severity: applies to severity triggers only") != std::string::npos);
    CHECK(error_of(with_triggers("{ on = \"redress_rejected\", commitment = \"promise\" }"))
              .find("triggers[0].commitment: applies to commitment_broken triggers only") != std::string::npos);
  }
  SECTION("severity without its threshold, an unknown kind") {
    CHECK(error_of(with_triggers("{ on = \"severity\" }")).find("required when on = \"severity\"") !=
          std::string::npos);
    CHECK(error_of(with_triggers("{ on = \"client_asked\" }")).find("\"client_asked\" is not one of") !=
          std::string::npos);
    CHECK(error_of(with_triggers("{ on = \"commitment_broken\", commitment = \"vow\" }"))
              .find("\"vow\" is not one of") != std::string::npos);
  }
  SECTION("the removed blanket rule for rejections") {
    const auto detail = error_of(replace(kMinimal, "team = \"care\"", "team = \"care\"\nescalate_on_rejection = true"));
    CHECK(detail.rfind("workflows/mini.toml:6: escalate_on_rejection: no longer read", 0) == 0);
    CHECK(detail.find("redress_rejected") != std::string::npos);
  }
}

TEST_CASE("calendars declare the years their holidays cover", "[loader][errors][calendar]") {
  SECTION("the years are required") {
    CHECK(error_of(replace(kMinimal, "first_year = 2026\n", "")).find("calendar.first_year: required key is missing") !=
          std::string::npos);
    CHECK(error_of(replace(kMinimal, "last_year = 2027\n", "")).find("calendar.last_year: required key is missing") !=
          std::string::npos);
  }
  SECTION("a holiday outside them") {
    const auto detail = error_of(replace(kMinimal, "holidays = [2026-12-25]", "holidays = [2026-12-25, 2028-12-25]"));
    CHECK(detail.rfind("workflows/mini.toml:13: calendar.holidays[1]: is outside the years the calendar covers", 0) == 0);
  }
  SECTION("years backwards") {
    const auto detail = error_of(replace(kMinimal, "last_year = 2027", "last_year = 2025"));
    CHECK(detail.rfind("workflows/mini.toml:15: calendar.last_year: must not be before first_year", 0) == 0);
  }
  SECTION("the years are kept") {
    auto parsed = parse_workflow(kMinimal, "workflows/mini.toml");
    REQUIRE(parsed.ok());
    REQUIRE(parsed->calendar.years().has_value());
    CHECK(parsed->calendar.years()->first == 2026);
    CHECK(parsed->calendar.years()->last == 2027);
    CHECK(parsed->calendar.end_of_coverage() ==
          std::chrono::year_month_day(std::chrono::year(2028), std::chrono::January, std::chrono::day(1)));
  }
}

TEST_CASE("folder-level errors: defaults, names and routing collisions", "[loader][errors]") {
  namespace fs = std::filesystem;
  const fs::path folder =
      fs::temp_directory_path() /
      ("redress-loader-test-" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
  fs::remove_all(folder);
  fs::create_directories(folder);
  auto write = [&](const std::string& file, const std::string& text) { std::ofstream(folder / file) << text; };

  write("a.toml", replace(kMinimal, "team = \"care\"", "team = \"care\"\ndefault = true"));
  REQUIRE(load_workflows(folder.string()).ok());

  SECTION("no default") {
    write("a.toml", kMinimal);
    auto loaded = load_workflows(folder.string());
    REQUIRE_FALSE(loaded.ok());
    CHECK(loaded.error().detail.find("exactly one workflow must say `default = true`") != std::string::npos);
  }
  SECTION("duplicate name") {
    write("b.toml", kMinimal);
    auto loaded = load_workflows(folder.string());
    REQUIRE_FALSE(loaded.ok());
    CHECK(loaded.error().detail.find("b.toml: workflow name \"mini\" is also used by") != std::string::npos);
  }
  SECTION("category routed twice") {
    write("b.toml", replace(kMinimal, "name = \"mini\"", "name = \"other\""));
    auto loaded = load_workflows(folder.string());
    REQUIRE_FALSE(loaded.ok());
    CHECK(loaded.error().detail.find("b.toml: routing.categories: \"mini\" is already routed to") != std::string::npos);
  }
  SECTION("same category on different channels is fine") {
    write("a.toml", replace(replace(kMinimal, "team = \"care\"", "team = \"care\"\ndefault = true"),
                            "categories = [\"mini\"]", "categories = [\"mini\"]\nchannels = [\"web\"]"));
    write("b.toml", replace(replace(kMinimal, "name = \"mini\"", "name = \"other\""), "categories = [\"mini\"]",
                            "categories = [\"mini\"]\nchannels = [\"phone\"]"));
    auto loaded = load_workflows(folder.string());
    REQUIRE(loaded.ok());
    CHECK(loaded->route("mini", Channel::kPhone).name == "other");
    CHECK(loaded->route("mini", Channel::kWeb).name == "mini");
    CHECK(loaded->route("mini", Channel::kEmail).name == "mini");  // the default
  }
  SECTION("an invalid file names itself") {
    write("b.toml", "name = ");
    auto loaded = load_workflows(folder.string());
    REQUIRE_FALSE(loaded.ok());
    CHECK(loaded.error().detail.find("b.toml:1: ") != std::string::npos);
  }
  fs::remove_all(folder);
  CHECK_FALSE(load_workflows(folder.string()).ok());
}

TEST_CASE("the complete example in workflows/README.md is valid", "[loader][docs]") {
  std::ifstream in(kWorkflows + "/README.md");
  REQUIRE(in.good());
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto begin = text.find("```toml\n");
  REQUIRE(begin != std::string::npos);
  const auto end = text.find("```", begin + 8);
  REQUIRE(end != std::string::npos);
  auto parsed = parse_workflow(text.substr(begin + 8, end - begin - 8), "README.md example");
  if (!parsed.ok()) FAIL(parsed.error().detail);
  CHECK(parsed->clocks.size() == 3);
  CHECK(parsed->summary_resolution.has_value());
  CHECK(parsed->clocks_for("billing").size() == 3);
}

TEST_CASE("display names and rights: read from [names] and [rights], checked, with defaults", "[loader][desk]") {
  const std::string categories = "categories = [\"mini\"]";
  auto named = parse_workflow(
      replace(kMinimal, categories,
              categories + "\n\n[names.categories]\nmini = \"Mini things\"\n\n[names.touchpoints]\nphone_contact = "
                           "\"On the phone\"\n\n[rights]\ndecisions = \"any_agent\""),
      "workflows/mini.toml");
  INFO((named.ok() ? std::string() : named.error().detail));
  REQUIRE(named.ok());
  CHECK(named->decisions == DecisionRights::kAnyAgent);
  WorkflowSet set({*named}, "mini");
  CHECK(set.category_name("mini") == "Mini things");
  CHECK(set.touchpoint_name("phone_contact") == "On the phone");
  CHECK(set.category_name("store_experience") == "Store experience");  // unnamed: the id in words
  REQUIRE(set.touchpoints().size() == 1);

  auto plain = parse_workflow(kMinimal, "workflows/mini.toml");
  REQUIRE(plain.ok());
  CHECK(plain->decisions == DecisionRights::kOwnerAndLeads);  // the default

  CHECK(error_of(replace(kMinimal, categories, categories + "\n[names.categories]\nnot_routed = \"X\""))
            .find("names.categories.not_routed") != std::string::npos);
  CHECK(error_of(replace(kMinimal, categories, categories + "\n[names.touchpoints]\nphone = \"  \""))
            .find("must not be empty") != std::string::npos);
  CHECK(error_of(replace(kMinimal, categories, categories + "\n[names]\ncolours = {}"))
            .find("names.colours") != std::string::npos);
  CHECK(error_of(replace(kMinimal, categories, categories + "\n[rights]\ndecisions = \"anyone\""))
            .find("rights.decisions") != std::string::npos);
}

TEST_CASE("touchpoints, the timely-response clocks and the published survey: read from the file, checked",
          "[loader][measuring]") {
  const std::string categories = "categories = [\"mini\"]";
  auto described = parse_workflow(
      replace(kMinimal, categories,
              categories +
                  "\n\n[touchpoints.phone_contact]\nname = \"On the phone\"\ndescription = \"The contact centre.\"\n"
                  "team = \"contact-centre\"\n\n[touchpoints.online]\nname = \"Online\"\n\n[survey]\n"
                  "publish_results = true\n\n[returns]\ntimely_response = [\"answer\"]"),
      "workflows/mini.toml");
  INFO((described.ok() ? std::string() : described.error().detail));
  REQUIRE(described.ok());
  CHECK(described->publish_survey);
  CHECK(described->returns.timely_response == std::vector<std::string>{"answer"});
  REQUIRE(described->touchpoint_details.size() == 2);
  WorkflowSet set({*described}, "mini");
  CHECK(set.touchpoint_name("phone_contact") == "On the phone");  // the forms and the board name it so
  auto phone = set.find_touchpoint("phone_contact");
  REQUIRE(phone);
  CHECK(phone->description == "The contact centre.");
  CHECK(phone->team == "contact-centre");
  REQUIRE(set.touchpoint_list().size() == 2);
  CHECK(set.touchpoint_list().at(1).key == "phone_contact");
  CHECK(set.touchpoint_list().at(0).team.empty());
  CHECK_FALSE(set.find_touchpoint("nowhere"));

  auto plain = parse_workflow(kMinimal, "workflows/mini.toml");
  REQUIRE(plain.ok());
  CHECK_FALSE(plain->publish_survey);  // off unless the file says so
  CHECK(plain->returns.timely_response.empty());

  CHECK(error_of(replace(kMinimal, categories, categories + "\n[returns]\ntimely_response = [\"reply\"]"))
            .find("returns.timely_response[0]: no clock named \"reply\"") != std::string::npos);
  CHECK(error_of(replace(kMinimal, categories, categories + "\n[touchpoints.phone]\ndescription = \"x\""))
            .find("touchpoints.phone.name") != std::string::npos);
  CHECK(error_of(replace(kMinimal, categories, categories + "\n[touchpoints.phone]\nname = \" \""))
            .find("must not be empty") != std::string::npos);
  CHECK(error_of(replace(kMinimal, categories, categories + "\n[touchpoints.phone]\nname = \"P\"\nowner = \"x\""))
            .find("touchpoints.phone.owner") != std::string::npos);
  CHECK(error_of(replace(kMinimal, categories,
                         categories + "\n[names.touchpoints]\nphone = \"P\"\n\n[touchpoints.phone]\nname = \"Q\""))
            .find("named in [names.touchpoints] too") != std::string::npos);
  CHECK(error_of(replace(kMinimal, categories, categories + "\n[survey]\npublish = true"))
            .find("survey.publish") != std::string::npos);
}

TEST_CASE("retention: [retention] years or months from receipt or closure, checked - the shipped values",
          "[loader][personal]") {
  const std::string categories = "categories = [\"mini\"]";
  auto kept = parse_workflow(
      replace(kMinimal, categories, categories + "\n\n[retention]\nyears = 2\nmonths = 6\nfrom = \"closure\""),
      "workflows/mini.toml");
  INFO((kept.ok() ? std::string() : kept.error().detail));
  REQUIRE(kept.ok());
  REQUIRE(kept->retention.has_value());
  CHECK(kept->retention->months == 30);
  CHECK(kept->retention->from == RetentionFrom::kClosure);
  CHECK(!parse_workflow(kMinimal, "workflows/mini.toml")->retention.has_value());  // none: nothing kept on purpose

  auto error_with = [&](const std::string& table) {
    return error_of(replace(kMinimal, categories, categories + "\n\n[retention]\n" + table));
  };
  CHECK(error_with("from = \"receipt\"").find("give the period") != std::string::npos);
  CHECK(error_with("years = 3").find("retention.from") != std::string::npos);
  CHECK(error_with("years = 3\nfrom = \"opening\"").find("\"receipt\" or \"closure\"") != std::string::npos);
  CHECK(error_with("years = -1\nfrom = \"receipt\"").find("retention.years") != std::string::npos);
  CHECK(error_with("months = 0\nfrom = \"receipt\"").find("at least a month") != std::string::npos);
  CHECK(error_with("years = \"3\"\nfrom = \"receipt\"").find("expected an integer") != std::string::npos);
  CHECK(error_with("years = 3\nfrom = \"receipt\"\nuntil = 4").find("retention.until") != std::string::npos);

  auto shipped = load_workflows(REDRESS_SOURCE_DIR "/workflows");
  REQUIRE(shipped.ok());
  const Workflow* fca = shipped->find("fca-disp");
  REQUIRE(fca);
  REQUIRE(fca->retention);
  CHECK(fca->retention->months == 36);  // DISP 1.9.1R: three years from receipt
  CHECK(fca->retention->from == RetentionFrom::kReceipt);
  for (const auto& w : shipped->all()) CHECK(w.retention.has_value());
}
