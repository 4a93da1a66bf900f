// ConnectionPool: connections to one PostgreSQL database for the reads and the small
// administrative writes of the store's role classes. A caller borrows one for the length of a
// call (`with`); a connection whose server went away is reconnected before it is lent again, so
// the pool heals itself after a failover or a restart of the server. When one connection finds the
// server gone, the others that were idle meanwhile are presumed gone too (a restart ends them all)
// and are reconnected before they are lent, so no later request fails on a dead idle connection.
//
// Thread-safe: any thread may borrow. At most `size` connections are open; a borrower waits when
// all are lent.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "adapters/postgres/connection.h"

namespace redress::postgres {

class ConnectionPool {
 public:
  ConnectionPool(std::string url, int size) : url_(std::move(url)), size_(size) {}

  // The database's URL, for work that needs a connection of its own (compaction).
  [[nodiscard]] const std::string& url() const { return url_; }

  // Runs `work(Connection&)`, which returns a Result<T> or a Status, on a lent connection.
  template <typename Fn>
  auto with(Fn&& work) -> std::invoke_result_t<Fn, Connection&> {
    auto connection = borrow();
    if (!connection) return connection.error();
    auto result = work(**connection);
    give_back(std::move(connection).value());
    return result;
  }

 private:
  [[nodiscard]] Result<std::unique_ptr<Connection>> borrow() {
    std::unique_lock lock(mutex_);
    available_.wait(lock, [&] { return !idle_.empty() || open_ < size_; });
    if (!idle_.empty()) {
      auto [connection, idle_since] = std::move(idle_.back());
      idle_.pop_back();
      const bool lost_meanwhile = idle_since != lost_epoch_;
      lock.unlock();
      if (lost_meanwhile || !connection->healthy() || connection->last_failure() == Failure::kConnectionLost) {
        if (Status s = connection->reconnect(); !s) {
          discard();
          return s.error();
        }
      }
      return connection;
    }
    ++open_;
    lock.unlock();
    auto opened = Connection::open(url_);
    if (!opened) discard();
    return opened;
  }
  void give_back(std::unique_ptr<Connection> connection) {
    // A connection left inside a transaction (a bug, or a failure mid-way) is not lent again so.
    if (connection->healthy() && connection->in_transaction()) (void)connection->execute("ROLLBACK");
    const bool lost = !connection->healthy() || connection->last_failure() == Failure::kConnectionLost;
    {
      std::lock_guard lock(mutex_);
      if (lost) ++lost_epoch_;
      idle_.emplace_back(std::move(connection), lost_epoch_);
    }
    available_.notify_one();
  }
  void discard() {
    {
      std::lock_guard lock(mutex_);
      --open_;
    }
    available_.notify_one();
  }

  const std::string url_;
  const int size_;
  std::mutex mutex_;
  std::condition_variable available_;
  // Each idle connection with the loss count when it was given back: a loss since means suspect.
  std::vector<std::pair<std::unique_ptr<Connection>, std::uint64_t>> idle_;
  std::uint64_t lost_epoch_ = 0;  // how many times a connection found the server gone
  int open_ = 0;                  // lent or idle
};

}  // namespace redress::postgres
