#include "adapters/postgres/write_pipeline.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <future>
#include <stdexcept>

#include "adapters/postgres/rows.h"
#include "engine/return_ledger.h"

namespace redress::postgres {

namespace {

// A read or write a WriteContext could not make (its interface has no Result): carries the
// store's Error, caught around each item.
struct StorageFailure : std::runtime_error {
  explicit StorageFailure(Error e) : std::runtime_error(e.detail), error(std::move(e)) {}
  Error error;
};

// The WriteContext of the writer's plans: ids from the database's sequences (never reused, in
// increasing order, so a later commitment of a case always has the greater id), gapless case
// references from the `sequences` table inside the transaction, staff and history on the writer's
// connection.
class WriterContext final : public WriteContext {
 public:
  explicit WriterContext(Connection& db) : db_(db) {}

  std::int64_t next_id(IdKind kind) override {
    const char* sql = kind == IdKind::kCase         ? "SELECT nextval('case_ids')"
                      : kind == IdKind::kCommitment ? "SELECT nextval('commitment_ids')"
                      : kind == IdKind::kRedress    ? "SELECT nextval('redress_ids')"
                                                    : "SELECT nextval('message_ids')";
    return value(db_.query(sql));
  }

  std::string next_reference(int year) override {
    // The row stays locked until the commit: creations in one year take turns, and a rolled-back
    // one leaves no gap.
    reference_taken = true;
    std::int64_t n =
        value(db_.query("INSERT INTO sequences(name, value) VALUES ($1, 1) ON CONFLICT (name) DO UPDATE SET value = "
                        "sequences.value + 1 RETURNING value",
                        Params().add("reference-" + std::to_string(year))));
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "CMP-%04d-%06lld", year, static_cast<long long>(n));
    return buffer;
  }

  std::optional<Staff> find_staff(const std::string& id_or_email) override {
    if (id_or_email.empty()) return std::nullopt;
    return or_throw(select_staff(db_, id_or_email));
  }
  std::vector<Staff> staff_with_roles(const std::vector<Role>& roles, const std::vector<std::string>& teams) override {
    return or_throw(select_staff_with_roles(db_, roles, teams));
  }
  std::vector<Event> case_history(std::int64_t case_id) override { return or_throw(select_events(db_, case_id)); }

  bool reference_taken = false;  // a reference was handed out: a failed item must be rolled back
  bool rows_written = false;     // the item's rows were sent: a failed item must be rolled back

 private:
  template <typename T>
  static T or_throw(Result<T> result) {
    if (!result) throw StorageFailure(result.error());
    return std::move(result).value();
  }
  static std::int64_t value(Result<Rows> rows) {
    if (!rows) throw StorageFailure(rows.error());
    if (rows->empty()) throw StorageFailure(Error::internal("no value from the database"));
    return rows->integer(0, 0);
  }

  Connection& db_;
};

}  // namespace

Result<std::unique_ptr<WritePipeline>> WritePipeline::start(const Options& options) {
  auto connection = Connection::open(options.url);
  if (!connection) return connection.error();
  return std::unique_ptr<WritePipeline>(new WritePipeline(options, std::move(connection).value()));
}

WritePipeline::WritePipeline(const Options& options, std::unique_ptr<Connection> connection)
    : options_(options), connection_(std::move(connection)) {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "redress-pgwrite");
    run();
  });
}

WritePipeline::~WritePipeline() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  work_available_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void WritePipeline::submit(WorkItem item) {
  item.submitted_at = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(Queued{std::move(item), std::nullopt});
    ++submitted_;
  }
  work_available_.notify_one();
}

Status WritePipeline::run_write(std::function<Status(Connection&)> work) {
  std::promise<Status> promise;
  auto future = promise.get_future();
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(
        Queued{std::nullopt, AdminItem{std::move(work), [&promise](Status s) { promise.set_value(std::move(s)); }}});
    ++submitted_;
  }
  work_available_.notify_one();
  return future.get();
}

void WritePipeline::flush() {
  std::unique_lock lock(mutex_);
  const std::int64_t target = submitted_;
  answered_.wait(lock, [&] { return finished_ >= target; });
}

std::optional<std::string> WritePipeline::failure() const {
  std::lock_guard lock(mutex_);
  return failure_;
}

std::int64_t WritePipeline::groups() const {
  std::lock_guard lock(mutex_);
  return groups_;
}

std::int64_t WritePipeline::retried_groups() const {
  std::lock_guard lock(mutex_);
  return retried_groups_;
}

void WritePipeline::run() {
  std::vector<Queued> group;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      work_available_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() && stopping_) return;
      while (!queue_.empty() && group.size() < options_.max_batch) {
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      ++groups_;
    }
    run_group(group);
    {
      std::lock_guard lock(mutex_);
      finished_ += static_cast<std::int64_t>(group.size());
    }
    answered_.notify_all();
    group.clear();
  }
}

