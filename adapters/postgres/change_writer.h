// ChangeWriter: a planned Change turned into rows inside the writer's open transaction on
// PostgreSQL: the case row (version-checked), then, in one pipelined round trip, its events,
// commitments, redress, messages, client link, clock state, wake time and the outbox rows it owes
// (an e-mail each; a web hook per live subscription to the event).
//
// Invariants: the case row is written first, with `WHERE version = $n` (or inserted, for a
// creation): a plan made on a version that is no longer current fails kStaleVersion (and the
// writer rolls back what went in with it). The writer holds the case row's lock (rows.h load_snapshot), so the events are
// appended to the chain whose head it read. Web hook subscriptions are read in the writer's
// transaction, never kept across transactions: another node may have changed them.
//
// The report summaries (adapters/sqlite/summaries.h) are not yet kept on PostgreSQL.
//
// Thread-compatible: one writer thread owns an instance.
#pragma once

#include <optional>
#include <vector>

#include "adapters/postgres/connection.h"
#include "engine/store.h"
#include "ports/outbox_store.h"

namespace redress::postgres {

class ChangeWriter {
 public:
  // Writes `change` inside the open transaction of `db`. kStaleVersion when the case moved on:
  // then nothing was written.
  [[nodiscard]] Status write(Connection& db, const Change& change);

  // The same in two steps, for a group's one pipeline (write_pipeline.h): `record_inbound` writes
  // the inbound email's record now (kConflict, with nothing written, when the message was taken
  // already); `add` queues the rest on `rows`; `check` reads their answers: kStaleVersion when the
  // case moved on (then the transaction must be rolled back: the other rows went in).
  // With StaleCheck::kAsError a stale case row fails its statement (division by zero, SQLSTATE
  // 22012), so that the statements after it, a COMMIT among them, are skipped; with kInAnswer
  // `check` finds it.
  enum class StaleCheck { kInAnswer, kAsError };
  struct Queued {
    std::size_t case_row = 0;  // the index of the case row's statement in the pipeline
  };
  [[nodiscard]] Status record_inbound(Connection& db, const Change& change);
  [[nodiscard]] Result<Queued> add(Connection& db, Pipeline& rows, const Change& change,
                                   StaleCheck stale_check = StaleCheck::kInAnswer);
  [[nodiscard]] static Status check(const std::vector<Rows>& results, const Queued& queued, const Change& change);
  // A new transaction begins: subscriptions are read again when a change first needs them.
  void transaction_began() { subscriptions_.reset(); }

 private:
  [[nodiscard]] Result<const std::vector<Subscription>*> live_subscriptions(Connection& db);

  std::optional<std::vector<Subscription>> subscriptions_;  // read in the current transaction
};

}  // namespace redress::postgres
