#include "adapters/sqlite/blob_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>
#include <stdexcept>

#include "engine/hash_chain.h"

namespace redress::sqlite {

namespace {

constexpr std::size_t kIdleReaders = 4;  // read-only connections kept between gets at most

// A rowid table, not WITHOUT ROWID: a row of megabytes belongs in overflow pages of its own, and a
// key lookup goes through the unique index on `key`.
constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS blobs ("
    "  id INTEGER PRIMARY KEY,"
    "  key TEXT NOT NULL UNIQUE,"
    "  size INTEGER NOT NULL,"
    "  bytes BLOB NOT NULL"
    ") STRICT;";

Status configure(Connection& connection, OpenMode mode) {
  std::string pragmas =
      "PRAGMA busy_timeout = 10000; PRAGMA mmap_size = 0; PRAGMA cache_size = -2048; PRAGMA secure_delete = ON;";
  if (mode == OpenMode::kReadWrite)
    pragmas += "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA journal_size_limit = 67108864;";
  else
    pragmas += "PRAGMA query_only = ON;";
  return connection.exec(pragmas);
}

}  // namespace

std::string SqliteBlobStore::path_for(const std::string& store_path) {
  constexpr std::string_view kSuffix = ".db";
  if (store_path.size() > kSuffix.size() && store_path.ends_with(kSuffix))
    return store_path.substr(0, store_path.size() - kSuffix.size()) + "-blobs.db";
  return store_path + "-blobs";
}

Result<std::unique_ptr<SqliteBlobStore>> SqliteBlobStore::open(const std::string& path) {
  // Created by us with 0600 before SQLite opens it: SQLite gives its WAL and shared-memory files the
  // database file's mode, so the files of mail and attachments are the owner's only.
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Error::unavailable("cannot create the blob file " + path + ": " + std::strerror(errno));
  ::close(fd);
  try {
    auto writer = std::make_unique<Connection>(path, OpenMode::kReadWrite);
    Status s = configure(*writer, OpenMode::kReadWrite);
    if (s) s = writer->exec(kSchema);
    if (!s) return Error::unavailable("cannot open the blob file " + path + ": " + s.error().detail);
    return std::unique_ptr<SqliteBlobStore>(new SqliteBlobStore(path, std::move(writer)));
  } catch (const std::exception& e) {
    return Error::unavailable(e.what());
  }
}

SqliteBlobStore::SqliteBlobStore(std::string path, std::unique_ptr<Connection> writer)
    : path_(std::move(path)), writer_(std::move(writer)) {}

SqliteBlobStore::~SqliteBlobStore() {
  // Readers first: the last connection to close a WAL database removes the WAL, which read-only
  // connections cannot.
  idle_readers_.clear();
  writer_.reset();
}

Result<BlobInfo> SqliteBlobStore::put_blob(std::string_view bytes) {
  BlobInfo info{sha256_hex(bytes), static_cast<std::int64_t>(bytes.size())};
  std::lock_guard lock(write_mutex_);
  Statement& insert =
      writer_->cached("INSERT INTO blobs(key, size, bytes) VALUES (?1, ?2, ?3) ON CONFLICT(key) DO NOTHING");
  insert.bind(1, info.key).bind(2, info.size);
  // SQLITE_STATIC: the bytes outlive the step, and a copy of a large file is what we avoid.
  if (sqlite3_bind_blob64(insert.handle(), 3, bytes.data(), bytes.size(), SQLITE_STATIC) != SQLITE_OK)
    return writer_->last_error("storing a blob");
  // An autocommit statement: committed (and, synchronous FULL in WAL mode, synced) when run returns.
  if (Status s = insert.run(); !s) return s.error();
  return info;
}

Result<std::string> SqliteBlobStore::get_blob(const std::string& key) {
  auto reader = take_reader();
  if (!reader) return reader.error();
  Result<std::string> answer = Error::not_found("no blob " + key);
  {
    Statement& select = (*reader)->cached("SELECT bytes FROM blobs WHERE key = ?1");
    select.bind(1, key);
    if (select.step()) {
      const void* data = sqlite3_column_blob(select.handle(), 0);
      const int size = sqlite3_column_bytes(select.handle(), 0);
      answer = std::string(static_cast<const char*>(data), data ? static_cast<std::size_t>(size) : 0);
    } else if (!select.status()) {
      answer = select.status().error();
    }
    select.reset();
  }
  give_back(std::move(reader).value());
  return answer;
}

Result<std::int64_t> SqliteBlobStore::delete_blobs(const std::vector<std::string>& keys) {
  if (keys.empty()) return std::int64_t{0};
  std::lock_guard lock(write_mutex_);
  if (Status s = writer_->exec("BEGIN IMMEDIATE"); !s) return s.error();
  std::int64_t deleted = 0;
  Statement& remove = writer_->cached("DELETE FROM blobs WHERE key = ?1");
  for (const auto& key : keys) {
    if (Status s = remove.bind(1, key).run(); !s) {
      (void)writer_->exec("ROLLBACK");
      return s.error();
    }
    deleted += writer_->changes();
  }
  if (Status s = writer_->exec("COMMIT"); !s) {
    (void)writer_->exec("ROLLBACK");
    return s.error();
  }
  return deleted;
}

Status SqliteBlobStore::truncate_wal() {
  for (int attempt = 0; attempt < 20; ++attempt) {
    {
      std::lock_guard lock(write_mutex_);
      // The idle readers' statements are reset: none holds a read transaction.
      int log = 0, done = 0;
      int rc = sqlite3_wal_checkpoint_v2(writer_->handle(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, &log, &done);
      if (rc == SQLITE_OK) return Status::success();
      if (rc != SQLITE_BUSY) return writer_->last_error("truncating the blob file's WAL");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return Error::unavailable("the blob file's WAL stayed busy; the next purge truncates it");
}

Result<std::unique_ptr<Connection>> SqliteBlobStore::take_reader() {
  {
    std::lock_guard lock(readers_mutex_);
    if (!idle_readers_.empty()) {
      auto reader = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return reader;
    }
  }
  try {
    auto reader = std::make_unique<Connection>(path_, OpenMode::kReadOnly);
    if (Status s = configure(*reader, OpenMode::kReadOnly); !s) return s.error();
    return reader;
  } catch (const std::exception& e) {
    return Error::unavailable(e.what());
  }
}

void SqliteBlobStore::give_back(std::unique_ptr<Connection> reader) {
  std::lock_guard lock(readers_mutex_);
  if (idle_readers_.size() < kIdleReaders) idle_readers_.push_back(std::move(reader));
}

}  // namespace redress::sqlite
