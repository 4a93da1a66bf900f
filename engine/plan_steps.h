// Plan steps: what the planner (planner.cpp) and the commitments module (pledges.cpp) both do
// while a plan runs — find the case's workflow, raise its escalation level, mail the staff a level
// names. Neither module calls the other back: the planner calls into the commitments module, and
// both call these.
//
// Internal to engine/. Pure but for the WriteContext; thread-safe (no shared state).
#pragma once

#include <algorithm>
#include <functional>
#include <string>

#include "engine/change_builder.h"
#include "engine/store.h"
#include "engine/workflow.h"

namespace redress {

// The case's workflow: the one it names, or the one its category and channel route to.
[[nodiscard]] const Workflow& workflow_of(const Case& record, const WorkflowSet& workflows);

// Mails the staff the escalation ladder's rung `level` names (nothing for level 0 or past the top).
void notify_escalation(ChangeBuilder& b, const Workflow& workflow, int level, WriteContext& context);

// Raises the case to `to_level` (case.escalated) and mails that rung's staff.
void raise_level(ChangeBuilder& b, const Workflow& workflow, int to_level, const std::string& reason,
                 const std::string& cause, WriteContext& context);

// Runs `plan`; a plan that needs a business day outside the years a calendar covers
// (CalendarExhausted) is refused (kCalendarExhausted), naming the workflow whose calendar ran out,
// rather than computed as if that year had no holidays.
[[nodiscard]] Result<Change> within_calendars(const WorkflowSet& workflows,
                                              const std::function<Result<Change>()>& plan);

// The highest rung of the ladder with a trigger `matches` accepts, or `from` when that is higher
// (a trigger never lowers a case), at most the ladder's top.
template <typename Matches>
[[nodiscard]] int triggered_level(const Workflow& workflow, int from, Matches matches) {
  int target = from;
  for (const auto& rung : workflow.escalation)
    for (const auto& trigger : rung.triggers)
      if (matches(trigger)) target = std::max(target, rung.level);
  return std::min(std::max(target, from), std::max(from, workflow.max_escalation_level()));
}

// Raises the case to the rung `matches` names (triggered_level), when that is above where it is.
// True when it raised the case.
template <typename Matches>
bool escalate_on(ChangeBuilder& b, const Workflow& workflow, const std::string& reason, const std::string& cause,
                 WriteContext& context, Matches matches) {
  const int from = b.record().escalation_level;
  const int target = triggered_level(workflow, from, matches);
  if (target <= from) return false;
  raise_level(b, workflow, target, reason, cause, context);
  return true;
}

}  // namespace redress
