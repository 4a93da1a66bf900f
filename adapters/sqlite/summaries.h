// SummaryDeltas: the report summaries (migrations 6, 8, 20 and 22) as the writer keeps them.
//
// Each summary row counts the case and commitment rows whose contribution falls in it. A write
// takes the old row's contribution away and adds the new row's; the writer gathers these deltas
// for its whole group commit and applies them just before COMMIT, one upsert per summary row
// touched, in the same transaction. So every summary always equals the GROUP BY it replaces at
// every commit, whichever node wrote, while a batch of a thousand actions costs a few hundred
// upserts instead of the thousands of statements per-row triggers ran (migration 12 dropped them).
// The old rows come from what the write was planned on, which the version-checked UPDATE proves
// current. Rows written by hand outside redress are not counted: `redress audit summaries`
// finds the difference and `--repair` rebuilds the summaries from the rows.
//
// Thread-compatible: the writer thread owns its instances.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "engine/model.h"
#include "engine/return_entry.h"
#include "engine/result.h"
#include "ports/report_store.h"

namespace redress::sqlite {

class Connection;

// The UTC day (days since the epoch) of an instant: the day a summary row counts (migration 6).
[[nodiscard]] inline std::int64_t day_of(Time t) {
  constexpr std::int64_t kDayMicros = 86400LL * 1000000LL;
  return to_micros(t) / kDayMicros;
}

class SummaryDeltas {
 public:
  // A case row written: `before` null for an insert.
  void case_written(const Case* before, const Case& after);
  // A commitment row written: `before` null for an insert.
  void commitment_written(const Commitment* before, const Commitment& after);
  // A change's return ledger entries (engine/return_ledger.h), added to return_days (migration 20).
  void returns_written(const std::vector<ReturnEntry>& entries);
  // report_touchpoints (migration 20): a commitment of a case at `touchpoint` written (broken ones
  // count by the day they fell due), and a survey answer recorded about such a case (by its day).
  // report_survey (migration 22): the answer is also added up per workflow, touchpoint, owner and
  // team, by its day; the owner and team as the event names them, else the case's.
  void touchpoint_commitment(const std::string& touchpoint, const Commitment* before, const Commitment& after);
  void survey_written(const Case& c, const Event& event);
  // Adds `other`'s deltas to these (an item's, once the item has succeeded).
  void merge(const SummaryDeltas& other);
  void clear();
  [[nodiscard]] bool empty() const;
  // One upsert per summary row touched, in key order. Every touched row exists afterwards, as the
  // triggers left it (readers list owners from rows that may count zero).
  [[nodiscard]] Status apply(Connection& db) const;

 private:
  void owner_cases(const Case& c, int sign);
  void received(const Case& c, int sign);
  void open(const Case& c, int sign);
  void settled(const Commitment& k, int sign);
  void attention(const Commitment& k, int sign);

  struct OwnerCases {
    std::int64_t acknowledged = 0, acknowledge_total = 0, resolved = 0, resolve_total = 0;
  };
  struct Attention {
    std::int64_t open = 0, at_risk = 0, broken_unhandled = 0;
  };
  // report_settled: (day, owner, kind, status, pledge) → n.
  std::map<std::tuple<std::int64_t, std::string, std::string, std::string, std::string>, std::int64_t> settled_;
  // report_pledges: (day, pledge, status) → n.
  std::map<std::tuple<std::int64_t, std::string, std::string>, std::int64_t> pledges_;
  // report_owner_cases: (day received, owner).
  std::map<std::pair<std::int64_t, std::string>, OwnerCases> owner_cases_;
  // report_received: (day, dimension, value) → received.
  std::map<std::tuple<std::int64_t, std::string, std::string>, std::int64_t> received_;
  // report_open: (owner, escalation level) → open cases.
  std::map<std::pair<std::string, int>, std::int64_t> open_;
  // report_attention: owner → counts.
  std::map<std::string, Attention> attention_;
  // report_touchpoints: (day, touchpoint, measure, key) → n.
  std::map<std::tuple<std::int64_t, std::string, std::string, std::string>, std::int64_t> touchpoints_;
  // report_survey: (day, dimension, value) → the answers' sums.
  std::map<std::tuple<std::int64_t, std::string, std::string>, SurveySums> survey_;
  // return_days: (day, workflow, measure, key) → value. Not one of the Summary definitions below:
  // its entries are the engine's, so it is rebuilt from the histories by the engine
  // (ReportStore::rebuild_return_ledger), not from an aggregate here.
  std::map<std::tuple<std::int32_t, std::string, std::string, std::string>, std::int64_t> returns_;
};

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
