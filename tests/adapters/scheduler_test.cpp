// Commitments over time through the real parts: the engine on the SQLite store in a temporary
// file, the shipped standards, a manual clock and the Scheduler. Pledges made, met, paused,
// broken and warned; escalation, mail owed and automatic compensation; exactly-once firing across
// a restart; many commitments firing in one advance; the reports.
#include <sqlite3.h>
#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <future>
#include <map>
#include <random>
#include <thread>

#include "app/environment.h"
#include "engine/pledges.h"
#include "engine/scheduler.h"
#include "peers.h"

using namespace redress;
using redress::peers::TempDir;
namespace fs = std::filesystem;

namespace {

Time at(const char* text) {
  auto t = parse_time(text);
  REQUIRE(t.has_value());
  return *t;
}

// One process's worth: the environment on the data directory, a scheduler, staff.
struct Desk {
  TempDir& dir;
  std::unique_ptr<Environment> env;
  std::unique_ptr<Scheduler> scheduler;
  Staff agent, lead;

  Desk(TempDir& d, Time start, const std::string& durability = "full") : dir(d) { open(start, durability); }
  ~Desk() { close(); }

  void open(Time start, const std::string& durability = "full") {
    Config config;
    config.data_dir = dir.path().string();
    config.workflows = REDRESS_SOURCE_DIR "/workflows";
    config.durability = durability;
    OpenOptions options;
    options.migrate_if_needed = true;
    options.manual_start = start;
    auto opened = open_environment(config, options);
    INFO((opened.ok() ? std::string() : opened.error().detail));
    REQUIRE(opened.ok());
    env = std::move(opened).value();
    Scheduler::Options o;
    o.holder = "test-" + std::to_string(reinterpret_cast<std::uintptr_t>(this));
    scheduler = std::make_unique<Scheduler>(*env->engine, o);
    agent = staff("Sam Okafor", "sam@redress.example", Role::kAgent, "customer-care");
    lead = staff("Grace Adeyemi", "grace@redress.example", Role::kLead, "customer-care");
  }
  void close() {
    scheduler.reset();
    env.reset();
  }
  Staff staff(const std::string& name, const std::string& email, Role role, const std::string& team) {
    if (auto found = env->store->find_staff(email)) return *found;
    Staff s{"", name, email, role, team, true};
    auto added = env->store->add_staff(s);
    REQUIRE(added.ok());
    return *added;
  }
  ManualClock& clock() { return static_cast<ManualClock&>(*env->clock); }
  void advance_to(Time t) {
    clock().set(t);
    auto report = scheduler->run_due();
    CHECK(report.failed == 0);
    CHECK(report.lease_held);
  }

