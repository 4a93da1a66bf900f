// The PostgreSQL schema and its forward migrations: the same tables and meaning as the SQLite
// schema at its latest version (adapters/sqlite/schema.cpp), so that one row codec reads both.
// Times are BIGINT microseconds since the epoch, flags BIGINT 0/1, ids BIGINT (cases, commitments,
// redress and messages from sequences the store draws on; the rest identity columns), blobs BYTEA.
//
// The version is the one row of `redress_schema`. Each migration moves the database one version
// forward in its own transaction, under an advisory lock, so that several nodes starting at once
// migrate once. A database newer than this binary knows is refused untouched.
//
// Not thread-safe: one connection, used by its caller alone.
#pragma once

#include "adapters/postgres/connection.h"

namespace redress::postgres {

[[nodiscard]] int latest_schema_version();
// The database's version; 0 when it has no Redress schema yet.
[[nodiscard]] Result<int> schema_version(Connection& connection);

struct MigrationReport {
  int from = 0;
  int to = 0;
};
// Brings the database to the latest version. kInvalid when it is newer than this binary.
[[nodiscard]] Result<MigrationReport> migrate(Connection& connection);

}  // namespace redress::postgres
