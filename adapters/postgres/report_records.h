// ReportRecords: the PostgreSQL store's ReportStore. The queries are SQLite's
// (adapters/sqlite/report_queries.cpp) over the same summary names; on PostgreSQL the summaries
// are views of their one definition (schema.cpp, migration 3), so each report is exact at the
// moment it is read, whichever node wrote.
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

 private:
  ConnectionPool& pool_;
};

}  // namespace redress::postgres
