#include "adapters/sqlite/sqlite_store.h"

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <future>

#include "adapters/sqlite/rows.h"
#include "engine/hash_chain.h"

namespace redress::sqlite {

namespace {

// Ids reserved at a time. Plans made ahead take ids only from blocks already committed, so a block
// lasts several groups (an unused rest is a gap at restart).
constexpr std::int64_t kIdBlock = 4096;
// Checkpointer passes the writer asks for, at most, before copying the rest itself.
constexpr int kCatchUpPasses = 8;

// A read or write the WriteContext could not make (its interface has no Result): carries the
// store's Error, so that a full disk is still answered 503, not 500.
struct StorageFailure : std::runtime_error {
  explicit StorageFailure(Error e) : std::runtime_error(e.detail), error(std::move(e)) {}
  Error error;
};

const std::string& sequence_name(WriteContext::IdKind kind) {
  static const std::string kCase = "case", kCommitment = "commitment", kRedress = "redress", kMessage = "message";
  switch (kind) {
    case WriteContext::IdKind::kCase: return kCase;
    case WriteContext::IdKind::kCommitment: return kCommitment;
    case WriteContext::IdKind::kRedress: return kRedress;
    case WriteContext::IdKind::kMessage: return kMessage;
  }
  return kMessage;
}

}  // namespace

// The context of plans made ahead of the writer: ids from committed blocks, nothing else.
class AheadPlanContext final : public AheadContext {
 public:
  explicit AheadPlanContext(SqliteStore& store) : store_(store) {}

  std::int64_t next_id(IdKind kind) override {
    if (auto id = store_.take_ahead_id(kind)) return *id;
    complete_ = false;
    return 0;
  }
  std::string next_reference(int) override { return incomplete<std::string>(); }
  std::optional<Staff> find_staff(const std::string&) override { return incomplete<std::optional<Staff>>(); }
  std::vector<Staff> staff_with_roles(const std::vector<Role>&, const std::vector<std::string>&) override {
    return incomplete<std::vector<Staff>>();
  }
  std::vector<Event> case_history(std::int64_t) override { return incomplete<std::vector<Event>>(); }
  bool complete() const override { return complete_; }

 private:
  // What only the writer's transaction can answer (a gapless reference, staff as they are now, the
  // history): the plan is left to the writer.
  template <typename T>
  T incomplete() {
    complete_ = false;
    return T{};
  }

  SqliteStore& store_;
  bool complete_ = true;
};

// The WriteContext handed to plans: ids and staff look-ups on the writer connection.
class WriterContext final : public WriteContext {
 public:
  WriterContext(SqliteStore& store, Connection& db) : store_(store), db_(db) {}

  std::int64_t next_id(IdKind kind) override { return next(sequence_name(kind), kIdBlock); }

  std::string next_reference(int year) override {
    // References are handed out one at a time so that they have no gaps.
    reference_taken = true;
    std::int64_t n = next("reference-" + std::to_string(year), 1);
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "CMP-%04d-%06lld", year, static_cast<long long>(n));
    return buffer;
  }

  std::optional<Staff> find_staff(const std::string& id_or_email) override {
    if (id_or_email.empty()) return std::nullopt;
    return select_staff(db_, id_or_email);
  }

  std::vector<Staff> staff_with_roles(const std::vector<Role>& roles, const std::vector<std::string>& teams) override {
    return select_staff_with_roles(db_, roles, teams);
  }

  std::vector<Event> case_history(std::int64_t case_id) override {
    auto events = select_events(db_, case_id);
    if (!events) {
      Error error = events.error();
      error.detail = "cannot read the history of case " + std::to_string(case_id) + ": " + error.detail;
      throw StorageFailure(std::move(error));
    }
    return std::move(events).value();
  }

  // Ids come in blocks reserved from the `sequences` table in the current transaction; a rolled
  // back batch forgets its blocks (SqliteStore::run_batch), so no id is ever handed out twice.
  // Plans made ahead share the blocks (SqliteStore::take_ahead_id), so ids of each kind are handed
  // out in increasing order: a later commitment of a case always has the greater id.
  std::int64_t next(const std::string& name, std::int64_t block) {
    {
      std::lock_guard lock(store_.ids_mutex_);
      auto& ids = store_.id_blocks_[name];
      if (ids.next < ids.end) return ids.next++;
    }
    std::int64_t changes_before = sqlite3_total_changes64(db_.handle());
    // An UPDATE, then a SELECT of the new value: `UPDATE ... RETURNING` gathers its rows in a
    // temporary b-tree, made and dropped at every call (a creation reserves a reference each).
    auto& reserve = db_.cached("UPDATE sequences SET value = value + ?2 WHERE name = ?1");
    reserve.bind(1, name).bind(2, block);
    if (auto s = reserve.run(); !s) throw StorageFailure(s.error());
    if (sqlite3_changes64(db_.handle()) == 0) {
      // The sequence's first use: its row starts at the block's end.
      auto& insert = db_.cached("INSERT INTO sequences(name, value) VALUES (?1, ?2)");
      insert.bind(1, name).bind(2, block);
      if (auto s = insert.run(); !s) throw StorageFailure(s.error());
    }
    auto& read = db_.cached("SELECT value FROM sequences WHERE name = ?1");
    read.bind(1, name);
    if (!read.step()) {
      Status failed = read.status().ok() ? Status(Error::internal("no sequence row " + name)) : read.status();
      read.reset();
      throw StorageFailure(failed.error());
    }
    std::int64_t top = read.integer(0);
    read.reset();
    sequence_changes += sqlite3_total_changes64(db_.handle()) - changes_before;
    // Only the writer reserves, so the block is still exhausted: replace it. Not committed yet.
    std::lock_guard lock(store_.ids_mutex_);
    auto& ids = store_.id_blocks_[name];
    ids = SqliteStore::IdBlock{top - block + 1, top + 1, false};
    return ids.next++;
  }

  // What the current item did to `sequences` (SqliteStore::run_batch_pass tells from these whether
  // a failed item wrote anything else).
  void start_item() {
    sequence_changes = 0;
    reference_taken = false;
  }
  std::int64_t sequence_changes = 0;  // rows of `sequences` changed
  bool reference_taken = false;       // a case reference was handed out

 private:
  SqliteStore& store_;
  Connection& db_;
};

