#include "adapters/sqlite/write_pipeline.h"

#include <spdlog/spdlog.h>

#include <future>
#include <stdexcept>

#include "adapters/sqlite/rows.h"
#include "adapters/sqlite/store_threads.h"

namespace redress::sqlite {

namespace {

// Why a group is refused when its summaries' deltas could not be written.
Error summaries_failure(const Error& error) {
  return error.code == ErrorCode::kUnavailable
             ? error
             : Error::unavailable("the report summaries could not be written: " + error.detail);
}

}  // namespace

WritePipeline::WritePipeline(const Options& options, Connection& writer, SnapshotCache& cache, ReaderPool& readers,
                             WriteHealth& health)
    : options_(options),
      writer_(writer),
      cache_(cache),
      health_(health),
      checkpointer_(options.path, options.durability, options.checkpoint_pages, writer, readers) {
  if (options.durability == Durability::kFull) {
    // FULL durability without the commit waiting for the disk: the syncer syncs the WAL before any
    // answer; SQLite itself syncs at checkpoints, as NORMAL does.
    if (auto s = writer_.exec("PRAGMA synchronous = NORMAL"); !s)
      throw std::runtime_error("cannot configure the writer: " + s.error().detail);
    syncer_ = std::make_unique<WalSyncer>(
        WalSyncer::Options{options.path + "-wal", options.before_sync, options.sync_fault}, sync_time_, write_time_);
  }
  thread_ = start_named_thread("redress-writer", [this] { run(); });
}

WritePipeline::~WritePipeline() { stop(); }

void WritePipeline::stop() {
  stop_thread(mutex_, stopping_, work_available_, thread_);
  if (syncer_) syncer_->stop();  // after the writer's last group: the syncer answers it, then ends
  checkpointer_.stop();
}

void WritePipeline::enqueue(std::vector<QueueItem> items, Together together) {
  const auto now = std::chrono::steady_clock::now();
  for (auto& item : items) std::visit([now](auto& queued) { queued.submitted_at = now; }, item);
  {
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < items.size(); ++i) {
      queue_.push_back(std::move(items[i]));
      queue_with_next_.push_back(together == Together::kYes ? static_cast<std::uint32_t>(items.size() - 1 - i) : 0);
    }
  }
  work_available_.notify_one();
}

void WritePipeline::enqueue(QueueItem item) {
  std::vector<QueueItem> one;
  one.push_back(std::move(item));
  enqueue(std::move(one), Together::kNo);
}

void WritePipeline::submit(WorkItem item) { enqueue(std::move(item)); }

void WritePipeline::submit_together(std::vector<WorkItem> items) {
  for (std::size_t i = 0; i < items.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (items[i].reference == items[j].reference) {
        for (auto& item : items)
          if (item.done) item.done(Error::invalid("work submitted together names case " + items[i].reference + " twice"));
        return;
      }
  std::vector<QueueItem> queued;
  for (auto& item : items) queued.emplace_back(std::move(item));
  enqueue(std::move(queued), Together::kYes);
}

Status WritePipeline::run_write(std::function<Status(Connection&)> work, WriteScope scope) {
  std::promise<Status> promise;
  auto future = promise.get_future();
  enqueue(AdminItem{std::move(work), [&promise](Status s) { promise.set_value(std::move(s)); }, scope});
  return future.get();
}

void WritePipeline::flush() {
  (void)run_write([](Connection&) { return Status::success(); }, WriteScope::kNoCaseRows);
}

WritePipeline::Counters WritePipeline::counters() const {
  Counters counters;
  {
    std::lock_guard lock(mutex_);
    counters.batches = batches_;
    counters.items = items_;
  }
  counters.checkpoints = checkpointer_.counters();
  counters.syncs = syncer_ ? syncer_->syncs() : 0;
  counters.ahead_plans = ahead_plans_.load(std::memory_order_relaxed);
  counters.ahead_written = ahead_written_.load(std::memory_order_relaxed);
  return counters;
}

WriteStats WritePipeline::write_stats() const {
  WriteStats stats;
  {
    std::lock_guard lock(mutex_);
    stats.groups = batches_;
    stats.writes = items_;
    stats.queued = static_cast<std::int64_t>(queue_.size());
  }
  stats.syncs = syncer_ ? syncer_->syncs() : 0;
  stats.checkpoints = checkpointer_.counters().checkpoints;
  stats.queue_wait = queue_wait_.snapshot();
  stats.group = group_time_.snapshot();
  stats.sync = sync_time_.snapshot();
  stats.write = write_time_.snapshot();
  return stats;
}

std::chrono::steady_clock::time_point WritePipeline::submitted_at(const QueueItem& item) {
  return std::visit([](const auto& queued) { return queued.submitted_at; }, item);
}

void WritePipeline::answered(std::chrono::steady_clock::time_point submitted_at) {
  write_time_.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - submitted_at).count());
}

