// The libpq wrapper (adapters/postgres/connection.h), the test server (tests/support/postgres.h)
// and the PostgreSQL schema's migrations, against a real PostgreSQL 15.
#include <catch2/catch.hpp>

#include <thread>

#include "adapters/postgres/connection.h"
#include "adapters/postgres/schema.h"
#include "tests/support/postgres.h"

namespace redress::postgres {
namespace {

std::unique_ptr<Connection> connect(const std::string& url) {
  auto connection = Connection::open(url);
  REQUIRE(connection.ok());
  return std::move(connection).value();
}

TEST_CASE("postgres: parameters go as typed text and rows come back", "[postgres]") {
  auto db = connect(testing::PostgresServer::shared().fresh_database());
  REQUIRE(db->execute("CREATE TABLE t (id BIGINT PRIMARY KEY, name TEXT, note TEXT, data BYTEA)").ok());
  const std::string bytes("a\0b\xff", 4);
  auto inserted = db->query("INSERT INTO t VALUES ($1, $2, $3, $4)",
                            Params().add(std::int64_t{42}).add("Zoë").add(std::optional<std::string>()).add_bytes(bytes));
  REQUIRE(inserted.ok());
  CHECK(inserted->affected() == 1);
  auto rows = db->query("SELECT id, name, note, data FROM t WHERE id = $1", Params().add(std::int64_t{42}));
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 1);
  CHECK(rows->integer(0, 0) == 42);
  CHECK(rows->text(0, 1) == "Zoë");
  CHECK(rows->is_null(0, 2));
  CHECK(rows->bytes(0, 3) == bytes);
}

TEST_CASE("postgres: SQLSTATEs become the engine's error codes", "[postgres]") {
  auto db = connect(testing::PostgresServer::shared().fresh_database());
  REQUIRE(db->execute("CREATE TABLE t (id BIGINT PRIMARY KEY)").ok());
  REQUIRE(db->query("INSERT INTO t VALUES ($1)", Params().add(1)).ok());
  auto duplicate = db->query("INSERT INTO t VALUES ($1)", Params().add(1));
  REQUIRE_FALSE(duplicate.ok());
  CHECK(duplicate.error().code == ErrorCode::kConflict);
  CHECK(db->last_failure() == Failure::kUnique);
  CHECK(db->last_sqlstate() == "23505");

  auto broken = db->query("SELECT no_such_column FROM t");
  REQUIRE_FALSE(broken.ok());
  CHECK(broken.error().code == ErrorCode::kInternal);

  // A deadlock between two transactions: one of them is aborted with 40P01, retryable.
  auto other = connect(testing::PostgresServer::shared().url(PQdb(db->handle())));
  REQUIRE(db->query("INSERT INTO t VALUES ($1)", Params().add(2)).ok());
  auto first = Transaction::begin(*db);
  auto second = Transaction::begin(*other);
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  REQUIRE(db->query("UPDATE t SET id = id WHERE id = 1").ok());
  REQUIRE(other->query("UPDATE t SET id = id WHERE id = 2").ok());
  Result<Rows> crossed = Error::internal("not run");
  std::thread waiting([&] { crossed = other->query("UPDATE t SET id = id WHERE id = 1"); });
  auto mine = db->query("UPDATE t SET id = id WHERE id = 2");
  if (mine.ok()) (void)first->commit();  // the other one was chosen: free it
  waiting.join();
  Connection& victim = mine.ok() ? *other : *db;
  REQUIRE(mine.ok() != crossed.ok());
  CHECK(victim.last_failure() == Failure::kRetryable);
  CHECK(victim.last_sqlstate() == "40P01");
  CHECK((mine.ok() ? crossed : mine).error().code == ErrorCode::kUnavailable);
}

TEST_CASE("postgres: a transaction rolls back unless committed", "[postgres]") {
  auto db = connect(testing::PostgresServer::shared().fresh_database());
  REQUIRE(db->execute("CREATE TABLE t (id BIGINT PRIMARY KEY)").ok());
  {
    auto transaction = Transaction::begin(*db);
    REQUIRE(transaction.ok());
    REQUIRE(db->query("INSERT INTO t VALUES (1)").ok());
  }
  {
    auto transaction = Transaction::begin(*db);
    REQUIRE(transaction.ok());
    REQUIRE(db->query("INSERT INTO t VALUES (2)").ok());
    REQUIRE(transaction->commit().ok());
  }
  auto rows = db->query("SELECT id FROM t ORDER BY id");
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 1);
  CHECK(rows->integer(0, 0) == 2);
  CHECK_FALSE(db->in_transaction());
}