// ---- opening and the writer --------------------------------------------------------------------

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const StoreOptions& options, const Clock& clock) {
  std::unique_ptr<Connection> writer;
  try {
    writer = std::make_unique<Connection>(options.path, OpenMode::kReadWrite);
  } catch (const std::exception& e) {
    return Error::unavailable(e.what());
  }
  // The version check comes first: a database this binary cannot use is not touched, not even by
  // the pragmas (journal_mode = WAL rewrites the file header).
  sqlite3_busy_timeout(writer->handle(), 10000);
  auto version = schema_version(*writer);
  if (!version) return version.error();
  if (*version != latest_schema_version())
    return Error::invalid("the database " + options.path + " is at schema version " + std::to_string(*version) +
                          " but this redress needs version " + std::to_string(latest_schema_version()) +
                          (*version < latest_schema_version()
                               ? "; run `redress migrate` first"
                               : "; it is newer than this redress, which leaves it untouched"));
  if (auto s = configure_connection(*writer, options.durability, OpenMode::kReadWrite); !s) return s.error();
  try {
    return std::unique_ptr<SqliteStore>(new SqliteStore(options, clock, std::move(writer)));
  } catch (const std::exception& e) {
    return Error::unavailable(e.what());
  }
}

SqliteStore::SqliteStore(const StoreOptions& options, const Clock& clock, std::unique_ptr<Connection> writer)
    : options_(options),
      clock_(clock),
      writer_connection_(std::move(writer)),
      readers_(options.snapshot_reuse),
      syncing_(options.durability == Durability::kFull) {
  // FULL durability without the commit waiting for the disk: the syncer syncs the WAL before any
  // answer (syncer_loop); SQLite itself syncs at checkpoints, as NORMAL does.
  if (syncing_) {
    if (auto s = writer_connection_->exec("PRAGMA synchronous = NORMAL"); !s)
      throw std::runtime_error("cannot configure the writer: " + s.error().detail);
  }
  sqlite3_wal_hook(
      writer_connection_->handle(),
      [](void* self, sqlite3*, const char*, int pages) {
        static_cast<SqliteStore*>(self)->wal_pages_ = pages;
        return SQLITE_OK;
      },
      this);
  search_index_ = std::make_unique<SearchIndex>(options.path, *writer_connection_, [this](auto work) {
    return run_write(std::move(work), WriteScope::kNoCaseRows);
  });
  for (int i = 0; i < std::max(1, options.readers); ++i) {
    auto reader = std::make_unique<Connection>(options.path, OpenMode::kReadOnly);
    if (auto s = configure_connection(*reader, options.durability, OpenMode::kReadOnly); !s)
      throw std::runtime_error("cannot configure a reader: " + s.error().detail);
    if (auto s = search_index_->attach(*reader); !s)
      throw std::runtime_error("cannot attach the search index to a reader: " + s.error().detail);
    readers_.add(std::move(reader));
  }
  checkpoint_connection_ = std::make_unique<Connection>(options.path, OpenMode::kReadWrite);
  if (auto s = checkpoint_connection_->exec(
          std::string("PRAGMA busy_timeout = 10000; PRAGMA wal_autocheckpoint = 0;") +
          (options.durability == Durability::kFull ? "PRAGMA synchronous = FULL;" : "PRAGMA synchronous = NORMAL;"));
      !s)
    throw std::runtime_error("cannot configure the checkpointer: " + s.error().detail);
  // Named (before they can be seen), so that `top -H` and `ps -L` show what each thread does.
  if (syncing_) {
    syncer_thread_ = std::thread([this] { syncer_loop(); });
    pthread_setname_np(syncer_thread_.native_handle(), "redress-sync");
  }
  writer_thread_ = std::thread([this] { writer_loop(); });
  pthread_setname_np(writer_thread_.native_handle(), "redress-writer");
  checkpoint_thread_ = std::thread([this] { checkpointer_loop(); });
  pthread_setname_np(checkpoint_thread_.native_handle(), "redress-ckpt");
  if (options.search_indexing == SearchIndexing::kInBackground) search_index_->start(std::chrono::milliseconds(250));
}

SqliteStore::~SqliteStore() {
  // Its last round may still write through the writer. Its connection to the index file closes
  // after the readers' (members are destroyed in reverse order): the last connection to close a
  // WAL database checkpoints it and deletes the WAL, which the readers, read-only, cannot.
  if (search_index_) search_index_->stop();
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  work_available_.notify_all();
  if (writer_thread_.joinable()) writer_thread_.join();
  {
    std::lock_guard lock(sync_mutex_);
    syncer_stopping_ = true;  // after the writer's last group: the syncer answers it, then ends
  }
  sync_wanted_.notify_all();
  if (syncer_thread_.joinable()) syncer_thread_.join();
  if (wal_fd_ >= 0) ::close(wal_fd_);
  {
    std::lock_guard lock(mutex_);
    checkpointer_stopping_ = true;
  }
  checkpoint_wanted_.notify_all();
  if (checkpoint_thread_.joinable()) checkpoint_thread_.join();
  readers_.end_idle_snapshots();  // a kept snapshot would hold the truncation up
  (void)writer_connection_->exec("PRAGMA wal_checkpoint(TRUNCATE)");
}

void SqliteStore::enqueue(QueueItem item) {
  const auto now = std::chrono::steady_clock::now();
  std::visit([now](auto& queued) { queued.submitted_at = now; }, item);
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(item));
  }
  work_available_.notify_one();
}

void SqliteStore::submit(WorkItem item) { enqueue(std::move(item)); }

Status SqliteStore::run_write(std::function<Status(Connection&)> work, WriteScope scope) {
  std::promise<Status> promise;
  auto future = promise.get_future();
  enqueue(AdminItem{std::move(work), [&promise](Status s) { promise.set_value(std::move(s)); },
                    scope == WriteScope::kMayTouchCases});
  return future.get();
}

void SqliteStore::flush() {
  std::promise<Status> promise;
  auto future = promise.get_future();
  enqueue(AdminItem{[](Connection&) { return Status::success(); },
                    [&promise](Status s) { promise.set_value(std::move(s)); }, false});
  (void)future.get();
}