void WritePipeline::run_group(std::vector<Queued>& group) {
  for (int attempt = 0; attempt <= options_.retries; ++attempt) {
    if (!connection_->healthy()) {
      if (Status s = connection_->reconnect(); !s) {
        refuse(group, s.error());
        return;
      }
    }
    Pass pass = run_pass(group, Savepoints::kNone);
    if (pass == Pass::kRunAgain) pass = run_pass(group, Savepoints::kPerItem);
    if (pass == Pass::kAnswered) return;
    std::lock_guard lock(mutex_);
    ++retried_groups_;
  }
  refuse(group, Error::unavailable("the write met concurrent writes " + std::to_string(options_.retries + 1) +
                                   " times in a row; try again"));
}

Result<Committed> WritePipeline::run_work(WorkItem& item, WriteContext& context) {
  Connection& db = *connection_;
  item.ahead.reset();  // this store keeps no snapshots: every plan is made under the row lock
  if (item.reference.empty()) {
    if (!item.idempotency_key.empty()) {
      auto found = db.query(
          "SELECT k.digest, c.reference FROM idempotency_keys k JOIN cases c ON c.id = k.case_id WHERE k.key = $1",
          Params().add(item.idempotency_key));
      if (!found) return found.error();
      if (!found->empty()) {
        if (found->text(0, 0) != item.request_digest)
          return Error::conflict("the Idempotency-Key was used before with a different request");
        auto snapshot = load_snapshot(db, found->text(0, 1), RowLock::kNone);
        if (!snapshot) return snapshot.error();
        Committed replay;
        replay.change.after = std::move(snapshot->record);
        replay.change.commitments = std::move(snapshot->commitments);
        replay.change.redress = std::move(snapshot->redress);
        replay.replayed = true;
        return replay;
      }
    }
    auto change = item.plan(nullptr, context);
    if (!change) return change.error();
    static_cast<WriterContext&>(context).rows_written = true;  // whatever happens next
    if (auto s = rows_.write(db, *change); !s) return s.error();
    if (!item.idempotency_key.empty()) {
      auto remembered = db.query("INSERT INTO idempotency_keys(key, digest, case_id, created_at) VALUES ($1,$2,$3,$4)",
                                 Params()
                                     .add(item.idempotency_key)
                                     .add(item.request_digest)
                                     .add(change->after.id)
                                     .add(to_micros(change->after.received_at)));
      if (!remembered) return remembered.error();
    }
    return Committed{std::move(change).value(), false};
  }
  auto snapshot = load_snapshot(db, item.reference, RowLock::kForUpdate);
  if (!snapshot) return snapshot.error();
  auto change = item.plan(&*snapshot, context);
  if (!change) return change.error();
  static_cast<WriterContext&>(context).rows_written = true;  // whatever happens next
  if (auto s = rows_.write(db, *change); !s) return s.error();
  return Committed{std::move(change).value(), false};
}

