#include "engine/engine.h"

#include <future>
#include <memory>

#include "engine/planner.h"
#include "engine/pledges.h"
#include "engine/return_ledger.h"

namespace redress {

namespace {

Result<Committed> wait_for(const std::function<void(Engine::Callback)>& start) {
  std::promise<Result<Committed>> promise;
  auto future = promise.get_future();
  start([&promise](Result<Committed> result) { promise.set_value(std::move(result)); });
  return future.get();
}

// The change's return ledger entries (engine/return_ledger.h), or the refusal when they cannot be
// counted. A re-routing needs the case's stored history: asked of `context` only then.
Result<Change> with_return_entries(Result<Change> change, const CaseSnapshot* before, const WorkflowSet& workflows,
                                   WriteContext& context) {
  if (!change) return change;
  const std::int64_t case_id = change->after.id;
  if (auto s = add_return_entries(*change, before, workflows, [&] { return context.case_history(case_id); }); !s)
    return s.error();
  return change;
}

}  // namespace

void Engine::create_case(NewCase request, Actor actor, std::string idempotency_key, std::string request_digest,
                         Callback done) {
  WorkItem item;
  item.idempotency_key = std::move(idempotency_key);
  item.request_digest = std::move(request_digest);
  item.plan = [this, request = std::move(request), actor = std::move(actor)](const CaseSnapshot*,
                                                                             WriteContext& context) -> Result<Change> {
    auto change = plan_creation(request, actor, workflows_, clock_.now(), context);
    if (change) change->inbound = request.receipt;
    return with_return_entries(std::move(change), nullptr, workflows_, context);
  };
  item.done = observed(std::move(done));
  store_.submit(std::move(item));
}

Result<Committed> Engine::create_case(NewCase request, Actor actor, std::string idempotency_key,
                                      std::string request_digest) {
  return wait_for([&](Callback done) {
    create_case(std::move(request), std::move(actor), std::move(idempotency_key), std::move(request_digest),
                std::move(done));
  });
}

void Engine::submit(ActionRequest request, Callback done) {
  if (acts_on_two_cases(request.type)) return submit_on_two_cases(std::move(request), std::move(done));
  WorkItem item;
  item.reference = request.reference;
  item.ahead = plan_ahead(request);
  item.plan = [this, request = std::move(request)](const CaseSnapshot* current,
                                                   WriteContext& context) -> Result<Change> {
    if (!current) return Error::not_found("no case " + request.reference);
    auto change = plan_action(*current, request, workflows_, clock_.now(), context);
    if (change) change->inbound = request.receipt;
    return with_return_entries(std::move(change), current, workflows_, context);
  };
  item.done = observed(std::move(done));
  store_.submit(std::move(item));
}

void Engine::submit_on_two_cases(ActionRequest request, Callback done) {
  auto shared = std::make_shared<const ActionRequest>(std::move(request));
  if (shared->other_case.empty() || shared->other_case == shared->reference) {
    // The planner names the field; nothing is submitted for a second case that is not one.
    WorkItem item;
    item.reference = shared->reference;
    item.plan = [this, shared](const CaseSnapshot* current, WriteContext& context) -> Result<Change> {
      if (!current) return Error::not_found("no case " + shared->reference);
      return plan_action(*current, *shared, workflows_, clock_.now(), context);
    };
    item.done = observed(std::move(done));
    store_.submit(std::move(item));
    return;
  }
  std::vector<WorkItem> items(2);
  items[0].reference = shared->reference;
  items[0].plan = [this, shared](const CaseSnapshot* current, WriteContext& context) -> Result<Change> {
    if (!current) return Error::not_found("no case " + shared->reference);
    return plan_action(*current, *shared, workflows_, clock_.now(), context);
  };
  items[0].done = observed(std::move(done));
  items[1].reference = shared->other_case;
  items[1].plan = [this, shared](const CaseSnapshot* other, WriteContext&) -> Result<Change> {
    if (!other) return Error::not_found("no case " + shared->other_case);
    return plan_counterpart(*other, *shared, workflows_, clock_.now());
  };
  items[1].done = observed(nullptr);
  store_.submit_together(std::move(items));
}

std::optional<AheadPlan> Engine::plan_ahead(const ActionRequest& request) const {
  auto snapshot = store_.kept_snapshot(request.reference);
  if (!snapshot) return std::nullopt;
  auto context = store_.ahead_context();
  if (!context) return std::nullopt;
  try {
    auto change =
        with_return_entries(plan_action(*snapshot, request, workflows_, clock_.now(), *context), snapshot.get(),
                            workflows_, *context);
    // A refusal, or a plan that needed the writer: the writer decides on the case as stored.
    if (!change || !context->complete()) return std::nullopt;
    change->inbound = request.receipt;
    return AheadPlan{std::move(snapshot), std::move(change).value()};
  } catch (const std::exception&) {  // the writer's plan meets the same failure and reports it
    return std::nullopt;
  }
}

Result<Committed> Engine::apply(ActionRequest request) {
  return wait_for([&](Callback done) { submit(std::move(request), std::move(done)); });
}

void Engine::submit_plan(std::string reference, Plan plan, Callback done) {
  WorkItem item;
  item.reference = reference;
  item.plan = [this, reference, plan = std::move(plan)](const CaseSnapshot* current,
                                                        WriteContext& context) -> Result<Change> {
    if (!current) return Error::not_found("no case " + reference);
    return with_return_entries(plan(*current, context, clock_.now()), current, workflows_, context);
  };
  item.done = observed(std::move(done));
  store_.submit(std::move(item));
}

Result<Committed> Engine::apply_plan(std::string reference, Plan plan) {
  return wait_for([&](Callback done) { submit_plan(std::move(reference), std::move(plan), std::move(done)); });
}

Engine::Callback Engine::observed(Callback done) const {
  if (!observer_) return done;
  return [observer = observer_, done = std::move(done)](Result<Committed> result) {
    if (result) observer(*result);
    if (done) done(std::move(result));
  };
}

Time Engine::allowed_actions_until(const Case& record) const {
  return case_facts_change_at(record, workflows_, clock_.now());
}

std::vector<std::string> Engine::allowed_actions(const Case& record) const {
  return allowed_actions_now(record, workflows_, clock_.now());
}

std::vector<ActionType> Engine::allowed_actions(const Case& record, const Actor& actor) const {
  return actions_open_to(record, actor, workflows_, clock_.now());
}

void Engine::handle_breach(std::string reference, std::int64_t commitment_id, Actor actor, std::string note,
                           Callback done) {
  submit_plan(
      std::move(reference),
      [this, commitment_id, actor = std::move(actor), note = std::move(note)](const CaseSnapshot& current,
                                                                              WriteContext& context, Time now) {
        return plan_breach_handled(current, commitment_id, actor, note, workflows_, now, context);
      },
      std::move(done));
}

void Engine::correct_case(std::string reference, CaseCorrection correction,
                          std::optional<std::int64_t> expected_version, Actor actor, Callback done) {
  submit_plan(
      std::move(reference),
      [this, correction = std::move(correction), expected_version, actor = std::move(actor)](
          const CaseSnapshot& current, WriteContext&, Time now) {
        return plan_correction(current, correction, expected_version, actor, workflows_, now);
      },
      std::move(done));
}

}  // namespace redress