  std::string create(const std::string& category, const std::string& workflow = "") {
    NewCase c;
    c.client = Client{"Ana Ruiz", "ana@example.org", "", "en-GB"};
    c.category = category;
    c.subject = "A complaint about " + category;
    c.description = "Something went wrong.";
    c.workflow = workflow;
    auto created = env->engine->create_case(c, Actor::intake("web-form"));
    INFO((created.ok() ? std::string() : created.error().detail));
    REQUIRE(created.ok());
    return created->change.after.reference;
  }
  ActionRequest request(const std::string& ref, ActionType type, const Staff& by) {
    ActionRequest r;
    r.type = type;
    r.reference = ref;
    r.actor = Actor::staff(by.id, by.role);
    return r;
  }
  Committed must(ActionRequest r) {
    std::string what = std::string(to_string(r.type)) + " on " + r.reference;
    auto result = env->engine->apply(std::move(r));
    INFO(what << ": " << (result.ok() ? std::string() : result.error().detail));
    REQUIRE(result.ok());
    return *result;
  }
  CaseSnapshot load(const std::string& ref) {
    auto s = env->store->load_case(ref);
    REQUIRE(s.ok());
    return *s;
  }
  std::vector<Event> events(const std::string& ref) {
    auto e = env->store->case_events(ref);
    REQUIRE(e.ok());
    return *e;
  }
  int count_events(const std::string& ref, const std::string& type) {
    int n = 0;
    for (const auto& e : events(ref)) n += e.type == type;
    return n;
  }
  const Commitment& pledge(const CaseSnapshot& s, const std::string& clock) {
    const Commitment* found = nullptr;
    for (const auto& k : s.commitments)
      if (k.kind == CommitmentKind::kPledge && k.pledge_key.find("/" + clock + "#") != std::string::npos) found = &k;
    INFO("pledge " << clock);
    REQUIRE(found != nullptr);
    return *found;
  }
  // Mail owed, by template, from the outbox table.
  std::map<std::string, int> mail_owed(const std::string& ref) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open_v2(env->config.database_path().c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    REQUIRE(sqlite3_prepare_v2(
                db,
                "SELECT n.template || ' ' || n.recipient FROM notifications n JOIN cases c ON c.id = n.case_id "
                "WHERE c.reference = ?1 AND n.channel = 'email'",
                -1, &s, nullptr) == SQLITE_OK);
    sqlite3_bind_text(s, 1, ref.c_str(), -1, SQLITE_TRANSIENT);
    std::map<std::string, int> out;
    while (sqlite3_step(s) == SQLITE_ROW) out[reinterpret_cast<const char*>(sqlite3_column_text(s, 0))]++;
    sqlite3_finalize(s);
    sqlite3_close(db);
    return out;
  }
};

const char* kFinalResponse =
    "Dear Ana, we have decided to uphold your complaint. If you remain dissatisfied you may refer your complaint to "
    "the Financial "
    "Ombudsman Service within six months of this final response. We waive the time limits and consent to the "
    "Ombudsman considering your complaint. See www.financial-ombudsman.org.uk and its leaflet, enclosed. Energy "
    "Ombudsman: energyombudsman.org. "
    "You may refer it to an alternative dispute resolution service.";

}  // namespace