WritePipeline::Pass WritePipeline::run_pass(std::vector<Queued>& group, Savepoints savepoints) {
  Connection& db = *connection_;
  std::vector<std::optional<Result<Committed>>> results(group.size());
  std::vector<Status> admin_results(group.size());
  rows_.transaction_began();
  auto transaction = Transaction::begin(db);
  if (!transaction) {
    if (db.last_failure() == Failure::kConnectionLost) return Pass::kRetry;
    refuse(group, transaction.error());
    return Pass::kAnswered;
  }
  for (std::size_t i = 0; i < group.size(); ++i) {
    if (savepoints == Savepoints::kPerItem) {
      if (Status s = db.execute("SAVEPOINT item"); !s)
        return db.healthy() ? (refuse(group, s.error()), Pass::kAnswered) : Pass::kRetry;
    }
    WriterContext context(db);
    std::optional<Error> error;
    try {
      if (group[i].work) {
        results[i] = run_work(*group[i].work, context);
        if (!(*results[i]).ok()) error = (*results[i]).error();
      } else {
        admin_results[i] = group[i].admin->work(db);
        if (!admin_results[i].ok()) error = admin_results[i].error();
      }
    } catch (const StorageFailure& e) {
      error = e.error;
    } catch (const std::exception& e) {  // a bug in a plan must not take the group down
      spdlog::error("store: work item failed with an exception: {}", e.what());
      error = Error::internal(e.what());
    }
    if (!error) {
      if (savepoints == Savepoints::kPerItem) {
        if (Status s = db.execute("RELEASE SAVEPOINT item"); !s) return db.healthy() ? Pass::kRunAgain : Pass::kRetry;
      }
      continue;
    }
    if (group[i].work)
      results[i] = *error;
    else
      admin_results[i] = *error;
    // Another transaction met this one, or the server went away: the whole group again.
    if (db.last_failure() == Failure::kRetryable || db.last_failure() == Failure::kConnectionLost || !db.healthy())
      return Pass::kRetry;
    // The database aborted the transaction, or the item wrote before it failed (an admin item may
    // have): its writes must go, the others' stay.
    const bool aborted = PQtransactionStatus(db.handle()) == PQTRANS_INERROR;
    const bool wrote = aborted || context.reference_taken || context.rows_written || !group[i].work;
    if (!wrote) {
      if (savepoints == Savepoints::kPerItem) (void)db.execute("RELEASE SAVEPOINT item");
      continue;
    }
    if (savepoints == Savepoints::kNone) return Pass::kRunAgain;
    if (Status s = db.execute("ROLLBACK TO SAVEPOINT item; RELEASE SAVEPOINT item"); !s)
      return db.healthy() ? (refuse(group, s.error()), Pass::kAnswered) : Pass::kRetry;
  }
  // The return ledger's entries of every item that stands (engine/return_ledger.h), added up and
  // written in key order: groups on two nodes lock the return_days rows they share in the same order.
  {
    std::vector<ReturnEntry> entries;
    for (std::size_t i = 0; i < group.size(); ++i)
      if (group[i].work && results[i] && results[i]->ok()) {
        const auto& more = (*results[i])->change.return_entries;
        entries.insert(entries.end(), more.begin(), more.end());
      }
    if (!entries.empty()) {
      Pipeline upserts(db);
      for (const auto& e : summed(std::move(entries)))
        upserts.add(
            "INSERT INTO return_days(day, workflow, measure, key, value) VALUES ($1,$2,$3,$4,$5) "
            "ON CONFLICT (day, workflow, measure, key) DO UPDATE SET value = return_days.value + excluded.value",
            Params().add(std::int64_t{e.day}).add(e.workflow).add(to_string(e.measure)).add(e.key).add(e.value));
      if (auto written = upserts.run(); !written) {
        if (db.last_failure() == Failure::kRetryable || db.last_failure() == Failure::kConnectionLost || !db.healthy())
          return Pass::kRetry;
        refuse(group, written.error());
        return Pass::kAnswered;
      }
    }
  }
  // Wake the sleeping schedulers and delivery workers of every node at the commit (listener.h):
  // the earliest wake time this group set, and whether it owes notifications. PostgreSQL delivers
  // a NOTIFY only if the transaction commits.
  std::optional<Time> earliest_wake;
  bool owes = false;
  for (std::size_t i = 0; i < group.size(); ++i) {
    if (!group[i].work || !results[i] || !results[i]->ok()) continue;
    const Change& change = (*results[i])->change;
    if (change.wake == Change::Wake::kSet && (!earliest_wake || change.wake_at < *earliest_wake))
      earliest_wake = change.wake_at;
    owes = owes || !change.notifications.empty();
  }
  if (earliest_wake || owes) {
    std::string payload = (earliest_wake ? "wake=" + std::to_string(to_micros(*earliest_wake)) : std::string()) +
                          (owes ? (earliest_wake ? ";outbox" : "outbox") : "");
    if (Status s = [&]() -> Status {
          auto notified = db.query("SELECT pg_notify('redress_wake', $1)", Params().add(payload));
          if (!notified) return notified.error();
          return Status::success();
        }();
        !s) {
      if (db.last_failure() == Failure::kConnectionLost || !db.healthy()) return Pass::kRetry;
      refuse(group, s.error());
      return Pass::kAnswered;
    }
  }
  Status committed = transaction->commit();
  if (!committed) {
    if (db.last_failure() == Failure::kRetryable) return Pass::kRetry;
    if (db.last_failure() == Failure::kConnectionLost || !db.healthy()) {
      // COMMIT was sent and no answer came: it may or may not have happened. Never acknowledged.
      refuse(group, Error::unavailable("the database connection was lost at COMMIT; the outcome is unknown: " +
                                       committed.error().detail));
      return Pass::kAnswered;
    }
    refuse(group, committed.error());
    return Pass::kAnswered;
  }
  {
    std::lock_guard lock(mutex_);
    failure_.reset();
  }
  for (std::size_t i = 0; i < group.size(); ++i) {
    if (group[i].work) {
      if (group[i].work->done) group[i].work->done(std::move(*results[i]));
    } else {
      group[i].admin->done(admin_results[i]);
    }
  }
  return Pass::kAnswered;
}

void WritePipeline::refuse(std::vector<Queued>& group, const Error& error) {
  if (connection_->healthy() && connection_->in_transaction()) (void)connection_->execute("ROLLBACK");
  if (error.code == ErrorCode::kUnavailable) {
    std::lock_guard lock(mutex_);
    failure_ = error.detail;
  }
  spdlog::warn("store: {} write(s) refused: {}", group.size(), error.detail);
  for (auto& queued : group) {
    if (queued.work) {
      if (queued.work->done) queued.work->done(error);
    } else {
      queued.admin->done(error);
    }
  }
}

}  // namespace redress::postgres