void WritePipeline::run() {
  std::vector<QueueItem> batch;
  batch.reserve(options_.max_batch);
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      if (queue_.empty() && !stopping_) {
        // Idle: checkpoint once what the last batches left in the WAL, then sleep until work.
        if (checkpointer_.wal_pages() > 0) {
          if (!work_available_.wait_for(lock, std::chrono::milliseconds(500),
                                        [&] { return stopping_ || !queue_.empty(); })) {
            lock.unlock();
            checkpointer_.maybe_checkpoint(WalCheckpointer::Queue::kIdle);
            continue;
          }
        } else {
          work_available_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        }
      }
      if (queue_.empty() && stopping_) return;
      // A unit of items that stand or fall together is never split, even past max_batch.
      batch_with_next_.clear();
      while (!queue_.empty() && (batch.size() < options_.max_batch || batch_with_next_.back() > 0)) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
        batch_with_next_.push_back(queue_with_next_.front());
        queue_with_next_.pop_front();
      }
      ++batches_;
      items_ += static_cast<std::int64_t>(batch.size());
    }
    run_batch(batch);
    batch.clear();
    checkpointer_.maybe_checkpoint(WalCheckpointer::Queue::kBusy);
  }
}

// Runs one work item inside the open transaction. The caller rolls back to the item's savepoint
// when this fails.
Result<Committed> WritePipeline::run_work(WorkItem& item, WriteContext& context) {
  Connection& db = writer_;
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
    if (auto s = rows_.write(db, *change, nullptr, item_summaries_); !s) return s.error();
    if (!item.idempotency_key.empty()) {
      auto& remember = db.cached("INSERT INTO idempotency_keys(key, digest, case_id, created_at) VALUES (?1,?2,?3,?4)");
      remember.bind(1, item.idempotency_key)
          .bind(2, item.request_digest)
          .bind(3, change->after.id)
          .bind(4, to_micros(change->after.received_at));
      if (auto s = remember.run(); !s) return s.error();
    }
    cache_.keep(change->after.reference, CaseSnapshot{}, *change);
    return Committed{std::move(change).value(), false};
  }

  // The kept snapshot first: the plan made on it (ahead, or now) is only written if the
  // version-checked UPDATE finds the case still at the kept version.
  if (SnapshotCache::Kept* kept = cache_.writer_entry(item.reference)) {
    std::optional<Change> ahead;
    if (item.ahead) {
      ahead_plans_.fetch_add(1, std::memory_order_relaxed);
      if (item.ahead->snapshot == *kept) {
        ahead = std::move(item.ahead->change);
        ahead_written_.fetch_add(1, std::memory_order_relaxed);
      }
      item.ahead.reset();
    }
    Result<Change> change = ahead ? Result<Change>(std::move(*ahead)) : item.plan(kept->get(), context);
    if (change) {
      Status written = rows_.write(db, *change, kept->get(), item_summaries_);
      if (written) {
        cache_.keep_changed(*kept, *change);
        return Committed{std::move(change).value(), false};
      }
      // Anything but a stale UPDATE (which wrote nothing) is this item's failure.
      if (written.error().code != ErrorCode::kStaleVersion) {
        cache_.forget(item.reference);
        return written.error();
      }
    }
    // Stale, or refused: forget the entry and decide again on the case as stored.
    cache_.forget(item.reference);
  } else if (item.ahead) {
    ahead_plans_.fetch_add(1, std::memory_order_relaxed);
    item.ahead.reset();
  }
  auto snapshot = load_snapshot(db, item.reference);
  if (!snapshot) return snapshot.error();
  auto change = item.plan(&*snapshot, context);
  if (!change) return change.error();
  if (auto s = rows_.write(db, *change, &*snapshot, item_summaries_); !s) return s.error();
  cache_.keep(item.reference, std::move(snapshot).value(), *change);
  return Committed{std::move(change).value(), false};
}

