#include "adapters/sqlite/wal_syncer.h"

#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <cstring>

#include "adapters/sqlite/store_threads.h"

namespace redress::sqlite {

WalSyncer::WalSyncer(Options options, LatencyHistogram& sync_time, LatencyHistogram& write_time)
    : options_(std::move(options)), sync_time_(sync_time), write_time_(write_time) {
  thread_ = start_named_thread("redress-sync", [this] { run(); });
}

WalSyncer::~WalSyncer() { stop(); }

void WalSyncer::stop() {
  stop_thread(mutex_, stopping_, wanted_, thread_);
  if (wal_fd_ >= 0) {
    ::close(wal_fd_);
    wal_fd_ = -1;
  }
}

void WalSyncer::hand_over(std::vector<Answer> answers) {
  {
    std::lock_guard lock(mutex_);
    for (auto& answer : answers) queue_.push_back(std::move(answer));
  }
  wanted_.notify_one();
}

std::optional<Error> WalSyncer::failure() const {
  std::lock_guard lock(mutex_);
  return failure_;
}

std::int64_t WalSyncer::syncs() const {
  std::lock_guard lock(mutex_);
  return syncs_;
}

void WalSyncer::run() {
  std::vector<Answer> answers;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wanted_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left to answer
      answers.swap(queue_);
    }
    // One sync covers every group committed before it began: all of them are answered. Groups
    // that wrote nothing (refusals, reads of the writer) need none, but wait their turn.
    Status synced = Status::success();
    Error error;
    if (auto failed = failure()) {
      // After a failed sync no later one proves anything (see the top of the header).
      synced = *failed;
      error = *failed;
    } else if (std::any_of(answers.begin(), answers.end(),
                           [](const Answer& a) { return a.group_wrote == GroupWrote::kYes; })) {
      if (options_.before_sync) options_.before_sync();
      const auto began = std::chrono::steady_clock::now();
      synced = options_.sync_fault ? options_.sync_fault() : Status::success();
      if (synced) synced = sync_wal();
      sync_time_.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count());
      std::lock_guard lock(mutex_);
      ++syncs_;
      if (!synced) {
        error =
            Error::unavailable("the change was committed but could not be synced to disk: " + synced.error().detail);
        spdlog::error("store: {}; no write is accepted until redress is restarted", error.detail);
        failure_ = Error::unavailable("a sync of the write-ahead log to disk failed (" + synced.error().detail +
                                      "): no write is accepted until redress is restarted");
      }
    }
    // A failure stays what it was; only a success can be undone by a failed sync.
    for (auto& answer : answers) {
      write_time_.observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - answer.submitted_at).count());
      const bool keep = synced || answer.group_wrote == GroupWrote::kNo;
      if (answer.work_done) {
        answer.work_done(keep || !answer.work_result->ok() ? std::move(*answer.work_result) : Result<Committed>(error));
      } else if (answer.admin_done) {
        answer.admin_done(keep || !answer.admin_result.ok() ? answer.admin_result : Status(error));
      }
    }
    answers.clear();
  }
}

Status WalSyncer::sync_wal() {
  // The WAL exists from the first commit on and is only ever truncated, never removed, while the
  // store's connections are open; fdatasync through a descriptor of its own is as good as SQLite's
  // (it syncs the file, not the descriptor).
  const std::string& path = options_.wal_path;
  if (wal_fd_ < 0) {
    wal_fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (wal_fd_ < 0) return Error::unavailable("cannot open " + path + ": " + std::strerror(errno));
  }
  if (::fdatasync(wal_fd_) != 0) return Error::unavailable("fdatasync of " + path + ": " + std::strerror(errno));
  return Status::success();
}

}  // namespace redress::sqlite
