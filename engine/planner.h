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

// A correction of the case's details (engine/actions.h: CaseCorrection), as `actor`: one
// "case.corrected" event per field that changes, with the field and its value before and after.
// Staff only; under the workflow's default rights, the owner or a lead or above once someone owns
// the case. kStaleVersion when `expected_version` is set and not the case's; kInvalid when nothing
// would change; a closed or withdrawn case may still be corrected (the record must be right).
[[nodiscard]] Result<Change> plan_correction(const CaseSnapshot& current, const CaseCorrection& correction,
                                             std::optional<std::int64_t> expected_version, const Actor& actor,
                                             const WorkflowSet& workflows, Time now);

// The second case's side of an action on two cases (acts_on_two_cases: merge, link, unlink),
// planned on `other` (the case `request.other_case` names) in the same transaction as
// plan_action's change on `request.reference`, and written with it or not at all: the case a
// duplicate is merged into records the merge (refused while it is closed or withdrawn); a link
// or unlink is recorded on both cases. Staff only, like the first side.
[[nodiscard]] Result<Change> plan_counterpart(const CaseSnapshot& other, const ActionRequest& request,
                                              const WorkflowSet& workflows, Time now);

// Whether `actor` may perform `type` on `record` at all (before the lifecycle is asked). Under the
// workflow's default rights (Workflow::decisions, kOwnerAndLeads; also when `workflow` is null),
// once a case has an owner only the owner and leads and above take decisions on it; other agents
// may add notes and messages (and accept or reject held mail). An unowned case is open to every
// agent (acknowledge, take...).
[[nodiscard]] Status authorize(const Actor& actor, ActionType type, const Case& record,
                               const Workflow* workflow = nullptr);

// Every action, lifecycle or not (messages, commitments, redress), that `actor` may take on the
// case now, in ActionType order: allowed from the case's state and facts, and authorized. A
// client's message is asked as the client's (visible to the client), a staff member's as a note.
[[nodiscard]] std::vector<ActionType> actions_open_to(const Case& record, const Actor& actor,
                                                      const WorkflowSet& workflows, Time now);

}  // namespace redress
