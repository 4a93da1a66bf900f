// Commitments over time: the pledges a case's clocks owe, and what happens when a commitment
// falls due — breaches, warnings, automatic compensation — and when the scheduler must next look
// at the case.
//
// Every plan ends with fold_clocks (the change's events folded into the case's ClockFold, whose
// runs become pledge commitments: made, kept, cancelled, moved by pauses) and set_wake. fire_due
// breaks every open commitment whose due time has passed and raises every warning that has fallen,
// in time order (the scheduler's plan, engine/due.h, calls it). This module never calls the
// planner back: what both need is in engine/plan_steps.h. All of it runs inside the store's transaction against the
// case as stored, so a commitment is broken exactly once however many schedulers look at it: the second finds it broken
// already.
//
// Rules:
// - `open → broken` at due time, by the system. A broken commitment stays broken; a pledge met
//   after its due time is "met late" (commitment.met_late) and its per-period compensation is
//   settled then.
// - A breach: commitment.broken; the case is raised to the highest of the breach rule's
//   escalate_to and the ladder levels whose triggers match (clock_breach for that clock,
//   commitment_broken for any commitment); mail to the breach rule's targets (default: the owner,
//   and the client when the commitment is client-visible); automatic compensation recorded as
//   accepted redress with its own redress commitment (paid within the workflow's redress target).
// - A warning: commitment.at_risk; ladder levels whose clock_warning triggers match raise the
//   case; mail to the owner.
// - Open commitments follow the case owner: when ownership passes on, so do they.
//
// Pure but for the WriteContext; thread-safe (no shared state).
#pragma once

#include <string>

#include "engine/change_builder.h"
#include "engine/store.h"
#include "engine/workflow.h"

namespace redress {

// Folds the change's events into the case's clocks (restored from `current`, or fresh when
// creating) and writes the pledge commitments the runs start, meet, cancel or move.
void fold_clocks(ChangeBuilder& b, const CaseSnapshot* current, const WorkflowSet& workflows, WriteContext& context);

// Breaks the open commitments due by now and raises the warnings fallen by now, oldest first.
void fire_due(ChangeBuilder& b, const WorkflowSet& workflows, WriteContext& context);

// Sets the change's wake time from the case as the change leaves it. `force` writes it even when
// it did not move (the scheduler's plan corrects a stale wake time).
enum class WakeWrite { kWhenMoved, kAlways };
void set_wake(ChangeBuilder& b, const CaseSnapshot* current, const WorkflowSet& workflows, WakeWrite write);

// The earliest instant at which something falls due on the case, if any.
[[nodiscard]] std::optional<Time> wake_time(const Case& record, const std::vector<Commitment>& commitments,
                                            const WorkflowSet& workflows);

// Where a pledge may move, by its clock's rule (ClockRule::renegotiation): the latest due time
// allowed, the time the rule sets for the pledge once moved (its successor's rule_due_at), and
// what the move needs. Promises and redress commitments move freely (kAllowed, no limit).
struct PledgeMove {
  Renegotiation renegotiation = Renegotiation::kAllowed;
  std::optional<Time> latest;        // the latest new due time the rule allows; nullopt: any
  std::optional<Time> rule_due_at;   // the successor's
  const ClockRule* clock = nullptr;  // the pledge's clock, when it is a pledge with a known rule
  std::string workflow;              // its workflow's name
};
[[nodiscard]] PledgeMove pledge_move(const CaseSnapshot& current, const Commitment& c, const WorkflowSet& workflows,
                                     WriteContext& context);

// Whether a breach of `c` owes automatic compensation under the case's standard (its clock's, or
// for redress the workflow's redress_breach).
[[nodiscard]] bool compensates(const Commitment& c, const Workflow& workflow, const WorkflowSet& workflows);

// The clock whose pledge `c` is, when it is a pledge of a clock `workflows` still publishes.
[[nodiscard]] const ClockRule* pledge_clock(const Commitment& c, const WorkflowSet& workflows);

// Passes every open commitment of the case to its new owner (assign, take, transfer).
void follow_owner(ChangeBuilder& b);

// Records what was done about a broken commitment (the overdue report then stops listing it).
[[nodiscard]] Result<Change> plan_breach_handled(const CaseSnapshot& current, std::int64_t commitment_id,
                                                 const Actor& actor, const std::string& note,
                                                 const WorkflowSet& workflows, Time now, WriteContext& context);

}  // namespace redress
