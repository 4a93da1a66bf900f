// The storage contract: one set of test cases run against every Store backend (SQLite and
// PostgreSQL), through the real engine. A backend here is a database and a way to open a store on
// it; "another node" is a second store on the same database, as a second `redress serve` would be.
#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "adapters/postgres/connection.h"
#include "adapters/postgres/postgres_store.h"
#include "adapters/postgres/schema.h"
#include "adapters/sqlite/sqlite_store.h"
#include "app/environment.h"
#include "engine/engine.h"
#include "tests/support/files.h"
#include "tests/support/postgres.h"
#include "workflows/loader.h"

namespace redress {
namespace {

const Time kStart = *parse_time("2026-03-02T09:00:00Z");  // a Monday morning

WorkflowSet shipped_workflows() {
  auto workflows = load_workflows(REDRESS_SOURCE_DIR "/workflows");
  REQUIRE(workflows.ok());
  return std::move(workflows).value();
}

struct SqliteBackend {
  static constexpr const char* kName = "sqlite";
  testing::TempDir dir;
  Config config;
  SqliteBackend() {
    config.data_dir = dir.path().string();
    auto migrated = migrate_database(config);
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

// One node: a store and an engine on the backend's database.
struct Node {
  std::unique_ptr<Store> store;
  std::unique_ptr<Engine> engine;
};

template <typename Backend>
struct World {
  Backend backend;
  ManualClock clock{kStart};
  WorkflowSet workflows = shipped_workflows();
  Node first = node();
  Staff agent = add_staff("Sam Okafor", "sam@redress.example", Role::kAgent);

  Node node() {
    Node n;
    n.store = backend.open_node(clock);
    n.engine = std::make_unique<Engine>(*n.store, clock, workflows);
    return n;
  }
  Staff add_staff(const std::string& name, const std::string& email, Role role) {
    Staff s;
    s.name = name;
    s.email = email;
    s.role = role;
    s.team = "customer-care";
    auto added = first.store->add_staff(s);
    REQUIRE(added.ok());
    return added.value();
  }
  std::string create(Engine& engine, const std::string& email = "ana@example.org") {
    NewCase c;
    c.client = Client{"Ana Ruiz", email, "", "en-GB"};
    c.channel = Channel::kWeb;
    c.category = "billing";
    c.touchpoint = "billing";
    c.subject = "Charged twice";
    c.description = "I was charged twice for one order.";
    c.workflow = "retail";
    auto created = engine.create_case(c, Actor::intake("web-form"));
    INFO((created.ok() ? std::string() : created.error().detail));
    REQUIRE(created.ok());
    return created->change.after.reference;
  }
  // Runs `edit` as a write on the stored case, through the store alone (no engine), and waits.
  Result<Committed> write(const std::string& reference,
                          std::function<void(const CaseSnapshot&, Change&, WriteContext&)> edit) {
    std::promise<Result<Committed>> promise;
    WorkItem item;
    item.reference = reference;
    item.plan = [&](const CaseSnapshot* current, WriteContext& context) -> Result<Change> {
      Change change;
      change.after = current->record;
      change.expected_version = current->record.version;
      edit(*current, change, context);
      return change;
    };
    item.done = [&](Result<Committed> committed) { promise.set_value(std::move(committed)); };
    first.store->submit(std::move(item));
    return promise.get_future().get();
  }
  ActionRequest message(const std::string& reference, const std::string& body) {
    ActionRequest r;
    r.type = ActionType::kAddMessage;
    r.reference = reference;
    r.actor = Actor::staff(agent.id, agent.role);
    r.body = body;
    return r;
  }
};

#define STORE_CONTRACT(name, tags) TEMPLATE_TEST_CASE(name, tags, SqliteBackend, PostgresBackend)

STORE_CONTRACT("contract: a created case is stored whole, with its chain and its client's notification", "[contract]") {
  World<TestType> world;
  std::string reference = world.create(*world.first.engine);
  CHECK(reference.rfind("CMP-2026-", 0) == 0);
  auto snapshot = world.first.store->load_case(reference);
  REQUIRE(snapshot.ok());
  CHECK(snapshot->record.reference == reference);
  CHECK(snapshot->record.client.email == "ana@example.org");
  auto events = world.first.store->case_events(reference);
  REQUIRE(events.ok());
  REQUIRE_FALSE(events->empty());
  CHECK(static_cast<std::int64_t>(events->size()) == snapshot->record.version);
  CHECK(events->back().hash == snapshot->record.head_hash);
  // A second creation takes the next reference: no gaps.
  std::string second = world.create(*world.first.engine);
  CHECK(std::stoi(second.substr(9)) == std::stoi(reference.substr(9)) + 1);
  auto audit = world.first.store->verify_chains();
  REQUIRE(audit.ok());
  CHECK(audit->cases_checked == 2);
  CHECK(audit->broken.empty());
  auto found = world.first.store->list_cases(CaseFilter{}, "", 10);
  REQUIRE(found.ok());
  CHECK(found->cases.size() == 2);
}

STORE_CONTRACT("contract: an action appends to the chain; a stale expected version writes nothing", "[contract]") {
  World<TestType> world;
  std::string reference = world.create(*world.first.engine);
  auto before = world.first.store->load_case(reference);
  REQUIRE(before.ok());
  const std::int64_t version = before->record.version;

  auto added = world.first.engine->apply(world.message(reference, "Called the client back."));
  INFO((added.ok() ? std::string() : added.error().detail));
  REQUIRE(added.ok());
  CHECK(added->change.after.version > version);

  auto stale_request = world.message(reference, "Written on an old page.");
  stale_request.expected_version = version;
  auto stale = world.first.engine->apply(stale_request);
  REQUIRE_FALSE(stale.ok());
  CHECK(stale.error().code == ErrorCode::kStaleVersion);

  auto after = world.first.store->load_case(reference);
  REQUIRE(after.ok());
  CHECK(after->record.version == added->change.after.version);
  auto messages = world.first.store->case_messages(reference);
  REQUIRE(messages.ok());
  REQUIRE(messages->size() == 1);
  CHECK(messages->front().body == "Called the client back.");
  auto audit = world.first.store->verify_chains();
  REQUIRE(audit.ok());
  CHECK(audit->broken.empty());
}

STORE_CONTRACT("contract: writers on two nodes acting on one case take turns and keep one chain",
               "[contract][concurrency]") {
  World<TestType> world;
  Node second = world.node();
  std::string reference = world.create(*world.first.engine);
  auto before = world.first.store->load_case(reference);
  REQUIRE(before.ok());
  constexpr int kPerWriter = 15;
  std::atomic<int> succeeded{0};
  std::vector<std::string> failures;
  std::mutex failures_mutex;
  std::vector<std::thread> writers;
  for (Engine* engine : {world.first.engine.get(), second.engine.get(), world.first.engine.get(), second.engine.get()})
    writers.emplace_back([&, engine] {
      for (int i = 0; i < kPerWriter; ++i) {
        auto done = engine->apply(world.message(reference, "note " + std::to_string(i)));
        if (done.ok()) {
          ++succeeded;
        } else {
          std::lock_guard lock(failures_mutex);
          failures.push_back(done.error().detail);
        }
      }
    });
  for (auto& writer : writers) writer.join();
  INFO((failures.empty() ? std::string() : failures.front()));
  CHECK(failures.empty());
  CHECK(succeeded == 4 * kPerWriter);
  auto after = second.store->load_case(reference);
  REQUIRE(after.ok());
  auto messages = second.store->case_messages(reference);
  REQUIRE(messages.ok());
  CHECK(messages->size() == static_cast<std::size_t>(4 * kPerWriter));
  auto events = second.store->case_events(reference);
  REQUIRE(events.ok());
  CHECK(static_cast<std::int64_t>(events->size()) == after->record.version);
  auto audit = second.store->verify_chains();
  REQUIRE(audit.ok());
  CHECK(audit->broken.empty());
}

STORE_CONTRACT("contract: a lease has one holder until it expires or is released", "[contract]") {
  World<TestType> world;
  Node second = world.node();
  Store& a = *world.first.store;
  Store& b = *second.store;
  const Time now = kStart;
  const Time until = now + std::chrono::seconds(30);
  auto first = a.acquire_lease("scheduler", "node-a", now, until);
  REQUIRE(first.ok());
  CHECK(*first);
  auto refused = b.acquire_lease("scheduler", "node-b", now + std::chrono::seconds(10), until);
  REQUIRE(refused.ok());
  CHECK_FALSE(*refused);
  auto renewed = a.acquire_lease("scheduler", "node-a", now + std::chrono::seconds(20), until + std::chrono::seconds(30));
  REQUIRE(renewed.ok());
  CHECK(*renewed);
  // Expired: the other node takes it over, and the first one's renewal is refused now.
  auto taken = b.acquire_lease("scheduler", "node-b", until + std::chrono::seconds(31), until + std::chrono::seconds(90));
  REQUIRE(taken.ok());
  CHECK(*taken);
  auto late = a.acquire_lease("scheduler", "node-a", until + std::chrono::seconds(32), until + std::chrono::seconds(60));
  REQUIRE(late.ok());
  CHECK_FALSE(*late);
  // Released: free at once for anyone.
  REQUIRE(b.release_lease("scheduler", "node-b").ok());
  auto again = a.acquire_lease("scheduler", "node-a", until + std::chrono::seconds(33), until + std::chrono::seconds(90));
  REQUIRE(again.ok());
  CHECK(*again);
}

STORE_CONTRACT("contract: two nodes claiming the outbox never get the same notification", "[contract][concurrency]") {
  World<TestType> world;
  Node second = world.node();
  constexpr int kCases = 12;
  for (int i = 0; i < kCases; ++i) world.create(*world.first.engine, "client" + std::to_string(i) + "@example.org");
  world.first.store->flush();
  const Time later = kStart + std::chrono::hours(1);
  std::vector<std::int64_t> claimed_by[2];
  std::vector<std::thread> claimers;
  Store* stores[2] = {world.first.store.get(), second.store.get()};
  for (int n = 0; n < 2; ++n)
    claimers.emplace_back([&, n] {
      // A holder name per claim: a holder may claim its own leased items again (a worker's restart).
      for (int call = 0;; ++call) {
        std::string holder = "node-" + std::to_string(n) + "-" + std::to_string(call);
        auto claimed = stores[n]->claim_notifications(NotificationDraft::Channel::kEmail, later, holder,
                                                      later + std::chrono::minutes(5), 1);
        REQUIRE(claimed.ok());
        if (claimed->empty()) return;
        for (const auto& item : *claimed) claimed_by[n].push_back(item.id);
      }
    });
  for (auto& claimer : claimers) claimer.join();
  std::set<std::int64_t> all;
  for (const auto& ids : claimed_by)
    for (std::int64_t id : ids) CHECK(all.insert(id).second);  // never twice
  CHECK(all.size() >= static_cast<std::size_t>(kCases));      // every client is owed at least one mail
  // Leased: nothing is left to claim until the leases run out.
  auto none = stores[0]->claim_notifications(NotificationDraft::Channel::kEmail, later, "node-x",
                                             later + std::chrono::minutes(5), 100);
  REQUIRE(none.ok());
  CHECK(none->empty());
}

// Every column of the case, commitment and message rows is written and read back: a field added to
// the model and one store's codec, and forgotten in the other's, fails here.
STORE_CONTRACT("contract: every field of a case, a commitment and a message is stored and read back", "[contract]") {
  World<TestType> world;
  std::string reference = world.create(*world.first.engine);
  const Time at = kStart + std::chrono::minutes(7);
  std::int64_t message_id = 0;
  std::int64_t commitment_id = 0;
  auto written = world.write(reference, [&](const CaseSnapshot& current, Change& change, WriteContext& context) {
    Case& c = change.after;
    c.client_escalation_level = 2;
    c.holding_reply_at = at;
    c.regulator_reference = "CFPB-240101-0001";
    c.routed_at = at - std::chrono::hours(1);
    c.rating = 4;
    c.outcome = Outcome::kUpheld;
    REQUIRE_FALSE(current.commitments.empty());
    Commitment k = current.commitments.front();
    k.rule_due_at = at + std::chrono::hours(48);
    k.exemption = "severe weather (category 1)";
    k.warning_times = {at + std::chrono::hours(1), at + std::chrono::hours(2)};
    k.handled_at = at;
    k.handled_note = "called";
    commitment_id = k.id;
    change.commitments.push_back(k);
    message_id = context.next_id(WriteContext::IdKind::kMessage);
    Message m = Message::make(message_id, c.id, Visibility::kClient, "client", "Photos attached.", at);
    m.state = MessageState::kHeld;
    m.via = "email";
    m.original = "Photos attached.\n> quoted";
    m.mail_blob = std::string(64, 'a');
    m.attachments = {AttachmentRef{std::string(64, 'b'), "meter.jpg", "image/jpeg", 1234},
                     AttachmentRef{std::string(64, 'c'), "bill.pdf", "application/pdf", 99}};
    change.messages.push_back(m);
  });
  INFO((written.ok() ? std::string() : written.error().detail));
  REQUIRE(written.ok());
  Node second = world.node();  // read back by another node: nothing from memory
  auto snapshot = second.store->load_case(reference);
  REQUIRE(snapshot.ok());
  const Case& c = snapshot->record;
  CHECK(c.client_escalation_level == 2);
  CHECK(c.holding_reply_at == at);
  CHECK(c.regulator_reference == "CFPB-240101-0001");
  CHECK(c.routed_at == at - std::chrono::hours(1));
  CHECK(c.rating == 4);
  CHECK(c.outcome == Outcome::kUpheld);
  CHECK(c.client.locale == "en-GB");
  const Commitment* k = nullptr;
  for (const auto& x : snapshot->commitments)
    if (x.id == commitment_id) k = &x;
  REQUIRE(k);
  CHECK(k->rule_due_at == at + std::chrono::hours(48));
  CHECK(k->exemption == "severe weather (category 1)");
  CHECK(k->warning_times.size() == 2);
  CHECK(k->handled_at == at);
  CHECK(k->handled_note == "called");
  auto messages = second.store->case_messages(reference);
  REQUIRE(messages.ok());
  REQUIRE(messages->size() == 1);
  const Message& m = messages->front();
  CHECK(m.id == message_id);
  CHECK(m.state == MessageState::kHeld);
  CHECK(m.via == "email");
  CHECK(m.original == "Photos attached.\n> quoted");
  CHECK(m.mail_blob == std::string(64, 'a'));
  REQUIRE(m.attachments.size() == 2);
  CHECK(m.attachments[0] == AttachmentRef{std::string(64, 'b'), "meter.jpg", "image/jpeg", 1234});
  CHECK(m.attachments[1].filename == "bill.pdf");
  auto view = second.store->load_case_view(reference);
  REQUIRE(view.ok());
  CHECK(view->snapshot.record.regulator_reference == "CFPB-240101-0001");
  REQUIRE(view->messages.size() == 1);
  CHECK(view->messages.front().attachments.size() == 2);
}

}  // namespace
}  // namespace redress