TEST_CASE("pledges: an FCA complaint received on a Friday evening before a bank holiday", "[scheduler][fca]") {
  TempDir dir;
  // Friday 28 August 2026, 18:30 in London (BST); Monday 31 August is the summer bank holiday.
  Desk desk(dir, at("2026-08-28T17:30:00Z"));
  Staff fca_lead = desk.staff("Idris Khan", "idris@redress.example", Role::kLead, "complaints-financial");
  std::string ref = desk.create("banking");
  CaseSnapshot s = desk.load(ref);
  CHECK(s.record.workflow == "fca-disp");
  CHECK(s.record.status == CaseStatus::kAcknowledged);  // acknowledged on intake
  // Out of hours: the clock counts from the next opening, Tuesday 1 September 09:00 (not the
  // bank holiday Monday), to the close of that business day, 17:00 BST. Met at once.
  CHECK(format_time(desk.pledge(s, "acknowledge").due_at) == "2026-09-01T16:00:00Z");
  CHECK(desk.pledge(s, "acknowledge").status == CommitmentStatus::kKept);
  // The final response: 8 weeks on the calendar from receipt (DISP 1.6.2R).
  const Commitment final_pledge = desk.pledge(s, "final_response");
  CHECK(format_time(final_pledge.due_at) == "2026-10-23T17:30:00Z");
  REQUIRE(final_pledge.warning_times.size() == 2);
  CHECK(format_time(final_pledge.warning_times[0]) == "2026-09-25T17:30:00Z");  // 4 of 8 weeks
  CHECK(format_time(final_pledge.warning_times[1]) == "2026-10-09T17:30:00Z");  // 6 of 8 weeks
  CHECK(desk.count_events(ref, "commitment.made") == 3);  // acknowledge, keep informed, final response

  SECTION("answered in time: the final response pledge is kept and nothing more breaks") {
    desk.must(desk.request(ref, ActionType::kTake, desk.agent));
    desk.must(desk.request(ref, ActionType::kStart, desk.agent));
    desk.advance_to(at("2026-09-02T10:00:00Z"));
    auto resolve = desk.request(ref, ActionType::kResolve, desk.agent);
    resolve.outcome = Outcome::kUpheld;
    resolve.final_response = kFinalResponse;
    resolve.root_cause = "general_admin";  // the FCA standard records both for its return
    resolve.product = "current_accounts";
    desk.must(resolve);
    desk.advance_to(at("2026-11-30T09:00:00Z"));
    s = desk.load(ref);
    CHECK(desk.pledge(s, "final_response").status == CommitmentStatus::kKept);
    CHECK(desk.count_events(ref, "commitment.broken") == 0);
  }
  SECTION("unanswered: warnings at 50% and 75%, the breach at 8 weeks, once, escalating") {
    // The client is kept informed every three days, so only the final response clock is at stake.
    auto advance_informing = [&](Time to) {
      while (desk.clock().now() < to) {
        desk.advance_to(std::min(to, desk.clock().now() + std::chrono::hours(72)));
        auto update = desk.request(ref, ActionType::kAddMessage, desk.agent);
        update.visibility = Visibility::kClient;
        update.body = "We are still looking into your complaint.";
        desk.must(update);
      }
    };
    advance_informing(at("2026-09-25T17:30:00Z"));
    s = desk.load(ref);
    CHECK(desk.pledge(s, "final_response").warnings_fired == 1);
    CHECK(s.record.escalation_level == 0);
    CHECK(desk.count_events(ref, "commitment.broken") == 0);
    advance_informing(at("2026-10-09T17:30:00Z"));
    s = desk.load(ref);
    CHECK(desk.pledge(s, "final_response").warnings_fired == 2);
    CHECK(s.record.escalation_level == 1);  // the team lead's trigger: 75% of the final response
    CHECK(desk.mail_owed(ref)["staff.escalated idris@redress.example"] >= 1);  // the FCA team's lead
    desk.advance_to(at("2026-10-23T17:29:59Z"));
    s = desk.load(ref);
    CHECK(desk.pledge(s, "final_response").status == CommitmentStatus::kOpen);
    desk.advance_to(at("2026-10-23T17:30:00Z"));
    s = desk.load(ref);
    CHECK(desk.pledge(s, "final_response").status == CommitmentStatus::kBroken);
    CHECK(format_time(*desk.pledge(s, "final_response").settled_at) == "2026-10-23T17:30:00Z");
    // At least the complaints manager (the final response's breach rule); any broken commitment
    // also reaches the accountable executive under the consumer duty (level 3).
    CHECK(s.record.escalation_level == 3);
    int broken = desk.count_events(ref, "commitment.broken");
    desk.advance_to(at("2026-10-24T09:00:00Z"));
    CHECK(desk.count_events(ref, "commitment.broken") == broken);
    CHECK(desk.mail_owed(ref)["client.commitment_broken ana@example.org"] >= 1);  // an apology and what happens next
    // The overdue report lists broken commitments until someone records how each was handled.
    auto report = desk.env->store->overdue_report(desk.clock().now(), 100);
    REQUIRE(report.ok());
    REQUIRE(report->broken_unhandled_total == broken);
    std::int64_t id = desk.pledge(s, "final_response").id;
    auto handled = desk.env->engine->apply_plan(ref, [&](const CaseSnapshot& current, WriteContext& context, Time now) {
      return plan_breach_handled(current, id, Actor::staff(desk.lead.id, Role::kLead), "Called Ana and apologised",
                                 desk.env->workflows, now, context);
    });
    REQUIRE(handled.ok());
    report = desk.env->store->overdue_report(desk.clock().now(), 100);
    REQUIRE(report.ok());
    CHECK(report->broken_unhandled_total == broken - 1);
    auto twice = desk.env->engine->apply_plan(ref, [&](const CaseSnapshot& current, WriteContext& context, Time now) {
      return plan_breach_handled(current, id, Actor::staff(desk.lead.id, Role::kLead), "again", desk.env->workflows,
                                 now, context);
    });
    CHECK_FALSE(twice.ok());
    // The standard's attainment counts the broken final response.
    auto standards = desk.env->store->standards_report(desk.clock().now());
    REQUIRE(standards.ok());
    bool counted = false;
    for (const auto& a : *standards)
      if (a.workflow == "fca-disp" && a.clock == "final_response") counted = a.broken_30 == 1 && a.met_30 == 0;
    CHECK(counted);
  }
}

