// Returns: what a regulator asks of a complaints service for a period (issue 26, docs/measuring.md)
// — per workflow and period, outstanding at the start, opened, closed, reopened, outstanding at
// the end, closed in the workflow's buckets (FCA DISP 1 Annex 1R: within 3 business days, within 8
// weeks, after 8 weeks, on its business calendar), outcomes and the upheld share, redress paid, by
// product and by root cause, and vulnerable-client counts.
//
// Every figure is computed from the cases' append-only histories up to the period's end
// (ReportStore::return_histories), never from the case rows as they are now, so a past period's
// return gives the same numbers whatever happened to its cases later. Pure functions over the
// histories; thread-safe.
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
  };
  std::map<std::string, Breakdown> by_product, by_root_cause;
  // Redress paid in the period, by currency and kind, in minor units.
  std::map<std::pair<std::string, std::string>, std::int64_t> redress_paid;
  // Vulnerable clients: cases opened in the period whose client was flagged by its end, closures
  // while the client was flagged, and cases outstanding at the end with the flag.
  std::int64_t vulnerable_opened = 0, vulnerable_closed = 0, vulnerable_outstanding_end = 0;

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

// The figures of `workflow` for the local dates [first, last] from `histories` (cases of other
// workflows are skipped). kCalendarExhausted when a bucket falls past the calendar's years.
[[nodiscard]] Result<ReturnFigures> return_figures(const Workflow& workflow,
                                                   const std::vector<ReturnCaseHistory>& histories,
                                                   std::chrono::year_month_day first,
                                                   std::chrono::year_month_day last);
// The return of each workflow (or just `only` when not null), with its months.
[[nodiscard]] Result<std::vector<WorkflowReturn>> compute_returns(const WorkflowSet& workflows, const Workflow* only,
                                                                  const std::vector<ReturnCaseHistory>& histories,
                                                                  std::chrono::year_month_day first,
                                                                  std::chrono::year_month_day last);
// The instant after the last day of a period, in `workflow`'s zone: what to read histories before.
[[nodiscard]] Time return_period_end(const Workflow& workflow, std::chrono::year_month_day last);

[[nodiscard]] boost::json::object return_figures_json(const Workflow& workflow, const ReturnFigures& figures);
// The CSV of returns, one figure per line (tidy: the same columns whatever the workflows' buckets):
// workflow,period_start,period_end,measure,key,value.
[[nodiscard]] std::string returns_csv(const std::vector<WorkflowReturn>& returns);

// GET /v1/reports/returns?from=&to=[&workflow=] (lead+; Accept: text/csv for CSV).
void returns_report(ApiContext& api, const ContextPtr& ctx, Reply reply);

}  // namespace redress::web
