// WritePipeline: the store's only writer. Submitted work waits in a queue; the writer thread takes
// everything waiting (up to `max_batch` items), runs the items in one transaction on the writer's
// connection, commits once (group commit) and then answers each item - through the WalSyncer with
// durability FULL, once the WAL is on disk, or at once otherwise.
//
// A failed item never disturbs its group: most fail before writing anything; one that fails after
// writing sends the group round again with a savepoint per item, to which the failed item rolls
// back. Version checks are made in the UPDATE itself (`WHERE version = ?`, change_writer.h), so
// correctness never rests on this process's memory. A plan made ahead (Engine::submit) is written
// as made only if the snapshot it was made on is still the one kept (snapshot_cache.h); otherwise,
// or when a plan on a kept snapshot is stale or refused, the item is planned again on the case as
// stored. Each item's report summary deltas join the group's once the item stands, and are written
// just before COMMIT (summaries.h).
//
// A storage failure (full disk, read-only database, I/O error) refuses the whole group: each caller
// gets a kUnavailable error saying which, the transaction is rolled back, and whatever it reserved
// or kept in memory (id blocks, snapshots, summaries, subscriptions) is forgotten with it; the next
// group is tried afresh, so writes resume once the disk has room again (WriteHealth logs it). After
// a failed sync of the WAL (wal_syncer.h) every later group is refused until the store is opened
// again. Between groups the writer keeps the WAL bounded (wal_checkpointer.h).
//
// Thread-safety: submit, run_write, flush and the statistics from any thread (run_write and flush
// wait for the commit, so never from the writer's own work). stop() once: it drains the queue.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <variant>
#include <vector>

#include "adapters/sqlite/change_writer.h"
#include "adapters/sqlite/database.h"
#include "adapters/sqlite/plan_contexts.h"
#include "adapters/sqlite/reader_pool.h"
#include "adapters/sqlite/schema.h"
#include "adapters/sqlite/snapshot_cache.h"
#include "adapters/sqlite/summaries.h"
#include "adapters/sqlite/wal_checkpointer.h"
#include "adapters/sqlite/wal_syncer.h"
#include "adapters/sqlite/write_health.h"
#include "engine/latency.h"
#include "engine/store.h"

namespace redress::sqlite {

// What administration work run on the writer may change. kNoCaseRows keeps the kept case
// snapshots (the work touches no case, commitment or redress row).
enum class WriteScope { kMayTouchCases, kNoCaseRows };

class WritePipeline {
 public:
  struct Options {
    std::string path;  // the database file
    Durability durability = Durability::kFull;
    std::size_t max_batch = 1024;
    std::int64_t checkpoint_pages = 8192;
    std::function<void()> before_sync;   // tests only (wal_syncer.h)
    std::function<Status()> sync_fault;  // tests only (wal_syncer.h)
  };
  struct Counters {
    std::int64_t batches = 0;
    std::int64_t items = 0;
    WalCheckpointer::Counters checkpoints;
    std::int64_t syncs = 0;
    std::int64_t ahead_plans = 0;
    std::int64_t ahead_written = 0;
  };

  // Starts the syncer (durability FULL), the checkpointer and the writer thread. `writer` is the
  // read-write connection, configured, used by the writer thread only from now on; it, `cache`,
  // `readers` and `health` outlive this.
  WritePipeline(const Options& options, Connection& writer, SnapshotCache& cache, ReaderPool& readers,
                WriteHealth& health);
  ~WritePipeline();  // stop()
  WritePipeline(const WritePipeline&) = delete;
  WritePipeline& operator=(const WritePipeline&) = delete;

  void submit(WorkItem item);
  // Items that stand or fall together (CaseStore::submit_together): queued side by side, always in
  // one group, run under one savepoint when the group has savepoints, and all rolled back when one
  // fails. kInvalid for every item when two are on one case.
  void submit_together(std::vector<WorkItem> items);
  // Runs `work` on the writer connection inside the writer's transaction, and waits for the
  // commit (and, durability FULL, the sync).
  [[nodiscard]] Status run_write(std::function<Status(Connection&)> work,
                                 WriteScope scope = WriteScope::kMayTouchCases);
  // Waits until everything submitted before is answered.
  void flush();
  // The web hook subscriptions changed: they are read again before the next change fans out.
  void subscriptions_changed() { rows_.subscriptions_changed(); }
  // Answers what is queued, then ends the writer, the syncer and the checkpointer; idempotent.
  void stop();

