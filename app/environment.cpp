#include "app/environment.h"

#include <spdlog/spdlog.h>

#include <filesystem>

#include "adapters/postgres/schema.h"
#include "app/private_files.h"
#include "engine/return_ledger.h"
#include "workflows/loader.h"

namespace redress {

namespace {

Result<DatabaseMigration> migrate_postgres(const Config& config) {
  auto connection = postgres::Connection::open(config.database);
  if (!connection)
    return Error::unavailable("cannot reach " + config.database_name() + ": " + connection.error().detail);
  auto report = postgres::migrate(**connection);
  if (!report) return report.error();
  return DatabaseMigration{report->from, report->to};
}

// The return ledger over cases stored before it existed (a migrated database, an import) is rebuilt
// from their histories once, before anything reads it (engine/return_ledger.h). A failure is
// logged and leaves it unbuilt: the returns then answer 503 saying so, and the rest works.
void ensure_return_ledger(Store& store, const WorkflowSet& workflows) {
  auto built = store.return_ledger_built();
  if (!built || *built) return;
  spdlog::info("rebuilding the return ledger from the cases' histories (once, after a migration or an import)");
  Status rebuilt = store.rebuild_return_ledger(
      [&workflows](const Case& record, const std::vector<Event>& events, const std::vector<Commitment>& commitments) {
        return case_return_entries(workflows, record, events, commitments);
      });
  if (!rebuilt)
    spdlog::error("the return ledger could not be rebuilt: {}; the returns will answer 503 until it is",
                  rebuilt.error().detail);
  else
    spdlog::info("the return ledger is rebuilt");
}

}  // namespace

Result<DatabaseMigration> migrate_database(const Config& config) {
  if (!config.database.empty()) return migrate_postgres(config);
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) return Error::unavailable("cannot create the data directory " + config.data_dir + ": " + ec.message());
  make_private(config.data_dir);
  try {
    sqlite::Connection connection(config.database_path(), sqlite::OpenMode::kReadWrite);
    auto durability = config.durability == "normal" ? sqlite::Durability::kNormal : sqlite::Durability::kFull;
    // The version check comes first: a newer database is not touched, not even by pragmas.
    auto version = sqlite::schema_version(connection);
    if (!version) return version.error();
    auto report = *version > sqlite::latest_schema_version() ? sqlite::migrate(connection) : [&] {
      if (auto s = sqlite::configure_connection(connection, durability, sqlite::OpenMode::kReadWrite); !s)
        return Result<sqlite::MigrationReport>(s.error());
      return sqlite::migrate(connection);
    }();
    if (!report) return report.error();
    return DatabaseMigration{report->from, report->to};
  } catch (const std::exception& e) {
    return Error::unavailable(e.what());
  }
}

Result<std::unique_ptr<Environment>> open_environment(const Config& config, const OpenOptions& options) {
  auto env = std::make_unique<Environment>();
  env->config = config;
  if (options.manual_start)
    env->clock = std::make_unique<ManualClock>(*options.manual_start);
  else if (config.clock == "manual")
    env->clock = std::make_unique<ManualClock>(SystemClock().now());
  else
    env->clock = std::make_unique<SystemClock>();

  if (options.load_workflows) {
    std::string dir = config.workflows.empty() ? default_workflows_dir() : config.workflows;
    auto workflows = load_workflows(dir);
    if (!workflows) return Error::invalid("cannot load the workflows: " + workflows.error().detail);
    env->workflows = std::move(workflows).value();
  }

  if (options.migrate_if_needed) {
    auto migrated = migrate_database(config);
    if (!migrated) return migrated.error();
  } else if (config.database.empty() && !std::filesystem::exists(config.database_path())) {
    return Error::not_found("there is no database at " + config.database_path() + "; run `redress migrate` first");
  } else {
    make_private(config.data_dir);
  }
  if (!config.database.empty()) {
    auto store = postgres::PostgresStore::open(postgres::StoreOptions{config.database}, *env->clock);
    if (!store) return Error{store.error().code, config.database_name() + ": " + store.error().detail, {}, {}};
    env->postgres = store->get();
    env->store = std::move(store).value();
    env->engine = std::make_unique<Engine>(*env->store, *env->clock, env->workflows);
    if (options.load_workflows) ensure_return_ledger(*env->store, env->workflows);
    return env;
  }
  sqlite::StoreOptions store_options;
  store_options.path = config.database_path();
  store_options.durability = config.durability == "normal" ? sqlite::Durability::kNormal : sqlite::Durability::kFull;
  store_options.search_indexing = options.search_indexing;
  auto store = sqlite::SqliteStore::open(store_options, *env->clock);
  if (!store) return store.error();
  env->sqlite = store->get();
  env->store = std::move(store).value();
  env->engine = std::make_unique<Engine>(*env->store, *env->clock, env->workflows);
  if (options.load_workflows) ensure_return_ledger(*env->store, env->workflows);
  return env;
}

}  // namespace redress
