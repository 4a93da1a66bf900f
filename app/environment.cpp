#include "app/environment.h"

#include <filesystem>

#include "app/private_files.h"
#include "workflows/loader.h"

namespace redress {

Result<sqlite::MigrationReport> migrate_database(const Config& config) {
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
    if (*version > sqlite::latest_schema_version()) return sqlite::migrate(connection);
    if (auto s = sqlite::configure_connection(connection, durability, sqlite::OpenMode::kReadWrite); !s)
      return s.error();
    return sqlite::migrate(connection);
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
  } else if (!std::filesystem::exists(config.database_path())) {
    return Error::not_found("there is no database at " + config.database_path() + "; run `redress migrate` first");
  } else {
    make_private(config.data_dir);
  }
  sqlite::StoreOptions store_options;
  store_options.path = config.database_path();
  store_options.durability = config.durability == "normal" ? sqlite::Durability::kNormal : sqlite::Durability::kFull;
  store_options.search_indexing = options.search_indexing;
  auto store = sqlite::SqliteStore::open(store_options, *env->clock);
  if (!store) return store.error();
  env->store = std::move(store).value();
  env->engine = std::make_unique<Engine>(*env->store, *env->clock, env->workflows);
  return env;
}

}  // namespace redress