void WritePipeline::run_batch(std::vector<QueueItem>& batch) {
  // Items normally run without savepoints: most failures (refusals, stale versions) happen before
  // the item writes anything, and a savepoint per item costs a statement each way plus a copy of
  // every page the item touches. When an item fails after writing, the whole transaction is rolled
  // back and the batch is run again with a savepoint per item.
  const auto began = std::chrono::steady_clock::now();
  for (const auto& item : batch) queue_wait_.observe(std::chrono::duration<double>(began - submitted_at(item)).count());
  if (auto failed = syncer_ ? syncer_->failure() : std::nullopt)
    refuse_batch(batch, *failed);
  else if (run_batch_pass(batch, Savepoints::kNone) == Pass::kRunAgain)
    (void)run_batch_pass(batch, Savepoints::kPerItem);
  group_time_.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count());
}

WritePipeline::Pass WritePipeline::run_batch_pass(std::vector<QueueItem>& batch, Savepoints savepoints) {
  Connection& db = writer_;
  std::vector<std::optional<Result<Committed>>> results(batch.size());
  std::vector<Status> admin_results(batch.size());

  Status began = db.cached("BEGIN IMMEDIATE").run();
  if (!began) {
    refuse_batch(batch, began.error());
    return Pass::kAnswered;
  }
  const std::int64_t changes_at_begin = sqlite3_total_changes64(db.handle());
  WriterContext context(cache_, db);
  batch_summaries_.clear();
  // Item by item, or a unit of items that stand or fall together (submit_together) as one: its
  // items run under one savepoint, and when one fails, every item of the unit fails with it.
  for (std::size_t first = 0; first < batch.size();) {
    const std::size_t end = first + 1 + batch_with_next_[first];
    // Administration that may touch cases (a summaries rebuild, say) sees the summaries as the
    // items before it left them: their deltas are written first, outside its savepoint. Work on
    // other tables (outbox claims, leases, sessions, inbound records) neither reads nor writes
    // them, and so leaves the deltas to the one write at the group's end.
    if (const auto* admin = std::get_if<AdminItem>(&batch[first]);
        admin && admin->scope == WriteScope::kMayTouchCases && !batch_summaries_.empty()) {
      if (Status summed = apply_summaries(db, batch_summaries_); !summed) {
        refuse_batch(batch, summaries_failure(summed.error()));
        return Pass::kAnswered;
      }
      batch_summaries_.clear();
    }
    if (savepoints == Savepoints::kPerItem) (void)db.cached("SAVEPOINT item").run();
    SummaryDeltas unit_summaries;
    bool ok = true;
    bool wrote = false;  // whether a failure may have left writes of this unit behind
    std::optional<Error> failure;
    for (std::size_t i = first; i < end && ok; ++i) {
      context.start_item();
      item_summaries_.clear();
      std::int64_t changes_before = sqlite3_total_changes64(db.handle());
      bool item_wrote = true;
      try {
        if (auto* work = std::get_if<WorkItem>(&batch[i])) {
          results[i] = run_work(*work, context);
          ok = (*results[i]).ok();
          // Failed statements undo themselves; reserved ids are only gaps. A reference is rolled
          // back so that references stay gapless.
          item_wrote = context.reference_taken ||
                       sqlite3_total_changes64(db.handle()) - changes_before > context.sequence_changes;
        } else {
          auto& admin = std::get<AdminItem>(batch[i]);
          if (admin.scope == WriteScope::kMayTouchCases) cache_.forget_snapshots();
          admin_results[i] = admin.work(db);
          ok = admin_results[i].ok();
        }
      } catch (const StorageFailure& e) {
        ok = false;
        if (std::holds_alternative<WorkItem>(batch[i]))
          results[i] = e.error;
        else
          admin_results[i] = e.error;
      } catch (const std::exception& e) {  // a bug in a plan must not take the batch down
        spdlog::error("store: work item failed with an exception: {}", e.what());
        ok = false;
        Error error = Error::internal(e.what());
        if (std::holds_alternative<WorkItem>(batch[i]))
          results[i] = error;
        else
          admin_results[i] = error;
      }
      // An item that stood wrote its rows; one that failed may have.
      if (ok)
        wrote = true;
      else
        wrote = wrote || item_wrote;
      if (ok)
        unit_summaries.merge(item_summaries_);
      else
        failure = std::holds_alternative<WorkItem>(batch[i]) ? (*results[i]).error() : admin_results[i].error();
    }
    if (!ok) {
      // Every item of a unit fails with the one that failed, the ones before it included.
      for (std::size_t i = first; i < end; ++i) {
        if (std::holds_alternative<WorkItem>(batch[i]))
          results[i] = *failure;
        else
          admin_results[i] = *failure;
      }
      // A storage failure (full disk, read-only database, I/O error) refuses the whole group:
      // SQLite may have rolled the whole transaction back already (it may, on SQLITE_FULL or
      // SQLITE_IOERR), and a later SAVEPOINT would then open a new transaction without the items
      // before this one.
      if (failure->code == ErrorCode::kUnavailable) {
        refuse_batch(batch, *failure);
        return Pass::kAnswered;
      }
      if (sqlite3_get_autocommit(db.handle())) {
        refuse_batch(batch,
                     Error::unavailable("the write transaction was rolled back by the database: " + failure->detail));
        return Pass::kAnswered;
      }
    }
    // Only a unit that stands counts in the summaries.
    if (ok) batch_summaries_.merge(unit_summaries);
    first = end;
    if (savepoints == Savepoints::kNone) {
      if (!ok && wrote) {
        (void)db.exec("ROLLBACK");
        cache_.forget_id_blocks();
        cache_.forget_snapshots();
        batch_summaries_.clear();
        return Pass::kRunAgain;
      }
      continue;
    }
    if (!ok) {
      (void)db.cached("ROLLBACK TO item").run();
      // What the unit wrote is undone, ids reserved in `sequences` included: forget the blocks in
      // memory (an unused block is only a gap) and the snapshots the unit may have kept.
      cache_.forget_id_blocks();
      cache_.forget_snapshots();
    }
    (void)db.cached("RELEASE item").run();
  }
  // The summaries' deltas of the whole group, in the same transaction.
  if (Status summed = apply_summaries(db, batch_summaries_); !summed) {
    refuse_batch(batch, summaries_failure(summed.error()));
    return Pass::kAnswered;
  }
  batch_summaries_.clear();
  Status committed = db.cached("COMMIT").run();
  if (!committed) {
    // Every caller of the group gets the error; nothing of it is in the database.
    refuse_batch(batch, committed.error());
    return Pass::kAnswered;
  }
  // The blocks reserved in this transaction are committed: plans made ahead may take from them.
  cache_.commit_id_blocks();
  // Only a commit that wrote shows that writes work again: an empty one succeeds on any disk.
  const GroupWrote wrote = sqlite3_total_changes64(db.handle()) > changes_at_begin ? GroupWrote::kYes : GroupWrote::kNo;
  if (wrote == GroupWrote::kYes) health_.succeeded();
  answer_committed(batch, results, admin_results, wrote);
  return Pass::kAnswered;
}

