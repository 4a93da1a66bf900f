// WritePipeline: the PostgreSQL store's writer: a queue of work items and one thread with its own
// connection that commits them in groups.
//
// Each group is one READ COMMITTED transaction, and a group of work items costs a few round trips
// whatever its size (run_grouped): BEGIN and every case it acts on locked (`SELECT ... FOR UPDATE`,
// in id order, so two nodes' groups cannot deadlock on them) and read with its commitments,
// redress and clock state, with ids for the plans, in one pipeline; the plans run on those
// snapshots (an item on a case already changed in the group plans on the change), the actions
// first and then the creations, whose references are reserved from the year's counter all at once
// (the counter row stays locked until COMMIT, so numbers stay gapless; what the group did not use is
// given back); then every row, version-checked, and COMMIT in one more pipeline. Writers on one
// case, on any node, take turns and each appends to the hash chain whose head it read. When an
// item's write fails (or the database aborted the transaction under it), the group is rolled back
// and run again item by item with a savepoint each, so that one item's failure never loses the
// others'; a group with administration in it runs that way too. A deadlock or serialization
// failure (another node's group met this one) rolls the group back and runs it again, a few times.
// A lost connection is reconnected; the group's callers are answered kUnavailable when the
// database cannot be reached, or when a COMMIT was sent and no answer came (its outcome is
// unknown: the caller retries, and a creation's Idempotency-Key makes that safe). `done` runs
// after COMMIT.
//
// Before COMMIT the group's report summary deltas (adapters/summaries/summary_deltas.h) and return
// ledger entries (engine/return_ledger.h) are added to the summary tables and return_days, summed
// and in key order, so that two nodes' groups take the rows they share in the same order and never
// wait for each other in a cycle.
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
  // Items that stand or fall together (CaseStore::submit_together): queued side by side, always in
  // one group, each case row locked in turn, run under one savepoint when the group has
  // savepoints, and all rolled back when one fails. kInvalid for every item when two are on one case.
  void submit_together(std::vector<WorkItem> items);
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
    std::uint32_t with_next = 0;  // how many of the items after this one stand or fall with it
  };
  enum class Savepoints { kNone, kPerItem };
  enum class Pass { kAnswered, kRunAgain, kRetry };

  WritePipeline(const Options& options, std::unique_ptr<Connection> connection);
  void run();
  void run_group(std::vector<Queued>& group);
  Pass run_pass(std::vector<Queued>& group, Savepoints savepoints);
  // Work items only: every case locked and read in one round trip, the plans run, every row
  // written in one more; kRunAgain (rolled back) when an item's write failed.
  Pass run_grouped(std::vector<Queued>& group);
  // After the commit: each caller's answer, in queue order.
  void answer(std::vector<Queued>& group, std::vector<std::optional<Result<Committed>>>& results,
              std::vector<Status>& admin_results);
  Pass commit_and_answer(std::vector<Queued>& group, Transaction& transaction,
                         std::vector<std::optional<Result<Committed>>>& results, std::vector<Status>& admin_results);
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
