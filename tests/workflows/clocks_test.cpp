// The clock engine over the shipped workflows: each standard's figures by a scenario, the
// calendar's hard cases (weekends, holidays, DST, out-of-hours receipt, pauses), the lifecycle
// rules (recurrence, reopening, re-routing, withdrawal), determinism and restartability.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "engine/clocks.h"
#include "engine/hash_chain.h"
#include "engine/support.h"
#include "engine/time.h"
#include "engine/workflow.h"
#include "workflows/support.h"

using namespace redress;

namespace {

using enginetest::at;
using workflowtest::shipped;

// A case history under construction: seq numbers follow the order of adding.
struct History {
  std::vector<Event> events;
  History& add(std::string type, const std::string& when, std::string data = "{}", std::string actor = "staff:u-1") {
    Event e;
    e.case_id = 1;
    e.seq = static_cast<std::int64_t>(events.size()) + 1;
    e.type = std::move(type);
    e.at = at(when);
    e.actor = std::move(actor);
    e.data = std::move(data);
    events.push_back(std::move(e));
    return *this;
  }
  History& received(const std::string& when, const std::string& workflow, const std::string& category) {
    return add("case.received", when, R"({"category":")" + category + R"(","workflow":")" + workflow + R"("})",
               "intake:web");
  }
  History& acknowledged(const std::string& when) {
    return add("case.acknowledged", when, R"({"from":"received","to":"acknowledged"})");
  }
  History& staff_message(const std::string& when) {
    return add("message.client", when, R"({"body":"An update","message_id":"m-1","visibility":"client"})");
  }
  History& client_message(const std::string& when) {
    return add("message.client", when, R"({"body":"Thanks","message_id":"m-2","visibility":"client"})", "client");
  }
  History& internal_note(const std::string& when) {
    return add("message.internal", when, R"({"body":"note","message_id":"m-3","visibility":"internal"})");
  }
  History& info_requested(const std::string& when, bool with_message = false) {
    return add("case.info_requested", when,
               with_message
                   ? R"({"body":"Please send","from":"investigating","message_id":"m-4","to":"awaiting_client"})"
                   : R"({"from":"investigating","to":"awaiting_client"})");
  }
  History& client_replied(const std::string& when) {
    return add("case.client_replied", when, R"({"automatic":true,"from":"awaiting_client","to":"investigating"})",
               "system");
  }
  History& resolved(const std::string& when) {
    return add("case.resolved", when, R"({"from":"investigating","outcome":"upheld","to":"resolved","via":"resolve"})");
  }
  History& reopened(const std::string& when) {
    return add("case.reopened", when, R"({"from":"resolved","reason":"not fixed","to":"investigating"})", "client");
  }
  History& withdrawn(const std::string& when) {
    return add("case.withdrawn", when, R"({"from":"investigating","reason":"sorted","to":"withdrawn"})", "client");
  }
  History& closed(const std::string& when) {
    return add("case.closed", when, R"({"automatic":true,"from":"resolved","note":"","to":"closed"})", "system");
  }
  History& rerouted(const std::string& when, const std::string& from_workflow, const std::string& workflow,
                    const std::string& from_category, const std::string& category) {
    return add("case.assessed", when,
               R"({"category":")" + category + R"(","note":"","previous_category":")" + from_category +
                   R"(","previous_workflow":")" + from_workflow + R"(","workflow":")" + workflow + R"("})");
  }
  History& recategorised(const std::string& when, const std::string& from_category, const std::string& category) {
    return add("case.assessed", when,
               R"({"category":")" + category + R"(","note":"","previous_category":")" + from_category + R"("})");
  }
};

std::vector<PledgeRun> fold(const History& h) { return derive_pledges(shipped(), h.events); }

const PledgeRun& find(const std::vector<PledgeRun>& runs, const std::string& clock, int run = 1,
                      const std::string& workflow = {}) {
  for (const auto& r : runs)
    if (r.clock == clock && r.run == run && (workflow.empty() || r.workflow == workflow)) return r;
  FAIL("no run " << run << " of clock " << clock);
  throw std::logic_error("unreachable");
}

int count_runs(const std::vector<PledgeRun>& runs, const std::string& clock, const std::string& workflow = {}) {
  int n = 0;
  for (const auto& r : runs)
    if (r.clock == clock && (workflow.empty() || r.workflow == workflow)) ++n;
  return n;
}

std::vector<std::string> formatted(const std::vector<Time>& times) {
  std::vector<std::string> out;
  for (Time t : times) out.push_back(t == Time::max() ? "never" : format_time(t));
  return out;
}

using Strings = std::vector<std::string>;

}  // namespace

// ---------------------------------------------------------------------------------------------
// Each shipped standard's figures.