void WritePipeline::answer_committed(std::vector<QueueItem>& batch,
                                     std::vector<std::optional<Result<Committed>>>& results,
                                     std::vector<Status>& admin_results, GroupWrote wrote) {
  if (syncer_) {
    // Answered once the WAL is on disk (wal_syncer.h); the writer goes on with the next group.
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
    syncer_->hand_over(std::move(answers));
    return;
  }
  for (std::size_t i = 0; i < batch.size(); ++i) {
    answered(submitted_at(batch[i]));
    if (auto* work = std::get_if<WorkItem>(&batch[i]))
      work->done(std::move(*results[i]));
    else
      std::get<AdminItem>(batch[i]).done(admin_results[i]);
  }
}

void WritePipeline::refuse_batch(std::vector<QueueItem>& batch, const Error& error) {
  if (!sqlite3_get_autocommit(writer_.handle())) (void)writer_.exec("ROLLBACK");
  // Ids reserved and snapshots kept in the rolled-back transaction are forgotten with it.
  cache_.forget_id_blocks();
  cache_.forget_snapshots();
  batch_summaries_.clear();
  rows_.subscriptions_changed();
  health_.failed(error, batch.size());
  for (auto& item : batch) {
    answered(submitted_at(item));
    if (auto* work = std::get_if<WorkItem>(&item))
      work->done(error);
    else
      std::get<AdminItem>(item).done(error);
  }
}

}  // namespace redress::sqlite
