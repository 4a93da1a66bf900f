// ReportRecords: the PostgreSQL store's ReportStore. The queries are SQLite's
// (adapters/sqlite/report_queries.cpp) over the same summary tables, which the writer of every
// node keeps in the transaction of each change (write_pipeline.h; schema.cpp, migration 9), so
// each report is exact at the moment it is read, whichever node wrote.
//
// Thread-safe: the pool lends each call its own connection.
#pragma once

#include "adapters/postgres/connection_pool.h"
#include "ports/report_store.h"

namespace redress::postgres {

class ReportRecords {
 public:
  explicit ReportRecords(ConnectionPool& pool) : pool_(pool) {}

  [[nodiscard]] Result<OverdueReport> overdue_report(Time now, int limit);
  [[nodiscard]] Result<std::vector<OwnerStats>> owner_report(Time since);
  [[nodiscard]] Result<std::vector<PledgeAttainment>> standards_report(Time now);
  [[nodiscard]] Result<std::vector<WorklistItem>> owner_worklist(const std::string& owner_id, int limit);
  [[nodiscard]] Result<std::vector<AttentionCount>> attention_by_owner(Time now);
  [[nodiscard]] Result<std::vector<EscalationCount>> escalation_counts();
  [[nodiscard]] Result<std::vector<WeeklyCount>> weekly_counts(Time since);
  // As SQLite's (adapters/sqlite/report_queries.h): from the events, through the partial indexes of
  // migration 4.
  [[nodiscard]] Result<std::vector<ReturnCaseHistory>> return_histories(const std::string& workflow, Time before);
  [[nodiscard]] Result<std::vector<SurveyAnswer>> survey_answers(Time since);
  // The answers added up at read time (SQLite keeps them in a summary, report_survey).
  [[nodiscard]] Result<std::vector<SurveyGroupSums>> survey_by_group(Time since);
  [[nodiscard]] Result<std::vector<SurveyDaySums>> survey_by_day(Time since);
  // The return ledger (migration 8): the days of the summary each node's writer keeps.
  [[nodiscard]] Result<ReturnLedgerRows> return_days(const std::string& workflow, std::int32_t first_day,
                                                     std::int32_t last_day);
  [[nodiscard]] Result<bool> return_ledger_built();
  [[nodiscard]] Result<TouchpointReport> touchpoint_report(const std::string& touchpoint, Time since, int limit);
  [[nodiscard]] Result<std::vector<TouchpointCount>> touchpoint_counts(const std::vector<std::string>& touchpoints,
                                                                      Time since);
  // The rebuild, on the writer's connection inside its transaction: return_days is locked against
  // every node's writers first.
  [[nodiscard]] static Status rebuild_return_ledger(Connection& db, const ReturnEntriesOf& entries_of);

 private:
  ConnectionPool& pool_;
};

}  // namespace redress::postgres
