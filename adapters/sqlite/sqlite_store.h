// SqliteStore: the Store on an embedded SQLite file (the default; nothing else needs to run).
//
// One writer thread owns the only write connection. Submitted work waits in a queue; the writer
// takes everything waiting (up to a batch limit), runs the items in one transaction, commits once
// (group commit) and then calls each item's `done`. A failed item never disturbs its batch: most
// fail before writing anything; one that fails after writing sends the batch round again with a
// savepoint per item, to which the failed item rolls back. Version checks are made in the UPDATE itself
// (`WHERE version = ?`), so correctness never rests on this process's memory. Reads use a pool of
// separate read-only connections and see committed data only (WAL snapshot isolation); the hottest
// read may reuse a reader's open snapshot while the database has not changed (reader_pool.h).
//
// The writer also keeps the report summaries: each item's deltas (summaries.h) join the group's
// once the item stands, and are written just before COMMIT, one upsert per summary row touched.
//
// The writer keeps the snapshots of recently written cases (what its own commits left) so that a
// plan need not read the case back; it is only a shortcut. A plan made on a cached snapshot is
// written with the same version-checked UPDATE: if the database moved on (another process), the
// UPDATE refuses it, the entry is dropped and the item is planned again from the database; an item
// whose plan on the cache fails is also planned again from the database before it is refused.
// Other threads plan actions ahead on the same snapshots (Engine::submit, kept_snapshot): the writer
// writes such a plan only if the snapshot it was made on is still the one kept, so the writer's
// own share of an action is the check and the writes. A kept snapshot is never changed once kept
// (a plan made ahead may still be reading it); the writer keeps a new one after each change.
//
// With durability FULL the commit does not wait for the disk: the writer hands the group's answers
// to a syncer thread, which fdatasyncs the WAL (once for every group committed since its last
// sync) and then answers them, while the writer runs the next group. No caller, mail or web hook
// learns of a change before it is on disk; a reader may see it up to one sync earlier.
//
// A storage failure (full disk, read-only database, I/O error) refuses the whole group, each
// caller gets a kUnavailable error saying which, and the transaction is rolled back; the writer
// carries on and the next group is tried afresh, so writes resume once the disk has room again.
// Reads are unaffected. Failures are logged once per 10 s at most (write_health.h).
// A failed sync of the WAL is different: the frames it covered may never reach the disk, while the
// kernel reports the error only once and a later sync may succeed, and a WAL is only as durable as
// its first missing frame. So from the first failed sync on, the store answers nothing as durable
// that committed after it began, and refuses every later write until it is opened again.
//
// The WAL stays bounded without a long checkpoint on the commit path: once it grows past a
// threshold, the writer asks a checkpointer thread, which copies it back on a connection of its
// own (a PASSIVE checkpoint runs beside the writer's commits, never holding them), pass after pass
// while each leaves more than 64 frames behind; then the writer copies the little
// committed meanwhile between two batches, so that the next commit can restart the WAL. When the
// queue falls idle, the writer checkpoints and truncates it itself.
//
// Thread-safe: any thread may submit and read. Destruction drains the queue first.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <variant>
#include <vector>

#include "adapters/sqlite/database.h"
#include "adapters/sqlite/reader_pool.h"
#include "adapters/sqlite/schema.h"
#include "adapters/sqlite/search_index.h"
#include "adapters/sqlite/summaries.h"
#include "adapters/sqlite/write_health.h"
#include "engine/clock.h"
#include "ports/store.h"