TEST_CASE("FCA DISP: received Friday 1 May 2026 18:30 before the May bank holiday", "[clocks][fca]") {
  // Fri 1 May 18:30 BST is after close; Mon 4 May is the Early May bank holiday. FCA counts from
  // receipt (as_received); the summary resolution treats it as received at the next opening.
  History h;
  h.received("2026-05-01T17:30:00Z", "fca-disp", "banking").acknowledged("2026-05-01T17:30:00Z");
  const auto runs = fold(h);
  REQUIRE(runs.size() == 3);

  const auto& ack = find(runs, "acknowledge");
  CHECK(ack.started == at("2026-05-01T17:30:00Z"));          // as received, whatever the hour
  CHECK(format_time(ack.due_at) == "2026-05-05T16:00:00Z");  // close of Tue 5 May (17:00 BST)
  CHECK(ack.met_at == at("2026-05-01T17:30:00Z"));           // auto-acknowledged at intake

  const auto& final_response = find(runs, "final_response");
  CHECK(format_time(final_response.due_at) == "2026-06-26T17:30:00Z");  // 8 weeks: Fri 26 June 18:30 BST
  CHECK(formatted(final_response.warning_times) == Strings{"2026-05-29T17:30:00Z", "2026-06-12T17:30:00Z"});
  CHECK(final_response.is_open());
  CHECK(final_response.client_visible);
  CHECK(final_response.text == "We will send our final response");

  // Keep informed: 5 business days from the acknowledgement (Tue 5 ... Mon 11 May), warning at
  // 80% of the 40 working hours (32 h: close of Fri 8 May).
  const auto& informed = find(runs, "keep_informed");
  CHECK(informed.started == at("2026-05-01T17:30:00Z"));
  CHECK(format_time(informed.due_at) == "2026-05-11T16:00:00Z");
  CHECK(formatted(informed.warning_times) == Strings{"2026-05-08T16:00:00Z"});

  // Summary resolution (DISP 1.5): close of the 3rd business day after Tue 5 May = Fri 8 May 17:00 BST.
  const Workflow* fca = shipped().find("fca-disp");
  REQUIRE(fca);
  REQUIRE(fca->summary_resolution);
  const auto& sr = *fca->summary_resolution;
  const Time effective = fca->calendar.effective_receipt(at("2026-05-01T17:30:00Z"), *sr.out_of_hours);
  CHECK(format_time(effective) == "2026-05-05T08:00:00Z");
  CHECK(format_time(sr.within.from(fca->calendar, effective)) == "2026-05-08T16:00:00Z");
  CHECK(fca->summary_resolution_allowed(at("2026-05-01T17:30:00Z"), at("2026-05-08T15:59:00Z")));
  CHECK_FALSE(fca->summary_resolution_allowed(at("2026-05-01T17:30:00Z"), at("2026-05-11T08:00:00Z")));
}

TEST_CASE("FCA DISP: payment services have 15 business days, not 8 weeks", "[clocks][fca]") {
  History h;
  h.received("2026-05-01T17:30:00Z", "fca-disp", "payment_services").acknowledged("2026-05-01T17:30:00Z");
  const auto runs = fold(h);
  CHECK(count_runs(runs, "final_response") == 0);
  // Business days after Fri 1 May: 5-8 May (4), 11-15 (9), 18-22 (14), Tue 26 (15; 25 May is a
  // bank holiday) → 17:00 BST.
  CHECK(format_time(find(runs, "final_response_payment_services").due_at) == "2026-05-26T16:00:00Z");
}

TEST_CASE("CFPB: 15 and 60 calendar days across the US DST start", "[clocks][cfpb]") {
  // Fri 27 Feb 2026 20:00 EST; DST starts Sun 8 March. Calendar days keep the wall-clock time.
  History h;
  h.received("2026-02-28T01:00:00Z", "cfpb", "credit_card").acknowledged("2026-02-28T01:00:00Z");
  auto runs = fold(h);
  const auto& initial = find(runs, "initial_response");
  CHECK(format_time(initial.due_at) == "2026-03-15T00:00:00Z");  // Sat 14 March 20:00 EDT
  // Warnings at fractions of the real elapsed allowance (14 days 23 hours).
  CHECK(formatted(initial.warning_times) == Strings{"2026-03-07T12:30:00Z", "2026-03-11T06:15:00Z"});
  CHECK(initial.is_open());  // the acknowledgement is not a response
  const auto& final_response = find(runs, "final_response");
  CHECK(format_time(final_response.due_at) == "2026-04-29T00:00:00Z");  // Tue 28 April 20:00 EDT
  CHECK(formatted(final_response.warning_times) ==
        Strings{"2026-03-30T00:30:00Z", "2026-04-14T00:15:00Z", "2026-04-23T00:06:00Z"});

  // A response to the consumer meets the 15-day pledge; the 60-day one runs on.
  h.staff_message("2026-03-03T15:00:00Z");
  runs = fold(h);
  CHECK(find(runs, "initial_response").met_at == at("2026-03-03T15:00:00Z"));
  CHECK_FALSE(find(runs, "initial_response").met_late());
  CHECK(find(runs, "final_response").is_open());
  CHECK(count_runs(runs, "initial_response") == 1);  // not recurring
}

