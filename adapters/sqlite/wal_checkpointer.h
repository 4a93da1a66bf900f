// WalCheckpointer: keeps the store's WAL bounded without a long checkpoint on the commit path.
//
// Once the WAL grows past `checkpoint_pages`, the writer (maybe_checkpoint after each group) asks
// the checkpointer thread, which copies it back on a connection of its own: a PASSIVE checkpoint
// runs beside the writer's commits, never holding them. The WAL restarts (and so stays bounded)
// only when a transaction begins after a checkpoint that left no frame behind, and under steady
// writes a checkpoint beside them never catches up; so once a pass is done, further passes run
// while each leaves more than 64 frames (or 1/128 of the threshold) behind, eight at most, and then
// the writer copies the little committed meanwhile itself, between two groups, so that the next
// commit can restart the WAL. When the writer's queue falls idle, it checkpoints and truncates the
// WAL itself, ending the readers' idle kept snapshots first (they would hold the restart up).
//
// A failed checkpoint is logged once a minute at most (on a full disk every idle pass fails the
// same way) and tried again at the next occasion; BUSY (a reader holds the WAL) is not a failure.
//
// Thread-safety: maybe_checkpoint and wal_pages on the writer thread only (they use the writer's
// connection, whose WAL hook this installs); counters from any thread; stop once, after the
// writer's last group.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "adapters/sqlite/database.h"
#include "adapters/sqlite/reader_pool.h"
#include "adapters/sqlite/schema.h"

namespace redress::sqlite {

class WalCheckpointer {
 public:
  // Whether the writer's queue is empty: idle, the writer truncates the WAL itself.
  enum class Queue { kBusy, kIdle };
  struct Counters {
    std::int64_t checkpoints = 0;         // passes, on either thread
    std::int64_t writer_checkpoints = 0;  // of which on the writer thread (the tails, and when idle)
  };

  // Opens the checkpointer's connection to the database at `path` and starts its thread; installs
  // the WAL hook on `writer` (the writer's connection), which must outlive this.
  WalCheckpointer(const std::string& path, Durability durability, std::int64_t checkpoint_pages, Connection& writer,
                  ReaderPool& readers);
  ~WalCheckpointer();  // stop()
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  // Writer thread. kIdle: checkpoints and truncates the WAL. kBusy: past the threshold, asks the
  // checkpointer for a pass, or finishes one it has done.
  void maybe_checkpoint(Queue queue);
  // Writer thread: frames in the WAL after the writer's last commit (from the WAL hook).
  [[nodiscard]] std::int64_t wal_pages() const { return wal_pages_; }
  // Ends the thread after its pass in progress; idempotent.
  void stop();
  [[nodiscard]] Counters counters() const;

 private:
  void run();
  // Logs a failed checkpoint, once a minute at most. Under mutex_.
  void warn(const std::string& detail);

  // The checkpointer's pass: asked for by the writer, running, done (the writer then finishes it).
  enum class State { kNone, kRequested, kRunning, kDone };

  const std::int64_t checkpoint_pages_;
  Connection& writer_;
  ReaderPool& readers_;
  std::int64_t wal_pages_ = 0;              // writer thread: set by the WAL hook at each commit, 0 once checkpointed
  int catch_up_passes_ = 0;                 // writer thread: passes asked for since the writer last finished one
  std::unique_ptr<Connection> connection_;  // touched only by thread_
  mutable std::mutex mutex_;
  std::condition_variable wanted_;
  State state_ = State::kNone;                            // guarded by mutex_
  std::int64_t checkpointed_frames_ = 0;                  // WAL frames copied when the last pass ended; mutex_
  Counters counters_;                                     // guarded by mutex_
  std::chrono::steady_clock::time_point last_warning_{};  // guarded by mutex_
  bool stopping_ = false;                                 // guarded by mutex_
  std::thread thread_;                                    // last: started after every member above exists
};

}  // namespace redress::sqlite
