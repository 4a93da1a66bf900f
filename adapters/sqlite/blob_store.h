// SqliteBlobStore: the BlobStore port (ports/blob_store.h) on an SQLite file of its own, beside the
// store's database (`redress.db` -> `redress-blobs.db`), created with mode 0600.
//
// Why a file of its own: a file of megabytes written through the case writer's WAL would hold the
// one write lock for its whole copy and fsync, and grow the WAL every case write must sync after;
// here a put takes its own lock, its own WAL and its own sync, and no case write waits for it.
//
// A put is durable when it returns (journal_mode WAL, synchronous FULL: the commit is synced
// before the answer). Keys are the hex SHA-256 of the bytes (engine/hash_chain.h), so the same
// bytes put twice are one row (INSERT ... ON CONFLICT DO NOTHING) and a key names its content.
//
// Thread-safe: puts take turns on the one read-write connection (a mutex); gets take a read-only
// connection from a small pool (opened as needed, kept for the next), so reads run beside a put.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "adapters/sqlite/database.h"
#include "ports/blob_store.h"

namespace redress::sqlite {

class SqliteBlobStore final : public BlobStore {
 public:
  // The blob file beside the store's database `store_path`.
  [[nodiscard]] static std::string path_for(const std::string& store_path);

  // Opens (creating, mode 0600) the blob file at `path` and makes its table. kUnavailable when the
  // file cannot be created or opened.
  [[nodiscard]] static Result<std::unique_ptr<SqliteBlobStore>> open(const std::string& path);
  ~SqliteBlobStore() override;
  SqliteBlobStore(const SqliteBlobStore&) = delete;
  SqliteBlobStore& operator=(const SqliteBlobStore&) = delete;

  [[nodiscard]] Result<BlobInfo> put_blob(std::string_view bytes) override;
  [[nodiscard]] Result<std::string> get_blob(const std::string& key) override;

  // Erasure (docs/personal-data.md): deletes the blobs, in one transaction; how many there were.
  // Their pages are zeroed (secure_delete); truncate_wal then cuts the WAL copies.
  [[nodiscard]] Result<std::int64_t> delete_blobs(const std::vector<std::string>& keys);
  // Checkpoints the blob file's WAL and truncates it to nothing (retrying while a reader holds it).
  [[nodiscard]] Status truncate_wal();

  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  SqliteBlobStore(std::string path, std::unique_ptr<Connection> writer);
  [[nodiscard]] Result<std::unique_ptr<Connection>> take_reader();
  void give_back(std::unique_ptr<Connection> reader);

  const std::string path_;
  std::mutex write_mutex_;
  std::unique_ptr<Connection> writer_;  // guarded by write_mutex_; closes last (it removes the WAL)
  std::mutex readers_mutex_;
  std::vector<std::unique_ptr<Connection>> idle_readers_;  // guarded by readers_mutex_
};

}  // namespace redress::sqlite
