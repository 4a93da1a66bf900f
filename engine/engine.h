// Engine: the front door for changing cases.
//
// Callers hand it a request; it submits a unit of work to the CaseStore whose plan runs the planner
// against the case as stored, at the Clock's "now". An action is also planned at once on the
// caller's thread against the snapshot the store keeps of the case (plan_ahead): the store's one
// writer thread then only checks that the snapshot is still the latest and writes the plan.
// Callbacks run on a store thread after the commit; the blocking forms wait for it. Thread-safe: any number of threads
// may submit at once; the store serialises work on each case and commits in groups.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "engine/actions.h"
#include "engine/clock.h"
#include "engine/store.h"
#include "engine/workflow.h"

namespace redress {

class Engine {
 public:
  using Callback = std::function<void(Result<Committed>)>;

  Engine(CaseStore& store, const Clock& clock, const WorkflowSet& workflows)
      : store_(store), clock_(clock), workflows_(workflows) {}
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Creates a case. With an idempotency key, a repeat with the same digest returns the first case
  // (`replayed`); the same key with another digest is refused as kConflict.
  void create_case(NewCase request, Actor actor, std::string idempotency_key, std::string request_digest,
                   Callback done);
  [[nodiscard]] Result<Committed> create_case(NewCase request, Actor actor, std::string idempotency_key = {},
                                              std::string request_digest = {});

  // An action on a case. Merge, link and unlink (acts_on_two_cases) change `other_case` too: both
  // changes are written together or not at all (CaseStore::submit_together), and `done` gets the
  // acted-on case's change, or the refusal of either side.
  void submit(ActionRequest request, Callback done);
  [[nodiscard]] Result<Committed> apply(ActionRequest request);

  // A unit of work on one case that is not a lifecycle action (the scheduler's, a handled
  // breach): `plan` runs inside the store's transaction against the case as stored, at `now`.
  using Plan = std::function<Result<Change>(const CaseSnapshot& current, WriteContext& context, Time now)>;
  void submit_plan(std::string reference, Plan plan, Callback done);
  [[nodiscard]] Result<Committed> apply_plan(std::string reference, Plan plan);

  // Called on a store thread after every committed change, before the caller's callback. Set it
  // before any work is submitted; it must not block.
  void set_observer(std::function<void(const Committed&)> observer) { observer_ = std::move(observer); }

  // The lifecycle actions allowed on a case now.
  [[nodiscard]] std::vector<std::string> allowed_actions(const Case& record) const;
  // Until when allowed_actions(record) stays the same, the record unchanged (case_facts_change_at).
  [[nodiscard]] Time allowed_actions_until(const Case& record) const;
  // Every action `actor` may take on the case now, lifecycle or not (messages, commitments,
  // redress), in ActionType order: what the lifecycle allows and the actor is authorized for.
  [[nodiscard]] std::vector<ActionType> allowed_actions(const Case& record, const Actor& actor) const;

  // Records what was done about the broken commitment `commitment_id` of the case (the overdue
  // report then stops listing it). kNotFound for a commitment not on the case; kRefused when it is
  // not broken or was handled already.
  void handle_breach(std::string reference, std::int64_t commitment_id, Actor actor, std::string note, Callback done);

  // Corrects the case's details (planner.h: plan_correction), checked against `expected_version`.
  void correct_case(std::string reference, CaseCorrection correction, std::optional<std::int64_t> expected_version,
                    Actor actor, Callback done);

  [[nodiscard]] CaseStore& store() { return store_; }
  [[nodiscard]] const Clock& clock() const { return clock_; }
  [[nodiscard]] const WorkflowSet& workflows() const { return workflows_; }

 private:
  CaseStore& store_;
  const Clock& clock_;
  const WorkflowSet& workflows_;
  std::function<void(const Committed&)> observer_;

  [[nodiscard]] Callback observed(Callback done) const;
  // Merge, link, unlink: the acted-on case's plan and the other case's, submitted together.
  void submit_on_two_cases(ActionRequest request, Callback done);
  // The action planned on the caller's thread against the snapshot the store keeps, so that the
  // writer need only check and write it; nullopt when there is none or the plan needs the writer.
  [[nodiscard]] std::optional<AheadPlan> plan_ahead(const ActionRequest& request) const;
};

}  // namespace redress