TEST_CASE("Energy network: supply restored within 12 elapsed hours, across the DST end", "[clocks][energy]") {
  // Sat 24 Oct 2026 20:00 BST; clocks go back at 02:00 BST on Sunday. 12 hours are elapsed hours.
  History h;
  h.received("2026-10-24T19:00:00Z", "energy-network", "power_cut").acknowledged("2026-10-24T19:00:00Z");
  auto runs = fold(h);
  REQUIRE(runs.size() == 1);
  const auto& supply = find(runs, "supply_restoration");
  CHECK(format_time(supply.due_at) == "2026-10-25T07:00:00Z");
  CHECK(formatted(supply.warning_times) == Strings{"2026-10-25T01:00:00Z", "2026-10-25T04:00:00Z"});

  h.resolved("2026-10-25T09:30:00Z");
  runs = fold(h);
  CHECK(find(runs, "supply_restoration").met_late());  // the scheduler broke it at 07:00

  History severe;
  severe.received("2026-10-24T19:00:00Z", "energy-network", "power_cut_severe_weather");
  CHECK(format_time(find(fold(severe), "supply_restoration_severe_weather").due_at) == "2026-10-25T19:00:00Z");

  History complaint;
  complaint.received("2026-10-24T19:00:00Z", "energy-network", "network_complaint");
  const auto complaint_runs = fold(complaint);
  REQUIRE(complaint_runs.size() == 1);
  CHECK(format_time(find(complaint_runs, "complaint_response").due_at) == "2026-12-19T20:00:00Z");  // 8 weeks, GMT
}

// ---------------------------------------------------------------------------------------------
// The calendar's hard cases, through the retail standard (Mon-Fri 09:00-17:30, Sat 10:00-14:00).

TEST_CASE("Retail: weekends and holidays", "[clocks][retail]") {
  SECTION("Christmas Eve: Christmas Day is a holiday, Saturday a working day") {
    History h;
    h.received("2026-12-24T16:00:00Z", "retail", "billing");
    const auto runs = fold(h);
    REQUIRE(runs.size() == 2);
    CHECK(format_time(find(runs, "acknowledge").due_at) == "2026-12-26T14:00:00Z");
    CHECK(format_time(find(runs, "final_response").due_at) == "2027-01-07T16:00:00Z");
  }
  SECTION("Boxing Day: Sunday closed, Monday 28 December the substitute holiday") {
    History h;
    h.received("2026-12-26T12:00:00Z", "retail", "billing");
    CHECK(format_time(find(fold(h), "acknowledge").due_at) == "2026-12-29T17:30:00Z");
  }
}

TEST_CASE("Retail: a complaint received out of hours counts from the next opening", "[clocks][retail]") {
  // Sun 3 May 2026 11:00 BST; Mon 4 May is a bank holiday: counting starts Tue 5 May 09:00 BST.
  History h;
  h.received("2026-05-03T10:00:00Z", "retail", "delivery");
  const auto runs = fold(h);
  const auto& ack = find(runs, "acknowledge");
  CHECK(ack.opened_at == at("2026-05-03T10:00:00Z"));
  CHECK(format_time(ack.started) == "2026-05-05T08:00:00Z");
  CHECK(format_time(ack.due_at) == "2026-05-06T16:30:00Z");  // close of Wed 6 May
  const auto& final_response = find(runs, "final_response");
  CHECK(format_time(final_response.started) == "2026-05-05T08:00:00Z");
  CHECK(format_time(final_response.due_at) == "2026-05-19T08:00:00Z");
  CHECK(formatted(final_response.warning_times) == Strings{"2026-05-12T08:00:00Z", "2026-05-15T20:00:00Z"});
}

TEST_CASE("Retail: DST start and end in Europe/London", "[clocks][retail][dst]") {
  SECTION("start: Sat 28 March 2026 12:00 GMT, clocks go forward on Sunday") {
    History h;
    h.received("2026-03-28T12:00:00Z", "retail", "billing");
    const auto runs = fold(h);
    CHECK(format_time(find(runs, "acknowledge").due_at) == "2026-03-30T16:30:00Z");     // Mon 17:30 BST
    CHECK(format_time(find(runs, "final_response").due_at) == "2026-04-11T11:00:00Z");  // 12:00 BST: wall clock kept
  }
  SECTION("end: Sat 24 October 2026 11:00 BST, clocks go back on Sunday") {
    History h;
    h.received("2026-10-24T10:00:00Z", "retail", "billing");
    const auto runs = fold(h);
    CHECK(format_time(find(runs, "acknowledge").due_at) == "2026-10-26T17:30:00Z");     // Mon 17:30 GMT
    CHECK(format_time(find(runs, "final_response").due_at) == "2026-11-07T11:00:00Z");  // 11:00 GMT
  }
}

