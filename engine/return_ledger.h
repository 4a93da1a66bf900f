// The return ledger (issue 26, docs/measuring.md): what each change of a case adds to its
// workflow's regulatory return, as entries (engine/return_entry.h) dated by the local day, in the
// workflow's time zone, on which they happened. The engine puts them on the Change; the stores add
// them up per day (their return_days summary) in the transaction of the change. A return for any
// period is then a read of the days it covers plus one sum of the days before it (web/returns.h),
// instead of a replay of every case's history.
//
// The entries are a pure function of the case's events: folding a whole history gives what its
// changes gave one by one. So a case re-routed to another workflow takes its entries with it (the
// old workflow's are taken away, the new one's added), and a store's ledger can be rebuilt from the
// histories (case_return_entries). Closures are put in the return buckets of the workflow the case
// is in when they are recorded, on its calendar then.
//
// Pure functions over values; thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "engine/return_entry.h"
#include "engine/store.h"
#include "engine/workflow.h"

namespace redress {

// Days since 1970-01-01 of a date, and back.
[[nodiscard]] std::int32_t day_number(std::chrono::year_month_day date);
[[nodiscard]] std::chrono::year_month_day day_date(std::int32_t day);
// The local day of `t` in the workflow's time zone.
[[nodiscard]] std::int32_t ledger_day(const Workflow& workflow, Time t);

// Folds a case's events, in order, into the entries they add to `workflow`'s return. Starts from
// the case's state before the first event folded: received at `received_at`, open or not
// (resolved, closed and withdrawn cases are not open), its client flagged vulnerable or not.
class ReturnLedgerFold {
 public:
  ReturnLedgerFold(const Workflow& workflow, Time received_at, bool open, bool flagged)
      : workflow_(&workflow), received_at_(received_at), open_(open), flagged_(flagged) {}
  // From the case as stored: what its changes so far left.
  static ReturnLedgerFold of_case(const Workflow& workflow, const Case& stored);

  // Appends what `event` adds. Throws CalendarExhausted when a closure's bucket falls past the
  // calendar's years.
  void add(const Event& event, std::vector<ReturnEntry>& out);

 private:
  void entry(std::int32_t day, ReturnMeasure measure, std::string key, std::int64_t value,
             std::vector<ReturnEntry>& out) const;

  const Workflow* workflow_;
  Time received_at_;
  bool open_;
  bool flagged_;
};

// The entry a commitment gives once it is settled, when it is the first pledge of one of its
// workflow's timely_response clocks (kResponseTimely: kept by the time its rule set; kResponseLate:
// broken, or kept only on a date renegotiated past it), dated by its settlement in the zone of the
// workflow named by its pledge key (a re-routed case's earlier pledges stay with their workflow).
// nullopt for any other commitment.
[[nodiscard]] std::optional<ReturnEntry> response_entry(const WorkflowSet& workflows, const Commitment& commitment);

// Puts on `change` (Change::return_entries) what it adds to the ledger: its events folded from the
// case as planned on (`before`; null for a creation), the response pledges it settles, and, when
// it moves the case to another workflow, the whole history taken from the old workflow and given to
// the new one (`history` is then asked for the stored events). kUnavailable when a calendar runs
// out (as the planner refuses such plans); a case of a workflow no longer loaded adds nothing.
[[nodiscard]] Status add_return_entries(Change& change, const CaseSnapshot* before, const WorkflowSet& workflows,
                                        const std::function<std::vector<Event>()>& history);

// Every entry a stored case's changes added, from its whole history: a store rebuilds its ledger
// from these. Throws CalendarExhausted as the fold does.
[[nodiscard]] std::vector<ReturnEntry> case_return_entries(const WorkflowSet& workflows, const Case& record,
                                                           const std::vector<Event>& events,
                                                           const std::vector<Commitment>& commitments);

// Entries with the same workflow, day, measure and key added up; zeros left out.
[[nodiscard]] std::vector<ReturnEntry> summed(std::vector<ReturnEntry> entries);

}  // namespace redress
