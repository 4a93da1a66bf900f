#include "adapters/sqlite/wal_checkpointer.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>

#include "adapters/sqlite/store_threads.h"

namespace redress::sqlite {

namespace {

// Checkpointer passes the writer asks for, at most, before copying the rest itself.
constexpr int kCatchUpPasses = 8;

}  // namespace

WalCheckpointer::WalCheckpointer(const std::string& path, Durability durability, std::int64_t checkpoint_pages,
                                 Connection& writer, ReaderPool& readers)
    : checkpoint_pages_(checkpoint_pages), writer_(writer), readers_(readers) {
  sqlite3_wal_hook(
      writer_.handle(),
      [](void* self, sqlite3*, const char*, int pages) {
        static_cast<WalCheckpointer*>(self)->wal_pages_ = pages;
        return SQLITE_OK;
      },
      this);
  connection_ = std::make_unique<Connection>(path, OpenMode::kReadWrite);
  if (auto s = connection_->exec(
          std::string("PRAGMA busy_timeout = 10000; PRAGMA wal_autocheckpoint = 0;") +
          (durability == Durability::kFull ? "PRAGMA synchronous = FULL;" : "PRAGMA synchronous = NORMAL;"));
      !s)
    throw std::runtime_error("cannot configure the checkpointer: " + s.error().detail);
  thread_ = start_named_thread("redress-ckpt", [this] { run(); });
}

WalCheckpointer::~WalCheckpointer() {
  stop();
  sqlite3_wal_hook(writer_.handle(), nullptr, nullptr);
}

void WalCheckpointer::stop() { stop_thread(mutex_, stopping_, wanted_, thread_); }

WalCheckpointer::Counters WalCheckpointer::counters() const {
  std::lock_guard lock(mutex_);
  return counters_;
}

void WalCheckpointer::warn(const std::string& detail) {
  auto now = std::chrono::steady_clock::now();
  if (now - last_warning_ >= std::chrono::minutes(1)) {
    spdlog::warn("store: checkpoint failed: {}", detail);
    last_warning_ = now;
  }
}

void WalCheckpointer::maybe_checkpoint(Queue queue) {
  const bool idle = queue == Queue::kIdle;
  if (wal_pages_ == 0 || (!idle && wal_pages_ < checkpoint_pages_)) return;
  if (!idle) {
    // The checkpointer copies the WAL back beside the next commits; once it has done its pass,
    // the writer copies what was committed meanwhile (a small part) between two groups, and the
    // next commit then restarts the WAL (see the header).
    bool finish = false, start = false;
    {
      std::lock_guard lock(mutex_);
      if (state_ == State::kDone) {
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
          state_ = State::kRequested;
        } else if (behind > std::max<std::int64_t>(64, checkpoint_pages_ / 128) && catch_up_passes_ < kCatchUpPasses) {
          ++catch_up_passes_;
          start = true;
          state_ = State::kRequested;
        } else {
          finish = true;
          catch_up_passes_ = 0;
          state_ = State::kNone;
        }
      } else if (state_ == State::kNone) {
        start = true;
        state_ = State::kRequested;
      }
    }
    if (start) wanted_.notify_one();
    if (!finish) return;
  }
  // Kept read snapshots stop the WAL from restarting: the idle ones end now, the busy ones within
  // their age limit (the truncation waits for them under the busy timeout).
  if (idle) readers_.end_idle_snapshots();
  int log = 0, done = 0;
  int rc = sqlite3_wal_checkpoint_v2(writer_.handle(), nullptr,
                                     idle ? SQLITE_CHECKPOINT_TRUNCATE : SQLITE_CHECKPOINT_PASSIVE, &log, &done);
  if (rc == SQLITE_OK && log == done) {
    wal_pages_ = 0;
    catch_up_passes_ = 0;
  }
  std::lock_guard lock(mutex_);
  ++counters_.checkpoints;
  ++counters_.writer_checkpoints;
  // A pass the checkpointer finished is covered by this one (the idle one truncates as well).
  if (rc == SQLITE_OK && state_ == State::kDone) state_ = State::kNone;
  // BUSY: the checkpointer is at work, or a reader holds the WAL; the next idle pass tries again.
  if (rc != SQLITE_OK && rc != SQLITE_BUSY) warn(writer_.last_error("wal checkpoint").detail);
}

void WalCheckpointer::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wanted_.wait(lock, [this] { return stopping_ || state_ == State::kRequested; });
    if (stopping_) return;
    state_ = State::kRunning;
    lock.unlock();
    int log = 0, done = 0;
    int rc = sqlite3_wal_checkpoint_v2(connection_->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
    Error error = rc == SQLITE_OK || rc == SQLITE_BUSY ? Error{} : connection_->last_error("wal checkpoint");
    lock.lock();
    ++counters_.checkpoints;
    // A failed pass copied nothing the writer can count on: it finishes on its own next time.
    checkpointed_frames_ = rc == SQLITE_OK ? done : 0;
    state_ = State::kDone;
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) warn(error.detail);
  }
}

}  // namespace redress::sqlite
