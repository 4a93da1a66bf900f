// The SQLite schema and its forward migrations.
//
// The schema version is SQLite's `user_version`. Each migration moves the database one version
// forward inside its own transaction. A database whose version is newer than this binary knows is
// refused untouched. Not thread-safe: run before the store starts.
#pragma once

#include "adapters/sqlite/database.h"

namespace redress::sqlite {

// The newest schema version this binary knows.
[[nodiscard]] int latest_schema_version();
[[nodiscard]] Result<int> schema_version(Connection& connection);

struct MigrationReport {
  int from = 0;
  int to = 0;
};
// Brings the database to the latest version. kInvalid when it is newer than this binary.
[[nodiscard]] Result<MigrationReport> migrate(Connection& connection);

// Sets every pragma the store relies on (WAL, synchronous, foreign keys, timeouts, cache sizes).
enum class Durability { kFull, kNormal };
[[nodiscard]] Status configure_connection(Connection& connection, Durability durability, OpenMode mode);

}  // namespace redress::sqlite