TEST_CASE("Retail: a pause across a weekend moves due times by the paused time on each basis",
          "[clocks][retail][pause]") {
  // Received Mon 8 June 2026 10:00 BST, acknowledged 11:00 BST; information requested Fri 12 June
  // 16:30 BST; the client replies Mon 15 June 10:00 BST.
  History h;
  h.received("2026-06-08T09:00:00Z", "retail", "refund").acknowledged("2026-06-08T10:00:00Z");
  auto runs = fold(h);
  CHECK(format_time(find(runs, "final_response").due_at) == "2026-06-22T09:00:00Z");
  CHECK(format_time(find(runs, "keep_informed").due_at) == "2026-06-13T13:00:00Z");  // Sat 13 June 14:00 BST

  SECTION("without a message: the update pledge pauses too") {
    h.info_requested("2026-06-12T15:30:00Z");
    runs = fold(h);
    CHECK(find(runs, "final_response").paused());
    CHECK(find(runs, "final_response").due_at == Time::max());
    CHECK(formatted(find(runs, "final_response").warning_times) == Strings{"never", "never"});
    CHECK(find(runs, "keep_informed").due_at == Time::max());
    CHECK(find(runs, "acknowledge").met_at == at("2026-06-08T10:00:00Z"));  // met runs are untouched

    h.client_replied("2026-06-15T09:00:00Z");
    runs = fold(h);
    // Calendar basis: 65 h 30 min paused.
    const auto& final_response = find(runs, "final_response");
    CHECK_FALSE(final_response.paused());
    REQUIRE(final_response.pauses.size() == 1);
    CHECK(format_time(final_response.due_at) == "2026-06-25T02:30:00Z");
    CHECK(formatted(final_response.warning_times) == Strings{"2026-06-18T02:30:00Z", "2026-06-21T14:30:00Z"});
    // Business basis: 6 working hours paused (Fri 1 h, Sat 4 h, Mon 1 h); 5 were left at the pause.
    CHECK(format_time(find(runs, "keep_informed").due_at) == "2026-06-15T14:00:00Z");
    CHECK(count_runs(runs, "keep_informed") == 1);
  }

  SECTION("with a message to the client: it is an update, and the next update pledge starts paused") {
    h.info_requested("2026-06-12T15:30:00Z", /*with_message=*/true);
    runs = fold(h);
    CHECK(find(runs, "keep_informed", 1).met_at == at("2026-06-12T15:30:00Z"));
    CHECK(find(runs, "keep_informed", 1).pauses.empty());
    CHECK(find(runs, "keep_informed", 2).paused());
    h.client_replied("2026-06-15T09:00:00Z");
    runs = fold(h);
    // Thu 18 June 17:30 BST without the pause, then 6 working hours: Fri 19 June 15:00 BST.
    CHECK(format_time(find(runs, "keep_informed", 2).due_at) == "2026-06-19T14:00:00Z");
  }
}

TEST_CASE("Retail: the pledge to update every 5 business days recurs until resolution",
          "[clocks][retail][recurrence]") {
  History h;
  h.received("2026-06-08T09:00:00Z", "retail", "refund")
      .acknowledged("2026-06-08T10:00:00Z")
      .staff_message("2026-06-10T11:00:00Z")
      .client_message("2026-06-11T08:00:00Z")
      .internal_note("2026-06-11T09:00:00Z");
  auto runs = fold(h);
  REQUIRE(count_runs(runs, "keep_informed") == 2);
  CHECK(find(runs, "keep_informed", 1).met_at == at("2026-06-10T11:00:00Z"));
  const auto& second = find(runs, "keep_informed", 2);
  CHECK(second.started == at("2026-06-10T11:00:00Z"));
  CHECK(format_time(second.due_at) == "2026-06-16T16:30:00Z");  // Thu, Fri, Sat, Mon, Tue 17:30 BST
  CHECK(second.is_open());  // neither the client's message nor an internal note is an update
  CHECK(second.key() == "retail/keep_informed#2");

  h.staff_message("2026-06-16T17:00:00Z").resolved("2026-06-17T10:00:00Z");
  runs = fold(h);
  CHECK(find(runs, "keep_informed", 2).met_late());
  CHECK(find(runs, "keep_informed", 3).met_at == at("2026-06-17T10:00:00Z"));  // resolution is the last update
  CHECK(count_runs(runs, "keep_informed") == 3);                               // and nothing recurs after it
  CHECK(find(runs, "final_response").met_at == at("2026-06-17T10:00:00Z"));
  for (const auto& r : runs) CHECK_FALSE(r.is_open());
}

