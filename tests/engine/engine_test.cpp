// The Engine, the planner and the Scheduler on an in-memory CaseStore (memory_store.h): creating a
// case, acting on it, a stale version refused, a due pledge broken by the scheduler. No adapter is
// linked into these tests, so they also show that the engine needs nothing but its own port.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/memory_store.h"
#include "engine/planner.h"
#include "engine/scheduler.h"
#include "engine/support.h"

using namespace redress;
using redress::enginetest::at;
using redress::enginetest::MemoryCaseStore;

namespace {

// One workflow whose one pledge is an acknowledgement within 2 elapsed hours of receipt.
WorkflowSet acknowledge_within_two_hours() {
  Workflow workflow;
  workflow.name = "retail";
  workflow.title = "Retail complaints";
  workflow.team = "care";
  workflow.is_default = true;
  ClockRule acknowledge;
  acknowledge.name = "acknowledge";
  acknowledge.text = "We will acknowledge your complaint";
  acknowledge.start = ClockStart::kReceived;
  acknowledge.stop = ClockStop::kAcknowledged;
  acknowledge.target = ClockTarget{IsoDuration{0, std::chrono::hours(2)}, TimeBasis::kCalendar};
  workflow.clocks.push_back(acknowledge);
  return WorkflowSet({workflow}, "retail");
}

NewCase complaint() {
  NewCase c;
  c.client = Client{"Ana Ruiz", "ana@example.org", "", "en-GB"};
  c.category = "billing";
  c.subject = "Charged twice";
  c.description = "I was charged twice for one order.";
  return c;
}

struct Desk {
  ManualClock clock{at("2026-03-09T10:00:00Z")};
  WorkflowSet workflows = acknowledge_within_two_hours();
  MemoryCaseStore store;
  Engine engine{store, clock, workflows};
  Staff agent = store.add_staff(Staff{"", "Sam Okafor", "sam@redress.example", Role::kAgent, "care", true});

  std::string create() {
    auto created = engine.create_case(complaint(), Actor::intake("web-form"));
    INFO((created.ok() ? std::string() : created.error().detail));
    REQUIRE(created.ok());
    return created->change.after.reference;
  }
  ActionRequest acknowledge(const std::string& reference) const {
    ActionRequest request;
    request.type = ActionType::kAcknowledge;
    request.reference = reference;
    request.actor = Actor::staff(agent.id, agent.role);
    return request;
  }
  const Commitment& pledge(const CaseSnapshot& snapshot) {
    REQUIRE(snapshot.commitments.size() == 1);
    REQUIRE(snapshot.commitments[0].kind == CommitmentKind::kPledge);
    return snapshot.commitments[0];
  }
};

std::vector<std::string> event_types(const std::vector<Event>& events) {
  std::vector<std::string> types;
  for (const auto& e : events) types.push_back(e.type);
  return types;
}

}  // namespace

TEST_CASE("Engine: a created case is kept with its history, its pledge and its wake time", "[engine][memory]") {
  Desk desk;
  std::string reference = desk.create();
  CHECK(reference == "CMP-2026-000001");
  CHECK(desk.create() == "CMP-2026-000002");

  auto snapshot = desk.store.snapshot(reference);
  REQUIRE(snapshot.has_value());
  CHECK(snapshot->record.status == CaseStatus::kReceived);
  CHECK(snapshot->record.team == "care");
  auto events = desk.store.events(reference);
  REQUIRE_FALSE(events.empty());
  CHECK(events.front().type == "case.received");
  CHECK(snapshot->record.version == static_cast<std::int64_t>(events.size()));
  CHECK(snapshot->record.head_hash == events.back().hash);
  const Commitment& pledge = desk.pledge(*snapshot);
  CHECK(pledge.status == CommitmentStatus::kOpen);
  CHECK(pledge.due_at == at("2026-03-09T12:00:00Z"));
  CHECK(desk.store.wake_time(reference) == at("2026-03-09T12:00:00Z"));
  std::vector<std::string> mail;
  for (const auto& n : desk.store.notifications(reference))
    if (n.channel == NotificationDraft::Channel::kEmail) mail.push_back(n.template_name + " " + n.recipient);
  CHECK(mail == std::vector<std::string>{"client.received ana@example.org"});
}