std::optional<WriteStats> SqliteStore::write_stats() const {
  WriteStats stats;
  {
    std::lock_guard lock(mutex_);
    stats.groups = counters_.batches;
    stats.writes = counters_.items;
    stats.syncs = counters_.syncs;
    stats.checkpoints = counters_.checkpoints;
    stats.queued = static_cast<std::int64_t>(queue_.size());
  }
  stats.queue_wait = queue_wait_.snapshot();
  stats.group = group_time_.snapshot();
  stats.sync = sync_time_.snapshot();
  stats.write = write_time_.snapshot();
  return stats;
}

std::chrono::steady_clock::time_point SqliteStore::submitted_at(const QueueItem& item) {
  return std::visit([](const auto& queued) { return queued.submitted_at; }, item);
}

void SqliteStore::answered(std::chrono::steady_clock::time_point submitted_at) {
  write_time_.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - submitted_at).count());
}

SqliteStore::Counters SqliteStore::counters() const {
  Counters counters;
  {
    std::lock_guard lock(mutex_);
    counters = counters_;
  }
  counters.ahead_plans = ahead_plans_.load(std::memory_order_relaxed);
  counters.ahead_written = ahead_written_.load(std::memory_order_relaxed);
  counters.readers = readers_.counters();
  return counters;
}

void SqliteStore::writer_loop() {
  std::vector<QueueItem> batch;
  batch.reserve(options_.max_batch);
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      if (queue_.empty() && !stopping_) {
        // Idle: checkpoint once what the last batches left in the WAL, then sleep until work.
        if (wal_pages_ > 0) {
          if (!work_available_.wait_for(lock, std::chrono::milliseconds(500),
                                        [&] { return stopping_ || !queue_.empty(); })) {
            lock.unlock();
            maybe_checkpoint(true);
            continue;
          }
        } else {
          work_available_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        }
      }
      if (queue_.empty() && stopping_) return;
      while (!queue_.empty() && batch.size() < options_.max_batch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      ++counters_.batches;
      counters_.items += static_cast<std::int64_t>(batch.size());
    }
    run_batch(batch);
    batch.clear();
    maybe_checkpoint(false);
  }
}

Status SqliteStore::index_search() { return search_index_->index_now(); }

void SqliteStore::maybe_checkpoint(bool idle) {
  if (wal_pages_ == 0 || (!idle && wal_pages_ < options_.checkpoint_pages)) return;
  if (!idle) {
    // The checkpointer copies the WAL back beside the next commits. But the WAL restarts (and so
    // stays bounded) only when a transaction begins after a checkpoint that left no frame behind,
    // and under steady writes a checkpoint beside them never catches up. So once the
    // checkpointer has done its pass, the writer copies what was committed meanwhile (a small
    // part) between two batches; the next commit then restarts the WAL.
    bool finish = false, start = false;
    {
      std::lock_guard lock(mutex_);
      if (checkpoint_state_ == CheckpointState::kDone) {
        // What the writer would copy on its own thread, between two batches, with the two syncs
        // a checkpoint makes: the frames committed since the pass began (a tail of 600 frames
        // held the writer 25-30 ms). While that is more than 64 frames (or 1/128 of the
        // threshold), another pass beside the commits copies it instead; each pass is shorter
        // than the last while the disk outpaces the writer. Eight passes at most, so the WAL
        // stays bounded when it does not.
        std::int64_t behind = wal_pages_ - checkpointed_frames_;
        if (behind < 0) {
          // The pass left nothing behind and the WAL has restarted since: that pass is over, and
          // what is in the WAL now wants a pass of its own.
          catch_up_passes_ = 0;
          start = true;
          checkpoint_state_ = CheckpointState::kRequested;
        } else if (behind > std::max<std::int64_t>(64, options_.checkpoint_pages / 128) &&
                   catch_up_passes_ < kCatchUpPasses) {
          ++catch_up_passes_;
          start = true;
          checkpoint_state_ = CheckpointState::kRequested;
        } else {
          finish = true;
          catch_up_passes_ = 0;
          checkpoint_state_ = CheckpointState::kNone;
        }
      } else if (checkpoint_state_ == CheckpointState::kNone) {
        start = true;
        checkpoint_state_ = CheckpointState::kRequested;
      }
    }
    if (start) checkpoint_wanted_.notify_one();
    if (!finish) return;
  }
  // Kept read snapshots stop the WAL from restarting: the idle ones end now, the busy ones within
  // their age limit (the truncation waits for them under the busy timeout).
  if (idle) readers_.end_idle_snapshots();
  int log = 0, done = 0;
  int rc = sqlite3_wal_checkpoint_v2(writer_connection_->handle(), nullptr,
                                     idle ? SQLITE_CHECKPOINT_TRUNCATE : SQLITE_CHECKPOINT_PASSIVE, &log, &done);
  if (rc == SQLITE_OK && log == done) {
    wal_pages_ = 0;
    catch_up_passes_ = 0;
  }
  std::lock_guard lock(mutex_);
  ++counters_.checkpoints;
  ++counters_.writer_checkpoints;
  // A pass the checkpointer finished is covered by this one (the idle one truncates as well).
  if (rc == SQLITE_OK && checkpoint_state_ == CheckpointState::kDone) checkpoint_state_ = CheckpointState::kNone;
  // BUSY: the checkpointer is at work, or a reader holds the WAL; the next idle pass tries again.
  if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
    // Once a minute at most: on a full disk every idle pass fails the same way.
    auto now = std::chrono::steady_clock::now();
    if (now - last_checkpoint_warning_ >= std::chrono::minutes(1)) {
      spdlog::warn("store: checkpoint failed: {}", writer_connection_->last_error("wal checkpoint").detail);
      last_checkpoint_warning_ = now;
    }
  }
}

