// SummaryDeltas: what a write changes in the report summaries, gathered for the writer of either
// store (adapters/sqlite/summaries.h, adapters/postgres/write_pipeline.h) to add in its
// transaction.
//
// Each summary row counts the case and commitment rows whose contribution falls in it. A write
// takes the old row's contribution away and adds the new row's; the writer gathers these deltas
// for its whole group commit and writes them just before COMMIT, one upsert per summary row
// touched, in key order (so two nodes' groups take the rows they share in the same order). So
// every summary equals the GROUP BY it replaces at every commit, whichever node wrote. The old
// rows come from what the write was planned on, which the version-checked UPDATE proves current.
//
// Thread-compatible: a writer thread owns its instances.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "engine/model.h"
#include "engine/return_entry.h"
#include "engine/store.h"
#include "ports/report_store.h"

namespace redress {

// The UTC day (days since the epoch) of an instant: the day a summary row counts.
[[nodiscard]] inline std::int64_t summary_day(Time t) {
  constexpr std::int64_t kDayMicros = 86400LL * 1000000LL;
  return to_micros(t) / kDayMicros;
}

// Each of `change`'s commitment rows as it was before the change wrote it: an earlier copy in the
// same change, else the row in `before` (its commitments in id order, as every snapshot lists
// them); null for a new one. The writers write against it, and the summaries subtract it.
[[nodiscard]] std::vector<const Commitment*> commitments_before(const Change& change, const CaseSnapshot* before);

class SummaryDeltas {
 public:
  // A case row written: `before` null for an insert.
  void case_written(const Case* before, const Case& after);
  // A commitment row written: `before` null for an insert.
  void commitment_written(const Commitment* before, const Commitment& after);
  // A change's return ledger entries (engine/return_ledger.h), added to return_days (SQLite's
  // migration 20; PostgreSQL's 7 writes them from the change itself).
  void returns_written(const std::vector<ReturnEntry>& entries);
  // report_touchpoints (SQLite's migration 20, PostgreSQL's 9): a commitment of a case at `touchpoint` written (broken ones
  // count by the day they fell due), and a survey answer recorded about such a case (by its day).
  // report_survey (SQLite's migration 22, PostgreSQL's 9): the answer is also added up per workflow, touchpoint, owner and
  // team, by its day; the owner and team as the event names them, else the case's.
  void touchpoint_commitment(const std::string& touchpoint, const Commitment* before, const Commitment& after);
  void survey_written(const Case& c, const Event& event);
  // Adds `other`'s deltas to these (an item's, once the item has succeeded).
  void merge(const SummaryDeltas& other);
  void clear();
  [[nodiscard]] bool empty() const;
  // A change's rows written: the case (`before` null for a creation), each commitment against its
  // row before (`old`, commitments_before's), the survey answers among its events and its return
  // ledger entries.
  void change_written(const Change& change, const CaseSnapshot* before, const std::vector<const Commitment*>& old);

  struct OwnerCases {
    std::int64_t acknowledged = 0, acknowledge_total = 0, resolved = 0, resolve_total = 0;
  };
  struct Attention {
    std::int64_t open = 0, at_risk = 0, broken_unhandled = 0;
  };
  using SettledKey = std::tuple<std::int64_t, std::string, std::string, std::string, std::string>;
  using DayKey = std::tuple<std::int64_t, std::string, std::string>;
  using TouchpointKey = std::tuple<std::int64_t, std::string, std::string, std::string>;
  using ReturnKey = std::tuple<std::int32_t, std::string, std::string, std::string>;
  // The deltas gathered, by summary row key; the stores write them (one upsert a row, in key order).
  [[nodiscard]] const std::map<SettledKey, std::int64_t>& settled() const { return settled_; }
  [[nodiscard]] const std::map<DayKey, std::int64_t>& pledges() const { return pledges_; }
  [[nodiscard]] const std::map<std::pair<std::int64_t, std::string>, OwnerCases>& owner_cases() const {
    return owner_cases_;
  }
  [[nodiscard]] const std::map<DayKey, std::int64_t>& received() const { return received_; }
  [[nodiscard]] const std::map<std::pair<std::string, int>, std::int64_t>& open() const { return open_; }
  [[nodiscard]] const std::map<std::string, Attention>& attention() const { return attention_; }
  [[nodiscard]] const std::map<TouchpointKey, std::int64_t>& touchpoints() const { return touchpoints_; }
  [[nodiscard]] const std::map<DayKey, SurveySums>& survey() const { return survey_; }
  [[nodiscard]] const std::map<ReturnKey, std::int64_t>& returns() const { return returns_; }

 private:
  void add_owner_cases(const Case& c, int sign);
  void add_received(const Case& c, int sign);
  void add_open(const Case& c, int sign);
  void add_settled(const Commitment& k, int sign);
  void add_attention(const Commitment& k, int sign);

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

}  // namespace redress