TEST_CASE("Retail: reopening starts the reopened-response pledge and the updates again", "[clocks][retail][reopen]") {
  History h;
  h.received("2026-06-08T09:00:00Z", "retail", "refund")
      .acknowledged("2026-06-08T10:00:00Z")
      .resolved("2026-06-11T09:00:00Z")
      .reopened("2026-06-15T09:00:00Z");
  auto runs = fold(h);
  const auto& reopened = find(runs, "reopened_response");
  CHECK(reopened.started == at("2026-06-15T09:00:00Z"));
  CHECK(format_time(reopened.due_at) == "2026-06-22T09:00:00Z");
  CHECK(formatted(reopened.warning_times) == Strings{"2026-06-18T21:00:00Z"});
  const auto& updates = find(runs, "keep_informed", 2);
  CHECK(format_time(updates.due_at) == "2026-06-20T13:00:00Z");  // Sat 20 June 14:00 BST
  CHECK(count_runs(runs, "final_response") == 1);                // met at the first resolution, not restarted
  CHECK(count_runs(runs, "acknowledge") == 1);

  h.resolved("2026-06-17T09:00:00Z").closed("2026-07-20T09:00:00Z");
  runs = fold(h);
  CHECK(find(runs, "reopened_response").met_at == at("2026-06-17T09:00:00Z"));
  for (const auto& r : runs) {
    CHECK_FALSE(r.is_open());
    CHECK_FALSE(r.cancelled_at.has_value());  // closing a resolved case cancels nothing
  }

  // A second reopening starts a second reopened-response run.
  History twice = h;
  twice.events.pop_back();
  twice.reopened("2026-06-18T09:00:00Z");
  CHECK(find(fold(twice), "reopened_response", 2).is_open());
}

TEST_CASE("Withdrawal cancels every open run, paused or not", "[clocks][withdraw]") {
  History h;
  h.received("2026-06-08T09:00:00Z", "retail", "refund")
      .acknowledged("2026-06-08T10:00:00Z")
      .info_requested("2026-06-09T10:00:00Z")
      .withdrawn("2026-06-10T10:00:00Z")
      .staff_message("2026-06-10T11:00:00Z");
  const auto runs = fold(h);
  REQUIRE(runs.size() == 3);
  CHECK(find(runs, "acknowledge").met_at == at("2026-06-08T10:00:00Z"));
  for (const char* clock : {"final_response", "keep_informed"}) {
    const auto& r = find(runs, clock);
    CHECK(r.cancelled_at == at("2026-06-10T10:00:00Z"));
    CHECK(r.cancel_reason == "the case was withdrawn");
    CHECK_FALSE(r.met_at.has_value());
    CHECK_FALSE(r.paused());
    CHECK(r.due_at != Time::max());
  }
  // The paused day is excluded: 14 days + 1 day.
  CHECK(format_time(find(runs, "final_response").due_at) == "2026-06-23T09:00:00Z");
}