  [[nodiscard]] Counters counters() const;
  [[nodiscard]] WriteStats write_stats() const;

 private:
  struct AdminItem {
    std::function<Status(Connection&)> work;
    std::function<void(Status)> done;
    WriteScope scope = WriteScope::kMayTouchCases;         // kMayTouchCases: forget the kept snapshots first
    std::chrono::steady_clock::time_point submitted_at{};  // set when queued
  };
  using QueueItem = std::variant<WorkItem, AdminItem>;
  // How a group runs: without savepoints first; with one per item after an item failed having
  // written something.
  enum class Savepoints { kNone, kPerItem };
  // How a pass at a group ended: answered (committed or refused), or rolled back to run again with
  // savepoints.
  enum class Pass { kAnswered, kRunAgain };

  // Queues `items`; each but the last stands or falls with the next (`with_next` 1) when `together`.
  enum class Together { kNo, kYes };
  void enqueue(std::vector<QueueItem> items, Together together);
  void enqueue(QueueItem item);
  void run();
  void run_batch(std::vector<QueueItem>& batch);
  [[nodiscard]] Pass run_batch_pass(std::vector<QueueItem>& batch, Savepoints savepoints);
  // Gives each item of a committed group its result: now, or once the WAL is synced.
  void answer_committed(std::vector<QueueItem>& batch, std::vector<std::optional<Result<Committed>>>& results,
                        std::vector<Status>& admin_results, GroupWrote wrote);
  // Rolls the open transaction back (if SQLite has not) and answers every item with `error`.
  void refuse_batch(std::vector<QueueItem>& batch, const Error& error);
  [[nodiscard]] Result<Committed> run_work(WorkItem& item, WriteContext& context);
  void answered(std::chrono::steady_clock::time_point submitted_at);
  [[nodiscard]] static std::chrono::steady_clock::time_point submitted_at(const QueueItem& item);

  const Options options_;
  Connection& writer_;  // touched only by thread_
  SnapshotCache& cache_;
  WriteHealth& health_;
  ChangeWriter rows_;

  // Where the writes' time goes (write_stats): observed by the writer and the syncer.
  LatencyHistogram queue_wait_;                 // each item: submitted -> its group begins
  LatencyHistogram group_time_;                 // each group: BEGIN -> COMMIT (or its refusal), passes included
  LatencyHistogram sync_time_;                  // each fdatasync of the WAL
  LatencyHistogram write_time_;                 // each item: submitted -> answered
  std::atomic<std::int64_t> ahead_plans_{0};    // work items that came with a plan made ahead
  std::atomic<std::int64_t> ahead_written_{0};  // of which written as made

  // The report summaries' deltas of the current item, and of the items of the group that stand;
  // applied just before the group's COMMIT (summaries.h). Writer thread.
  SummaryDeltas item_summaries_;
  SummaryDeltas batch_summaries_;

  std::unique_ptr<WalSyncer> syncer_;  // durability FULL only
  WalCheckpointer checkpointer_;

  mutable std::mutex mutex_;
  std::condition_variable work_available_;
  std::deque<QueueItem> queue_;  // guarded by mutex_
  // Beside each queued item: how many of the items after it stand or fall with it (0 for most).
  // A group never splits such a unit. Guarded by mutex_.
  std::deque<std::uint32_t> queue_with_next_;
  // Beside each item of the group being run: the same counts. Writer thread.
  std::vector<std::uint32_t> batch_with_next_;
  bool stopping_ = false;        // guarded by mutex_
  std::int64_t batches_ = 0;     // guarded by mutex_
  std::int64_t items_ = 0;       // guarded by mutex_
  std::thread thread_;           // last: started after every member above exists
};

}  // namespace redress::sqlite