TEST_CASE("pledges: a pause while awaiting the client moves the update pledge by the paused time", "[scheduler]") {
  TempDir dir;
  Desk desk(dir, at("2026-03-02T09:00:00Z"));  // Monday
  std::string ref = desk.create("billing", "retail");
  desk.must(desk.request(ref, ActionType::kAcknowledge, desk.agent));
  desk.must(desk.request(ref, ActionType::kTake, desk.agent));
  desk.must(desk.request(ref, ActionType::kStart, desk.agent));
  CaseSnapshot s = desk.load(ref);
  const Commitment update = desk.pledge(s, "keep_informed");
  REQUIRE(update.status == CommitmentStatus::kOpen);
  Time due_before = update.due_at;

  // Friday 15:00 UTC: ask the client; the clock stops over the weekend and until the reply.
  desk.advance_to(at("2026-03-06T15:00:00Z"));
  auto ask = desk.request(ref, ActionType::kRequestInfo, desk.agent);
  ask.body = "Could you send us the order number?";
  desk.must(ask);
  s = desk.load(ref);
  // The question to the client is itself an update: that pledge is kept; its successor waits.
  CHECK(desk.pledge(s, "keep_informed").paused());
  desk.advance_to(at("2026-03-10T09:00:00Z"));  // nothing breaks while paused
  CHECK(desk.count_events(ref, "commitment.broken") == 0);
  auto reply = desk.request(ref, ActionType::kClientReplied, desk.agent);
  desk.must(reply);
  s = desk.load(ref);
  const Commitment& resumed = desk.pledge(s, "keep_informed");
  CHECK_FALSE(resumed.paused());
  CHECK(resumed.due_at > due_before);
}

TEST_CASE("commitments: a promise renegotiated before it is due, refused after it broke", "[scheduler]") {
  TempDir dir;
  Desk desk(dir, at("2026-03-02T09:00:00Z"));
  std::string ref = desk.create("billing", "retail");
  desk.must(desk.request(ref, ActionType::kAcknowledge, desk.agent));
  desk.must(desk.request(ref, ActionType::kTake, desk.agent));
  auto promise = desk.request(ref, ActionType::kMakeCommitment, desk.agent);
  promise.text = "Your refund will be issued";
  promise.due.at = at("2026-03-03T12:00:00Z");
  auto made = desk.must(promise);
  std::int64_t id = made.change.commitments.front().id;

  auto renegotiate = desk.request(ref, ActionType::kRenegotiateCommitment, desk.agent);
  renegotiate.commitment_id = id;
  renegotiate.due.at = at("2026-03-04T12:00:00Z");
  renegotiate.reason = "The bank needs a day more";
  auto moved = desk.must(renegotiate);
  std::int64_t successor = 0;
  for (const auto& k : moved.change.commitments)
    if (k.replaces_id == id) successor = k.id;
  REQUIRE(successor != 0);

  desk.advance_to(at("2026-03-04T12:00:01Z"));
  CaseSnapshot s = desk.load(ref);
  for (const auto& k : s.commitments) {
    if (k.id == id) CHECK(k.status == CommitmentStatus::kRenegotiated);
    if (k.id == successor) CHECK(k.status == CommitmentStatus::kBroken);
  }
  auto again = desk.request(ref, ActionType::kRenegotiateCommitment, desk.agent);
  again.commitment_id = successor;
  again.due.at = at("2026-03-05T12:00:00Z");
  again.reason = "too late";
  auto refused = desk.env->engine->apply(again);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == ErrorCode::kRefused);
  auto keep = desk.request(ref, ActionType::kKeepCommitment, desk.agent);
  keep.commitment_id = successor;
  keep.note = "issued late";
  CHECK_FALSE(desk.env->engine->apply(keep).ok());
  // The owner's reliability counts it.
  auto owners = desk.env->store->owner_report(at("2026-01-01T00:00:00Z"));
  REQUIRE(owners.ok());
  bool found = false;
  for (const auto& o : *owners)
    if (o.owner_id == desk.agent.id) {
      found = true;
      CHECK(o.promises_broken == 1);
      CHECK(o.promises_kept == 0);
    }
  CHECK(found);
}

