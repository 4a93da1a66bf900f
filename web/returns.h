// Returns: what a regulator asks of a complaints service for a period (issue 26, docs/measuring.md)
// — per workflow and period, outstanding at the start, opened, closed, reopened, outstanding at
// the end, closed in the workflow's buckets (FCA DISP 1 Annex 1R: within 3 business days, within 8
// weeks, after 8 weeks, on its business calendar), outcomes and the upheld share, redress paid, by
// product and by root cause, and vulnerable-client counts.
//
// Every figure is a sum over the return ledger's days (engine/return_ledger.h,
// ReportStore::return_days): the entries the cases' changes added, on the local day each happened,
// never the case rows as they are now, so a past period's return gives the same numbers whatever
// happened to its cases later. The same figures recomputed from the cases' append-only histories up
// to the period's end (ReportStore::return_histories, return_figures below) are the reference the
// ledger is tested against. Pure functions over the rows and histories; thread-safe.
#pragma once

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/result.h"
#include "engine/workflow.h"
#include "ports/report_store.h"
#include "web/api.h"
#include "web/router.h"

namespace redress::web {

// One period's figures for one workflow. Closures are resolutions and withdrawals; a case
// resolved, reopened and resolved again in one period is closed twice and reopened once, so that
// outstanding_end = outstanding_start + opened - closed + reopened.
struct ReturnFigures {
  std::int64_t outstanding_start = 0, opened = 0, closed = 0, reopened = 0, outstanding_end = 0;
  std::map<std::string, std::int64_t> buckets;   // closures by bucket key (every bucket listed)
  std::map<std::string, std::int64_t> outcomes;  // resolutions by outcome (every outcome listed)
  std::int64_t withdrawn = 0;
  // Resolutions by the product and the root cause they recorded ("" when none was).
  struct Breakdown {
    std::int64_t closed = 0, upheld = 0;  // upheld: in full or in part
    friend bool operator==(const Breakdown&, const Breakdown&) = default;
  };
  std::map<std::string, Breakdown> by_product, by_root_cause;
  // Redress paid in the period, by currency and kind, in minor units.
  std::map<std::pair<std::string, std::string>, std::int64_t> redress_paid;
  // Vulnerable clients: cases opened in the period whose client was flagged by its end, closures
  // while the client was flagged, and cases outstanding at the end with the flag.
  std::int64_t vulnerable_opened = 0, vulnerable_closed = 0, vulnerable_outstanding_end = 0;
  // The timely-response rate (the CFPB's "timely response"): first pledges of the workflow's
  // [returns] timely_response clocks settled in the period, met in time or not (ledger only).
  std::int64_t responses_timely = 0, responses_late = 0;

  [[nodiscard]] std::int64_t resolved() const;
  [[nodiscard]] std::int64_t upheld() const;  // upheld + partly_upheld
  friend bool operator==(const ReturnFigures&, const ReturnFigures&) = default;
};

struct ReturnPeriod {
  std::chrono::year_month_day first{}, last{};  // local dates in the workflow's zone, both included
  ReturnFigures figures;
};

struct WorkflowReturn {
  const Workflow* workflow = nullptr;
  ReturnPeriod total;
  std::vector<ReturnPeriod> months;  // the calendar months the period touches, clipped to it
};

// The figures of `workflow` for the local dates [first, last] from the ledger's rows, which must
// have been read for days from at most `first` to at least `last` (ReportStore::return_days).
[[nodiscard]] ReturnFigures ledger_figures(const Workflow& workflow, const ReturnLedgerRows& ledger,
                                           std::chrono::year_month_day first, std::chrono::year_month_day last);
// The return of each workflow (or just `only` when not null), with its months, from the ledger's
// rows for [first, last].
[[nodiscard]] std::vector<WorkflowReturn> compute_returns(const WorkflowSet& workflows, const Workflow* only,
                                                          const ReturnLedgerRows& ledger,
                                                          std::chrono::year_month_day first,
                                                          std::chrono::year_month_day last);
// Reads the ledger for [first, last] from `reports`: kUnavailable (naming why) when the store has
// no ledger or has not built it yet.
[[nodiscard]] Result<ReturnLedgerRows> read_ledger(ReportStore& reports, const std::string& workflow,
                                                   std::chrono::year_month_day first, std::chrono::year_month_day last);

// The reference: the same figures (but the timely-response rate) recomputed from `histories`
// (cases of other workflows are skipped). kCalendarExhausted when a bucket falls past the
// calendar's years.
[[nodiscard]] Result<ReturnFigures> return_figures(const Workflow& workflow,
                                                   const std::vector<ReturnCaseHistory>& histories,
                                                   std::chrono::year_month_day first,
                                                   std::chrono::year_month_day last);
// The instant after the last day of a period, in `workflow`'s zone: what to read histories before.
[[nodiscard]] Time return_period_end(const Workflow& workflow, std::chrono::year_month_day last);

[[nodiscard]] boost::json::object return_figures_json(const Workflow& workflow, const ReturnFigures& figures);
// {"clocks", "timely", "late", "rate"} of the timely-response rate; null for a workflow without
// timely_response clocks.
[[nodiscard]] boost::json::value timely_response_json(const Workflow& workflow, const ReturnFigures& figures);
// The CSV of returns, one figure per line (tidy: the same columns whatever the workflows' buckets):
// workflow,period_start,period_end,measure,key,value.
[[nodiscard]] std::string returns_csv(const std::vector<WorkflowReturn>& returns);

// One root cause of a period's resolutions (DISP 1.3.3R's root-cause analysis).
struct RootCauseRow {
  std::string key;  // "" when the resolutions recorded none
  std::string name;
  std::int64_t resolved = 0, upheld = 0;
};
// The root causes of `figures`' resolutions, the most recorded first.
[[nodiscard]] std::vector<RootCauseRow> root_cause_rows(const Workflow& workflow, const ReturnFigures& figures);

// GET /v1/reports/returns?from=&to=[&workflow=] (lead+; Accept: text/csv for CSV).
void returns_report(ApiContext& api, const ContextPtr& ctx, Reply reply);
// GET /v1/reports/root_causes?from=&to=[&workflow=] (lead+; Accept: text/csv for CSV): per workflow,
// the period's resolutions by root cause, and each month's.
void root_causes_report(ApiContext& api, const ContextPtr& ctx, Reply reply);

}  // namespace redress::web
