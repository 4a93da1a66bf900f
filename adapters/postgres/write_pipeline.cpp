#include "adapters/postgres/write_pipeline.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <unordered_map>
#include <unordered_set>
#include <future>
#include <stdexcept>

#include "adapters/postgres/rows.h"
#include "adapters/summaries/summary_deltas.h"
#include "engine/return_ledger.h"

namespace redress::postgres {

namespace {

// A read or write a WriteContext could not make (its interface has no Result): carries the
// store's Error, caught around each item.
struct StorageFailure : std::runtime_error {
  explicit StorageFailure(Error e) : std::runtime_error(e.detail), error(std::move(e)) {}
  Error error;
};

// What a group's plans were handed out in the grouped pass (WritePipeline::run_grouped): ids
// taken from the sequences in batches, and case references reserved from the year's counter for
// all the group's creations at once. Only valid while the group's transaction holds the locks of
// every case it plans on (taken before the first batch): an id handed out later to another node
// for one of these cases comes after this group commits, so it is greater.
struct GroupAllotment {
  struct Reserved {
    std::int64_t next = 1;  // the next number to hand out
    std::int64_t last = 0;  // the last one reserved; next > last: none left
  };
  std::array<std::vector<std::int64_t>, 4> ids;  // per IdKind, descending: back() is the next
  std::map<int, Reserved> references;            // by year; the counter row stays locked until COMMIT
  std::size_t items_left = 0;                    // items of the group not planned yet, this one included
  std::size_t creations_left = 0;                // creations not planned yet, this one included
};

// The WriteContext of the writer's plans: ids from the database's sequences (never reused, in
// increasing order, so a later commitment of a case always has the greater id), gapless case
// references from the `sequences` table inside the transaction, staff and history on the writer's
// connection. With an allotment (the grouped pass) ids and references come from it, a batch per
// round trip; without, one round trip each.
class WriterContext final : public WriteContext {
 public:
  explicit WriterContext(Connection& db, GroupAllotment* allotment = nullptr) : db_(db), allotment_(allotment) {}

  std::int64_t next_id(IdKind kind) override {
    const char* sequence = kind == IdKind::kCase         ? "case_ids"
                           : kind == IdKind::kCommitment ? "commitment_ids"
                           : kind == IdKind::kRedress    ? "redress_ids"
                                                         : "message_ids";
    if (!allotment_) return value(db_.query(std::string("SELECT nextval('") + sequence + "')"));
    auto& pool = allotment_->ids[static_cast<std::size_t>(kind)];
    if (pool.empty()) {
      // Enough for the rest of the group as most plans go (a creation makes two commitments).
      const std::size_t want = std::clamp<std::size_t>(
          allotment_->items_left * (kind == IdKind::kCommitment ? 2 : 1), 1, 512);
      auto rows = db_.query(std::string("SELECT nextval('") + sequence + "') FROM generate_series(1, $1)",
                            Params().add(static_cast<std::int64_t>(want)));
      if (!rows) throw StorageFailure(rows.error());
      for (int i = 0; i < rows->size(); ++i) pool.push_back(rows->integer(i, 0));
      std::sort(pool.begin(), pool.end(), std::greater<>());
      if (pool.empty()) throw StorageFailure(Error::internal("no value from the database"));
    }
    std::int64_t id = pool.back();
    pool.pop_back();
    return id;
  }

  std::string next_reference(int year) override {
    // The row stays locked until the commit: creations in one year take turns, and a rolled-back
    // one leaves no gap.
    reference_taken = true;
    const std::string name = "reference-" + std::to_string(year);
    std::int64_t n = 0;
    if (!allotment_) {
      n = value(db_.query("INSERT INTO sequences(name, value) VALUES ($1, 1) ON CONFLICT (name) DO UPDATE SET value = "
                          "sequences.value + 1 RETURNING value",
                          Params().add(name)));
    } else {
      // The first creation of the year reserves a number for each creation left in the group;
      // what is not used is given back before COMMIT (the row is locked meanwhile).
      auto& reserved = allotment_->references[year];
      if (reserved.next > reserved.last) {
        const auto count = static_cast<std::int64_t>(std::max<std::size_t>(1, allotment_->creations_left));
        reserved.last = value(db_.query(
            "INSERT INTO sequences(name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = "
            "sequences.value + excluded.value RETURNING value",
            Params().add(name).add(count)));
        reserved.next = reserved.last - count + 1;
      }
      n = reserved.next++;
      years_taken_.push_back(year);
    }
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "CMP-%04d-%06lld", year, static_cast<long long>(n));
    return buffer;
  }

