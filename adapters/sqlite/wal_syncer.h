// WalSyncer: with durability FULL, the thread that makes committed groups durable before their
// callers hear of them. The writer commits without waiting for the disk (synchronous = NORMAL) and
// hands each committed group's answers over; the syncer fdatasyncs the WAL once for every group
// committed since its last sync and only then answers them, while the writer runs the next group.
// No caller, mail or web hook learns of a change before it is on disk; a reader may see it up to
// one sync earlier.
//
// The sync-failure latch: after a failed sync the frames it covered may never reach the disk,
// while the kernel reports the error only once and a later sync may succeed, and a WAL is only as
// durable as its first missing frame. So from the first failed sync on, nothing handed over is
// answered as durable (a success becomes the failure; a failure stays what it was) and `failure()`
// says why, for the writer to refuse every later write until the store is opened again. The latch
// is set once and never cleared.
//
// Thread-safety: `hand_over`, `failure` and the counters from any thread; `stop` once, after the
// writer's last hand-over (the answers handed over are given before the thread ends).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/latency.h"
#include "engine/store.h"

namespace redress::sqlite {

// Whether a group changed the database (else its answers need no sync).
enum class GroupWrote { kNo, kYes };

// What one item of a committed group is owed: its result, given once the group is on disk.
struct Answer {
  std::function<void(Result<Committed>)> work_done;  // set for a work item
  std::optional<Result<Committed>> work_result;
  std::function<void(Status)> admin_done;  // set for an administration item
  Status admin_result;
  GroupWrote group_wrote = GroupWrote::kNo;
  std::chrono::steady_clock::time_point submitted_at{};
};

class WalSyncer {
 public:
  struct Options {
    std::string wal_path;                // the database's WAL file (its path + "-wal")
    std::function<void()> before_sync;   // tests only: runs before each sync (to hold it)
    std::function<Status()> sync_fault;  // tests only: a failure it returns is taken for the sync's own
  };
  // Starts the thread. Each sync is observed in `sync_time`, each answer given in `write_time`
  // (submitted -> answered); both outlive this.
  WalSyncer(Options options, LatencyHistogram& sync_time, LatencyHistogram& write_time);
  ~WalSyncer();  // stop()
  WalSyncer(const WalSyncer&) = delete;
  WalSyncer& operator=(const WalSyncer&) = delete;

  // Answers of a committed group, to be given once the WAL is synced.
  void hand_over(std::vector<Answer> answers);
  // Why nothing is durable since a sync of the WAL failed; nullopt while none has.
  [[nodiscard]] std::optional<Error> failure() const;
  // Gives what was handed over, then ends the thread; idempotent.
  void stop();

  [[nodiscard]] std::int64_t syncs() const;

 private:
  void run();
  // Syncs the WAL file to disk; the error when that fails.
  [[nodiscard]] Status sync_wal();

  const Options options_;
  LatencyHistogram& sync_time_;
  LatencyHistogram& write_time_;
  mutable std::mutex mutex_;
  std::condition_variable wanted_;
  std::vector<Answer> queue_;     // guarded by mutex_: committed, not yet synced
  std::optional<Error> failure_;  // guarded by mutex_; set once, never cleared
  std::int64_t syncs_ = 0;        // guarded by mutex_
  bool stopping_ = false;         // guarded by mutex_
  int wal_fd_ = -1;               // touched only by thread_
  std::thread thread_;            // last: started after every member above exists
};

}  // namespace redress::sqlite
