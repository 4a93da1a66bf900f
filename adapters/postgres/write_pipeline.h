// WritePipeline: the PostgreSQL store's writer: a queue of work items and one thread with its own
// connection that commits them in groups.
//
// Each group is one READ COMMITTED transaction. Each item's case row is locked (`SELECT ... FOR
// UPDATE`) before its plan runs on it, so writers on one case, on any node, take turns and each
// appends to the hash chain whose head it read; the case row is written with `WHERE version = $n`.
// Items run without savepoints; when one fails after writing (or the database aborted the
// transaction under it), the group is rolled back and run again with a savepoint per item, so
// that one item's failure never loses the others'. A deadlock or serialization failure (another
// node's group met this one) rolls the group back and runs it again, a few times. A lost
// connection is reconnected; the group's callers are answered kUnavailable when the database
// cannot be reached, or when a COMMIT was sent and no answer came (its outcome is unknown: the
// caller retries, and a creation's Idempotency-Key makes that safe). `done` runs after COMMIT.
//
// Before COMMIT the group's return ledger entries (engine/return_ledger.h) are added to
// return_days, summed and in key order, so that two nodes' groups take the rows they share in the
// same order and never wait for each other in a cycle.
//
// One writer thread per node keeps a node's items in the order they were submitted; nodes write
// in parallel, serialised per case by the row lock.
//
// Thread-safe: submit and flush from any thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "adapters/postgres/change_writer.h"
#include "adapters/postgres/connection.h"
#include "engine/store.h"

namespace redress::postgres {

class WritePipeline {
 public:
  struct Options {
    std::string url;
    std::size_t max_batch = 256;  // items per transaction at most
    int retries = 5;              // runs of a group again after a deadlock or serialization failure
  };
  // Connects; kUnavailable when the database cannot be reached.
  [[nodiscard]] static Result<std::unique_ptr<WritePipeline>> start(const Options& options);
  ~WritePipeline();
  WritePipeline(const WritePipeline&) = delete;
  WritePipeline& operator=(const WritePipeline&) = delete;

  void submit(WorkItem item);
  // Waits until everything submitted before the call has been answered.
  void flush();
  // While writes fail for want of the database: why; nullopt when the last group committed.
  [[nodiscard]] std::optional<std::string> failure() const;
  // Runs `work` on the writer's connection in a transaction of its own, in queue order, and waits
  // for its commit (administration that is not a case action).
  [[nodiscard]] Status run_write(std::function<Status(Connection&)> work);

  [[nodiscard]] std::int64_t groups() const;
  [[nodiscard]] std::int64_t retried_groups() const;

 private:
  struct AdminItem {
    std::function<Status(Connection&)> work;
    std::function<void(Status)> done;
  };
  struct Queued {
    std::optional<WorkItem> work;
    std::optional<AdminItem> admin;
  };
  enum class Savepoints { kNone, kPerItem };
  enum class Pass { kAnswered, kRunAgain, kRetry };

  WritePipeline(const Options& options, std::unique_ptr<Connection> connection);
  void run();
  void run_group(std::vector<Queued>& group);
  Pass run_pass(std::vector<Queued>& group, Savepoints savepoints);
  void refuse(std::vector<Queued>& group, const Error& error);
  [[nodiscard]] Result<Committed> run_work(WorkItem& item, WriteContext& context);

  const Options options_;
  std::unique_ptr<Connection> connection_;  // the writer thread's alone once running
  ChangeWriter rows_;

  mutable std::mutex mutex_;
  std::condition_variable work_available_;
  std::condition_variable answered_;
  std::deque<Queued> queue_;
  std::int64_t submitted_ = 0;  // items queued since start
  std::int64_t finished_ = 0;   // items answered since start (in queue order: one writer)
  std::int64_t groups_ = 0;
  std::int64_t retried_groups_ = 0;
  std::optional<std::string> failure_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace redress::postgres