  // The item failed: the references it took go back to the allotment, for the next creation (they
  // were the last handed out, so no number is skipped).
  void give_back() {
    if (!allotment_) return;
    for (int year : years_taken_) --allotment_->references[year].next;
    years_taken_.clear();
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
  SummaryDeltas summaries;       // what the item's change does to the report summaries

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
  GroupAllotment* allotment_;
  std::vector<int> years_taken_;
};

// The answer to a creation repeated under its Idempotency-Key: the case as it is now.
Result<Committed> replay_creation(Connection& db, const std::string& reference) {
  auto snapshot = load_snapshot(db, reference, RowLock::kNone);
  if (!snapshot) return snapshot.error();
  Committed replay;
  replay.change.after = std::move(snapshot->record);
  replay.change.commitments = std::move(snapshot->commitments);
  replay.change.redress = std::move(snapshot->redress);
  replay.replayed = true;
  return replay;
}

// The NOTIFY payload that wakes the sleeping schedulers and delivery workers of every node
// (listener.h): the earliest wake time the changes set, and whether they owe notifications; ""
// when neither.
// The return ledger's entries of `changes` (engine/return_ledger.h), added up and added to
// `pipeline` as upserts of return_days in key order: groups on two nodes lock the rows they share
// in the same order. Returns how many statements it added.
std::size_t add_return_ledger(Pipeline& pipeline, const std::vector<const Change*>& changes) {
  std::vector<ReturnEntry> entries;
  for (const Change* change : changes)
    entries.insert(entries.end(), change->return_entries.begin(), change->return_entries.end());
  if (entries.empty()) return 0;
  const std::vector<ReturnEntry> rows = summed(std::move(entries));
  for (const auto& e : rows)
    pipeline.add(
        "INSERT INTO return_days(day, workflow, measure, key, value) VALUES ($1,$2,$3,$4,$5) "
        "ON CONFLICT (day, workflow, measure, key) DO UPDATE SET value = return_days.value + excluded.value",
        Params().add(std::int64_t{e.day}).add(e.workflow).add(to_string(e.measure)).add(e.key).add(e.value));
  return rows.size();
}

// The report summaries' deltas (adapters/summaries/summary_deltas.h) added to `pipeline` as one
// upsert per summary row, in key order, table by table: groups on two nodes lock the rows they
// share in the same order. return_days is add_return_ledger's. Returns how many statements it added.
std::size_t add_summaries(Pipeline& pipeline, const SummaryDeltas& d) {
  std::size_t added = 0;
  for (const auto& [key, n] : d.settled()) {
    if (n == 0) continue;
    const auto& [day, owner, kind, status, pledge] = key;
    pipeline.add("INSERT INTO report_settled(day, owner_id, kind, status, pledge, n) VALUES ($1,$2,$3,$4,$5,$6) "
                 "ON CONFLICT (day, owner_id, kind, status, pledge) DO UPDATE SET n = report_settled.n + excluded.n",
                 Params().add(day).add(owner).add(kind).add(status).add(pledge).add(n));
    ++added;
  }
  for (const auto& [key, n] : d.pledges()) {
    if (n == 0) continue;
    const auto& [day, pledge, status] = key;
    pipeline.add("INSERT INTO report_pledges(day, pledge, status, n) VALUES ($1,$2,$3,$4) "
                 "ON CONFLICT (day, pledge, status) DO UPDATE SET n = report_pledges.n + excluded.n",
                 Params().add(day).add(pledge).add(status).add(n));
    ++added;
  }
  for (const auto& [key, row] : d.owner_cases()) {
    if (row.acknowledged == 0 && row.acknowledge_total == 0 && row.resolved == 0 && row.resolve_total == 0) continue;
    pipeline.add(
        "INSERT INTO report_owner_cases(day, owner_id, acknowledged, acknowledge_total, resolved, resolve_total) "
        "VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (day, owner_id) DO UPDATE SET "
        "acknowledged = report_owner_cases.acknowledged + excluded.acknowledged, "
        "acknowledge_total = report_owner_cases.acknowledge_total + excluded.acknowledge_total, "
        "resolved = report_owner_cases.resolved + excluded.resolved, "
        "resolve_total = report_owner_cases.resolve_total + excluded.resolve_total",
        Params().add(key.first).add(key.second).add(row.acknowledged).add(row.acknowledge_total).add(row.resolved).add(
            row.resolve_total));
    ++added;
  }
  for (const auto& [key, n] : d.received()) {
    if (n == 0) continue;
    const auto& [day, dimension, value] = key;
    pipeline.add("INSERT INTO report_received(day, dimension, value, received) VALUES ($1,$2,$3,$4) "
                 "ON CONFLICT (day, dimension, value) DO UPDATE SET received = report_received.received + "
                 "excluded.received",
                 Params().add(day).add(dimension).add(value).add(n));
    ++added;
  }
  for (const auto& [key, n] : d.open()) {
    if (n == 0) continue;
    pipeline.add("INSERT INTO report_open(owner_id, escalation_level, open_cases) VALUES ($1,$2,$3) "
                 "ON CONFLICT (owner_id, escalation_level) DO UPDATE SET open_cases = report_open.open_cases + "
                 "excluded.open_cases",
                 Params().add(key.first).add(std::int64_t{key.second}).add(n));
    ++added;
  }
  for (const auto& [owner, row] : d.attention()) {
    // Kept even at zero: the board lists every owner with a row (as SQLite's writer leaves them).
    pipeline.add("INSERT INTO report_attention(owner_id, open_commitments, at_risk, broken_unhandled) "
                 "VALUES ($1,$2,$3,$4) ON CONFLICT (owner_id) DO UPDATE SET "
                 "open_commitments = report_attention.open_commitments + excluded.open_commitments, "
                 "at_risk = report_attention.at_risk + excluded.at_risk, "
                 "broken_unhandled = report_attention.broken_unhandled + excluded.broken_unhandled",
                 Params().add(owner).add(row.open).add(row.at_risk).add(row.broken_unhandled));
    ++added;
  }
  for (const auto& [key, n] : d.touchpoints()) {
    if (n == 0) continue;
    const auto& [day, touchpoint, measure, entry_key] = key;
    pipeline.add("INSERT INTO report_touchpoints(day, touchpoint, measure, key, n) VALUES ($1,$2,$3,$4,$5) "
                 "ON CONFLICT (day, touchpoint, measure, key) DO UPDATE SET n = report_touchpoints.n + excluded.n",
                 Params().add(day).add(touchpoint).add(measure).add(entry_key).add(n));
    ++added;
  }
  for (const auto& [key, sums] : d.survey()) {
    const auto& [day, dimension, value] = key;
    Params params;
    params.add(day).add(dimension).add(value).add(sums.responses).add(sums.overall).add(sums.rated);
    for (std::int64_t score : sums.scores) params.add(score);
    pipeline.add(
        "INSERT INTO report_survey(day, dimension, value, responses, overall, rated, reliability, assurance, "
        "tangibles, empathy, responsiveness) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) "
        "ON CONFLICT (day, dimension, value) DO UPDATE SET responses = report_survey.responses + excluded.responses, "
        "overall = report_survey.overall + excluded.overall, rated = report_survey.rated + excluded.rated, "
        "reliability = report_survey.reliability + excluded.reliability, "
        "assurance = report_survey.assurance + excluded.assurance, "
        "tangibles = report_survey.tangibles + excluded.tangibles, empathy = report_survey.empathy + excluded.empathy, "
        "responsiveness = report_survey.responsiveness + excluded.responsiveness",
        std::move(params));
    ++added;
  }
  return added;
}

std::string wake_payload(const std::vector<const Change*>& changes) {
  std::optional<Time> earliest_wake;
  bool owes = false;
  for (const Change* change : changes) {
    if (change->wake == Change::Wake::kSet && (!earliest_wake || change->wake_at < *earliest_wake))
      earliest_wake = change->wake_at;
    owes = owes || !change->notifications.empty();
  }
  return (earliest_wake ? "wake=" + std::to_string(to_micros(*earliest_wake)) : std::string()) +
         (owes ? (earliest_wake ? ";outbox" : "outbox") : "");
}

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

void WritePipeline::submit_together(std::vector<WorkItem> items) {
  for (std::size_t i = 0; i < items.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (items[i].reference == items[j].reference) {
        for (auto& item : items)
          if (item.done) item.done(Error::invalid("work submitted together names case " + items[i].reference + " twice"));
        return;
      }
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < items.size(); ++i) {
      items[i].submitted_at = now;
      queue_.push_back(Queued{std::move(items[i]), std::nullopt, static_cast<std::uint32_t>(items.size() - 1 - i)});
      ++submitted_;
    }
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
      // A unit of items that stand or fall together is never split, even past max_batch.
      while (!queue_.empty() && (group.size() < options_.max_batch || group.back().with_next > 0)) {
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
    // Work items alone go in one pass of a few round trips; a group with administration in it, or
    // with work that stands or falls together (submit_together: the grouped pass answers each
    // item's failure alone), or whose grouped pass met an item's failure, goes item by item.
    const bool work_only = std::all_of(group.begin(), group.end(),
                                       [](const Queued& q) { return q.work.has_value() && q.with_next == 0; });
    Pass pass = work_only ? run_grouped(group) : run_pass(group, Savepoints::kNone);
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
        return replay_creation(db, found->text(0, 1));
      }
    }
    auto change = item.plan(nullptr, context);
    if (!change) return change.error();
    static_cast<WriterContext&>(context).rows_written = true;  // whatever happens next
    if (auto s = rows_.write(db, *change); !s) return s.error();
    static_cast<WriterContext&>(context).summaries.change_written(*change, nullptr, commitments_before(*change, nullptr));
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
  static_cast<WriterContext&>(context).summaries.change_written(*change, &*snapshot, commitments_before(*change, &*snapshot));
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
  // Item by item, or a unit of items that stand or fall together (submit_together) as one: its
  // items run under one savepoint, and when one fails, every item of the unit fails with it.
  SummaryDeltas pass_summaries;  // of the units that stand
  for (std::size_t first = 0; first < group.size();) {
    const std::size_t end = first + 1 + group[first].with_next;
    if (savepoints == Savepoints::kPerItem) {
      if (Status s = db.execute("SAVEPOINT item"); !s)
        return db.healthy() ? (refuse(group, s.error()), Pass::kAnswered) : Pass::kRetry;
    }
    std::optional<Error> error;
    bool wrote = false;
    SummaryDeltas unit_summaries;
    for (std::size_t i = first; i < end && !error; ++i) {
      WriterContext context(db);
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
      // An item that stood wrote its rows; one that failed may have (an admin item may have).
      if (!error) {
        wrote = true;
        unit_summaries.merge(context.summaries);
      } else
        wrote = wrote || context.reference_taken || context.rows_written || !group[i].work;
    }
    const std::size_t unit_first = first;
    first = end;
    if (!error) {
      if (savepoints == Savepoints::kPerItem) {
        if (Status s = db.execute("RELEASE SAVEPOINT item"); !s) return db.healthy() ? Pass::kRunAgain : Pass::kRetry;
      }
      pass_summaries.merge(unit_summaries);
      continue;
    }
    // Every item of a unit fails with the one that failed, the ones before it included.
    for (std::size_t i = unit_first; i < end; ++i) {
      if (group[i].work)
        results[i] = *error;
      else
        admin_results[i] = *error;
    }
    // Another transaction met this one, or the server went away: the whole group again.
    if (db.last_failure() == Failure::kRetryable || db.last_failure() == Failure::kConnectionLost || !db.healthy())
      return Pass::kRetry;
    // The database aborted the transaction, or the unit wrote before it failed: its writes must
    // go, the others' stay.
    const bool aborted = PQtransactionStatus(db.handle()) == PQTRANS_INERROR;
    if (!(aborted || wrote)) {
      if (savepoints == Savepoints::kPerItem) (void)db.execute("RELEASE SAVEPOINT item");
      continue;
    }
    if (savepoints == Savepoints::kNone) return Pass::kRunAgain;
    if (Status s = db.execute("ROLLBACK TO SAVEPOINT item; RELEASE SAVEPOINT item"); !s)
      return db.healthy() ? (refuse(group, s.error()), Pass::kAnswered) : Pass::kRetry;
  }
  // The return ledger's entries of every item that stands (add_return_ledger above).
  std::vector<const Change*> changes;
  for (std::size_t i = 0; i < group.size(); ++i)
    if (group[i].work && results[i] && results[i]->ok()) changes.push_back(&(*results[i])->change);
  {
    Pipeline upserts(db);
    const std::size_t summaries_added = add_summaries(upserts, pass_summaries);
    if (add_return_ledger(upserts, changes) + summaries_added > 0) {
      if (auto written = upserts.run(); !written) {
        if (db.last_failure() == Failure::kRetryable || db.last_failure() == Failure::kConnectionLost || !db.healthy())
          return Pass::kRetry;
        refuse(group, written.error());
        return Pass::kAnswered;
      }
    }
  }
  // Wake the sleeping schedulers and delivery workers of every node at the commit (listener.h).
  // PostgreSQL delivers a NOTIFY only if the transaction commits.
  if (std::string payload = wake_payload(changes); !payload.empty()) {
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
  return commit_and_answer(group, *transaction, results, admin_results);
}

WritePipeline::Pass WritePipeline::commit_and_answer(std::vector<Queued>& group, Transaction& transaction,
                                                     std::vector<std::optional<Result<Committed>>>& results,
                                                     std::vector<Status>& admin_results) {
  Connection& db = *connection_;
  Status committed = transaction.commit();
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
  answer(group, results, admin_results);
  return Pass::kAnswered;
}

void WritePipeline::answer(std::vector<Queued>& group, std::vector<std::optional<Result<Committed>>>& results,
                           std::vector<Status>& admin_results) {
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
}

WritePipeline::Pass WritePipeline::run_grouped(std::vector<Queued>& group) {
  Connection& db = *connection_;
  // What the group reads: the cases its actions act on (each once), the Idempotency-Keys its
  // creations carry, and a case id per creation.
  std::vector<std::string> references;
  std::vector<std::string> keys;
  std::size_t creations = 0;
  for (auto& queued : group) {
    WorkItem& item = *queued.work;
    item.ahead.reset();  // this store keeps no snapshots: every plan is made under the row lock
    if (!item.reference.empty()) {
      references.push_back(item.reference);
    } else {
      ++creations;
      if (!item.idempotency_key.empty()) keys.push_back(item.idempotency_key);
    }
  }
  std::sort(references.begin(), references.end());
  references.erase(std::unique(references.begin(), references.end()), references.end());

  // A statement of this pass failed: run the group again, after the rollback, as the failure
  // says: the whole group (another transaction met it, the connection went), or item by item
  // with savepoints, where each item gets its own answer.
  auto failed = [&db]() { return db.last_failure() == Failure::kRetryable ||
                                         db.last_failure() == Failure::kConnectionLost || !db.healthy()
                                     ? Pass::kRetry
                                     : Pass::kRunAgain; };

  // BEGIN goes in the first pipeline and COMMIT in the last: until then, any return rolls back.
  struct OpenTransaction {
    Connection& db;
    bool open = true;
    ~OpenTransaction() {
      if (open && db.healthy() && PQtransactionStatus(db.handle()) != PQTRANS_IDLE) (void)db.execute("ROLLBACK");
    }
  } transaction{db};
  rows_.transaction_began();
  // One round trip: BEGIN, the cases locked in id order with what hangs off them, the keys, and
  // the ids the group will most likely use (a case id per creation; two commitments per creation
  // and one per action, the most plans make), taken once the locks are held.
  Pipeline read(db);
  read.add("BEGIN");
  std::optional<SnapshotsRead> snapshots_read;
  if (!references.empty()) snapshots_read = add_snapshots_read(read, references);
  std::optional<std::size_t> keys_read, ids_read;
  if (!keys.empty()) {
    keys_read = read.size();
    read.add(
        "SELECT k.key, k.digest, c.reference FROM idempotency_keys k JOIN cases c ON c.id = k.case_id "
        "WHERE k.key = ANY($1::text[])",
        Params().add(text_array(keys)));
  }
  if (creations > 0) {
    ids_read = read.size();
    read.add("SELECT nextval('case_ids') FROM generate_series(1, $1)",
             Params().add(static_cast<std::int64_t>(creations)));
  }
  const std::size_t commitment_ids_read = read.size();
  read.add("SELECT nextval('commitment_ids') FROM generate_series(1, $1)",
           Params().add(static_cast<std::int64_t>(group.size() + creations)));
  auto answers = read.run();
  if (!answers) return failed();

  std::unordered_map<std::string, CaseSnapshot> cases;
  if (snapshots_read)
    for (auto& snapshot : take_snapshots(*answers, *snapshots_read)) {
      std::string reference = snapshot.record.reference;
      cases.emplace(std::move(reference), std::move(snapshot));
    }
  std::unordered_map<std::string, std::pair<std::string, std::string>> known_keys;  // key: digest, reference
  if (keys_read) {
    const Rows& rows = (*answers)[*keys_read];
    for (int i = 0; i < rows.size(); ++i) known_keys[rows.text(i, 0)] = {rows.text(i, 1), rows.text(i, 2)};
  }
  GroupAllotment allotment;
  auto pool_ids = [&](WriteContext::IdKind kind, std::size_t answer) {
    auto& pool = allotment.ids[static_cast<std::size_t>(kind)];
    const Rows& rows = (*answers)[answer];
    for (int i = 0; i < rows.size(); ++i) pool.push_back(rows.integer(i, 0));
    std::sort(pool.begin(), pool.end(), std::greater<>());
  };
  if (ids_read) pool_ids(WriteContext::IdKind::kCase, *ids_read);
  pool_ids(WriteContext::IdKind::kCommitment, commitment_ids_read);

  // The plans: the actions in queue order, then the creations, so that the year's reference
  // counter (locked from the first creation's reservation until COMMIT) is held for the least time.
  // Items on one case keep their order; a creation and an item that depends on it are never in one
  // group (nobody knows the new case's reference before its group commits).
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < group.size(); ++i)
    if (!group[i].work->reference.empty()) order.push_back(i);
  for (std::size_t i = 0; i < group.size(); ++i)
    if (group[i].work->reference.empty()) order.push_back(i);
  allotment.creations_left = creations;
  std::vector<std::optional<Result<Committed>>> results(group.size());
  std::vector<Status> admin_results(group.size());
  std::vector<std::size_t> written;  // in planning order: the order their rows go in
  SummaryDeltas group_summaries;     // of the changes written
  std::unordered_set<std::string> keys_used;
  for (std::size_t position = 0; position < order.size(); ++position) {
    const std::size_t i = order[position];
    WorkItem& item = *group[i].work;
    const bool creation = item.reference.empty();
    allotment.items_left = order.size() - position;
    WriterContext context(db, &allotment);
    try {
      CaseSnapshot* snapshot = nullptr;
      if (creation) {
        if (!item.idempotency_key.empty()) {
          // The same key twice in one group: item by item, the second replays the first.
          if (!keys_used.insert(item.idempotency_key).second) return Pass::kRunAgain;
          if (auto known = known_keys.find(item.idempotency_key); known != known_keys.end()) {
            --allotment.creations_left;
            if (known->second.first != item.request_digest) {
              results[i] = Error::conflict("the Idempotency-Key was used before with a different request");
            } else {
              auto replay = replay_creation(db, known->second.second);
              if (!replay && db.last_failure() != Failure::kNone) return failed();  // a statement failed
              results[i] = std::move(replay);
            }
            continue;
          }
        }
      } else {
        auto found = cases.find(item.reference);
        if (found == cases.end()) {
          results[i] = Error::not_found("no case " + item.reference);
          continue;
        }
        snapshot = &found->second;
      }
      auto change = item.plan(snapshot, context);
      if (creation) --allotment.creations_left;
      if (!change) {
        context.give_back();
        results[i] = change.error();
        continue;
      }
      if (Status recorded = rows_.record_inbound(db, *change); !recorded) {
        if (db.last_failure() != Failure::kNone) return failed();  // a statement failed, not the record
        context.give_back();
        results[i] = recorded.error();
        continue;
      }
      group_summaries.change_written(*change, snapshot, commitments_before(*change, snapshot));
      if (snapshot) apply_change(*snapshot, *change);
      results[i] = Committed{std::move(change).value(), false};
      written.push_back(i);
    } catch (const StorageFailure&) {
      return failed();
    } catch (const std::exception& e) {  // a bug in a plan: item by item, it gets the error alone
      spdlog::error("store: work item failed with an exception: {}", e.what());
      return Pass::kRunAgain;
    }
  }