namespace redress::sqlite {

// Who moves pending cases into the search index (search_index.h): its own thread, a round every
// 250 ms while any wait, or only SqliteStore::index_search (tests). Searches find pending cases
// either way.
enum class SearchIndexing { kInBackground, kOnRequest };

struct StoreOptions {
  std::string path;                           // the database file
  Durability durability = Durability::kFull;  // FULL: a commit is on disk before `done` runs
  int readers = 4;                            // read-only connections in the pool
  std::size_t max_batch = 1024;               // work items per group commit at most
  std::int64_t checkpoint_pages = 8192;       // checkpoint once the WAL holds this many pages
  std::size_t snapshot_cache = 16384;         // case snapshots the writer keeps; 0: none
  // How long a reader may keep a read transaction open for the next current-snapshot read
  // while the database has not changed (reader_pool.h); 0: never.
  std::chrono::milliseconds snapshot_reuse{10};
  SearchIndexing search_indexing = SearchIndexing::kInBackground;
  // Tests only: runs on the syncer thread before each sync of the WAL (to hold it).
  std::function<void()> before_sync;
  // Tests only: a failure it returns is taken for the sync's own (a disk error under fdatasync).
  std::function<Status()> sync_fault;
};

class SqliteStore final : public Store {
 public:
  // Opens the database, which must be at the latest schema version (run `migrate` first), and
  // starts the writer. kInvalid when the schema is missing, older or newer.
  [[nodiscard]] static Result<std::unique_ptr<SqliteStore>> open(const StoreOptions& options, const Clock& clock);
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  void submit(WorkItem item) override;
  void flush() override;
  [[nodiscard]] std::shared_ptr<const CaseSnapshot> kept_snapshot(const std::string& reference) override;
  [[nodiscard]] std::unique_ptr<AheadContext> ahead_context() override;
  // Indexes every case still waiting for the search index now (in the background, the index's
  // thread does it by itself); searches find waiting cases either way.
  [[nodiscard]] Status index_search();
  // While writes fail (full disk, read-only database...): why, from the last refused group.
  [[nodiscard]] std::optional<std::string> write_failure() const override { return health_.failure(); }

  [[nodiscard]] Result<CaseSnapshot> load_case(const std::string& reference) override;
  [[nodiscard]] Result<std::vector<Event>> case_events(const std::string& reference) override;
  [[nodiscard]] Result<std::vector<Message>> case_messages(const std::string& reference) override;
  [[nodiscard]] Result<CaseView> load_case_view(const std::string& reference) override;        // sqlite_store_api.cpp
  [[nodiscard]] Result<CaseViewStamp> case_view_stamp(const std::string& reference) override;  // sqlite_store_api.cpp
  [[nodiscard]] Result<CasePage> list_cases(const CaseFilter& filter, const std::string& cursor, int limit) override;
  [[nodiscard]] Result<AuditReport> verify_chains() override;

  [[nodiscard]] Result<Staff> add_staff(const Staff& staff) override;
  [[nodiscard]] Result<Staff> find_staff(const std::string& id_or_email) override;
  [[nodiscard]] Result<std::vector<Staff>> list_staff() override;
  [[nodiscard]] Status add_token(const std::string& staff_id, const std::string& token_hash,
                                 const std::string& label) override;
  [[nodiscard]] Result<Staff> staff_for_token(const std::string& token_hash) override;

  // Defined in sqlite_store_api.cpp.
  [[nodiscard]] Result<CaseSnapshot> load_case_by_client_link(const std::string& token_hash) override;
  [[nodiscard]] Result<std::string> client_link_nonce(const std::string& reference) override;
  [[nodiscard]] Status replace_client_link(const std::string& reference, const std::string& nonce,
                                           const std::string& token_hash) override;
  [[nodiscard]] Result<Subscription> add_subscription(const Subscription& subscription) override;
  [[nodiscard]] Result<std::vector<Subscription>> list_subscriptions() override;
  [[nodiscard]] Status delete_subscription(std::int64_t id) override;
  [[nodiscard]] Result<CommitmentPage> list_commitments(const CommitmentFilter& filter, const std::string& cursor,
                                                        int limit) override;
  [[nodiscard]] Result<std::string> commitment_case(std::int64_t commitment_id) override;
  [[nodiscard]] Result<std::string> redress_case(std::int64_t redress_id) override;
  [[nodiscard]] Result<std::vector<std::pair<std::string, std::int64_t>>> count_cases_by_status() override;
  [[nodiscard]] Result<std::int64_t> count_open_commitments() override;

