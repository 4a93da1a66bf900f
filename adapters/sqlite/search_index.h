// SearchIndex: the trigram index of the cases' texts (reference, subject, client name and email),
// kept in its own database file next to the store's (`redress.db` -> `redress-search.db`).
//
// Why a file of its own: FTS5 merges its segments in lumps of tens of milliseconds that grow with
// the index; inside the store's database they held the one write lock, and every write behind
// them waited (the soak's p99 tripled in ten minutes). In its own file, indexing never blocks a
// write to the store.
//
// The store's database says what the index lacks: `search_pending` (migration 11) has a row for
// every case created, renamed or deleted since it was last indexed, with a generation that moves
// at each change. A round of indexing reads pending rows through its own read-only connection to
// the store, writes them into the index and commits it durably, and only then deletes, through the
// store's writer, the pending rows whose generation it indexed (a case renamed meanwhile stays
// pending). A search takes the index's candidates and every pending case, and the LIKE on the
// case row decides. Its one statement locks the store's database before the index's, so a case it
// no longer sees pending is in the index it sees: search results are exactly the LIKE's.
//
// The index file records which store it belongs to (an id migration 11 put in the store). When it
// is missing, cannot be opened or belongs to another database (redress.db restored alone), it is
// rebuilt: every case is marked pending first, then the file is emptied.
//
// Thread-safe: `index_now` may be called from any thread; it and the background thread (if
// started) take turns on a mutex.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "adapters/sqlite/database.h"
#include "adapters/sqlite/schema.h"

namespace redress::sqlite {

class SearchIndex {
 public:
  // Runs work in a transaction of the store's writer and waits for its commit.
  using StoreWrite = std::function<Status(std::function<Status(Connection&)>)>;

  // The index file beside the store's database `store_path`.
  [[nodiscard]] static std::string path_for(const std::string& store_path);

  // Opens (creating, or rebuilding as above) the index of the store whose writer connection is
  // `store_writer`; used only here, before the store's writer thread starts. Throws
  // std::runtime_error when neither the file nor a rebuilt one can be opened (start-up failure).
  SearchIndex(const std::string& store_path, Connection& store_writer, StoreWrite store_write);
  ~SearchIndex();  // stop(), then the index file's connection closes
  SearchIndex(const SearchIndex&) = delete;
  SearchIndex& operator=(const SearchIndex&) = delete;

  // Starts the background thread: a round every `interval` while cases are pending, until
  // destruction.
  void start(std::chrono::milliseconds interval);
  // Ends the background thread after its round in progress; idempotent. The index stays open.
  void stop();
  // Indexes every pending case now, in rounds until one finds none pending; the first failure.
  [[nodiscard]] Status index_now();
  // After an erasure (docs/personal-data.md): indexes the pending cases (their erased text), merges
  // every segment into one (FTS5 'optimize': a deleted row's terms stay in the older segments
  // until they are merged), and checkpoints and truncates the index's WAL; the index connection
  // runs with secure_delete, so the pages freed are zeroed. Costs a rewrite of the whole index.
  [[nodiscard]] Status purge_deleted();
  // Attaches the index read-only to a reader connection of the store as schema `search`.
  [[nodiscard]] Status attach(Connection& reader) const;

  static constexpr int kRoundSize = 512;  // pending cases per round (one index transaction)

 private:
  // One round: up to kRoundSize pending cases; how many there were.
  [[nodiscard]] Result<int> index_round();
  // Merges every segment into one and truncates the index's WAL. Under round_mutex_.
  [[nodiscard]] Status merge_and_truncate();
  void run();

  const std::string path_;
  StoreWrite store_write_;
  std::unique_ptr<Connection> index_;         // read-write, on path_
  std::unique_ptr<Connection> store_reader_;  // read-only, on the store's database
  std::mutex round_mutex_;                    // one round at a time; guards both connections

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mutex_
  std::chrono::milliseconds interval_{250};
  std::chrono::steady_clock::time_point last_warning_{};  // touched by rounds only
  std::thread thread_;                                    // last: started after every member above exists
};

}  // namespace redress::sqlite