TEST_CASE("pledges: an energy supply not restored in 12 hours owes the Guaranteed Standards payments",
          "[scheduler][energy]") {
  TempDir dir;
  Desk desk(dir, at("2026-01-14T20:00:00Z"));
  std::string ref = desk.create("power_cut");
  CaseSnapshot s = desk.load(ref);
  REQUIRE(s.record.workflow == "energy-network");
  CHECK(format_time(desk.pledge(s, "supply_restoration").due_at) == "2026-01-15T08:00:00Z");

  desk.advance_to(at("2026-01-15T08:00:00Z"));
  s = desk.load(ref);
  CHECK(desk.pledge(s, "supply_restoration").status == CommitmentStatus::kBroken);
  REQUIRE(s.redress.size() == 1);
  CHECK(s.redress[0].automatic);
  CHECK(s.redress[0].status == RedressStatus::kAccepted);
  CHECK(s.redress[0].amount_minor == 9500);
  CHECK(s.redress[0].currency == "GBP");
  CHECK(s.record.unfulfilled_redress == 1);
  CHECK(s.record.escalation_level >= 1);
  const Commitment* pay = nullptr;
  for (const auto& k : s.commitments)
    if (k.kind == CommitmentKind::kRedress) pay = &k;
  REQUIRE(pay != nullptr);
  // Paid within 10 working days of the breach: Thursday 15 January + 10 working days.
  CHECK(format_time(pay->due_at).substr(0, 10) == "2026-01-29");

  // Restored 36 hours after the report: 24 hours late, two further 12-hour periods at £45.
  desk.advance_to(at("2026-01-16T08:00:00Z"));
  desk.must(desk.request(ref, ActionType::kTake, desk.agent));
  desk.must(desk.request(ref, ActionType::kStart, desk.agent));
  auto resolve = desk.request(ref, ActionType::kResolve, desk.agent);
  resolve.outcome = Outcome::kUpheld;
  resolve.final_response = kFinalResponse;
  desk.must(resolve);
  s = desk.load(ref);
  CHECK(desk.count_events(ref, "commitment.met_late") == 1);
  std::int64_t total = 0;
  for (const auto& r : s.redress)
    if (r.automatic) total += r.amount_minor.value_or(0);
  CHECK(total == 9500 + 2 * 4500);
  // Not paid in time: the late-payment penalty of £40 is owed as well.
  desk.advance_to(at("2026-02-20T09:00:00Z"));
  s = desk.load(ref);
  total = 0;
  for (const auto& r : s.redress)
    if (r.automatic) total += r.amount_minor.value_or(0);
  // The breach's payment and the further payment are both late, but they answer one failure: one
  // late-payment penalty of £40, not one per part.
  CHECK(total == 9500 + 2 * 4500 + 4000);
  // The penalties themselves, unpaid, owe no further penalty.
  desk.advance_to(at("2026-06-30T09:00:00Z"));
  s = desk.load(ref);
  total = 0;
  for (const auto& r : s.redress)
    if (r.automatic) total += r.amount_minor.value_or(0);
  CHECK(total == 9500 + 2 * 4500 + 4000);
}

