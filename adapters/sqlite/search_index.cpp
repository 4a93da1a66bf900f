#include "adapters/sqlite/search_index.h"

#include <spdlog/spdlog.h>

#include <pthread.h>
#include <algorithm>
#include <filesystem>
#include <stdexcept>
#include <thread>
#include <vector>

namespace redress::sqlite {

namespace {

// A regular (contentful) FTS5 table: it keeps its own copy of the texts, so that a row can be
// deleted by rowid alone, without the store's old values.
constexpr const char* kCreateText =
    "CREATE VIRTUAL TABLE IF NOT EXISTS cases_text USING fts5(reference, subject, client_name, client_email, "
    "tokenize='trigram')";

Status check(Status status, const char* what) {
  if (status) return status;
  Error error = status.error();
  error.detail = std::string(what) + ": " + error.detail;
  return error;
}

// The id of the store's database (migration 11), which its index file must carry.
std::string store_id(Connection& store) {
  auto id = store.prepare("SELECT id FROM search_index");
  if (!id || !id->step()) throw std::runtime_error("cannot read the search index id of " + store.path());
  return id->text(0);
}

// Opens the index file and makes its tables; throws std::runtime_error when it cannot.
std::unique_ptr<Connection> open_index(const std::string& path) {
  auto index = std::make_unique<Connection>(path, OpenMode::kReadWrite);
  // FULL whatever the store's setting: a round deletes its pending rows from the store only after
  // this commit, so the commit must be on disk first. The rounds run off the write path.
  Status s = index->exec(
      "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA secure_delete = ON;"
      "PRAGMA journal_size_limit = 67108864; PRAGMA cache_size = -16384; PRAGMA mmap_size = 0;"
      "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;");
  if (s) s = index->exec(kCreateText);
  if (!s) throw std::runtime_error("cannot open the search index " + path + ": " + s.error().detail);
  return index;
}

std::string index_owner(Connection& index) {
  auto owner = index.prepare("SELECT value FROM meta WHERE key = 'store'");
  if (!owner) throw std::runtime_error("cannot read the search index " + index.path() + ": " + owner.error().detail);
  if (!owner->step()) {
    if (!owner->status()) throw std::runtime_error("cannot read the search index " + index.path());
    return "";
  }
  return owner->text(0);
}

void remove_index_files(const std::string& path) {
  std::error_code ignored;
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix, ignored);
}

}  // namespace

std::string SearchIndex::path_for(const std::string& store_path) {
  constexpr std::string_view kSuffix = ".db";
  if (store_path.size() > kSuffix.size() && store_path.ends_with(kSuffix))
    return store_path.substr(0, store_path.size() - kSuffix.size()) + "-search.db";
  return store_path + "-search";
}

SearchIndex::SearchIndex(const std::string& store_path, Connection& store_writer, StoreWrite store_write)
    : path_(path_for(store_path)), store_write_(std::move(store_write)) {
  const std::string id = store_id(store_writer);
  std::string owner;
  try {
    index_ = open_index(path_);
    owner = index_owner(*index_);
  } catch (const std::exception& e) {
    // A damaged file is only a copy: start a new one.
    spdlog::warn("search index: {}; making a new one", e.what());
    index_.reset();
    remove_index_files(path_);
    index_ = open_index(path_);
  }
  if (owner != id) {
    // Rebuild: every case pending first (durably), then the index emptied. A crash in between
    // leaves the owner unchanged, so the next start does it again.
    Status s = check(store_writer.exec("INSERT INTO search_pending(case_id) SELECT id FROM cases WHERE true "
                                       "ON CONFLICT(case_id) DO UPDATE SET generation = generation + 1"),
                     "marking the cases for indexing");
    if (s) s = index_->exec("BEGIN IMMEDIATE; DROP TABLE cases_text;");
    if (s) s = index_->exec(kCreateText);
    if (s) {
      auto set = index_->prepare("INSERT OR REPLACE INTO meta(key, value) VALUES ('store', ?1)");
      s = set ? set->bind(1, id).run() : Status(set.error());
    }
    if (s) s = index_->exec("COMMIT");
    if (!s) {
      (void)index_->exec("ROLLBACK");
      throw std::runtime_error("cannot rebuild the search index " + path_ + ": " + s.error().detail);
    }
    if (!owner.empty())
      spdlog::warn("search index {} belonged to another database; rebuilding it in the background", path_);
  }
  store_reader_ = std::make_unique<Connection>(store_path, OpenMode::kReadOnly);
  if (auto s = configure_connection(*store_reader_, Durability::kFull, OpenMode::kReadOnly); !s)
    throw std::runtime_error("cannot open a reader for the search index: " + s.error().detail);
  (void)store_reader_->exec("PRAGMA cache_size = -4096");
}

SearchIndex::~SearchIndex() { stop(); }

void SearchIndex::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void SearchIndex::start(std::chrono::milliseconds interval) {
  interval_ = interval;
  thread_ = std::thread([this] { run(); });
  pthread_setname_np(thread_.native_handle(), "redress-index");
}

