// CredentialsWatch: the credentials' generation (ports/staff_directory.h) as the database has it
// now, asked before every request that presents a remembered token (web/token_cache.h).
//
// It keeps the generation with the WAL-index header it was read under (reader_pool.h, WalWatch).
// Every commit, by any connection of any process on the file, rewrites that header; while it is
// byte for byte the same, no commit happened, so the generation cannot have moved and the answer
// needs no statement: a mutex and a 48-byte compare. Otherwise one statement on its own read-only
// connection reads the row afresh. The header is read before the statement's snapshot is taken,
// so a commit in between is read again next time, never missed.
//
// Thread-safe: a mutex around its connection.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "adapters/sqlite/database.h"
#include "adapters/sqlite/reader_pool.h"
#include "engine/result.h"

namespace redress::sqlite {

class CredentialsWatch {
 public:
  // Opens its own read-only connection to `path` (throws on failure, at start-up, as Connection does).
  explicit CredentialsWatch(const std::string& path);

  [[nodiscard]] Result<std::int64_t> generation();

 private:
  std::mutex mutex_;
  std::unique_ptr<Connection> connection_;  // guarded by mutex_
  WalWatch watch_;                          // over connection_; guarded by mutex_
  std::optional<WalWatch::Header> seen_;    // the header `generation_` was read under; guarded
  std::int64_t generation_ = 0;             // guarded by mutex_
};

}  // namespace redress::sqlite
