// The two stores the storage contract runs against, each on a database of its own made for one
// test: SqliteBackend a migrated SQLite file in a temporary folder, PostgresBackend a migrated
// database on the test process's own PostgreSQL 15 (tests/support/postgres.h). open_node() opens
// one more store ("node") on the same database; several may be open at once.
//
// Header-only; each test process includes it in its contract tests.
#pragma once

#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include "adapters/postgres/connection.h"
#include "adapters/postgres/postgres_store.h"
#include "adapters/postgres/schema.h"
#include "adapters/sqlite/sqlite_store.h"
#include "app/environment.h"
#include "tests/support/files.h"
#include "tests/support/postgres.h"
#include "workflows/loader.h"

namespace redress::storagetest {

struct SqliteBackend {
  static constexpr const char* kName = "sqlite";
  testing::TempDir dir;
  Config config;
  SqliteBackend() {
    config.data_dir = dir.path().string();
    auto migrated = migrate_database(config);
    INFO((migrated.ok() ? std::string() : migrated.error().detail));
    REQUIRE(migrated.ok());
  }
  std::unique_ptr<Store> open_node(const Clock& clock) {
    sqlite::StoreOptions options;
    options.path = config.database_path();
    options.search_indexing = sqlite::SearchIndexing::kOnRequest;
    auto store = sqlite::SqliteStore::open(options, clock);
    INFO((store.ok() ? std::string() : store.error().detail));
    REQUIRE(store.ok());
    return std::move(store).value();
  }
};

struct PostgresBackend {
  static constexpr const char* kName = "postgresql";
  std::string url = testing::PostgresServer::shared().fresh_database();
  PostgresBackend() {
    auto connection = postgres::Connection::open(url);
    REQUIRE(connection.ok());
    auto migrated = postgres::migrate(**connection);
    INFO((migrated.ok() ? std::string() : migrated.error().detail));
    REQUIRE(migrated.ok());
  }
  std::unique_ptr<Store> open_node(const Clock& clock) {
    auto store = postgres::PostgresStore::open(postgres::StoreOptions{url}, clock);
    INFO((store.ok() ? std::string() : store.error().detail));
    REQUIRE(store.ok());
    return std::move(store).value();
  }
};

// The standards Redress ships (workflows/).
inline WorkflowSet shipped_workflows() {
  auto loaded = load_workflows(REDRESS_SOURCE_DIR "/workflows");
  REQUIRE(loaded.ok());
  return std::move(loaded).value();
}

}  // namespace redress::storagetest
