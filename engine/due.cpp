#include "engine/due.h"

#include <algorithm>

#include "engine/plan_steps.h"
#include "engine/planner.h"
#include "engine/pledges.h"

namespace redress {

namespace {

// One change of `first` then `second` (planned on the case as `first` left it).
Change merge(Change first, Change second) {
  Change merged = std::move(second);
  merged.expected_version = first.expected_version;
  first.events.insert(first.events.end(), merged.events.begin(), merged.events.end());
  merged.events = std::move(first.events);
  for (auto& c : first.commitments)
    if (std::none_of(merged.commitments.begin(), merged.commitments.end(),
                     [&](const Commitment& x) { return x.id == c.id; }))
      merged.commitments.push_back(std::move(c));
  for (auto& r : first.redress)
    if (std::none_of(merged.redress.begin(), merged.redress.end(), [&](const Redress& x) { return x.id == r.id; }))
      merged.redress.push_back(std::move(r));
  first.messages.insert(first.messages.end(), merged.messages.begin(), merged.messages.end());
  merged.messages = std::move(first.messages);
  first.notifications.insert(first.notifications.end(), merged.notifications.begin(), merged.notifications.end());
  merged.notifications = std::move(first.notifications);
  if (!merged.clock_state) {
    merged.clock_state = std::move(first.clock_state);
    merged.clock_fold = std::move(first.clock_fold);
  }
  return merged;
}

}  // namespace

namespace {
Result<Change> plan_due_on_calendars(const CaseSnapshot& current, const WorkflowSet& workflows, Time now,
                                     WriteContext& context);
}  // namespace

Result<Change> plan_due(const CaseSnapshot& current, const WorkflowSet& workflows, Time now, WriteContext& context) {
  return within_calendars(workflows, [&] { return plan_due_on_calendars(current, workflows, now, context); });
}

namespace {

Result<Change> plan_due_on_calendars(const CaseSnapshot& current, const WorkflowSet& workflows, Time now,
                                     WriteContext& context) {
  if (workflows.empty()) return Error::internal("no workflows are loaded");
  ChangeBuilder b(current.record, Actor::system(), now, current.record.version, current.commitments, current.redress);
  fire_due(b, workflows, context);
  set_wake(b, &current, workflows, WakeWrite::kAlways);
  Change fired = std::move(b).finish();

  // The reopen window has ended: the case closes by itself (unless redress is still owed).
  const Case& record = fired.after;
  const Workflow& workflow = workflow_of(record, workflows);
  if (record.status != CaseStatus::kResolved || !record.resolved_at || record.unfulfilled_redress > 0 ||
      now < *record.resolved_at + workflow.reopen_window)
    return fired;
  CaseSnapshot middle;
  middle.record = fired.after;
  middle.clock_state = fired.clock_state.value_or(current.clock_state);
  middle.clock_fold = fired.clock_state ? fired.clock_fold : current.clock_fold;
  middle.commitments = current.commitments;
  middle.redress = current.redress;
  for (const auto& c : fired.commitments) {
    auto it = std::find_if(middle.commitments.begin(), middle.commitments.end(),
                           [&](const Commitment& x) { return x.id == c.id; });
    if (it != middle.commitments.end())
      *it = c;
    else
      middle.commitments.push_back(c);
  }
  for (const auto& r : fired.redress) {
    auto it =
        std::find_if(middle.redress.begin(), middle.redress.end(), [&](const Redress& x) { return x.id == r.id; });
    if (it != middle.redress.end())
      *it = r;
    else
      middle.redress.push_back(r);
  }
  std::sort(middle.commitments.begin(), middle.commitments.end(), [](auto& x, auto& y) { return x.id < y.id; });
  std::sort(middle.redress.begin(), middle.redress.end(), [](auto& x, auto& y) { return x.id < y.id; });
  ActionRequest close;
  close.type = ActionType::kClose;
  close.reference = record.reference;
  close.actor = Actor::system();
  close.note = "the reopen window ended";
  auto closed = plan_action(middle, close, workflows, now, context);
  if (!closed) return fired;  // not closable now (the lifecycle says why); the wake stays
  Change merged = merge(std::move(fired), std::move(closed).value());
  merged.wake = merged.wake == Change::Wake::kUnchanged ? Change::Wake::kClear : merged.wake;
  return merged;
}

}  // namespace

}  // namespace redress
