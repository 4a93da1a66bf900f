// The report summaries on PostgreSQL (migration 9): the tables the writer keeps in the transaction
// of each change (write_pipeline.h, adapters/summaries/summary_deltas.h), and their one definition
// each — the aggregate over the case, commitment and event rows it stands for — which the migration
// fills them with, `redress audit summaries` compares them against and `--repair` rebuilds them
// from. The same definitions as SQLite's (adapters/sqlite/summaries.cpp), in PostgreSQL's SQL.
//
// Thread-compatible: each call uses the connection it is given.
#pragma once

#include <string>

#include "adapters/postgres/connection.h"

namespace redress::postgres {

// The migration that made the summaries tables (schema.cpp).
inline constexpr int kSummaryTablesMigration = 9;

// Adds each summary's aggregate to its table (empty: it then equals the aggregate).
[[nodiscard]] Status fill_summaries(Connection& db);
// Empties and fills every summary, in the caller's transaction; the tables are locked against the
// writers first (SHARE ROW EXCLUSIVE: a writer's upsert waits for the commit).
[[nodiscard]] Status rebuild_summaries(Connection& db);
// The summaries that differ from the aggregates over the rows: the table names, "" when none. Run
// it in one REPEATABLE READ transaction, so that every summary is compared with the same rows.
[[nodiscard]] Result<std::string> check_summaries(Connection& db);

}  // namespace redress::postgres
