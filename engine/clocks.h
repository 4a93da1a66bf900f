// The clock engine: the pledges a case's workflow clocks owe, derived from its event history.
//
// A ClockFold folds a case's events, oldest first, into clock runs (PledgeRun): one per time a
// clock started, with its start, pauses, due time, warning instants and how it ended (met or
// cancelled). It is pure — no I/O, no clock, no throwing on bad data — so the same history always
// gives the same runs, byte for byte. The fold is incremental and restartable: its state
// serialises to canonical JSON, so the engine can keep it on the case row and apply only the new
// events of each action; restore(serialise()) then apply(rest) equals folding the whole history.
// Breaches and warnings are not decided here: the scheduler fires them at due_at and at the
// warning instants; a run met after its due_at is "met late" (the scheduler broke it at due time;
// the fold only records met_at).
//
// Thread-safety: a ClockFold is a value. Distinct folds may be used from distinct threads; one
// fold must not be mutated from two threads at once. It keeps a pointer to the WorkflowSet it was
// built with (immutable and shareable), which must outlive it.
//
// The rules, event by event (event types and data as engine/planner.cpp writes them):
// - case.received: the clocks of the case's workflow that apply to its category (data.workflow,
//   data.category override the constructor's) and start at `received` begin, counting from
//   Workflow::clock_start (receipt out of hours counts from the next opening when the rule says so)
//   of data.received_at when the case was logged after it reached us (a backdated receipt), else
//   of the event's time.
// - case.acknowledged: meets open runs whose stop is `acknowledged`; starts clocks whose start is
//   `acknowledged`.
// - A client update meets open runs whose stop is `client_update`. A client update is a
//   client-visible message from staff or the system (message.client whose actor is not "client"),
//   a request for information that carries a message to the client (case.info_requested with
//   data.message_id), or a redress proposal (redress.proposed: it carries the final response).
//   The acknowledgement is not an update (else an auto-acknowledged case would meet its first
//   response pledge at intake), nor is a message written by the client.
// - Recurrence: when a `repeat_until_resolved` run is met by a client update, its next run starts
//   at that instant. Runs met by resolution, and cancelled runs, have no successor.
// - Pauses: case.info_requested opens a pause, case.client_replied (also written by itself when
//   the client replies) closes it. Only runs of clocks that pause while awaiting the client record
//   it; a run started during a pause (a recurring run) is paused from its start. While a pause is
//   open, such a run's due_at and each warning instant not already passed when the pause began
//   are Time::max() (not due: the scheduler waits); when it closes they are recomputed with
//   ClockRule::due_at / warning_times: they move by the paused time measured on the clock's basis
//   (working time for business clocks). A run met or cancelled during a pause has its pause closed
//   at that instant, so its due_at is finite again.
// - case.resolved: meets every open run, whatever its stop: resolving sends the final response,
//   which acknowledges and updates the client too. Nothing recurs after resolution.
// - case.reopened: starts the clocks whose start is `reopened`, and a new run of every
//   `repeat_until_resolved` clock whose own start event has happened (the client must be kept
//   informed again). Other met runs stay met: a workflow that wants a second final response
//   pledge says so with a `reopened` clock (retail: reopened_response). The shipped workflows
//   have no setting that restarts the original final-response clock, so it is not restarted.
// - case.withdrawn: cancels every open run, reason "the case was withdrawn". case.closed cancels
//   any run still open (none normally: closing follows resolution), reason "the case was closed".
//   No run starts after either.
// - case.assessed with data.workflow (re-routing): every open run of the old workflow is
//   cancelled, reason "re-routed to <workflow>"; met runs stay as they are. The new workflow's
//   clocks that apply to the (possibly new) category start at the re-routing instant if their
//   start event has already happened (received always; acknowledged once acknowledged; reopened
//   in a reopened cycle) and their stop has not (an `acknowledged` stop on an acknowledged case is
//   already met and does not start). A `received` clock counts from Workflow::clock_start of the
//   re-routing instant (the out-of-hours rule applies as to a receipt): the new standard's pledge
//   is made when the case joins it, not backdated to a receipt under another standard. While the
//   case awaits the client, the new pausing runs start paused.
// - case.assessed with only data.category (same workflow): open runs of clocks that no longer
//   apply are cancelled, reason "re-assessed as <category>"; clocks that apply to the new category
//   but did not to the old start at that instant, under the rule above.
// - Other events change nothing. Events with seq <= the last applied seq are ignored (applying
//   an event twice is harmless); events with seq 0 are always applied.
// - A workflow or clock the WorkflowSet does not know (a file removed since) starts nothing. A
//   run's times are recomputed from its current rule whenever the run changes (pause, end); a run
//   whose rule is no longer known keeps its recorded times.
// - runs() lists runs in the order they started; within one event, in the workflow's clock order.
//   The engine maps each run to a pledge commitment by key(): a new index is a new pledge, a
//   changed one (met, cancelled, due time moved) updates it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/calendar.h"
#include "engine/model.h"
#include "engine/result.h"
#include "engine/time.h"
#include "engine/workflow.h"