  // Defined in sqlite_store_reports.cpp.
  [[nodiscard]] Result<std::optional<Time>> next_wake() override;
  [[nodiscard]] Result<std::vector<DueCase>> due_cases(Time now, int limit) override;
  [[nodiscard]] Result<bool> acquire_lease(const std::string& name, const std::string& holder, Time now,
                                           Time until) override;
  [[nodiscard]] Status release_lease(const std::string& name, const std::string& holder) override;
  [[nodiscard]] Result<OverdueReport> overdue_report(Time now, int limit) override;
  [[nodiscard]] Result<std::vector<OwnerStats>> owner_report(Time since) override;
  [[nodiscard]] Result<std::vector<PledgeAttainment>> standards_report(Time now) override;

  // Defined in sqlite_store_outbox.cpp.
  [[nodiscard]] Result<std::vector<OutboxItem>> claim_notifications(NotificationDraft::Channel channel, Time now,
                                                                    const std::string& holder, Time lease_until,
                                                                    int limit) override;
  [[nodiscard]] Result<std::vector<std::string>> store_payloads(
      const std::string& holder, const std::vector<std::pair<std::int64_t, std::string>>& payloads) override;
  [[nodiscard]] Status record_deliveries(const std::string& holder,
                                         const std::vector<DeliveryRecord>& records) override;
  [[nodiscard]] Result<std::optional<Time>> next_delivery(NotificationDraft::Channel channel) override;
  [[nodiscard]] Result<std::vector<NotificationView>> case_notifications(const std::string& reference) override;
  [[nodiscard]] Result<std::vector<NotificationView>> dead_notifications(int limit) override;
  [[nodiscard]] Result<std::int64_t> retry_notifications(std::optional<std::int64_t> id, Time now) override;
  [[nodiscard]] Result<Subscription> find_subscription(std::int64_t id) override;
  [[nodiscard]] Status disable_subscription(std::int64_t id, const std::string& reason, Time now) override;
  [[nodiscard]] Result<bool> digest_owed(const std::string& day, const std::string& recipient, Time now) override;
  [[nodiscard]] Status record_digest(const std::string& day, const std::string& recipient, bool sent,
                                     const std::string& detail, Time now) override;

  // Defined in sqlite_store_pages.cpp.
  [[nodiscard]] Result<std::string> password_hash(const std::string& staff_id) override;
  [[nodiscard]] Result<SignInGate> sign_in_gate(const std::string& email, Time now) override;
  [[nodiscard]] Result<SignInGate> record_sign_in_failure(const std::string& email, Time now, int max_failures,
                                                          Duration window, Duration lockout) override;
  [[nodiscard]] Status clear_sign_in_failures(const std::string& email) override;
  [[nodiscard]] Status create_session(const StaffSession& session) override;
  [[nodiscard]] Result<StaffSession> find_session(const std::string& token_hash, Time now) override;
  [[nodiscard]] Status end_session(const std::string& token_hash, Time now) override;
  [[nodiscard]] Result<std::vector<WorklistItem>> owner_worklist(const std::string& owner_id, int limit) override;
  [[nodiscard]] Result<std::vector<AttentionCount>> attention_by_owner(Time now) override;
  [[nodiscard]] Result<std::vector<EscalationCount>> escalation_counts() override;
  [[nodiscard]] Result<std::vector<WeeklyCount>> weekly_counts(Time since) override;

  // Runs `work` on the writer connection inside the writer's transaction, and waits for the commit.
  // For maintenance and administration that is not a case action.
  // kNoCaseRows keeps the writer's case snapshots (the work touches no case, commitment or redress row).
  enum class WriteScope { kMayTouchCases, kNoCaseRows };
  [[nodiscard]] Status run_write(std::function<Status(Connection&)> work,
                                 WriteScope scope = WriteScope::kMayTouchCases);
  // Runs `work` with a pooled read-only connection.
  template <typename Fn>
  auto with_reader(Fn&& work) {
    auto lease = readers_.acquire(ReaderPool::Snapshot::kNone);
    return work(*lease);
  }
  // Runs `work` with a pooled connection standing in a read transaction on a current snapshot,
  // often one kept from an earlier use (reader_pool.h): `work` runs statements only.
  template <typename Fn>
  auto with_current_snapshot(Fn&& work) {
    auto lease = readers_.acquire(ReaderPool::Snapshot::kCurrent);
    return work(*lease);
  }