TEST_CASE("Engine: a backdated receipt starts the clocks at received_at and keeps its reason", "[engine][memory]") {
  Desk desk;
  NewCase call = complaint();
  call.channel = Channel::kPhone;
  call.received_at = at("2026-03-09T09:15:00Z");  // 45 minutes before the clock's now, in working hours
  call.received_reason = "Call taken on the switchboard before the system was reachable";
  auto created = desk.engine.create_case(call, Actor::staff(desk.agent.id, desk.agent.role));
  INFO((created.ok() ? std::string() : created.error().detail));
  REQUIRE(created.ok());
  const std::string reference = created->change.after.reference;
  auto snapshot = desk.store.snapshot(reference);
  REQUIRE(snapshot.has_value());
  CHECK(snapshot->record.received_at == at("2026-03-09T09:15:00Z"));
  CHECK(format_time(desk.pledge(*snapshot).due_at) == "2026-03-09T11:15:00Z");  // two hours from receipt, not from now
  auto events = desk.store.events(reference);
  REQUIRE_FALSE(events.empty());
  CHECK(events.front().at == at("2026-03-09T10:00:00Z"));  // recorded now; received earlier
  CHECK(events.front().data.find("\"received_at\":\"2026-03-09T09:15:00Z\"") != std::string::npos);
  CHECK(events.front().data.find("switchboard") != std::string::npos);
}

TEST_CASE("Engine: received_at is refused in the future, without a reason, and from intake", "[engine][memory]") {
  Desk desk;
  const Actor agent = Actor::staff(desk.agent.id, desk.agent.role);
  NewCase future = complaint();
  future.received_at = at("2026-03-09T10:00:01Z");
  future.received_reason = "typed the wrong day";
  auto refused = desk.engine.create_case(future, agent);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == ErrorCode::kInvalid);
  CHECK(refused.error().fields.at(0).field == "received_at");

  NewCase no_reason = complaint();
  no_reason.received_at = at("2026-03-08T10:00:00Z");
  refused = desk.engine.create_case(no_reason, agent);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().fields.at(0).field == "received_reason");

  no_reason.received_reason = "letter opened this morning";
  refused = desk.engine.create_case(no_reason, Actor::intake("web-form"));
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == ErrorCode::kForbidden);

  // Now itself needs no reason; nothing refused was stored.
  NewCase now = complaint();
  now.received_at = at("2026-03-09T10:00:00Z");
  auto created = desk.engine.create_case(now, agent);
  REQUIRE(created.ok());
  CHECK(created->change.after.reference == "CMP-2026-000001");
}

TEST_CASE("Engine: the backdating window refuses a receipt older than it allows", "[engine]") {
  NewCase request = complaint();
  const Time now = at("2026-03-31T12:00:00Z");
  request.received_at = at("2026-03-01T12:00:00Z");
  CHECK(check_receipt_window(request, now, std::chrono::days(30)).ok());
  request.received_at = at("2026-03-01T11:59:59Z");
  auto refused = check_receipt_window(request, now, std::chrono::days(30));
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().fields.at(0).field == "received_at");
  request.received_at.reset();
  CHECK(check_receipt_window(request, now, std::chrono::days(30)).ok());
}

TEST_CASE("Engine: an idempotency key replays its case - another request under it is refused", "[engine][memory]") {
  Desk desk;
  auto first = desk.engine.create_case(complaint(), Actor::intake("web-form"), "key-1", "digest-a");
  REQUIRE(first.ok());
  auto again = desk.engine.create_case(complaint(), Actor::intake("web-form"), "key-1", "digest-a");
  REQUIRE(again.ok());
  CHECK(again->replayed);
  CHECK(again->change.after.reference == first->change.after.reference);
  CHECK(desk.store.case_count() == 1);
  auto other = desk.engine.create_case(complaint(), Actor::intake("web-form"), "key-1", "digest-b");
  REQUIRE_FALSE(other.ok());
  CHECK(other.error().code == ErrorCode::kConflict);
}

