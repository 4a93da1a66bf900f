// The planner: turns a request and the case as stored into a Change (events, projections,
// notifications owed), or a refusal. It asks the lifecycle machine whether the action is allowed,
// checks who may do it and what the rule needs, and seals the new events onto the case's chain.
//
// Pure but for the WriteContext it is handed (ids, staff look-ups inside the store's transaction).
// Thread-safe: no shared state.
#pragma once

#include <string>
#include <vector>

#include "engine/actions.h"
#include "engine/lifecycle.h"
#include "engine/store.h"
#include "engine/workflow.h"

namespace redress {

[[nodiscard]] Result<Change> plan_creation(const NewCase& request, const Actor& actor, const WorkflowSet& workflows,
                                           Time now, WriteContext& context);

[[nodiscard]] Result<Change> plan_action(const CaseSnapshot& current, const ActionRequest& request,
                                         const WorkflowSet& workflows, Time now, WriteContext& context);

// The guard facts of a stored case at `now`.
[[nodiscard]] LifecycleFacts case_facts(const Case& record, const Workflow* workflow, Time now);
[[nodiscard]] LifecycleState lifecycle_state(const Case& record);
// The lifecycle actions allowed on the case now, by name (the SPEC's `allowed_actions`).
[[nodiscard]] std::vector<std::string> allowed_actions_now(const Case& record, const WorkflowSet& workflows, Time now);
// The first time after `now` at which case_facts, and so the allowed actions, may change while the
// record stays as it is (the end of the reopen window); Time::max() when never.
[[nodiscard]] Time case_facts_change_at(const Case& record, const WorkflowSet& workflows, Time now);

// Whether `actor` may perform `type` on `record` at all (before the lifecycle is asked).
[[nodiscard]] Status authorize(const Actor& actor, ActionType type, const Case& record);

// Every action, lifecycle or not (messages, commitments, redress), that `actor` may take on the
// case now, in ActionType order: allowed from the case's state and facts, and authorized. A
// client's message is asked as the client's (visible to the client), a staff member's as a note.
[[nodiscard]] std::vector<ActionType> actions_open_to(const Case& record, const Actor& actor,
                                                      const WorkflowSet& workflows, Time now);

}  // namespace redress
