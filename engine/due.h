// The scheduler's unit of work on one case: what fell due by now — every open commitment whose due
// time has passed breaks and every warning that has fallen is raised, in time order (the
// commitments module, engine/pledges.h) — and then a resolved case whose reopen window ended is
// closed by the system (the planner's close action, engine/planner.h). It sits above both so that
// neither calls the other back.
//
// Runs inside the store's transaction against the case as stored. Pure but for the WriteContext;
// thread-safe (no shared state).
#pragma once

#include "engine/store.h"
#include "engine/workflow.h"

namespace redress {

// A change without events when nothing was due (it still corrects the wake time).
[[nodiscard]] Result<Change> plan_due(const CaseSnapshot& current, const WorkflowSet& workflows, Time now,
                                      WriteContext& context);

}  // namespace redress