  // One more round trip: every change's rows in planning order (a stale case row fails its
  // statement), the keys of the creations, the references reserved and not used given back, the
  // wake-up, and COMMIT. The year's reference counter, locked since the first creation's
  // reservation, is held for this round trip and the reservation's.
  Pipeline rows(db);
  std::vector<const Change*> changes;
  for (std::size_t i : written) {
    const Change& change = (*results[i])->change;
    if (auto added = rows_.add(db, rows, change, ChangeWriter::StaleCheck::kAsError); !added) return failed();
    changes.push_back(&change);
    const WorkItem& item = *group[i].work;
    if (!item.idempotency_key.empty())
      rows.add("INSERT INTO idempotency_keys(key, digest, case_id, created_at) VALUES ($1,$2,$3,$4)",
               Params()
                   .add(item.idempotency_key)
                   .add(item.request_digest)
                   .add(change.after.id)
                   .add(to_micros(change.after.received_at)));
  }
  for (const auto& [year, reserved] : allotment.references)
    if (reserved.next <= reserved.last)
      rows.add("UPDATE sequences SET value = value - $2 WHERE name = $1",
               Params().add("reference-" + std::to_string(year)).add(reserved.last - reserved.next + 1));
  add_summaries(rows, group_summaries);
  add_return_ledger(rows, changes);
  if (std::string payload = wake_payload(changes); !payload.empty())
    rows.add("SELECT pg_notify('redress_wake', $1)", Params().add(payload));
  rows.add("COMMIT");
  auto done = rows.run();
  if (!done) {
    if (db.last_failure() == Failure::kConnectionLost || !db.healthy()) {
      // The COMMIT was sent and its answer did not come: it may or may not have happened.
      transaction.open = false;
      refuse(group, Error::unavailable("the database connection was lost at COMMIT; the outcome is unknown: " +
                                       done.error().detail));
      return Pass::kAnswered;
    }
    // A statement failed, so the server skipped the rest, COMMIT included: rolled back.
    return failed();
  }
  transaction.open = false;
  answer(group, results, admin_results);
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