void SqliteStore::syncer_loop() {
  std::vector<Answer> answers;
  for (;;) {
    {
      std::unique_lock lock(sync_mutex_);
      sync_wanted_.wait(lock, [this] { return syncer_stopping_ || !sync_queue_.empty(); });
      if (sync_queue_.empty()) return;  // stopping, nothing left to answer
      answers.swap(sync_queue_);
    }
    // One sync covers every group committed before it began: all of them are answered. Groups
    // that wrote nothing (refusals, reads of the writer) need none, but wait their turn.
    Status synced = Status::success();
    Error error;
    if (auto failed = sync_failure()) {
      // After a failed sync no later one proves anything (see the top of the header).
      synced = *failed;
      error = *failed;
    } else if (std::any_of(answers.begin(), answers.end(), [](const Answer& a) { return a.group_wrote; })) {
      if (options_.before_sync) options_.before_sync();
      const auto began = std::chrono::steady_clock::now();
      synced = options_.sync_fault ? options_.sync_fault() : Status::success();
      if (synced) synced = sync_wal();
      sync_time_.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count());
      {
        std::lock_guard lock(mutex_);
        ++counters_.syncs;
      }
      if (!synced) {
        error =
            Error::unavailable("the change was committed but could not be synced to disk: " + synced.error().detail);
        spdlog::error("store: {}; no write is accepted until redress is restarted", error.detail);
        std::lock_guard lock(sync_mutex_);
        sync_failure_ = Error::unavailable("a sync of the write-ahead log to disk failed (" + synced.error().detail +
                                           "): no write is accepted until redress is restarted");
      }
    }
    // A failure stays what it was; only a success can be undone by a failed sync.
    for (auto& answer : answers) {
      answered(answer.submitted_at);
      if (answer.work_done) {
        bool keep = synced || !answer.group_wrote || !answer.work_result->ok();
        answer.work_done(keep ? std::move(*answer.work_result) : Result<Committed>(error));
      } else if (answer.admin_done) {
        bool keep = synced || !answer.group_wrote || !answer.admin_result.ok();
        answer.admin_done(keep ? answer.admin_result : Status(error));
      }
    }
    answers.clear();
  }
}

std::optional<Error> SqliteStore::sync_failure() const {
  std::lock_guard lock(sync_mutex_);
  return sync_failure_;
}

Status SqliteStore::sync_wal() {
  // The WAL exists from the first commit on and is only ever truncated, never removed, while the
  // store's connections are open; fdatasync through a descriptor of its own is as good as SQLite's
  // (it syncs the file, not the descriptor).
  const std::string path = options_.path + "-wal";
  if (wal_fd_ < 0) {
    wal_fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (wal_fd_ < 0) return Error::unavailable("cannot open " + path + ": " + std::strerror(errno));
  }
  if (::fdatasync(wal_fd_) != 0) return Error::unavailable("fdatasync of " + path + ": " + std::strerror(errno));
  return Status::success();
}

void SqliteStore::checkpointer_loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    checkpoint_wanted_.wait(
        lock, [this] { return checkpointer_stopping_ || checkpoint_state_ == CheckpointState::kRequested; });
    if (checkpointer_stopping_) return;
    checkpoint_state_ = CheckpointState::kRunning;
    lock.unlock();
    int log = 0, done = 0;
    int rc =
        sqlite3_wal_checkpoint_v2(checkpoint_connection_->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
    Error error = rc == SQLITE_OK || rc == SQLITE_BUSY ? Error{} : checkpoint_connection_->last_error("wal checkpoint");
    lock.lock();
    ++counters_.checkpoints;
    // A failed pass copied nothing the writer can count on: it finishes on its own next time.
    checkpointed_frames_ = rc == SQLITE_OK ? done : 0;
    checkpoint_state_ = CheckpointState::kDone;
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
      auto now = std::chrono::steady_clock::now();
      if (now - last_checkpoint_warning_ >= std::chrono::minutes(1)) {
        spdlog::warn("store: checkpoint failed: {}", error.detail);
        last_checkpoint_warning_ = now;
      }
    }
  }
}