TEST_CASE("Re-routing cancels the old workflow's open runs and starts the new one's", "[clocks][reroute]") {
  SECTION("before acknowledgement: the new acknowledgement pledge starts") {
    History h;
    h.received("2026-06-08T09:00:00Z", "retail", "other")
        .rerouted("2026-06-08T12:00:00Z", "retail", "fca-disp", "other", "banking");
    ClockFold f(shipped(), "retail", "other");
    for (const auto& e : h.events) f.apply(e);
    CHECK(f.workflow() == "fca-disp");
    CHECK(f.category() == "banking");
    const auto& runs = f.runs();
    REQUIRE(runs.size() == 4);
    for (const char* clock : {"acknowledge", "final_response"}) {
      const auto& old = find(runs, clock, 1, "retail");
      CHECK(old.cancelled_at == at("2026-06-08T12:00:00Z"));
      CHECK(old.cancel_reason == "re-routed to fca-disp");
    }
    CHECK(format_time(find(runs, "acknowledge", 1, "fca-disp").due_at) == "2026-06-09T16:00:00Z");
    const auto& final_response = find(runs, "final_response", 1, "fca-disp");
    CHECK(final_response.started == at("2026-06-08T12:00:00Z"));
    CHECK(format_time(final_response.due_at) == "2026-08-03T12:00:00Z");
    CHECK(count_runs(runs, "keep_informed") == 0);  // not acknowledged yet

    h.acknowledged("2026-06-08T13:00:00Z");
    const auto after = fold(h);
    CHECK(find(after, "acknowledge", 1, "fca-disp").met_at == at("2026-06-08T13:00:00Z"));
    CHECK(find(after, "keep_informed", 1, "fca-disp").is_open());
  }

  SECTION("after acknowledgement: met pledges stay met and are not started again") {
    History h;
    h.received("2026-06-08T09:00:00Z", "retail", "other")
        .acknowledged("2026-06-08T10:00:00Z")
        .rerouted("2026-06-09T12:00:00Z", "retail", "fca-disp", "other", "payment_services");
    const auto runs = fold(h);
    CHECK(find(runs, "acknowledge", 1, "retail").met_at == at("2026-06-08T10:00:00Z"));
    CHECK(find(runs, "keep_informed", 1, "retail").cancel_reason == "re-routed to fca-disp");
    CHECK(count_runs(runs, "acknowledge", "fca-disp") == 0);
    CHECK(find(runs, "keep_informed", 1, "fca-disp").started == at("2026-06-09T12:00:00Z"));
    CHECK(count_runs(runs, "final_response", "fca-disp") == 0);
    CHECK(find(runs, "final_response_payment_services", 1, "fca-disp").is_open());
  }

  SECTION("while paused: the new pausing runs start paused") {
    History h;
    h.received("2026-06-08T09:00:00Z", "fca-disp", "banking")
        .acknowledged("2026-06-08T09:00:00Z")
        .info_requested("2026-06-09T09:00:00Z")
        .rerouted("2026-06-09T12:00:00Z", "fca-disp", "retail", "banking", "refund");
    const auto runs = fold(h);
    CHECK(find(runs, "keep_informed", 1, "retail").paused());
    CHECK(find(runs, "final_response", 1, "retail").paused());
    CHECK(find(runs, "final_response", 1, "fca-disp").cancelled_at.has_value());
  }

  SECTION("a new category within the workflow swaps the clocks that apply") {
    History h;
    h.received("2026-05-01T17:30:00Z", "fca-disp", "banking")
        .acknowledged("2026-05-01T17:30:00Z")
        .recategorised("2026-05-06T09:00:00Z", "banking", "payment_services");
    auto runs = fold(h);
    CHECK(find(runs, "final_response").cancel_reason == "re-assessed as payment_services");
    const auto& payment = find(runs, "final_response_payment_services");
    CHECK(payment.started == at("2026-05-06T09:00:00Z"));
    CHECK(find(runs, "keep_informed").is_open());  // applies to both: untouched
    CHECK(count_runs(runs, "keep_informed") == 1);

    // Back again: a second final-response run; an assessment of severity alone changes nothing.
    h.recategorised("2026-05-07T09:00:00Z", "payment_services", "banking");
    h.add("case.assessed", "2026-05-07T10:00:00Z", R"({"note":"","previous_severity":"medium","severity":"high"})");
    runs = fold(h);
    CHECK(find(runs, "final_response", 2).is_open());
    CHECK(find(runs, "final_response_payment_services").cancel_reason == "re-assessed as banking");
    CHECK(runs.size() == 5);
  }
}

// ---------------------------------------------------------------------------------------------
// Determinism and restartability.

namespace {

// A long retail history through every rule, then a re-routing and an end.
History long_history() {
  History h;
  h.received("2026-03-27T16:00:00Z", "retail", "other")  // Fri before the DST start
      .acknowledged("2026-03-28T10:30:00Z")
      .staff_message("2026-03-31T10:00:00Z")
      .info_requested("2026-04-02T15:00:00Z", true)  // before Easter
      .client_message("2026-04-07T09:00:00Z")
      .client_replied("2026-04-07T09:00:00Z")
      .internal_note("2026-04-07T10:00:00Z")
      .add("case.assessed", "2026-04-08T10:00:00Z", R"({"note":"","previous_severity":"medium","severity":"high"})")
      .staff_message("2026-04-14T16:00:00Z")
      .add("redress.proposed", "2026-04-16T09:00:00Z",
           R"({"final_response":"...","from":"investigating","to":"redress_proposed"})")
      .add("redress.rejected", "2026-04-17T09:00:00Z", R"({"from":"redress_proposed","to":"investigating"})", "client")
      .resolved("2026-04-20T12:00:00Z")
      .reopened("2026-04-22T08:00:00Z")
      .info_requested("2026-04-24T16:00:00Z")
      .client_replied("2026-04-27T11:00:00Z")
      .staff_message("2026-04-28T11:00:00Z")
      .rerouted("2026-04-29T09:00:00Z", "retail", "fca-disp", "other", "banking")
      .staff_message("2026-05-01T12:00:00Z")
      .info_requested("2026-05-05T09:00:00Z")
      .withdrawn("2026-05-06T09:00:00Z")
      .staff_message("2026-05-06T10:00:00Z");
  return h;
}

}  // namespace