  struct Counters {
    std::int64_t batches = 0;
    std::int64_t items = 0;
    std::int64_t checkpoints = 0;
    std::int64_t writer_checkpoints = 0;  // of which on the writer thread (the tails, and when idle)
    std::int64_t syncs = 0;               // fdatasync calls on the WAL by the syncer (durability FULL)
    std::int64_t ahead_plans = 0;         // work items that came with a plan made ahead
    std::int64_t ahead_written = 0;       // of which written as made (the rest were planned again)
    ReaderPool::Counters readers;
  };
  [[nodiscard]] Counters counters() const;
  [[nodiscard]] std::optional<WriteStats> write_stats() const override;

 private:
  struct AdminItem {
    std::function<Status(Connection&)> work;
    std::function<void(Status)> done;
    bool may_touch_cases = true;                           // forget the cached snapshots (work may change any row)
    std::chrono::steady_clock::time_point submitted_at{};  // set when queued
  };
  using QueueItem = std::variant<WorkItem, AdminItem>;

  SqliteStore(const StoreOptions& options, const Clock& clock, std::unique_ptr<Connection> writer);
  void enqueue(QueueItem item);
  void writer_loop();
  void run_batch(std::vector<QueueItem>& batch);
  // One attempt at a batch; false when it was rolled back to be run again with savepoints.
  [[nodiscard]] bool run_batch_pass(std::vector<QueueItem>& batch, bool savepoints);
  // Rolls the open transaction back (if SQLite has not) and answers every item with `error`.
  void refuse_batch(std::vector<QueueItem>& batch, const Error& error);
  [[nodiscard]] Result<Committed> run_work(WorkItem& item, WriteContext& context);
  void remember(const std::string& reference, CaseSnapshot snapshot);
  // The subscriptions web hooks fan out to, reloaded on the writer after any change to them.
  const std::vector<Subscription>& live_subscriptions();
  // Idle: checkpoints and truncates the WAL. Otherwise, past the threshold, wakes the checkpointer.
  void maybe_checkpoint(bool idle);
  void checkpointer_loop();

  const StoreOptions options_;
  const Clock& clock_;
  std::unique_ptr<Connection> writer_connection_;  // touched only by writer_thread_
  // The trigram index in its own file; its rounds write to the store through run_write, so it is
  // stopped before the writer.
  std::unique_ptr<SearchIndex> search_index_;
  ReaderPool readers_;

  mutable std::mutex mutex_;
  std::condition_variable work_available_;
  std::deque<QueueItem> queue_;  // guarded by mutex_
  bool stopping_ = false;        // guarded by mutex_
  Counters counters_;            // guarded by mutex_