TEST_CASE("postgres: a pipeline sends many statements at once and stops at the first failure", "[postgres]") {
  auto db = connect(testing::PostgresServer::shared().fresh_database());
  REQUIRE(db->execute("CREATE TABLE t (id BIGINT PRIMARY KEY)").ok());
  Pipeline pipeline(*db);
  for (int i = 1; i <= 20; ++i) pipeline.add("INSERT INTO t VALUES ($1)", Params().add(i));
  pipeline.add("SELECT count(*) FROM t");
  auto results = pipeline.run();
  REQUIRE(results.ok());
  REQUIRE(results->size() == 21);
  CHECK(results->back().integer(0, 0) == 20);

  auto transaction = Transaction::begin(*db);
  REQUIRE(transaction.ok());
  Pipeline failing(*db);
  failing.add("INSERT INTO t VALUES ($1)", Params().add(100));
  failing.add("INSERT INTO t VALUES ($1)", Params().add(1));  // taken
  failing.add("INSERT INTO t VALUES ($1)", Params().add(101));
  auto failed = failing.run();
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.error().code == ErrorCode::kConflict);
  CHECK_FALSE(transaction->commit().ok());
  auto count = db->query("SELECT count(*) FROM t");
  REQUIRE(count.ok());
  CHECK(count->integer(0, 0) == 20);
}

TEST_CASE("postgres: a lost connection is kUnavailable and reconnects", "[postgres]") {
  auto db = connect(testing::PostgresServer::shared().fresh_database());
  auto killer = connect(testing::PostgresServer::shared().url(PQdb(db->handle())));
  REQUIRE(killer->query("SELECT pg_terminate_backend($1::int)", Params().add(std::int64_t{PQbackendPID(db->handle())}))
              .ok());
  auto lost = db->query("SELECT 1");
  REQUIRE_FALSE(lost.ok());
  CHECK(lost.error().code == ErrorCode::kUnavailable);
  CHECK(db->last_failure() == Failure::kConnectionLost);
  REQUIRE(db->reconnect().ok());
  auto again = db->query("SELECT 1");
  REQUIRE(again.ok());
  CHECK(again->integer(0, 0) == 1);
}

TEST_CASE("postgres: migrations bring an empty database to the latest version once", "[postgres]") {
  std::string url = testing::PostgresServer::shared().fresh_database();
  auto db = connect(url);
  auto version = schema_version(*db);
  REQUIRE(version.ok());
  CHECK(*version == 0);
  // Two nodes migrating at once: the advisory lock makes it happen once.
  auto other = connect(url);
  Result<MigrationReport> second = Error::internal("not run");
  std::thread racing([&] { second = migrate(*other); });
  auto first = migrate(*db);
  racing.join();
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  CHECK(first->to == latest_schema_version());
  CHECK(second->to == latest_schema_version());
  CHECK((first->from == 0) != (second->from == 0));  // one migrated; the other found it done
  auto again = migrate(*db);
  REQUIRE(again.ok());
  CHECK(again->from == latest_schema_version());
  auto tables = db->query("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'");
  REQUIRE(tables.ok());
  CHECK(tables->integer(0, 0) >= 29);
  // A newer database is refused untouched.
  REQUIRE(db->execute("UPDATE redress_schema SET version = 999").ok());
  auto newer = migrate(*db);
  REQUIRE_FALSE(newer.ok());
  CHECK(newer.error().code == ErrorCode::kInvalid);
}

}  // namespace
}  // namespace redress::postgres