namespace redress {

// One run of a workflow clock: a pledge. (workflow, clock, run) is unique within a case and
// stable across re-folds, so the engine can map runs to stored commitments by it.
struct PledgeRun {
  std::string workflow;  // the workflow whose clock this is
  std::string clock;     // ClockRule::name
  int run = 1;           // 1, 2, ... per (workflow, clock): recurrences, restarts
  std::string text;      // ClockRule::text
  bool client_visible = true;
  Time opened_at{};                  // the instant of the event that started the run
  Time started{};                    // the instant the clock counts from (>= opened_at)
  std::vector<TimeInterval> pauses;  // sorted, disjoint; an open pause ends at Time::max()
  Time due_at{};                     // Time::max() while paused (see above)
  std::vector<Time> warning_times;   // in the order of ClockRule::warnings; Time::max() while paused
  std::optional<Time> met_at;
  std::optional<Time> cancelled_at;
  std::string cancel_reason;  // empty unless cancelled

  [[nodiscard]] bool is_open() const { return !met_at && !cancelled_at; }
  [[nodiscard]] bool paused() const { return !pauses.empty() && pauses.back().end == Time::max(); }
  // Met after its due time: the scheduler broke it at due_at.
  [[nodiscard]] bool met_late() const { return met_at && *met_at > due_at; }
  // "retail/final_response#1".
  [[nodiscard]] std::string key() const;
  friend bool operator==(const PledgeRun& a, const PledgeRun& b);
};

class ClockFold {
 public:
  // A fold before any event. `initial_workflow` and `category` are the case's at creation
  // (case.received's data overrides them when present).
  ClockFold(const WorkflowSet& workflows, std::string initial_workflow, std::string category);

  // Folds one event (the next in the case's history). Returns the indices into runs() of the
  // runs this event started or changed, ascending.
  std::vector<std::size_t> apply(const Event& event);
  // Whether folding `event` can change anything but applied_seq(): when no event of an action
  // can, the action need not restore, fold or rewrite the stored state at all.
  [[nodiscard]] static bool may_change(const Event& event);

  [[nodiscard]] const std::vector<PledgeRun>& runs() const { return runs_; }
  [[nodiscard]] const std::string& workflow() const { return workflow_; }
  [[nodiscard]] const std::string& category() const { return category_; }
  [[nodiscard]] bool paused() const { return paused_since_.has_value(); }
  [[nodiscard]] std::int64_t applied_seq() const { return applied_seq_; }

  // Canonical JSON of the whole state; restore() reads it back exactly.
  [[nodiscard]] std::string serialise() const;
  // Fails with kInvalid when `state` is not a state serialise() wrote.
  [[nodiscard]] static Result<ClockFold> restore(const WorkflowSet& workflows, std::string_view state);

 private:
  const Workflow* current_workflow() const;
  const ClockRule* rule_of(const PledgeRun& run) const;
  void start_run(const Workflow& workflow, const ClockRule& rule, Time at, std::vector<std::size_t>& changed);
  void meet(std::size_t index, Time at, std::vector<std::size_t>& changed);
  void cancel(std::size_t index, Time at, const std::string& reason, std::vector<std::size_t>& changed);
  void recompute(PledgeRun& run) const;
  void client_update(Time at, std::vector<std::size_t>& changed);
  // Starts, at `at`, the clocks of `workflow` for `category` that `eligible` admits and whose
  // start event has happened and stop has not.
  template <typename Pred>
  void start_pending(const Workflow& workflow, Time at, Pred eligible, std::vector<std::size_t>& changed);

  const WorkflowSet* workflows_;
  std::string workflow_;
  std::string category_;
  std::int64_t applied_seq_ = 0;
  bool received_ = false;
  bool acknowledged_ = false;
  bool reopened_ = false;  // in a cycle that began with case.reopened (cleared by resolution)
  bool resolved_ = false;
  bool ended_ = false;  // withdrawn or closed
  std::optional<Time> paused_since_;
  std::vector<PledgeRun> runs_;
};

// Folds a whole history from scratch (workflow and category from its case.received event).
[[nodiscard]] std::vector<PledgeRun> derive_pledges(const WorkflowSet& workflows, const std::vector<Event>& history);

}  // namespace redress