TEST_CASE("scheduler: what fell due while the server was down fires on start, in order, once", "[scheduler][restart]") {
  TempDir dir;
  std::vector<std::string> refs;
  {
    Desk desk(dir, at("2026-03-02T09:00:00Z"));
    for (int i = 0; i < 5; ++i) {
      refs.push_back(desk.create("billing", "retail"));
      desk.clock().advance(std::chrono::minutes(7));  // acknowledgement pledges due minutes apart
    }
  }
  // The process was down for a week.
  Desk desk(dir, at("2026-03-09T09:00:00Z"));
  auto due = desk.env->store->due_cases(desk.clock().now(), 100);
  REQUIRE(due.ok());
  REQUIRE(due->size() == refs.size());
  for (std::size_t i = 0; i + 1 < due->size(); ++i) CHECK((*due)[i].wake_at <= (*due)[i + 1].wake_at);
  auto first = desk.scheduler->run_due();
  CHECK(first.cases == 5);
  auto second = desk.scheduler->run_due();
  CHECK(second.cases == 0);
  // A second scheduler (another node) on the same database is kept out by the lease.
  Scheduler::Options other;
  other.holder = "another-node";
  Scheduler rival(*desk.env->engine, other);
  CHECK_FALSE(rival.run_due().lease_held);
  for (const auto& ref : refs) {
    CHECK(desk.count_events(ref, "commitment.broken") == 1);
    CaseSnapshot s = desk.load(ref);
    CHECK(desk.pledge(s, "acknowledge").status == CommitmentStatus::kBroken);
  }
  // Broken in order of due time: the case rows' versions moved in reference order.
  std::vector<std::int64_t> seqs;
  for (const auto& ref : refs) seqs.push_back(desk.events(ref).back().seq);
  auto report = desk.env->store->verify_chains();
  REQUIRE(report.ok());
  CHECK(report->broken.empty());
}

TEST_CASE("scheduler: the background thread breaks a promise within a second on the system clock path",
          "[scheduler][concurrency]") {
  TempDir dir;
  Desk desk(dir, at("2026-03-02T09:00:00Z"));
  std::string ref = desk.create("billing", "retail");
  desk.must(desk.request(ref, ActionType::kAcknowledge, desk.agent));
  desk.must(desk.request(ref, ActionType::kTake, desk.agent));
  std::atomic<int> notified{0};
  desk.env->engine->set_observer([&](const Committed& c) {
    if (c.change.wake == Change::Wake::kSet) {
      ++notified;
      desk.scheduler->notify(c.change.wake_at);
    }
  });
  desk.scheduler->start();
  auto promise = desk.request(ref, ActionType::kMakeCommitment, desk.agent);
  promise.text = "We will call you";
  promise.due.in = parse_duration("PT1H");
  desk.must(promise);
  CHECK(notified > 0);
  // Time passes (the manual clock stands in for the system clock); a poke makes the thread look.
  desk.clock().advance(std::chrono::hours(2));
  desk.scheduler->notify(desk.clock().now());
  bool broken = false;
  for (int i = 0; i < 200 && !broken; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    broken = desk.count_events(ref, "commitment.broken") >= 1;
  }
  CHECK(broken);
  desk.scheduler->stop();
}

