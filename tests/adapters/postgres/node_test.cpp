// One node's life on PostgreSQL (adapters/postgres): the LISTEN/NOTIFY wake-ups another node's
// commits send, and a node whose every connection the server dropped going on by itself.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "adapters/postgres/connection.h"
#include "adapters/postgres/listener.h"
#include "adapters/postgres/postgres_store.h"
#include "adapters/postgres/schema.h"
#include "engine/engine.h"
#include "tests/support/postgres.h"
#include "workflows/loader.h"

namespace redress::postgres {
namespace {

const Time kStart = *parse_time("2026-03-02T09:00:00Z");

struct Installation {
  std::string url = testing::PostgresServer::shared().fresh_database();
  ManualClock clock{kStart};
  WorkflowSet workflows;
  Installation() {
    auto loaded = load_workflows(REDRESS_SOURCE_DIR "/workflows");
    REQUIRE(loaded.ok());
    workflows = std::move(loaded).value();
    auto connection = Connection::open(url);
    REQUIRE(connection.ok());
    REQUIRE(migrate(**connection).ok());
  }
  std::unique_ptr<PostgresStore> open() {
    auto store = PostgresStore::open(StoreOptions{url}, clock);
    REQUIRE(store.ok());
    return std::move(store).value();
  }
  static Result<Committed> create(Engine& engine) {
    NewCase c;
    c.client = Client{"Ana Ruiz", "ana@example.org", "", "en-GB"};
    c.channel = Channel::kWeb;
    c.category = "billing";
    c.touchpoint = "billing";
    c.subject = "Charged twice";
    c.description = "I was charged twice for one order.";
    c.workflow = "retail";
    return engine.create_case(c, Actor::intake("web-form"));
  }
};

template <typename Predicate>
bool eventually(Predicate predicate, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (predicate()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return predicate();
}

std::int64_t terminate_others(const std::string& url) {
  auto killer = Connection::open(url);
  REQUIRE(killer.ok());
  auto killed = (*killer)->query(
      "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> "
      "pg_backend_pid()");
  REQUIRE(killed.ok());
  return killed->integer(0, 0);
}

TEST_CASE("postgres node: a commit on another node wakes this node's listener with its wake time", "[postgres]") {
  Installation site;
  std::mutex mutex;
  std::vector<Wake> wakes;
  Listener listener(site.url, [&](const Wake& wake) {
    std::lock_guard lock(mutex);
    wakes.push_back(wake);
  });
  listener.start();
  REQUIRE(eventually([&] { return listener.listening(); }));
  {
    std::lock_guard lock(mutex);
    REQUIRE(wakes.size() == 1);  // connecting wakes everything once: anything before may be missed
    CHECK(wakes.front().reconnected);
    wakes.clear();
  }
  auto other_node = site.open();
  Engine engine(*other_node, site.clock, site.workflows);
  auto created = Installation::create(engine);
  REQUIRE(created.ok());
  REQUIRE(eventually([&] {
    std::lock_guard lock(mutex);
    return !wakes.empty();
  }));
  std::lock_guard lock(mutex);
  const Wake& wake = wakes.front();
  CHECK(wake.outbox);  // the client's acknowledgement is owed
  CHECK_FALSE(wake.reconnected);
  REQUIRE(wake.wake_at);
  CHECK(created->change.wake == Change::Wake::kSet);
  CHECK(*wake.wake_at == created->change.wake_at);
  CHECK(listener.received() >= 1);
}

TEST_CASE("postgres node: a listener whose connection is dropped listens again and says so", "[postgres]") {
  Installation site;
  std::atomic<int> reconnects{0};
  Listener listener(site.url, [&](const Wake& wake) {
    if (wake.reconnected) ++reconnects;
  });
  listener.start();
  REQUIRE(eventually([&] { return reconnects == 1; }));
  CHECK(terminate_others(site.url) >= 1);
  REQUIRE(eventually([&] { return reconnects == 2 && listener.listening(); }));
  CHECK(Listener::parse("wake=1700000000000000;outbox").outbox);
  CHECK(Listener::parse("wake=1700000000000000").wake_at == from_micros(1700000000000000));
  CHECK_FALSE(Listener::parse("garbage").wake_at);
}

TEST_CASE("postgres node: after the server dropped every connection, writes and reads go on, none lost or doubled",
          "[postgres]") {
  Installation site;
  auto store = site.open();
  Engine engine(*store, site.clock, site.workflows);
  REQUIRE(Installation::create(engine).ok());
  REQUIRE(terminate_others(site.url) >= 1);  // the writer's and the pool's connections
  // The next write finds its connection gone before anything was sent: run again on a new one.
  auto second = Installation::create(engine);
  INFO((second.ok() ? std::string() : second.error().detail));
  REQUIRE(second.ok());
  CHECK_FALSE(store->write_failure());
  // The pool's next loan finds its connection dead; the read fails once at most, then heals.
  auto listed = store->list_cases(CaseFilter{}, "", 10);
  if (!listed.ok()) {
    CHECK(listed.error().code == ErrorCode::kUnavailable);
    listed = store->list_cases(CaseFilter{}, "", 10);
  }
  REQUIRE(listed.ok());
  CHECK(listed->cases.size() == 2);
  auto audit = store->verify_chains();
  REQUIRE(audit.ok());
  CHECK(audit->broken.empty());
}

}  // namespace
}  // namespace redress::postgres
