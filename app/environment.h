// Environment: the composition root. Opens what a subcommand needs — the workflows, the clock, the
// store and the engine — from a Config, and reports each failure as one clear message. The store
// is SQLite in the data directory, or PostgreSQL when the config names a database URL.
// Owns what it opens; destroy it to flush and close. Not copyable.
#pragma once

#include <memory>
#include <string>

#include "adapters/postgres/postgres_store.h"
#include "adapters/sqlite/sqlite_store.h"
#include "app/config.h"
#include "engine/clock.h"
#include "engine/engine.h"
#include "engine/workflow.h"

namespace redress {

struct Environment {
  Config config;
  std::unique_ptr<Clock> clock;
  WorkflowSet workflows;
  std::unique_ptr<Store> store;
  // The same store by its kind, for what only that kind has (one of them is set).
  sqlite::SqliteStore* sqlite = nullptr;
  postgres::PostgresStore* postgres = nullptr;
  std::unique_ptr<Engine> engine;

  Environment() = default;
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;
  Environment(Environment&&) = default;
  Environment& operator=(Environment&&) = default;
};

enum class ClockChoice { kFromConfig, kManualFrom };
struct OpenOptions {
  bool load_workflows = true;
  bool migrate_if_needed = false;    // create and upgrade the database first (demo, tests)
  std::optional<Time> manual_start;  // use a ManualClock starting here, whatever the config says
  // Whether the store's writer indexes new cases for search by itself (StoreOptions); tests that
  // decide when turn it off.
  sqlite::SearchIndexing search_indexing = sqlite::SearchIndexing::kInBackground;
};

// Creates the data directory (when migrating) and opens everything. The message names what failed.
[[nodiscard]] Result<std::unique_ptr<Environment>> open_environment(const Config& config, const OpenOptions& options);

struct DatabaseMigration {
  int from = 0;
  int to = 0;
};
// Runs the migrations on the configured database: SQLite, creating the directory and file if
// needed, or the PostgreSQL database of `config.database` (which must exist; nodes starting
// together migrate once).
[[nodiscard]] Result<DatabaseMigration> migrate_database(const Config& config);

}  // namespace redress