namespace {

// Writes one change: the case row (version-checked), events, projections and the outbox.
// `before` is the case row the plan was made against (null when creating). Text is bound without
// copies: everything bound lives in `change` until the statements have run.
bool subscribed(const Subscription& subscription, const Event& event) {
  for (const auto& type : subscription.event_types) {
    if (type == "*" || type == event.type) return true;
    // case.status_changed: any event that moves the lifecycle (its data has differing from and to).
    if (type == "case.status_changed" && event.data.find("\"from\":") != std::string::npos) {
      boost::system::error_code ec;
      auto data = boost::json::parse(event.data, ec);
      if (ec || !data.is_object()) continue;
      const auto* from = data.get_object().if_contains("from");
      const auto* to = data.get_object().if_contains("to");
      if (from && to && *from != *to) return true;
    }
  }
  return false;
}

// The first row of `rows` (sorted by id, as a snapshot keeps them) whose id is not below `id`.
template <typename Rows>
auto lower_bound_id(Rows& rows, std::int64_t id) {
  return std::lower_bound(rows.begin(), rows.end(), id, [](const auto& x, std::int64_t v) { return x.id < v; });
}

// Writes a case's one row in a table keyed by case: an UPDATE in place, or an INSERT when the case
// has no row yet. (INSERT OR REPLACE deletes the row and inserts it again: with the foreign key to
// cases it cannot overwrite, and a kilobyte-long clock state then often rebalanced its page twice.)
// `bind` binds both statements' parameters.
template <typename Bind>
Status update_or_insert(Connection& db, const char* update_sql, const char* insert_sql, Bind bind) {
  auto& update = db.cached(update_sql);
  bind(update);
  if (auto s = update.run(); !s) return s;
  if (db.changes() > 0) return Status::success();
  auto& insert = db.cached(insert_sql);
  bind(insert);
  return insert.run();
}

Status persist(Connection& db, const Change& change, const CaseSnapshot* before,
               const std::vector<Subscription>& subscriptions, SummaryDeltas& summaries) {
  const Case& c = change.after;
  if (change.expected_version < 0) {
    auto& insert = db.cached(kInsertCaseSql);
    bind_case(insert, c);
    if (auto s = insert.run(); !s) return s;
  } else {
    Result<std::int64_t> changed = 0;
    if (before) {
      changed = update_case(db, before->record, c, change.expected_version);
    } else {
      auto& update = db.cached(kUpdateCaseSql);
      bind_case(update, c);
      update.bind(kCaseColumnCount + 1, change.expected_version);
      if (auto s = update.run(); !s) return s;
      changed = db.changes();
    }
    if (!changed) return changed.error();
    if (*changed != 1)
      return Error::stale("case " + c.reference + " changed since version " + std::to_string(change.expected_version));
  }
  auto& event =
      db.cached("INSERT INTO events(case_id, seq, type, at, actor, data, hash) VALUES (?1,?2,?3,?4,?5,?6,?7)");
  for (const auto& e : change.events) {
    event.bind(1, e.case_id)
        .bind(2, e.seq)
        .bind_static(3, e.type)
        .bind(4, to_micros(e.at))
        .bind_static(5, e.actor)
        .bind_static(6, e.data)
        .bind_static(7, e.hash);
    if (auto s = event.run(); !s) return s;
  }
  // Each commitment's row as it was: written earlier in this change, or as the plan saw it.
  std::vector<const Commitment*> old_commitments(change.commitments.size(), nullptr);
  for (std::size_t i = 0; i < change.commitments.size(); ++i) {
    const Commitment& k = change.commitments[i];
    const Commitment*& old = old_commitments[i];
    for (std::size_t j = i; j-- > 0;)
      if (change.commitments[j].id == k.id) {
        old = &change.commitments[j];
        break;
      }
    if (!old && before) {
      auto at = lower_bound_id(before->commitments, k.id);
      if (at != before->commitments.end() && at->id == k.id) old = &*at;
    }
    if (auto s = write_commitment(db, old, k); !s) return s;
  }
  for (const auto& r : change.redress) {
    auto& put = db.cached(kUpsertRedressSql);
    bind_redress(put, r);
    if (auto s = put.run(); !s) return s;
  }
  for (const auto& m : change.messages) {
    auto& put = db.cached("INSERT INTO messages(id, case_id, visibility, author, body, at) VALUES (?1,?2,?3,?4,?5,?6)");
    put.bind(1, m.id)
        .bind(2, m.case_id)
        .bind_static(3, to_string(m.visibility))
        .bind_static(4, m.author)
        .bind_static(5, m.body)
        .bind(6, to_micros(m.at));
    if (auto s = put.run(); !s) return s;
  }
  if (!change.client_link_hash.empty()) {
    auto& link = db.cached("INSERT INTO client_links(case_id, nonce, token_hash, created_at) VALUES (?1,?2,?3,?4)");
    link.bind(1, c.id)
        .bind(2, change.client_link_nonce)
        .bind(3, change.client_link_hash)
        .bind(4, to_micros(c.updated_at));
    if (auto s = link.run(); !s) return s;
  }
  if (change.clock_state) {
    auto bind = [&](Statement& s) { s.bind(1, c.id).bind_static(2, *change.clock_state); };
    if (auto s = update_or_insert(db, "UPDATE case_clocks SET state = ?2 WHERE case_id = ?1",
                                  "INSERT INTO case_clocks(case_id, state) VALUES (?1, ?2)", bind);
        !s)
      return s;
  }
  if (change.wake == Change::Wake::kSet) {
    auto bind = [&](Statement& s) { s.bind(1, c.id).bind(2, to_micros(change.wake_at)); };
    if (auto s = update_or_insert(db, "UPDATE case_wakes SET wake_at = ?2 WHERE case_id = ?1",
                                  "INSERT INTO case_wakes(case_id, wake_at) VALUES (?1, ?2)", bind);
        !s)
      return s;
  } else if (change.wake == Change::Wake::kClear && change.expected_version >= 0) {
    auto& drop = db.cached("DELETE FROM case_wakes WHERE case_id = ?1");
    drop.bind(1, c.id);
    if (auto s = drop.run(); !s) return s;
  }
  Time at = change.events.empty() ? c.updated_at : change.events.back().at;
  for (const auto& n : change.notifications) {
    // A web hook is owed to each live subscription to the event's type: one outbox row each.
    if (n.channel == NotificationDraft::Channel::kWebhook) {
      if (subscriptions.empty()) continue;
      const Event* event = nullptr;
      for (const auto& e : change.events)
        if (e.seq == n.event_seq) event = &e;
      if (!event) continue;
      for (const auto& sub : subscriptions) {
        if (!subscribed(sub, *event)) continue;
        auto& put = db.cached(
            "INSERT INTO notifications(case_id, event_seq, channel, audience, recipient, recipient_name, template, "
            "next_attempt_at, created_at, subscription_id) VALUES (?1,?2,'webhook','subscribers',?3,?4,?5,?6,?6,?7)");
        put.bind(1, c.id)
            .bind(2, n.event_seq)
            .bind(3, "wh-" + std::to_string(sub.id))
            .bind_static(4, sub.url)
            .bind_static(5, event->type)
            .bind(6, to_micros(event->at))
            .bind(7, sub.id);
        if (auto s = put.run(); !s) return s;
      }
      continue;
    }
    auto& put = db.cached(
        "INSERT INTO notifications(case_id, event_seq, channel, audience, recipient, recipient_name, template, "
        "next_attempt_at, created_at) VALUES (?1,?2,'email',?3,?4,?5,?6,?7,?7)");
    put.bind(1, c.id)
        .bind(2, n.event_seq)
        .bind_static(3, n.audience)
        .bind_static(4, n.recipient)
        .bind_static(5, n.recipient_name)
        .bind_static(6, n.template_name)
        .bind(7, to_micros(at));
    if (auto s = put.run(); !s) return s;
  }
  // Everything is written: the summaries follow the rows, old contributions out, new ones in.
  summaries.case_written(before ? &before->record : nullptr, c);
  for (std::size_t i = 0; i < change.commitments.size(); ++i)
    summaries.commitment_written(old_commitments[i], change.commitments[i]);
  return Status::success();
}

// Why a group is refused when its summaries' deltas could not be written.
Error summaries_failure(const Error& error) {
  return error.code == ErrorCode::kUnavailable
             ? error
             : Error::unavailable("the report summaries could not be written: " + error.detail);
}

// Merges `changed` rows into `rows`, both sorted by id: a row with the same id is replaced.
template <typename Row>
void merge_by_id(std::vector<Row>& rows, const std::vector<Row>& changed) {
  for (const auto& row : changed) {
    auto at = lower_bound_id(rows, row.id);
    if (at != rows.end() && at->id == row.id)
      *at = row;
    else
      rows.insert(at, row);
  }
}

// The snapshot after `change`, from the one before: what load_snapshot would now read.
void apply_change(CaseSnapshot& snapshot, const Change& change) {
  snapshot.record = change.after;
  if (change.clock_state) {
    snapshot.clock_state = *change.clock_state;
    snapshot.clock_fold = change.clock_fold;
  }
  merge_by_id(snapshot.commitments, change.commitments);
  merge_by_id(snapshot.redress, change.redress);
}

// The same, as a new snapshot: `before` is left as it is. Copies all but the case record, which
// the change replaces.
CaseSnapshot changed_snapshot(const CaseSnapshot& before, const Change& change) {
  CaseSnapshot after{change.after, before.commitments, before.redress,
                     change.clock_state ? *change.clock_state : before.clock_state,
                     change.clock_state ? change.clock_fold : before.clock_fold};
  merge_by_id(after.commitments, change.commitments);
  merge_by_id(after.redress, change.redress);
  return after;
}

}  // namespace