Status SearchIndex::attach(Connection& reader) const {
  auto attach = reader.prepare("ATTACH DATABASE ?1 AS search");
  if (!attach) return attach.error();
  if (auto s = attach->bind(1, path_).run(); !s) return s;
  return reader.exec("PRAGMA search.cache_size = -4096");
}

Status SearchIndex::index_now() {
  for (;;) {
    auto round = index_round();
    if (!round) return round.error();
    // Until a round finds none: a case changed during a round stays pending for the next.
    if (*round == 0) return Status::success();
  }
}

Status SearchIndex::purge_deleted() {
  if (auto s = index_now(); !s) return s;
  std::lock_guard round(round_mutex_);
  return merge_and_truncate();
}

Status SearchIndex::merge_and_truncate() {
  Connection& index = *index_;
  if (auto s = index.exec("INSERT INTO cases_text(cases_text) VALUES ('optimize')"); !s)
    return check(s, "merging the search index");
  for (int attempt = 0; attempt < 20; ++attempt) {
    int log = 0, done = 0;
    int rc = sqlite3_wal_checkpoint_v2(index.handle(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, &log, &done);
    if (rc == SQLITE_OK) return Status::success();
    if (rc != SQLITE_BUSY) return index.last_error("truncating the search index's WAL");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // a search holds the index's WAL
  }
  return Error::unavailable("the search index's WAL stayed busy; the next purge truncates it");
}

void SearchIndex::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    auto round = index_round();
    if (!round) {
      // Once a minute at most: on a full disk every round fails the same way. Searches stay exact.
      auto now = std::chrono::steady_clock::now();
      if (now - last_warning_ >= std::chrono::minutes(1)) {
        spdlog::warn("search index: indexing failed (searches still find every case): {}", round.error().detail);
        last_warning_ = now;
      }
    }
    lock.lock();
    if (round && *round == kRoundSize) continue;  // more are waiting
    wake_.wait_for(lock, interval_, [this] { return stopping_; });
  }
}

Result<int> SearchIndex::index_round() {
  struct Pending {
    std::int64_t case_id = 0, generation = 0;
    bool exists = false;
    std::string reference, subject, client_name, client_email;
    bool erased = false;  // its personal data was erased (docs/personal-data.md)
  };
  std::lock_guard round(round_mutex_);
  std::vector<Pending> pending;
  {
    auto& select = store_reader_->cached(
        "SELECT p.case_id, p.generation, c.id IS NOT NULL, c.reference, c.subject, c.client_name, c.client_email, "
        "EXISTS (SELECT 1 FROM case_privacy v WHERE v.case_id = p.case_id AND v.state = 'erased') "
        "FROM search_pending p LEFT JOIN cases c ON c.id = p.case_id ORDER BY p.case_id LIMIT ?1");
    select.bind(1, kRoundSize);
    while (select.step())
      pending.push_back({select.integer(0), select.integer(1), select.integer(2) != 0, select.text(3), select.text(4),
                         select.text(5), select.text(6), select.integer(7) != 0});
    Status read = select.status();
    select.reset();  // ends the read transaction
    if (!read) return read.error();
  }
  if (pending.empty()) return 0;

  Connection& index = *index_;
  Status s = index.exec("BEGIN IMMEDIATE");
  for (std::size_t i = 0; s && i < pending.size(); ++i) {
    const Pending& p = pending[i];
    auto& remove = index.cached("DELETE FROM cases_text WHERE rowid = ?1");
    s = remove.bind(1, p.case_id).run();
    if (s && p.exists) {
      auto& insert = index.cached(
          "INSERT INTO cases_text(rowid, reference, subject, client_name, client_email) VALUES (?1,?2,?3,?4,?5)");
      s = insert.bind(1, p.case_id)
              .bind_static(2, p.reference)
              .bind_static(3, p.subject)
              .bind_static(4, p.client_name)
              .bind_static(5, p.client_email)
              .run();
    }
  }
  if (s) s = index.exec("COMMIT");
  if (!s) {
    (void)index.exec("ROLLBACK");
    return s.error();
  }
  // A case erased since it was last indexed: its old text is out of the rows but still in the
  // segments (and the WAL) until they are merged. A round that began before the erasure and wrote
  // the old text after it is caught here too, by the round that re-indexes the erased text.
  if (std::any_of(pending.begin(), pending.end(), [](const Pending& p) { return p.erased; }))
    if (auto merged = merge_and_truncate(); !merged) return merged.error();
  // Only the generations indexed: a case changed since stays pending for the next round.
  s = store_write_([&pending](Connection& db) -> Status {
    auto& done = db.cached("DELETE FROM search_pending WHERE case_id = ?1 AND generation = ?2");
    for (const Pending& p : pending)
      if (auto s = done.bind(1, p.case_id).bind(2, p.generation).run(); !s) return s;
    return Status::success();
  });
  if (!s) return s.error();
  return static_cast<int>(pending.size());
}

}  // namespace redress::sqlite
