// ChangeWriter: turns a planned Change into rows on the writer's connection: the case row
// (version-checked), its events, commitments, redress, messages, client link, clock state and wake
// time, and the outbox rows it owes (an e-mail each, a web hook per live subscription to the
// event), then records what the rows contribute to the report summaries (summaries.h).
//
// Invariants: the case row is written with `WHERE version = ?` (or, for a creation, inserted), so
// a plan made on a snapshot that is no longer current writes nothing and fails kStaleVersion; the
// summaries' deltas are recorded only once every row is written. The live web hook subscriptions
// are read on the writer's connection and kept until `subscriptions_changed` (any change to them,
// or a rolled-back transaction that may have read uncommitted ones).
//
// Thread-compatible: `write` runs on the writer thread only; `subscriptions_changed` may be
// called from any thread.
#pragma once

#include <atomic>
#include <vector>

#include "adapters/sqlite/database.h"
#include "adapters/sqlite/summaries.h"
#include "engine/store.h"
#include "ports/outbox_store.h"

namespace redress::sqlite {

class ChangeWriter {
 public:
  ChangeWriter() = default;
  ChangeWriter(const ChangeWriter&) = delete;
  ChangeWriter& operator=(const ChangeWriter&) = delete;

  // Writes `change` inside the open transaction of `db`. `before` is the case as the plan saw it
  // (null when creating, or when planned on a case this writer did not keep). kStaleVersion when
  // the case moved on: then nothing was written.
  [[nodiscard]] Status write(Connection& db, const Change& change, const CaseSnapshot* before,
                             SummaryDeltas& summaries);
  // The subscriptions changed (or may have): they are read again before the next change fans out.
  void subscriptions_changed() { subscriptions_stale_ = true; }

 private:
  // The subscriptions web hooks fan out to, read again on `db` after any change to them.
  const std::vector<Subscription>& live_subscriptions(Connection& db);

  std::vector<Subscription> live_subscriptions_;  // writer thread
  std::atomic<bool> subscriptions_stale_{true};
};

}  // namespace redress::sqlite