TEST_CASE("scheduler: 100,000 commitments fire in one advance", "[scheduler][volume]") {
  TempDir dir;
  Desk desk(dir, at("2026-03-02T09:00:00Z"), "normal");
  // 20,000 retail cases: each owes an acknowledgement pledge, and gets four promises. The
  // sanitizer build, some ten times slower, checks the same path with a tenth of the volume.
#ifdef REDRESS_SANITIZED
  constexpr int kCases = 2000;
#else
  constexpr int kCases = 20000;
#endif
  std::vector<std::string> refs;
  std::atomic<int> failures{0};
  {
    std::vector<std::promise<Result<Committed>>> done(kCases);
    for (int i = 0; i < kCases; ++i) {
      NewCase c;
      c.client = Client{"Client " + std::to_string(i), "c" + std::to_string(i) + "@example.org", "", ""};
      c.category = "billing";
      c.subject = "Volume";
      c.description = "x";
      c.workflow = "retail";
      desk.env->engine->create_case(c, Actor::intake("load"), "", "", [&done, i](Result<Committed> r) {
        done[static_cast<std::size_t>(i)].set_value(std::move(r));
      });
    }
    for (auto& d : done) {
      auto r = d.get_future().get();
      REQUIRE(r.ok());
      refs.push_back(r->change.after.reference);
    }
  }
  for (int round = 0; round < 4; ++round) {
    std::vector<std::promise<Result<Committed>>> done(kCases);
    for (int i = 0; i < kCases; ++i) {
      auto r = desk.request(refs[static_cast<std::size_t>(i)], ActionType::kMakeCommitment, desk.agent);
      r.text = "Promise " + std::to_string(round);
      r.due.in = parse_duration("PT" + std::to_string(2 + round) + "H");
      desk.env->engine->submit(std::move(r), [&done, i](Result<Committed> result) {
        done[static_cast<std::size_t>(i)].set_value(std::move(result));
      });
    }
    for (auto& d : done)
      if (!d.get_future().get().ok()) ++failures;
  }
  REQUIRE(failures == 0);
  auto open = desk.env->store->count_open_commitments();
  REQUIRE(open.ok());
  REQUIRE(*open == 5 * kCases + kCases);  // + the final response pledge, not yet due
  desk.advance_to(at("2026-03-10T09:00:00Z"));
  open = desk.env->store->count_open_commitments();
  REQUIRE(open.ok());
  CHECK(*open == kCases);  // only the final response pledges (due after 8 weeks) remain open
  auto broken = desk.env->store->list_commitments(
      CommitmentFilter{CommitmentStatus::kBroken, "", std::nullopt, std::nullopt, ""}, "", 1);
  REQUIRE(broken.ok());
  auto report = desk.env->store->overdue_report(desk.clock().now(), 10);
  REQUIRE(report.ok());
  CHECK(report->broken_unhandled_total == 5 * kCases);
  CHECK(report->past_due_total == 0);
}

TEST_CASE("pledges: a CFPB complaint owes a response in 15 calendar days and a final one in 60", "[scheduler][cfpb]") {
  TempDir dir;
  // Saturday 7 March 2026, 22:00 in New York (EST); DST starts on Sunday 8 March.
  Desk desk(dir, at("2026-03-08T03:00:00Z"));
  std::string ref = desk.create("credit_card");
  CaseSnapshot s = desk.load(ref);
  REQUIRE(s.record.workflow == "cfpb");
  // Calendar days keep the local wall-clock time across the DST change: 22:00 EDT is 02:00Z.
  CHECK(format_time(desk.pledge(s, "initial_response").due_at) == "2026-03-23T02:00:00Z");
  CHECK(format_time(desk.pledge(s, "final_response").due_at) == "2026-05-07T02:00:00Z");
  // A client-visible message is the response: the first pledge is kept, the final one stays open.
  desk.advance_to(at("2026-03-12T15:00:00Z"));
  auto message = desk.request(ref, ActionType::kAddMessage, desk.agent);
  message.visibility = Visibility::kClient;
  message.body = "We have your complaint about the card charge and are investigating.";
  desk.must(message);
  s = desk.load(ref);
  CHECK(desk.pledge(s, "initial_response").status == CommitmentStatus::kKept);
  CHECK(desk.pledge(s, "final_response").status == CommitmentStatus::kOpen);
  desk.advance_to(at("2026-05-07T02:00:00Z"));
  s = desk.load(ref);
  CHECK(desk.pledge(s, "final_response").status == CommitmentStatus::kBroken);
}