const std::vector<Subscription>& SqliteStore::live_subscriptions() {
  if (subscriptions_stale_.exchange(false)) {
    live_subscriptions_.clear();
    auto& list = writer_connection_->cached(
        "SELECT id, url, event_types FROM webhook_subscriptions WHERE disabled_at IS NULL ORDER BY id");
    while (list.step()) {
      Subscription sub;
      sub.id = list.integer(0);
      sub.url = list.text(1);
      boost::system::error_code ec;
      auto types = boost::json::parse(list.text(2), ec);
      if (!ec && types.is_array())
        for (const auto& t : types.get_array())
          if (t.is_string()) sub.event_types.emplace_back(t.get_string());
      live_subscriptions_.push_back(std::move(sub));
    }
    if (!list.status()) subscriptions_stale_ = true;  // try again next time
    list.reset();
  }
  return live_subscriptions_;
}

void SqliteStore::remember(const std::string& reference, CaseSnapshot snapshot) {
  if (options_.snapshot_cache == 0) return;
  auto kept = std::make_shared<CaseSnapshot>(std::move(snapshot));
  std::lock_guard lock(snapshots_mutex_);
  if (snapshots_.size() >= options_.snapshot_cache) snapshots_.erase(snapshots_.begin());
  snapshots_.insert_or_assign(reference, std::move(kept));
}

void SqliteStore::keep_changed(std::shared_ptr<const CaseSnapshot>& kept, const Change& change) {
  // Never in place, even when nobody else seems to hold it: use_count() is a relaxed read, so it
  // would not order a planning thread's last reads before these writes.
  auto after = std::make_shared<const CaseSnapshot>(changed_snapshot(*kept, change));
  std::lock_guard lock(snapshots_mutex_);
  kept = std::move(after);
}

void SqliteStore::forget_snapshots() {
  std::lock_guard lock(snapshots_mutex_);
  snapshots_.clear();
}

void SqliteStore::forget_id_blocks() {
  std::lock_guard lock(ids_mutex_);
  id_blocks_.clear();
}

std::shared_ptr<const CaseSnapshot> SqliteStore::kept_snapshot(const std::string& reference) {
  std::lock_guard lock(snapshots_mutex_);
  auto kept = snapshots_.find(reference);
  if (kept == snapshots_.end()) return nullptr;
  return kept->second;
}

std::unique_ptr<AheadContext> SqliteStore::ahead_context() { return std::make_unique<AheadPlanContext>(*this); }

std::optional<std::int64_t> SqliteStore::take_ahead_id(WriteContext::IdKind kind) {
  std::lock_guard lock(ids_mutex_);
  auto ids = id_blocks_.find(sequence_name(kind));
  if (ids == id_blocks_.end() || !ids->second.committed || ids->second.next >= ids->second.end) return std::nullopt;
  return ids->second.next++;
}

// Runs one work item inside the open transaction. The caller rolls back to the item's savepoint
// when this fails.
Result<Committed> SqliteStore::run_work(WorkItem& item, WriteContext& context) {
  Connection& db = *writer_connection_;
  if (item.reference.empty()) {
    if (!item.idempotency_key.empty()) {
      auto& find = db.cached(
          "SELECT digest, (SELECT reference FROM cases WHERE id = case_id) FROM idempotency_keys WHERE key = ?1");
      find.bind(1, item.idempotency_key);
      if (find.step()) {
        std::string digest = find.text(0);
        std::string reference = find.text(1);
        find.reset();
        if (digest != item.request_digest)
          return Error::conflict("the Idempotency-Key was used before with a different request");
        auto snapshot = load_snapshot(db, reference);
        if (!snapshot) return snapshot.error();
        Committed replay;
        replay.change.after = std::move(snapshot->record);
        replay.change.commitments = std::move(snapshot->commitments);
        replay.change.redress = std::move(snapshot->redress);
        replay.replayed = true;
        return replay;
      }
      if (!find.status()) return find.status().error();
    }
    auto change = item.plan(nullptr, context);
    if (!change) return change.error();
    if (auto s = persist(db, *change, nullptr, live_subscriptions(), item_summaries_); !s) return s.error();
    if (!item.idempotency_key.empty()) {
      auto& remember = db.cached("INSERT INTO idempotency_keys(key, digest, case_id, created_at) VALUES (?1,?2,?3,?4)");
      remember.bind(1, item.idempotency_key)
          .bind(2, item.request_digest)
          .bind(3, change->after.id)
          .bind(4, to_micros(change->after.received_at));
      if (auto s = remember.run(); !s) return s.error();
    }
    CaseSnapshot created;
    apply_change(created, *change);
    remember(change->after.reference, std::move(created));
    return Committed{std::move(change).value(), false};
  }

  // The cached snapshot first: the plan made on it (ahead, or now) is only written if the
  // version-checked UPDATE finds the case still at the cached version.
  if (auto cached = snapshots_.find(item.reference); cached != snapshots_.end()) {
    std::optional<Change> ahead;
    if (item.ahead) {
      ahead_plans_.fetch_add(1, std::memory_order_relaxed);
      if (item.ahead->snapshot == cached->second) {
        ahead = std::move(item.ahead->change);
        ahead_written_.fetch_add(1, std::memory_order_relaxed);
      }
      item.ahead.reset();
    }
    Result<Change> change = ahead ? Result<Change>(std::move(*ahead)) : item.plan(cached->second.get(), context);
    if (change) {
      Status written = persist(db, *change, cached->second.get(), live_subscriptions(), item_summaries_);
      if (written) {
        keep_changed(cached->second, *change);
        return Committed{std::move(change).value(), false};
      }
      // Anything but a stale UPDATE (which wrote nothing) is this item's failure.
      if (written.error().code != ErrorCode::kStaleVersion) {
        std::lock_guard lock(snapshots_mutex_);
        snapshots_.erase(cached);
        return written.error();
      }
    }
    // Stale, or refused: forget the entry and decide again on the case as stored.
    std::lock_guard lock(snapshots_mutex_);
    snapshots_.erase(cached);
  } else if (item.ahead) {
    ahead_plans_.fetch_add(1, std::memory_order_relaxed);
    item.ahead.reset();
  }
  auto snapshot = load_snapshot(db, item.reference);
  if (!snapshot) return snapshot.error();
  auto change = item.plan(&*snapshot, context);
  if (!change) return change.error();
  if (auto s = persist(db, *change, &*snapshot, live_subscriptions(), item_summaries_); !s) return s.error();
  apply_change(*snapshot, *change);
  remember(item.reference, std::move(snapshot).value());
  return Committed{std::move(change).value(), false};
}