TEST_CASE("The same history always gives the same runs", "[clocks][determinism]") {
  const History h = long_history();
  const auto first = fold(h);
  const auto second = fold(h);
  CHECK(first == second);
  ClockFold a(shipped(), "retail", "other"), b(shipped(), "retail", "other");
  for (const auto& e : h.events) a.apply(e);
  for (const auto& e : h.events) b.apply(e);
  CHECK(a.serialise() == b.serialise());
  CHECK(a.runs() == first);
  // Every run ended: withdrawn at the end.
  for (const auto& r : first) CHECK_FALSE(r.is_open());
  CHECK(count_runs(first, "keep_informed", "retail") >= 4);
}

TEST_CASE("restore(serialise()) then the rest equals folding the whole history, at every prefix", "[clocks][restore]") {
  const History h = long_history();
  ClockFold whole(shipped(), "retail", "other");
  for (const auto& e : h.events) whole.apply(e);
  const std::string expected = whole.serialise();

  for (std::size_t cut = 0; cut <= h.events.size(); ++cut) {
    INFO("restored after " << cut << " events");
    ClockFold prefix(shipped(), "retail", "other");
    for (std::size_t i = 0; i < cut; ++i) prefix.apply(h.events[i]);
    auto restored = ClockFold::restore(shipped(), prefix.serialise());
    REQUIRE(restored.ok());
    CHECK(restored->serialise() == prefix.serialise());
    CHECK(restored->runs() == prefix.runs());
    for (std::size_t i = cut; i < h.events.size(); ++i) restored->apply(h.events[i]);
    CHECK(restored->runs() == whole.runs());
    CHECK(restored->serialise() == expected);
  }
}

