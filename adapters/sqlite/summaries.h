// The report summaries (migrations 6, 8, 20 and 22) as the SQLite writer keeps them: the deltas a
// group commit gathered (adapters/summaries/summary_deltas.h) written just before COMMIT, one upsert
// per summary row touched, in the same transaction. A batch of a thousand actions costs a few
// hundred upserts instead of the thousands of statements per-row triggers ran (migration 12
// dropped them). Rows written by hand outside redress are not counted: `redress audit summaries`
// finds the difference and `--repair` rebuilds the summaries from the rows.
//
// Thread-compatible: the writer thread owns its instances.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "adapters/summaries/summary_deltas.h"
#include "engine/model.h"
#include "engine/return_entry.h"
#include "engine/result.h"
#include "ports/report_store.h"

namespace redress::sqlite {

class Connection;

// The UTC day (days since the epoch) of an instant: the day a summary row counts (migration 6).
[[nodiscard]] inline std::int64_t day_of(Time t) { return summary_day(t); }

// One upsert per summary row `deltas` touched, in key order. Every touched row exists afterwards,
// as the triggers left it (readers list owners from rows that may count zero).
[[nodiscard]] Status apply_summaries(Connection& db, const SummaryDeltas& deltas);


// The summary tables. Each has one definition (summaries.cpp): the aggregate over the case and
// commitment rows it stands for, which the migration that creates it fills it with (migrations 6
// and 8: a definition that reads a later column keeps the aggregate those versions can run beside
// it), rebuild_summaries rebuilds it with and check_summaries compares it against.
enum class Summary { kSettled, kPledges, kOwnerCases, kReceived, kOpen, kAttention, kTouchpoints, kSurvey };
// The migrations that create report_touchpoints and report_survey (schema.cpp): before them,
// rebuilds and checks skip the table.
inline constexpr int kTouchpointsSummaryMigration = 20;
inline constexpr int kSurveySummaryMigration = 22;
// Adds the rows of `summary`'s aggregate to its table (empty: it then equals the aggregate).
[[nodiscard]] Status fill_summary(Connection& db, Summary summary);
// Rebuilds every summary from the case and commitment rows.
[[nodiscard]] Status rebuild_summaries(Connection& db);
// The summaries that differ from the aggregates over the rows: the table names, "" when none.
[[nodiscard]] Result<std::string> check_summaries(Connection& db);

}  // namespace redress::sqlite