void SqliteStore::run_batch(std::vector<QueueItem>& batch) {
  // Items normally run without savepoints: most failures (refusals, stale versions) happen before
  // the item writes anything, and a savepoint per item costs a statement each way plus a copy of
  // every page the item touches. When an item fails after writing, the whole transaction is rolled
  // back and the batch is run again with a savepoint per item.
  const auto began = std::chrono::steady_clock::now();
  for (const auto& item : batch) queue_wait_.observe(std::chrono::duration<double>(began - submitted_at(item)).count());
  if (auto failed = syncing_ ? sync_failure() : std::nullopt)
    refuse_batch(batch, *failed);
  else if (!run_batch_pass(batch, false))
    (void)run_batch_pass(batch, true);
  group_time_.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count());
}

bool SqliteStore::run_batch_pass(std::vector<QueueItem>& batch, bool savepoints) {
  Connection& db = *writer_connection_;
  std::vector<std::optional<Result<Committed>>> results(batch.size());
  std::vector<Status> admin_results(batch.size());

  Status began = db.cached("BEGIN IMMEDIATE").run();
  if (!began) {
    refuse_batch(batch, began.error());
    return true;
  }
  const std::int64_t changes_at_begin = sqlite3_total_changes64(db.handle());
  WriterContext context(*this, db);
  batch_summaries_.clear();
  for (std::size_t i = 0; i < batch.size(); ++i) {
    // Administration (a summaries rebuild, say) sees the summaries as the items before it left
    // them: their deltas are written first, outside its savepoint.
    if (std::holds_alternative<AdminItem>(batch[i]) && !batch_summaries_.empty()) {
      if (Status summed = batch_summaries_.apply(db); !summed) {
        refuse_batch(batch, summaries_failure(summed.error()));
        return true;
      }
      batch_summaries_.clear();
    }
    if (savepoints) (void)db.cached("SAVEPOINT item").run();
    context.start_item();
    item_summaries_.clear();
    std::int64_t changes_before = sqlite3_total_changes64(db.handle());
    bool ok = false;
    bool wrote = true;  // whether a failure may have left writes of this item behind
    try {
      if (auto* work = std::get_if<WorkItem>(&batch[i])) {
        results[i] = run_work(*work, context);
        ok = (*results[i]).ok();
        // Failed statements undo themselves; reserved ids are only gaps. A reference is rolled
        // back so that references stay gapless.
        wrote =
            context.reference_taken || sqlite3_total_changes64(db.handle()) - changes_before > context.sequence_changes;
      } else {
        auto& admin = std::get<AdminItem>(batch[i]);
        if (admin.may_touch_cases) forget_snapshots();
        admin_results[i] = admin.work(db);
        ok = admin_results[i].ok();
      }
    } catch (const StorageFailure& e) {
      if (std::holds_alternative<WorkItem>(batch[i]))
        results[i] = e.error;
      else
        admin_results[i] = e.error;
    } catch (const std::exception& e) {  // a bug in a plan must not take the batch down
      spdlog::error("store: work item failed with an exception: {}", e.what());
      Error error = Error::internal(e.what());
      if (std::holds_alternative<WorkItem>(batch[i]))
        results[i] = error;
      else
        admin_results[i] = error;
    }
    // A storage failure (full disk, read-only database, I/O error) refuses the whole group: SQLite
    // may have rolled the whole transaction back already (it may, on SQLITE_FULL or SQLITE_IOERR),
    // and a later SAVEPOINT would then open a new transaction without the items before this one.
    if (!ok) {
      const Error& error =
          std::holds_alternative<WorkItem>(batch[i]) ? (*results[i]).error() : admin_results[i].error();
      if (error.code == ErrorCode::kUnavailable) {
        refuse_batch(batch, error);
        return true;
      }
      if (sqlite3_get_autocommit(db.handle())) {
        refuse_batch(batch,
                     Error::unavailable("the write transaction was rolled back by the database: " + error.detail));
        return true;
      }
    }
    // Only an item that stands counts in the summaries.
    if (ok) batch_summaries_.merge(item_summaries_);
    if (!savepoints) {
      if (!ok && wrote) {
        (void)db.exec("ROLLBACK");
        forget_id_blocks();
        forget_snapshots();
        batch_summaries_.clear();
        return false;
      }
      continue;
    }
    if (!ok) {
      (void)db.cached("ROLLBACK TO item").run();
      // What the item wrote is undone, ids reserved in `sequences` included: forget the blocks in
      // memory (an unused block is only a gap) and the snapshots the item may have cached.
      forget_id_blocks();
      forget_snapshots();
    }
    (void)db.cached("RELEASE item").run();
  }
  // The summaries' deltas of the whole group, in the same transaction.
  if (Status summed = batch_summaries_.apply(db); !summed) {
    refuse_batch(batch, summaries_failure(summed.error()));
    return true;
  }
  batch_summaries_.clear();
  Status committed = db.cached("COMMIT").run();
  if (!committed) {
    // Every caller of the group gets the error; nothing of it is in the database.
    refuse_batch(batch, committed.error());
    return true;
  }
  {
    // The blocks reserved in this transaction are committed: plans made ahead may take from them.
    std::lock_guard lock(ids_mutex_);
    for (auto& [name, ids] : id_blocks_) ids.committed = true;
  }
  // Only a commit that wrote shows that writes work again: an empty one succeeds on any disk.
  const bool wrote = sqlite3_total_changes64(db.handle()) > changes_at_begin;
  if (wrote) health_.succeeded();
  if (syncing_) {
    // Answered once the WAL is on disk (syncer_loop); the writer goes on with the next group.
    std::vector<Answer> answers(batch.size());
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (auto* work = std::get_if<WorkItem>(&batch[i])) {
        answers[i].work_done = std::move(work->done);
        answers[i].work_result = std::move(*results[i]);
      } else {
        answers[i].admin_done = std::move(std::get<AdminItem>(batch[i]).done);
        answers[i].admin_result = admin_results[i];
      }
      answers[i].group_wrote = wrote;
      answers[i].submitted_at = submitted_at(batch[i]);
    }
    {
      std::lock_guard lock(sync_mutex_);
      for (auto& answer : answers) sync_queue_.push_back(std::move(answer));
    }
    sync_wanted_.notify_one();
    return true;
  }
  for (std::size_t i = 0; i < batch.size(); ++i) {
    answered(submitted_at(batch[i]));
    if (auto* work = std::get_if<WorkItem>(&batch[i]))
      work->done(std::move(*results[i]));
    else
      std::get<AdminItem>(batch[i]).done(admin_results[i]);
  }
  return true;
}