// No ";" in a test name: ctest splits the name there and the test would pass without running.
TEST_CASE(
    "pledges: retail - reopening starts the reopened-response pledge, and the case closes by itself after the window",
    "[scheduler][retail]") {
  TempDir dir;
  Desk desk(dir, at("2026-03-02T09:00:00Z"));
  std::string ref = desk.create("billing", "retail");
  CaseSnapshot s = desk.load(ref);
  // Acknowledge within one business day (by close of the next one); the full answer within 14 days.
  CHECK(format_time(desk.pledge(s, "acknowledge").due_at) == "2026-03-03T17:30:00Z");
  CHECK(format_time(desk.pledge(s, "final_response").due_at) == "2026-03-16T09:00:00Z");
  desk.must(desk.request(ref, ActionType::kAcknowledge, desk.agent));
  desk.must(desk.request(ref, ActionType::kTake, desk.agent));
  desk.must(desk.request(ref, ActionType::kStart, desk.agent));
  auto resolve = desk.request(ref, ActionType::kResolve, desk.agent);
  resolve.outcome = Outcome::kUpheld;
  resolve.final_response = kFinalResponse;
  desk.must(resolve);
  s = desk.load(ref);
  CHECK(desk.pledge(s, "final_response").status == CommitmentStatus::kKept);
  desk.advance_to(at("2026-03-05T09:00:00Z"));
  auto reopen = desk.request(ref, ActionType::kReopen, desk.agent);
  reopen.reason = "The refund did not arrive";
  desk.must(reopen);
  s = desk.load(ref);
  CHECK(format_time(desk.pledge(s, "reopened_response").due_at) == "2026-03-12T09:00:00Z");
  CHECK(desk.pledge(s, "reopened_response").status == CommitmentStatus::kOpen);
  resolve.final_response = kFinalResponse;
  desk.must(resolve);
  s = desk.load(ref);
  CHECK(desk.pledge(s, "reopened_response").status == CommitmentStatus::kKept);
  // The reopen window (28 days from the last resolution) ends: the case closes by itself, once.
  desk.advance_to(at("2026-04-01T09:00:00Z"));
  CHECK(desk.load(ref).record.status == CaseStatus::kResolved);
  desk.advance_to(at("2026-04-02T09:00:01Z"));
  s = desk.load(ref);
  CHECK(s.record.status == CaseStatus::kClosed);
  CHECK(desk.count_events(ref, "case.closed") == 1);
  desk.advance_to(at("2026-04-30T09:00:00Z"));
  CHECK(desk.count_events(ref, "case.closed") == 1);
}

TEST_CASE("commitments: due_in counts calendar time, or business time with due_basis", "[scheduler]") {
  TempDir dir;
  Desk desk(dir, at("2026-03-06T16:00:00Z"));  // Friday 16:00 in London (GMT)
  std::string ref = desk.create("billing", "retail");
  auto promise = desk.request(ref, ActionType::kMakeCommitment, desk.agent);
  promise.text = "We will call you back";
  promise.due.in = parse_duration("PT4H");
  auto calendar = desk.must(promise);
  CHECK(format_time(calendar.change.commitments.front().due_at) == "2026-03-06T20:00:00Z");
  promise.due.basis = TimeBasis::kBusiness;
  auto business = desk.must(promise);
  // Retail's hours: 1.5 working hours are left on Friday (to 17:30); the other 2.5 on Saturday,
  // which opens 10:00-14:00.
  CHECK(format_time(business.change.commitments.front().due_at) == "2026-03-07T12:30:00Z");
  promise.due.in = parse_duration("PT6H");
  auto across = desk.must(promise);
  // 1.5 h Friday, 4 h Saturday, the last 0.5 h on Monday from 09:00 (Sunday is closed).
  CHECK(format_time(across.change.commitments.front().due_at) == "2026-03-09T09:30:00Z");
}