TEST_CASE("Engine: an action moves the case on and keeps the pledge it meets", "[engine][memory]") {
  Desk desk;
  std::string reference = desk.create();
  desk.clock.advance(std::chrono::minutes(30));
  auto acknowledged = desk.engine.apply(desk.acknowledge(reference));
  INFO((acknowledged.ok() ? std::string() : acknowledged.error().detail));
  REQUIRE(acknowledged.ok());

  auto snapshot = desk.store.snapshot(reference);
  REQUIRE(snapshot.has_value());
  CHECK(snapshot->record.status == CaseStatus::kAcknowledged);
  CHECK(snapshot->record.acknowledged_at == at("2026-03-09T10:30:00Z"));
  CHECK(desk.pledge(*snapshot).status == CommitmentStatus::kKept);
  auto types = event_types(desk.store.events(reference));
  CHECK(std::count(types.begin(), types.end(), "case.acknowledged") == 1);
  CHECK(std::count(types.begin(), types.end(), "commitment.kept") == 1);
  CHECK_FALSE(desk.store.wake_time(reference).has_value());  // nothing left to fall due

  // The lifecycle refuses acknowledging twice.
  auto twice = desk.engine.apply(desk.acknowledge(reference));
  REQUIRE_FALSE(twice.ok());
  CHECK(desk.store.snapshot(reference)->record.version == snapshot->record.version);
}

TEST_CASE("Engine: a stale version is refused, by the planner and by the store", "[engine][memory]") {
  Desk desk;
  std::string reference = desk.create();
  const CaseSnapshot before = *desk.store.snapshot(reference);

  // If-Match on an older version: the planner refuses it.
  ActionRequest request = desk.acknowledge(reference);
  request.expected_version = before.record.version - 1;
  auto refused = desk.engine.apply(request);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == ErrorCode::kStaleVersion);

  // A plan made on a snapshot another change has since moved on: the store refuses to write it.
  class NoContext final : public WriteContext {
   public:
    std::int64_t next_id(IdKind) override { return 1000; }
    std::string next_reference(int) override { return {}; }
    std::optional<Staff> find_staff(const std::string&) override { return std::nullopt; }
    std::vector<Staff> staff_with_roles(const std::vector<Role>&, const std::vector<std::string>&) override {
      return {};
    }
    std::vector<Event> case_history(std::int64_t) override { return {}; }
  } context;
  auto planned = plan_action(before, desk.acknowledge(reference), desk.workflows, desk.clock.now(), context);
  REQUIRE(planned.ok());
  CHECK(planned->expected_version == before.record.version);
  ActionRequest note = desk.acknowledge(reference);
  note.type = ActionType::kAddMessage;
  note.body = "Looking into it.";
  REQUIRE(desk.engine.apply(note).ok());

  auto late = desk.engine.apply_plan(
      reference, [&planned](const CaseSnapshot&, WriteContext&, Time) { return Result<Change>(*planned); });
  REQUIRE_FALSE(late.ok());
  CHECK(late.error().code == ErrorCode::kStaleVersion);
  CHECK(desk.store.snapshot(reference)->record.status == CaseStatus::kReceived);
}

TEST_CASE("Scheduler: a pledge past due is broken once, at its time, on a manual clock", "[engine][memory]") {
  Desk desk;
  std::string reference = desk.create();
  Scheduler::Options options;
  options.holder = "engine-test";
  Scheduler scheduler(desk.engine, options);

  desk.clock.set(at("2026-03-09T11:59:00Z"));
  auto early = scheduler.run_due();
  CHECK(early.lease_held);
  CHECK(early.cases == 0);
  CHECK(desk.pledge(*desk.store.snapshot(reference)).status == CommitmentStatus::kOpen);

  desk.clock.set(at("2026-03-09T12:30:00Z"));
  auto fired = scheduler.run_due();
  CHECK(fired.lease_held);
  CHECK(fired.failed == 0);
  CHECK(fired.cases == 1);
  auto snapshot = desk.store.snapshot(reference);
  const Commitment& broken = desk.pledge(*snapshot);
  CHECK(broken.status == CommitmentStatus::kBroken);
  CHECK(broken.settled_at == at("2026-03-09T12:00:00Z"));
  auto types = event_types(desk.store.events(reference));
  CHECK(std::count(types.begin(), types.end(), "commitment.broken") == 1);

  // Nothing is due any more: another round fires nothing and breaks nothing again.
  desk.clock.advance(std::chrono::hours(1));
  CHECK(scheduler.run_due().cases == 0);
  types = event_types(desk.store.events(reference));
  CHECK(std::count(types.begin(), types.end(), "commitment.broken") == 1);
}