void SqliteStore::refuse_batch(std::vector<QueueItem>& batch, const Error& error) {
  Connection& db = *writer_connection_;
  if (!sqlite3_get_autocommit(db.handle())) (void)db.exec("ROLLBACK");
  // Ids reserved and snapshots cached in the rolled-back transaction are forgotten with it.
  forget_id_blocks();
  forget_snapshots();
  batch_summaries_.clear();
  subscriptions_stale_ = true;
  health_.failed(error, batch.size());
  for (auto& item : batch) {
    answered(submitted_at(item));
    if (auto* work = std::get_if<WorkItem>(&item))
      work->done(error);
    else
      std::get<AdminItem>(item).done(error);
  }
}

// ---- readers -----------------------------------------------------------------------------------

Result<CaseSnapshot> SqliteStore::load_case(const std::string& reference) {
  return with_reader([&](Connection& db) { return load_snapshot(db, reference); });
}

Result<std::vector<Event>> SqliteStore::case_events(const std::string& reference) {
  return with_reader([&](Connection& db) -> Result<std::vector<Event>> {
    auto& find = db.cached("SELECT id FROM cases WHERE reference = ?1");
    find.bind(1, reference);
    if (!find.step()) return find.status().ok() ? Error::not_found("no case " + reference) : find.status().error();
    std::int64_t id = find.integer(0);
    find.reset();
    return select_events(db, id);
  });
}

Result<std::vector<Message>> SqliteStore::case_messages(const std::string& reference) {
  return with_reader([&](Connection& db) -> Result<std::vector<Message>> {
    auto& find = db.cached("SELECT id FROM cases WHERE reference = ?1");
    find.bind(1, reference);
    if (!find.step()) return find.status().ok() ? Error::not_found("no case " + reference) : find.status().error();
    std::int64_t id = find.integer(0);
    find.reset();
    return select_messages(db, id);
  });
}

Result<CasePage> SqliteStore::list_cases(const CaseFilter& filter, const std::string& cursor, int limit) {
  return with_reader([&](Connection& db) { return select_case_page(db, filter, cursor, limit, clock_.now()); });
}

Result<AuditReport> SqliteStore::verify_chains() {
  return with_reader([&](Connection& db) { return audit_chains(db); });
}

// ---- staff and tokens --------------------------------------------------------------------------

Result<Staff> SqliteStore::add_staff(const Staff& staff) {
  Staff added = staff;
  Status status = run_write([&](Connection& db) -> Status {
    if (select_staff(db, staff.email))
      return Error::conflict("a staff member with the email " + staff.email + " exists");
    WriterContext context(*this, db);
    added.id = "u-" + std::to_string(context.next("staff", 1));
    auto& insert =
        db.cached("INSERT INTO staff(id, name, email, role, team, active, created_at) VALUES (?1,?2,?3,?4,?5,?6,?7)");
    insert.bind(1, added.id)
        .bind(2, added.name)
        .bind(3, added.email)
        .bind(4, to_string(added.role))
        .bind(5, added.team)
        .bind(6, added.active ? 1 : 0)
        .bind(7, to_micros(clock_.now()));
    return insert.run();
  });
  if (!status) return status.error();
  return added;
}

Result<Staff> SqliteStore::find_staff(const std::string& id_or_email) {
  return with_reader([&](Connection& db) -> Result<Staff> {
    auto staff = select_staff(db, id_or_email);
    if (!staff) return Error::not_found("no staff member " + id_or_email);
    return *staff;
  });
}

Result<std::vector<Staff>> SqliteStore::list_staff() {
  return with_reader([&](Connection& db) -> Result<std::vector<Staff>> {
    std::vector<Staff> all;
    auto& list =
        db.cached("SELECT id, name, email, role, team, active FROM staff ORDER BY CAST(substr(id, 3) AS INTEGER)");
    while (list.step()) all.push_back(read_staff(list, 0));
    if (!list.status()) return list.status().error();
    return all;
  });
}

Status SqliteStore::add_token(const std::string& staff_id, const std::string& token_hash, const std::string& label) {
  return run_write([&](Connection& db) -> Status {
    auto& insert = db.cached("INSERT INTO tokens(hash, staff_id, label, created_at) VALUES (?1,?2,?3,?4)");
    insert.bind(1, token_hash).bind(2, staff_id).bind(3, label).bind(4, to_micros(clock_.now()));
    return insert.run();
  });
}

Result<Staff> SqliteStore::staff_for_token(const std::string& token_hash) {
  return with_reader([&](Connection& db) -> Result<Staff> {
    auto& find = db.cached(
        "SELECT s.id, s.name, s.email, s.role, s.team, s.active FROM tokens t JOIN staff s ON s.id = t.staff_id "
        "WHERE t.hash = ?1 AND t.revoked_at IS NULL AND s.active = 1");
    find.bind(1, token_hash);
    if (!find.step()) return find.status().ok() ? Error::not_found("unknown or revoked token") : find.status().error();
    Staff staff = read_staff(find, 0);
    find.reset();
    return staff;
  });
}

}  // namespace redress::sqlite
