// ReaderPool: the store's read-only connections, handed out one per reader at a time, each of which
// may keep its read transaction open between uses while the database has not changed.
//
// Beginning and ending a read transaction in WAL mode locks a slot of the shared wal-index: a
// mutex and two fcntl calls, which under many small reads cost more than the reads themselves.
// So a lease taken for a current snapshot (`acquire(Snapshot::kCurrent)`) keeps the transaction
// open when it is given back, and the next such lease on that connection reuses it when the
// wal-index header (WalWatch) is byte for byte what it was just before the transaction began:
// every commit, WAL restart and recovery, by any connection of any process, rewrites that
// header, so an unchanged header means the open snapshot is exactly what a new one would see.
// Freshness never rests on this process's memory.
//
// A kept snapshot stops the WAL from restarting, so it lives at most `max_age` (then the next use
// begins a new one, and a reaper thread ends those left idle). A plain lease (`Snapshot::kNone`)
// ends a kept transaction first: its work begins its own transactions.
//
// Thread-safety: acquire and release from any thread; a lease is used by one thread at a time.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "adapters/sqlite/database.h"

namespace redress::sqlite {

// The first copy of a WAL database's wal-index header (48 bytes at the start of the shared
// memory; SQLite's walformat.html, "The WAL-Index Header"), read through the mapping SQLite
// itself made for a connection. Not thread-safe: used with its connection.
class WalWatch {
 public:
  using Header = std::array<std::uint32_t, 12>;
  explicit WalWatch(Connection& connection) : connection_(connection) {}
  // The header as it reads now; nullopt while it cannot be read (the shared memory is not mapped
  // yet, or not initialised), which callers treat as "changed".
  [[nodiscard]] std::optional<Header> read();

 private:
  Connection& connection_;
  const volatile std::uint32_t* header_ = nullptr;  // SQLite's mapping of region 0, once found
};

class ReaderPool {
 public:
  enum class Snapshot { kNone, kCurrent };
  struct Counters {
    std::int64_t reused = 0;  // kCurrent leases served by a kept snapshot
    std::int64_t begun = 0;   // kCurrent leases that began a new one
    std::int64_t reaped = 0;  // idle snapshots ended by the reaper or end_idle_snapshots
  };

  // `max_age` zero: no snapshot is kept (every kCurrent lease begins and ends its own).
  explicit ReaderPool(std::chrono::milliseconds max_age);
  ~ReaderPool();
  ReaderPool(const ReaderPool&) = delete;
  ReaderPool& operator=(const ReaderPool&) = delete;

  class Lease;
  void add(std::unique_ptr<Connection> connection);
  // Blocks until a connection is idle. kCurrent: the lease stands in an open read transaction
  // whose snapshot is current (begun now, or kept and unchanged); the holder runs statements
  // only, never BEGIN or COMMIT. kNone: no transaction is open.
  [[nodiscard]] Lease acquire(Snapshot snapshot);
  // Runs `work` with a connection leased with no transaction open (kNone), and gives it back.
  template <typename Fn>
  auto read(Fn&& work) {
    auto lease = acquire(Snapshot::kNone);
    return work(*lease);
  }
  // Runs `work` with a connection standing in a read transaction on a current snapshot (kCurrent):
  // `work` runs statements only.
  template <typename Fn>
  auto read_current(Fn&& work) {
    auto lease = acquire(Snapshot::kCurrent);
    return work(*lease);
  }
  // Ends the kept snapshots of the idle connections now (before a checkpoint that must restart
  // the WAL, and at shutdown).
  void end_idle_snapshots();
  [[nodiscard]] Counters counters() const;

 private:
  struct Reader {
    explicit Reader(std::unique_ptr<Connection> c) : connection(std::move(c)), watch(*connection) {}
    std::unique_ptr<Connection> connection;
    WalWatch watch;
    bool kept = false;                              // a read transaction is open
    WalWatch::Header seen{};                        // the header just before it began
    std::chrono::steady_clock::time_point began{};  // when it began
  };

 public:
  class Lease {
   public:
    Lease(ReaderPool& pool, Reader* reader) : pool_(pool), reader_(reader) {}
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { pool_.release(reader_); }
    Connection& operator*() const { return *reader_->connection; }
    Connection* operator->() const { return reader_->connection.get(); }

   private:
    ReaderPool& pool_;
    Reader* reader_;
  };

 private:
  void release(Reader* reader);
  // Readies a leased reader: keeps its snapshot, or ends it and (kCurrent) begins another.
  void prepare(Reader& reader, Snapshot snapshot);
  // Opens a read transaction on `reader` whose snapshot is taken by its first statement.
  void begin(Reader& reader);
  static void end(Reader& reader);
  void reaper_loop();

  const std::chrono::milliseconds max_age_;
  mutable std::mutex mutex_;
  std::condition_variable available_;
  std::condition_variable reaper_wake_;
  std::vector<std::unique_ptr<Reader>> all_;
  std::vector<Reader*> idle_;  // guarded by mutex_; the last given back is handed out first
  bool reaper_idle_ = false;   // guarded by mutex_: the reaper waits without a deadline
  bool stopping_ = false;      // guarded by mutex_
  std::atomic<std::int64_t> reused_{0}, begun_{0}, reaped_{0};
  std::thread reaper_;  // last: started once every member above exists
};

}  // namespace redress::sqlite