TEST_CASE("A stored clock state restores whatever the order of its keys (states of earlier versions)",
          "[clocks][restore]") {
  const History h = long_history();
  for (std::size_t cut : {std::size_t{1}, h.events.size() / 2, h.events.size()}) {
    INFO("after " << cut << " events");
    ClockFold fold(shipped(), "retail", "other");
    for (std::size_t i = 0; i < cut; ++i) fold.apply(h.events[i]);
    const std::string written = fold.serialise();
    // The state parses as JSON, and the key-sorted canonical form earlier versions stored restores
    // to the same fold.
    boost::system::error_code ec;
    boost::json::value parsed = boost::json::parse(written, ec);
    REQUIRE_FALSE(ec);
    const std::string sorted = canonical_json(parsed);
    REQUIRE(sorted != written);
    auto restored = ClockFold::restore(shipped(), sorted);
    REQUIRE(restored.ok());
    CHECK(restored->serialise() == written);
    CHECK(restored->runs() == fold.runs());
  }
  // A pledge text with quotes, a backslash and control characters (from a workflow file) is
  // escaped, and survives the round trip.
  std::ifstream in(REDRESS_SOURCE_DIR "/workflows/retail.toml");
  std::stringstream text;
  text << in.rdbuf();
  std::string toml = text.str();
  const std::string plain = "text = \"We will acknowledge your complaint\"";
  REQUIRE(toml.find(plain) != std::string::npos);
  toml.replace(toml.find(plain), plain.size(), "text = \"We will \\\"acknowledge\\\" it \\\\ \\t\\u0001\"");
  auto odd = parse_workflow(toml, "retail.toml");
  REQUIRE(odd.ok());
  std::vector<Workflow> list;
  list.push_back(std::move(odd).value());
  WorkflowSet set(std::move(list), "retail");
  History h2;
  h2.received("2026-06-08T09:00:00Z", "retail", "refund");
  ClockFold f(set, "retail", "refund");
  for (const auto& e : h2.events) f.apply(e);
  INFO(f.serialise());
  CHECK(f.serialise().find(R"("text":"We will \"acknowledge\" it \\ \u0009\u0001")") != std::string::npos);
  auto back = ClockFold::restore(set, f.serialise());
  REQUIRE(back.ok());
  CHECK(back->serialise() == f.serialise());
  CHECK(back->runs() == f.runs());
}

TEST_CASE("The fold reports what changed and ignores events already applied", "[clocks]") {
  History h;
  h.received("2026-06-08T09:00:00Z", "retail", "refund").acknowledged("2026-06-08T10:00:00Z");
  ClockFold f(shipped(), "retail", "refund");
  CHECK(f.apply(h.events[0]) == std::vector<std::size_t>{0, 1});  // acknowledge, final_response
  CHECK(f.apply(h.events[1]) == std::vector<std::size_t>{0, 2});  // acknowledge met, keep_informed started
  const std::string state = f.serialise();
  CHECK(f.apply(h.events[1]).empty());  // seq already applied
  CHECK(f.serialise() == state);
  CHECK(f.applied_seq() == 2);
}

TEST_CASE("An event may_change() says moves nothing leaves the fold as it was, in every state", "[clocks][restore]") {
  // Every event type the planner writes (engine/*.cpp), with data of the shape it writes.
  const std::vector<std::pair<std::string, std::string>> types = {
      {"case.acknowledged", R"({"from":"received","to":"acknowledged"})"},
      {"case.assessed", R"({"category":"refund","note":"","previous_category":"other"})"},
      {"case.client_replied", R"({"automatic":true,"from":"awaiting_client","to":"investigating"})"},
      {"case.closed", R"({"automatic":true,"from":"resolved","note":"","to":"closed"})"},
      {"case.deescalated", R"({"level":0})"},
      {"case.escalated", R"({"level":1,"reason":"r"})"},
      {"case.info_requested", R"({"body":"Please","from":"investigating","message_id":"m-4","to":"awaiting_client"})"},
      {"case.investigation_started", R"({"from":"acknowledged","to":"investigating"})"},
      {"case.owner_changed", R"({"from":"","to":"u-1"})"},
      {"case.received", R"({"category":"refund","workflow":"retail"})"},
      {"case.reopened", R"({"from":"resolved","reason":"x","to":"investigating"})"},
      {"case.resolved", R"({"from":"investigating","outcome":"upheld","to":"resolved","via":"resolve"})"},
      {"case.withdrawn", R"({"from":"investigating","reason":"x","to":"withdrawn"})"},
      {"commitment.at_risk", R"({"commitment_id":"k-1"})"},
      {"commitment.breach_handled", R"({"commitment_id":"k-1"})"},
      {"commitment.broken", R"({"commitment_id":"k-1"})"},
      {"commitment.cancelled", R"({"commitment_id":"k-1"})"},
      {"commitment.kept", R"({"commitment_id":"k-1"})"},
      {"commitment.made", R"({"commitment_id":"k-1"})"},
      {"commitment.met_late", R"({"commitment_id":"k-1"})"},
      {"commitment.renegotiated", R"({"commitment_id":"k-1"})"},
      {"message.client", R"({"body":"An update","message_id":"m-1","visibility":"client"})"},
      {"message.internal", R"({"body":"note","message_id":"m-3","visibility":"internal"})"},
      {"redress.accepted", R"({"redress_id":"r-1"})"},
      {"redress.fulfilled", R"({"redress_id":"r-1"})"},
      {"redress.granted", R"({"redress_id":"r-1"})"},
      {"redress.offered", R"({"redress_id":"r-1"})"},
      {"redress.proposed", R"({"redress_id":"r-1"})"},
      {"redress.rejected", R"({"redress_id":"r-1"})"},
      {"survey.submitted", R"({"rating":5})"},
  };
  auto without_seq = [](std::string state) {
    auto at = state.find("\"applied_seq\":");
    REQUIRE(at != std::string::npos);
    auto end = state.find(',', at);
    return state.erase(at, end - at);
  };
  const History h = long_history();
  int skipped = 0, moving = 0;
  for (std::size_t cut = 0; cut <= h.events.size(); ++cut) {
    ClockFold prefix(shipped(), "retail", "other");
    for (std::size_t i = 0; i < cut; ++i) prefix.apply(h.events[i]);
    const std::string state = prefix.serialise();
    for (const auto& [type, data] : types)
      for (const std::string actor : {"staff:u-1", "client", "system"}) {
        Event e;
        e.case_id = 1;
        e.seq = static_cast<std::int64_t>(cut) + 1;
        e.type = type;
        e.at = at("2026-05-07T12:00:00Z");
        e.actor = actor;
        e.data = data;
        if (ClockFold::may_change(e)) {
          ++moving;
          continue;
        }
        INFO(type << " by " << actor << " after " << cut << " events");
        ++skipped;
        auto restored = ClockFold::restore(shipped(), state);
        REQUIRE(restored.ok());
        CHECK(restored->apply(e).empty());
        CHECK(without_seq(restored->serialise()) == without_seq(state));
      }
  }
  CHECK(skipped > 0);
  CHECK(moving > 0);
}

TEST_CASE("restore refuses what serialise did not write", "[clocks][restore]") {
  CHECK(ClockFold::restore(shipped(), "not json").error().code == ErrorCode::kInvalid);
  CHECK(ClockFold::restore(shipped(), "{}").error().code == ErrorCode::kInvalid);
  ClockFold f(shipped(), "retail", "refund");
  History h;
  h.received("2026-06-08T09:00:00Z", "retail", "refund");
  f.apply(h.events[0]);
  std::string state = f.serialise();
  const auto pos = state.find("\"due_at\":\"");
  REQUIRE(pos != std::string::npos);
  state.replace(pos, 10, "\"due_at\":\"x");
  auto broken = ClockFold::restore(shipped(), state);
  REQUIRE_FALSE(broken.ok());
  CHECK(broken.error().detail.find("due_at") != std::string::npos);
}