TEST_CASE("Scheduler: nothing fires while another holder has the lease", "[engine][memory]") {
  Desk desk;
  std::string reference = desk.create();
  desk.clock.set(at("2026-03-09T13:00:00Z"));
  REQUIRE(desk.store.acquire_lease("scheduler", "another-node", desk.clock.now(), at("2026-03-09T14:00:00Z")).value());
  Scheduler::Options options;
  options.holder = "engine-test";
  Scheduler scheduler(desk.engine, options);
  auto report = scheduler.run_due();
  CHECK_FALSE(report.lease_held);
  CHECK(desk.pledge(*desk.store.snapshot(reference)).status == CommitmentStatus::kOpen);
}

TEST_CASE("Engine: rights - on an owned case a colleague may add notes but not decide - a lead may", "[engine][rights]") {
  Desk desk;
  Staff colleague =
      desk.store.add_staff(Staff{"", "Olga Other", "olga@redress.example", Role::kAgent, "care", true});
  Staff lead = desk.store.add_staff(Staff{"", "Lee Lead", "lee@redress.example", Role::kLead, "care", true});
  std::string reference = desk.create();
  auto act = [&](ActionType type, const Staff& by) {
    ActionRequest request;
    request.type = type;
    request.reference = reference;
    request.actor = Actor::staff(by.id, by.role);
    request.reason = "because";
    request.body = "a note";
    return desk.engine.apply(request);
  };
  // Unowned: a colleague acknowledges it.
  REQUIRE(act(ActionType::kAcknowledge, colleague).ok());
  REQUIRE(act(ActionType::kTake, desk.agent).ok());
  auto refused = act(ActionType::kStart, colleague);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == ErrorCode::kForbidden);
  CHECK(refused.error().detail.find("owner (" + desk.agent.id + ")") != std::string::npos);
  CHECK(act(ActionType::kAddMessage, colleague).ok());
  auto record = desk.store.snapshot(reference)->record;
  auto open_to = [&](const Staff& by) { return desk.engine.allowed_actions(record, Actor::staff(by.id, by.role)); };
  auto has = [](const std::vector<ActionType>& types, ActionType type) {
    return std::find(types.begin(), types.end(), type) != types.end();
  };
  CHECK_FALSE(has(open_to(colleague), ActionType::kStart));
  CHECK(has(open_to(colleague), ActionType::kAddMessage));
  CHECK(has(open_to(desk.agent), ActionType::kStart));
  CHECK(has(open_to(lead), ActionType::kStart));
  CHECK(act(ActionType::kStart, lead).ok());

  // A workflow whose rights let any agent decide.
  Workflow any = desk.workflows.all().front();
  any.decisions = DecisionRights::kAnyAgent;
  WorkflowSet open_set({any}, "retail");
  CHECK(authorize(Actor::staff(colleague.id, colleague.role), ActionType::kEscalate, record, &open_set.all().front()).ok());
  CHECK_FALSE(authorize(Actor::staff(colleague.id, colleague.role), ActionType::kEscalate, record,
                        &desk.workflows.all().front())
                  .ok());
}

TEST_CASE("Engine: a correction records one event per changed field, with before and after", "[engine][corrections]") {
  Desk desk;
  std::string reference = desk.create();
  auto current = *desk.store.snapshot(reference);
  CaseCorrection correction;
  correction.client_email = "ana.ruiz@example.org";
  correction.subject = "Charged twice";  // unchanged: no event
  correction.client_phone = "+44 20 7946 0018";
  const Actor agent = Actor::staff(desk.agent.id, desk.agent.role);
  auto planned = plan_correction(current, correction, current.record.version, agent, desk.workflows, desk.clock.now());
  REQUIRE(planned.ok());
  REQUIRE(planned->events.size() == 2);
  CHECK(planned->events[0].type == "case.corrected");
  CHECK(planned->events[0].data.find("\"before\":\"ana@example.org\"") != std::string::npos);
  CHECK(planned->after.client.email == "ana.ruiz@example.org");
  CHECK(planned->after.client.phone == "+44 20 7946 0018");
  // Stale, nothing new, not staff.
  CHECK(plan_correction(current, correction, current.record.version - 1, agent, desk.workflows, desk.clock.now())
            .error()
            .code == ErrorCode::kStaleVersion);
  CaseCorrection same;
  same.subject = "Charged twice";
  CHECK(plan_correction(current, same, std::nullopt, agent, desk.workflows, desk.clock.now()).error().code ==
        ErrorCode::kInvalid);
  CHECK(plan_correction(current, correction, std::nullopt, Actor::client(), desk.workflows, desk.clock.now())
            .error()
            .code == ErrorCode::kForbidden);
}
