#include "adapters/sqlite/reader_pool.h"

#include <pthread.h>

#include <algorithm>

namespace redress::sqlite {

namespace {
using SteadyClock = std::chrono::steady_clock;
constexpr int kShmRegionSize = 32768;  // the region size SQLite's WAL code maps
}  // namespace

std::optional<WalWatch::Header> WalWatch::read() {
  if (!header_) {
    sqlite3_file* file = nullptr;
    if (sqlite3_file_control(connection_.handle(), "main", SQLITE_FCNTL_FILE_POINTER, &file) != SQLITE_OK || !file ||
        !file->pMethods || file->pMethods->iVersion < 2 || !file->pMethods->xShmMap)
      return std::nullopt;
    // Region 0 is mapped once the connection has read in WAL mode; bExtend 0 never creates it.
    void volatile* region = nullptr;
    if (file->pMethods->xShmMap(file, 0, kShmRegionSize, 0, &region) != SQLITE_OK || !region) return std::nullopt;
    header_ = static_cast<const volatile std::uint32_t*>(region);
  }
  // Writers update the header under their own locks; word-wise atomic loads see each word whole,
  // and a header read while it is being rewritten differs from both versions, so reads as changed.
  Header header;
  const auto* words = const_cast<const std::uint32_t*>(header_);
  for (std::size_t i = 0; i < header.size(); ++i) header[i] = __atomic_load_n(words + i, __ATOMIC_ACQUIRE);
  const auto* bytes = reinterpret_cast<const unsigned char*>(header.data());
  if (bytes[12] == 0) return std::nullopt;  // isInit: not yet built (recovery to come)
  return header;
}

ReaderPool::ReaderPool(std::chrono::milliseconds max_age) : max_age_(max_age) {
  if (max_age_.count() > 0) reaper_ = std::thread([this] { reaper_loop(); });
  if (reaper_.joinable()) pthread_setname_np(reaper_.native_handle(), "redress-readers");
}

ReaderPool::~ReaderPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  reaper_wake_.notify_all();
  if (reaper_.joinable()) reaper_.join();
  for (auto& reader : all_) end(*reader);
}

void ReaderPool::add(std::unique_ptr<Connection> connection) {
  auto reader = std::make_unique<Reader>(std::move(connection));
  std::lock_guard lock(mutex_);
  idle_.push_back(reader.get());
  all_.push_back(std::move(reader));
}

ReaderPool::Lease ReaderPool::acquire(Snapshot snapshot) {
  Reader* reader = nullptr;
  {
    std::unique_lock lock(mutex_);
    available_.wait(lock, [&] { return !idle_.empty(); });
    reader = idle_.back();
    idle_.pop_back();
  }
  prepare(*reader, snapshot);
  return Lease(*this, reader);
}

void ReaderPool::prepare(Reader& reader, Snapshot snapshot) {
  if (reader.kept) {
    if (snapshot == Snapshot::kCurrent && SteadyClock::now() - reader.began < max_age_) {
      auto header = reader.watch.read();
      if (header && *header == reader.seen) {
        reused_.fetch_add(1, std::memory_order_relaxed);
        return;
      }
    }
    end(reader);
  }
  if (snapshot == Snapshot::kCurrent && max_age_.count() > 0) {
    begin(reader);
    begun_.fetch_add(1, std::memory_order_relaxed);
  }
}

void ReaderPool::begin(Reader& reader) {
  // The header is read before the snapshot is taken (by the first statement), so a commit in
  // between makes the next use begin afresh: never a reuse of something older than the header.
  auto header = reader.watch.read();
  if (!header) return;  // statements run in autocommit, each on its own current snapshot
  if (!reader.connection->cached("BEGIN").run()) return;
  reader.kept = true;
  reader.seen = *header;
  reader.began = SteadyClock::now();
}

void ReaderPool::end(Reader& reader) {
  if (reader.kept && !sqlite3_get_autocommit(reader.connection->handle()))
    (void)reader.connection->cached("COMMIT").run();
  reader.kept = false;
}

void ReaderPool::release(Reader* reader) {
  // A failed statement may have ended the transaction (SQLite rolls back on some errors).
  if (reader->kept && sqlite3_get_autocommit(reader->connection->handle())) reader->kept = false;
  bool wake_reaper = false;
  {
    std::lock_guard lock(mutex_);
    idle_.push_back(reader);
    if (reader->kept && reaper_idle_) {
      reaper_idle_ = false;
      wake_reaper = true;
    }
  }
  available_.notify_one();
  if (wake_reaper) reaper_wake_.notify_one();
}

void ReaderPool::end_idle_snapshots() {
  std::vector<Reader*> kept;
  {
    std::lock_guard lock(mutex_);
    auto cold = std::stable_partition(idle_.begin(), idle_.end(), [](Reader* r) { return !r->kept; });
    kept.assign(cold, idle_.end());
    idle_.erase(cold, idle_.end());
  }
  if (kept.empty()) return;
  for (Reader* reader : kept) end(*reader);
  reaped_.fetch_add(static_cast<std::int64_t>(kept.size()), std::memory_order_relaxed);
  {
    std::lock_guard lock(mutex_);
    idle_.insert(idle_.begin(), kept.begin(), kept.end());  // cold now: handed out last
  }
  available_.notify_all();
}

void ReaderPool::reaper_loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    std::optional<SteadyClock::time_point> earliest;
    for (const Reader* reader : idle_)
      if (reader->kept && (!earliest || reader->began < *earliest)) earliest = reader->began;
    if (!earliest) {
      // Nothing to end until a lease gives back a connection that keeps its snapshot.
      reaper_idle_ = true;
      reaper_wake_.wait(lock, [&] { return stopping_ || !reaper_idle_; });
      continue;
    }
    auto now = SteadyClock::now();
    if (now < *earliest + max_age_) {
      reaper_wake_.wait_until(lock, *earliest + max_age_);
      continue;
    }
    std::vector<Reader*> expired;
    auto fresh = std::stable_partition(idle_.begin(), idle_.end(),
                                       [&](Reader* r) { return !r->kept || now - r->began < max_age_; });
    expired.assign(fresh, idle_.end());
    idle_.erase(fresh, idle_.end());
    lock.unlock();
    for (Reader* reader : expired) end(*reader);
    reaped_.fetch_add(static_cast<std::int64_t>(expired.size()), std::memory_order_relaxed);
    lock.lock();
    idle_.insert(idle_.begin(), expired.begin(), expired.end());
    available_.notify_all();
  }
}

ReaderPool::Counters ReaderPool::counters() const {
  return Counters{reused_.load(std::memory_order_relaxed), begun_.load(std::memory_order_relaxed),
                  reaped_.load(std::memory_order_relaxed)};
}

}  // namespace redress::sqlite
