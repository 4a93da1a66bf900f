// Plan steps: what the planner (planner.cpp) and the commitments module (pledges.cpp) both do
// while a plan runs — find the case's workflow, raise its escalation level, mail the staff a level
// names. Neither module calls the other back: the planner calls into the commitments module, and
// both call these.
//
// Internal to engine/. Pure but for the WriteContext; thread-safe (no shared state).
#pragma once

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

}  // namespace redress
