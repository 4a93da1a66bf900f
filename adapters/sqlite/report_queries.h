// ReportQueries: the reports managers review and the pages' board - overdue, owners' and standards
// reports, an owner's work list, attention by owner, escalation counts and weekly trends.
//
// Counts come from the report summaries the writer keeps exact (summaries.h), not from scans of
// the cases and commitments; what a summary cannot say (the oldest item of a group, the rows
// shown) is read by one indexed seek each. Read-only, on the reader pool.
//
// Thread-safe: any thread, as the reader pool is.
#pragma once

#include "adapters/sqlite/store_access.h"
#include "ports/report_store.h"

namespace redress::sqlite {

class ReportQueries {
 public:
  explicit ReportQueries(const StoreAccess& store) : store_(store) {}

  [[nodiscard]] Result<OverdueReport> overdue_report(Time now, int limit);
  [[nodiscard]] Result<std::vector<OwnerStats>> owner_report(Time since);
  [[nodiscard]] Result<std::vector<PledgeAttainment>> standards_report(Time now);
  [[nodiscard]] Result<std::vector<WorklistItem>> owner_worklist(const std::string& owner_id, int limit);
  [[nodiscard]] Result<std::vector<AttentionCount>> attention_by_owner(Time now);
  [[nodiscard]] Result<std::vector<EscalationCount>> escalation_counts();
  [[nodiscard]] Result<std::vector<WeeklyCount>> weekly_counts(Time since);
  [[nodiscard]] Result<std::vector<ReturnCaseHistory>> return_histories(const std::string& workflow, Time before);
  [[nodiscard]] Result<std::vector<SurveyAnswer>> survey_answers(Time since);
  [[nodiscard]] Result<std::vector<SurveyGroupSums>> survey_by_group(Time since);
  [[nodiscard]] Result<std::vector<SurveyDaySums>> survey_by_day(Time since);
  // The return ledger (migration 20): its days read from the summary the writer keeps; the rebuild
  // runs in the writer's transaction, so no change is written between its reads and its writes.
  [[nodiscard]] Result<ReturnLedgerRows> return_days(const std::string& workflow, std::int32_t first_day,
                                                     std::int32_t last_day);
  [[nodiscard]] Result<bool> return_ledger_built();
  [[nodiscard]] Result<TouchpointReport> touchpoint_report(const std::string& touchpoint, Time since, int limit);
  [[nodiscard]] Result<std::vector<TouchpointCount>> touchpoint_counts(const std::vector<std::string>& touchpoints,
                                                                      Time since);
  [[nodiscard]] Status rebuild_return_ledger(const ReturnEntriesOf& entries_of);

 private:
  StoreAccess store_;
};

}  // namespace redress::sqlite