  // Ids and kept snapshots: the writer's, shared with the threads that plan ahead (under their
  // mutexes).
  struct IdBlock {
    std::int64_t next = 0;
    std::int64_t end = 0;    // exclusive
    bool committed = false;  // its reservation is committed: plans made ahead may take from it
  };
  // Only the writer reserves blocks; plans made ahead take ids from committed ones.
  std::mutex ids_mutex_;
  std::map<std::string, IdBlock> id_blocks_;  // by sequence name; guarded by ids_mutex_
  // An id of a committed block for a plan made ahead, or nullopt (the writer will plan the item).
  [[nodiscard]] std::optional<std::int64_t> take_ahead_id(WriteContext::IdKind kind);
  void forget_id_blocks();
  void forget_snapshots();
  // After `change` is written on the case kept at `kept`: keeps the snapshot it leaves, a new one.
  void keep_changed(std::shared_ptr<const CaseSnapshot>& kept, const Change& change);
  // Where the writes' time goes (write_stats): observed by the writer and the syncer.
  LatencyHistogram queue_wait_;  // each item: submitted -> its group begins
  LatencyHistogram group_time_;  // each group: BEGIN -> COMMIT (or its refusal), passes included
  LatencyHistogram sync_time_;   // each fdatasync of the WAL
  LatencyHistogram write_time_;  // each item: submitted -> answered
  void answered(std::chrono::steady_clock::time_point submitted_at);
  [[nodiscard]] static std::chrono::steady_clock::time_point submitted_at(const QueueItem& item);
  std::atomic<std::int64_t> ahead_plans_{0};
  std::atomic<std::int64_t> ahead_written_{0};
  // Case snapshots as the writer's transaction leaves them, by reference (see the top comment).
  // Cleared whenever a transaction or savepoint rolls back. Only the writer changes the map, under
  // snapshots_mutex_; other threads copy a pointer out under it. A snapshot, once in the map, is
  // immutable: whoever holds one reads it without a lock.
  std::mutex snapshots_mutex_;
  std::unordered_map<std::string, std::shared_ptr<const CaseSnapshot>> snapshots_;

  // Writer-thread state.
  std::int64_t wal_pages_ = 0;  // frames in the WAL after the last commit (from the WAL hook)
  std::vector<Subscription> live_subscriptions_;
  // The report summaries' deltas of the current item, and of the items of the group that stand;
  // applied just before the group's COMMIT (summaries.h).
  SummaryDeltas item_summaries_;
  SummaryDeltas batch_summaries_;
  std::atomic<bool> subscriptions_stale_{true};                      // set by any change to the subscriptions
  std::chrono::steady_clock::time_point last_checkpoint_warning_{};  // writer and checkpointer, under mutex_
  std::unique_ptr<Connection> checkpoint_connection_;                // touched only by checkpoint_thread_
  std::condition_variable checkpoint_wanted_;
  // The checkpointer's pass: asked for by the writer, running, done (the writer then finishes it).
  enum class CheckpointState { kNone, kRequested, kRunning, kDone };
  CheckpointState checkpoint_state_ = CheckpointState::kNone;  // guarded by mutex_
  std::int64_t checkpointed_frames_ = 0;  // WAL frames copied back when the last pass ended; mutex_
  int catch_up_passes_ = 0;               // passes asked for since the writer last finished one; writer
  bool checkpointer_stopping_ = false;    // guarded by mutex_
  WriteHealth health_;                    // refused groups and their log lines (thread-safe)

  // Durability FULL: the writer commits without waiting for the disk (synchronous = NORMAL) and
  // hands each committed group's answers to the syncer, which syncs the WAL (every group
  // committed so far at once) and only then answers; meanwhile the writer runs the next group.
  struct Answer {
    std::function<void(Result<Committed>)> work_done;  // set for a work item
    std::optional<Result<Committed>> work_result;
    std::function<void(Status)> admin_done;  // set for an admin item
    Status admin_result;
    bool group_wrote = false;  // its group changed the database (else there is nothing to sync)
    std::chrono::steady_clock::time_point submitted_at{};
  };
  void syncer_loop();
  // Syncs the WAL file to disk; the error when that fails.
  [[nodiscard]] Status sync_wal();
  const bool syncing_;  // durability FULL
  // Why writes are refused for good since a sync of the WAL failed; nullopt while none has.
  [[nodiscard]] std::optional<Error> sync_failure() const;
  mutable std::mutex sync_mutex_;
  std::optional<Error> sync_failure_;  // guarded by sync_mutex_; set once, never cleared
  std::condition_variable sync_wanted_;
  std::vector<Answer> sync_queue_;  // guarded by sync_mutex_: committed, not yet synced
  bool syncer_stopping_ = false;    // guarded by sync_mutex_
  int wal_fd_ = -1;                 // touched only by syncer_thread_
  std::thread syncer_thread_;

  std::thread writer_thread_;      // last: started after every member above exists
  std::thread checkpoint_thread_;  // likewise
  friend class WriterContext;
  friend class AheadPlanContext;
};

}  // namespace redress::sqlite
