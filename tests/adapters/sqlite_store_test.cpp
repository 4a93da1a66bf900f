// The engine over the SQLite store on a real file in a temporary directory, with a manual clock:
// acting, restart, tampering, concurrency, bad input, idempotency, migrations and pagination.
#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "adapters/sqlite/page_cache.h"
#include "adapters/sqlite/schema.h"
#include "adapters/sqlite/search_index.h"
#include "adapters/sqlite/sqlite_store.h"
#include "adapters/sqlite/summaries.h"
#include "app/environment.h"
#include "engine/clocks.h"
#include "engine/hash_chain.h"
#include "engine/planner.h"
#include "support/files.h"

using namespace redress;
namespace fs = std::filesystem;

namespace {

const Time kStart = *parse_time("2026-03-02T09:00:00Z");  // a Monday morning

using testing::TempDir;

Config config_in(const TempDir& dir) {
  Config config;
  config.data_dir = dir.path().string();
  config.workflows = REDRESS_SOURCE_DIR "/workflows";
  return config;
}

// The options of a store opened by hand on `dir`'s database (which open_env has migrated): search
// indexed on request, everything else as the defaults.
sqlite::StoreOptions store_options_in(const TempDir& dir) {
  sqlite::StoreOptions options;
  options.path = config_in(dir).database_path();
  options.search_indexing = sqlite::SearchIndexing::kOnRequest;
  return options;
}

std::unique_ptr<Environment> open_env(const TempDir& dir,
                                      sqlite::SearchIndexing indexing = sqlite::SearchIndexing::kInBackground) {
  OpenOptions options;
  options.migrate_if_needed = true;
  options.search_indexing = indexing;
  options.manual_start = kStart;
  auto env = open_environment(config_in(dir), options);
  INFO((env.ok() ? std::string() : env.error().detail));
  REQUIRE(env.ok());
  return std::move(env).value();
}

ManualClock& manual_clock(Environment& env) {
  auto* clock = dynamic_cast<ManualClock*>(env.clock.get());
  REQUIRE(clock != nullptr);
  return *clock;
}

std::string file_digest(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return sha256_hex(bytes.str());
}

// A separate connection to the database file, as someone with a shell would use.
class RawDb {
 public:
  explicit RawDb(const fs::path& path) {
    REQUIRE(sqlite3_open(path.string().c_str(), &db_) == SQLITE_OK);
    sqlite3_busy_timeout(db_, 10000);
  }
  ~RawDb() { sqlite3_close(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  void exec(const std::string& sql) {
    char* message = nullptr;
    int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message);
    std::string text = message ? message : "";
    sqlite3_free(message);
    INFO(sql << ": " << text);
    REQUIRE(rc == SQLITE_OK);
  }
  std::int64_t integer(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    REQUIRE(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
    std::int64_t value = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return value;
  }
  // Row counts of every table that a change writes to.
  std::map<std::string, std::int64_t> counts() {
    std::map<std::string, std::int64_t> result;
    for (const char* table :
         {"cases", "events", "messages", "commitments", "redress", "notifications", "idempotency_keys"})
      result[table] = integer(std::string("SELECT count(*) FROM ") + table);
    return result;
  }

 private:
  sqlite3* db_ = nullptr;
};

// A web complaint about billing, as the tests create them.
NewCase billing_case(const std::string& subject,
                     const std::string& description = "I was charged twice for one order.") {
  NewCase c;
  c.client = Client{"Ana Ruiz", "ana@example.org", "", "en-GB"};
  c.channel = Channel::kWeb;
  c.category = "billing";
  c.touchpoint = "billing";
  c.subject = subject;
  c.description = description;
  c.workflow = "retail";
  return c;
}

struct World {
  TempDir dir;
  std::unique_ptr<Environment> env;
  Staff agent, agent2, lead;

  explicit World(sqlite::SearchIndexing indexing = sqlite::SearchIndexing::kInBackground) {
    env = open_env(dir, indexing);
    agent = add("Sam Okafor", "sam@redress.example", Role::kAgent);
    agent2 = add("Priya Patel", "priya@redress.example", Role::kAgent);
    lead = add("Grace Adeyemi", "grace@redress.example", Role::kLead);
  }
  Staff add(const std::string& name, const std::string& email, Role role) {
    Staff s;
    s.name = name;
    s.email = email;
    s.role = role;
    s.team = "customer-care";
    auto added = env->store->add_staff(s);
    REQUIRE(added.ok());
    return added.value();
  }
  fs::path db_path() const { return fs::path(env ? env->config.database_path() : config_in(dir).database_path()); }
  Engine& engine() { return *env->engine; }
  Store& store() { return *env->store; }

  std::string create(const std::string& subject = "Charged twice") {
    auto created = engine().create_case(billing_case(subject), Actor::intake("web-form"));
    INFO((created.ok() ? std::string() : created.error().detail));
    REQUIRE(created.ok());
    return created->change.after.reference;
  }

  ActionRequest request(const std::string& reference, ActionType type, const Staff& by) {
    ActionRequest r;
    r.type = type;
    r.reference = reference;
    r.actor = Actor::staff(by.id, by.role);
    return r;
  }
  Result<Committed> act(ActionRequest r) { return engine().apply(std::move(r)); }
  void must(ActionRequest r) {
    std::string what = std::string(to_string(r.type)) + " on " + r.reference;
    auto result = act(std::move(r));
    INFO(what << ": " << (result.ok() ? std::string() : result.error().detail));
    REQUIRE(result.ok());
  }
  Case load(const std::string& reference) {
    auto snapshot = store().load_case(reference);
    REQUIRE(snapshot.ok());
    return snapshot->record;
  }

  static std::string final_response() {
    return "Dear Ana, we have decided to uphold your complaint. If you are not satisfied you may refer it to an "
           "alternative dispute resolution service, which we will use.";
  }

  // Drives a new case to `status`, owned by `agent` unless it stays received.
  std::string case_in(CaseStatus status) {
    std::string ref = create();
    if (status == CaseStatus::kReceived) return ref;
    if (status == CaseStatus::kWithdrawn) {
      auto w = request(ref, ActionType::kWithdraw, agent);
      w.reason = "the client asked";
      must(w);
      return ref;
    }
    must(request(ref, ActionType::kAcknowledge, agent));
    if (status == CaseStatus::kAcknowledged) return ref;
    must(request(ref, ActionType::kTake, agent));
    must(request(ref, ActionType::kStart, agent));
    if (status == CaseStatus::kInvestigating) return ref;
    if (status == CaseStatus::kAwaitingClient) {
      auto ask = request(ref, ActionType::kRequestInfo, agent);
      ask.body = "Which order was it?";
      must(ask);
      return ref;
    }
    auto propose = request(ref, ActionType::kProposeRedress, agent);
    propose.outcome = Outcome::kUpheld;
    propose.final_response = final_response();
    propose.offers.push_back(RedressOffer{RedressKind::kApology, std::nullopt, "", "We are sorry."});
    must(propose);
    if (status == CaseStatus::kRedressProposed) return ref;
    ActionRequest accept;
    accept.type = ActionType::kAcceptRedress;
    accept.reference = ref;
    accept.actor = Actor::client();
    must(accept);
    if (status == CaseStatus::kResolved) return ref;
    must(request(ref, ActionType::kClose, agent));
    return ref;
  }
};

void check_same_case(const Case& a, const Case& b) {
  INFO(a.reference);
  CHECK(a.reference == b.reference);
  CHECK(a.id == b.id);
  CHECK(a.status == b.status);
  CHECK(a.clock == b.clock);
  CHECK(a.owner_id == b.owner_id);
  CHECK(a.version == b.version);
  CHECK(a.head_hash == b.head_hash);
  CHECK(a.escalation_level == b.escalation_level);
  CHECK(a.outcome == b.outcome);
  CHECK(a.workflow == b.workflow);
  CHECK(a.team == b.team);
  CHECK(a.received_at == b.received_at);
  CHECK(a.updated_at == b.updated_at);
  CHECK(a.acknowledged_at == b.acknowledged_at);
  CHECK(a.resolved_at == b.resolved_at);
  CHECK(a.ended_at == b.ended_at);
  CHECK(a.pending_offers == b.pending_offers);
  CHECK(a.unfulfilled_redress == b.unfulfilled_redress);
  CHECK(a.client.name == b.client.name);
  CHECK(a.client.email == b.client.email);
  CHECK(a.subject == b.subject);
}

constexpr std::array<CaseStatus, 8> kAllStatuses{
    CaseStatus::kReceived,        CaseStatus::kAcknowledged, CaseStatus::kInvestigating, CaseStatus::kAwaitingClient,
    CaseStatus::kRedressProposed, CaseStatus::kResolved,     CaseStatus::kClosed,        CaseStatus::kWithdrawn};

}  // namespace

TEST_CASE("store: create a case and act on it - events, projections and the chain agree", "[store][concurrency]") {
  World w;
  std::string ref = w.create();
  CHECK(ref.rfind("CMP-2026-", 0) == 0);
  Case c = w.load(ref);
  CHECK(c.status == CaseStatus::kReceived);
  CHECK(c.owner_id.empty());
  CHECK(c.version == 3);  // received, and the retail pledges made: acknowledge, final response
  CHECK(c.workflow == "retail");

  w.must(w.request(ref, ActionType::kAcknowledge, w.agent));
  w.must(w.request(ref, ActionType::kTake, w.agent));
  w.must(w.request(ref, ActionType::kStart, w.agent));
  auto message = w.request(ref, ActionType::kAddMessage, w.agent);
  message.visibility = Visibility::kClient;
  message.body = "We are looking into it.";
  w.must(message);
  c = w.load(ref);
  CHECK(c.status == CaseStatus::kInvestigating);
  CHECK(c.owner_id == w.agent.id);
  CHECK(c.version == 11);
  CHECK(c.acknowledged_at == kStart);

  auto events = w.store().case_events(ref);
  REQUIRE(events.ok());
  REQUIRE(events->size() == 11);
  std::vector<std::string> types;
  std::string previous;
  for (std::size_t i = 0; i < events->size(); ++i) {
    const Event& e = (*events)[i];
    CHECK(e.seq == static_cast<std::int64_t>(i + 1));
    CHECK(e.hash == chain_hash(previous, ref, e));
    previous = e.hash;
    types.push_back(e.type);
  }
  // Acknowledging keeps the acknowledgement pledge and starts the update pledge, which the client
  // message keeps and renews (retail: update the client every 5 business days).
  CHECK(types == std::vector<std::string>{"case.received", "commitment.made", "commitment.made", "case.acknowledged",
                                          "commitment.kept", "commitment.made", "case.owner_changed",
                                          "case.investigation_started", "message.client", "commitment.kept",
                                          "commitment.made"});
  CHECK(c.head_hash == previous);
  auto messages = w.store().case_messages(ref);
  REQUIRE(messages.ok());
  REQUIRE(messages->size() == 1);
  CHECK(messages->front().body == "We are looking into it.");

  auto report = w.store().verify_chains();
  REQUIRE(report.ok());
  CHECK(report->broken.empty());
  CHECK(report->cases_checked == 1);
  CHECK(report->events_checked == 11);
}

TEST_CASE("store: its threads carry names that say what they do", "[store]") {
  // `top -H` and `ps -L` show these; an operator finds the writer without a debugger.
  World w;
  std::multiset<std::string> names;
  for (const auto& task : fs::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    std::getline(comm, name);
    names.insert(name);
  }
  CHECK(names.count("redress-writer") == 1);
  CHECK(names.count("redress-ckpt") == 1);
  CHECK(names.count("redress-index") == 1);
  CHECK(names.count("redress-readers") == 1);
  CHECK(names.count("redress-sync") == 1);  // durability FULL, the default
}

TEST_CASE("store: a case can be driven through every status", "[store]") {
  World w;
  for (CaseStatus status : kAllStatuses) {
    INFO(to_string(status));
    std::string ref = w.case_in(status);
    Case c = w.load(ref);
    CHECK(c.status == status);
    auto events = w.store().case_events(ref);
    REQUIRE(events.ok());
    CHECK(static_cast<std::int64_t>(events->size()) == c.version);
  }
}

TEST_CASE("store: restart restores every case to the same status, owner, version, clock and head", "[store][restart]") {
  World w;
  std::vector<std::string> refs;
  for (CaseStatus status : kAllStatuses) refs.push_back(w.case_in(status));
  // A case with an escalation, a commitment and a transfer, too.
  std::string busy = w.case_in(CaseStatus::kInvestigating);
  auto escalate = w.request(busy, ActionType::kEscalate, w.agent);
  escalate.reason = "the client is upset";
  w.must(escalate);
  auto promise = w.request(busy, ActionType::kMakeCommitment, w.agent);
  promise.text = "Call the client back";
  promise.due.in = parse_duration("PT4H");
  w.must(promise);
  auto transfer = w.request(busy, ActionType::kTransfer, w.agent);
  transfer.owner = w.agent2.id;
  transfer.note = "Priya knows this client";
  w.must(transfer);
  refs.push_back(busy);

  std::map<std::string, Case> before;
  std::map<std::string, std::vector<Event>> events_before;
  for (const auto& ref : refs) {
    before[ref] = w.load(ref);
    events_before[ref] = w.store().case_events(ref).value();
  }
  const fs::path dir = w.dir.path();
  w.env.reset();  // close: drains the writer, checkpoints

  // Reopen the same directory.
  OpenOptions options;
  options.manual_start = kStart + std::chrono::hours(1);
  Config config;
  config.data_dir = dir.string();
  config.workflows = REDRESS_SOURCE_DIR "/workflows";
  auto reopened = open_environment(config, options);
  REQUIRE(reopened.ok());
  w.env = std::move(reopened).value();

  for (const auto& ref : refs) {
    Case after = w.load(ref);
    check_same_case(before[ref], after);
    auto events = w.store().case_events(ref);
    REQUIRE(events.ok());
    REQUIRE(events->size() == events_before[ref].size());
    for (std::size_t i = 0; i < events->size(); ++i) {
      CHECK((*events)[i].hash == events_before[ref][i].hash);
      CHECK((*events)[i].data == events_before[ref][i].data);
    }
  }
  Case restored = w.load(busy);
  CHECK(restored.owner_id == w.agent2.id);
  CHECK(restored.escalation_level == 1);
  auto snapshot = w.store().load_case(busy);
  REQUIRE(snapshot.ok());
  std::vector<Commitment> promises;
  for (const auto& k : snapshot->commitments)
    if (k.kind == CommitmentKind::kPromise) promises.push_back(k);
  REQUIRE(promises.size() == 1);
  CHECK(promises[0].due_at == kStart + std::chrono::hours(4));

  // The restored case carries on from where it was: the chain continues, ids do not collide.
  auto note = w.request(busy, ActionType::kAddMessage, w.agent2);
  note.body = "after the restart";
  w.must(note);
  std::string fresh = w.create("After the restart");
  CHECK(fresh != refs.back());
  Case later = w.load(busy);
  CHECK(later.version == before[busy].version + 1);
  auto report = w.store().verify_chains();
  REQUIRE(report.ok());
  CHECK(report->broken.empty());
  CHECK(report->cases_checked == static_cast<std::int64_t>(refs.size() + 1));
}

TEST_CASE("store: tampering with the events table is found, naming the case and the event", "[store][audit]") {
  World w;
  std::string other = w.case_in(CaseStatus::kInvestigating);
  std::string ref = w.case_in(CaseStatus::kRedressProposed);
  Case c = w.load(ref);
  const std::int64_t v = c.version;
  REQUIRE(v >= 5);
  const std::string last = std::to_string(v), next = std::to_string(v + 1);
  {
    auto clean = w.store().verify_chains();
    REQUIRE(clean.ok());
    REQUIRE(clean->broken.empty());
  }
  RawDb raw(w.db_path());
  const std::string case_id = std::to_string(c.id);
  std::int64_t expected_seq = 0;
  // The sequence number of the first event of a type in the case's history.
  auto events_now = w.store().case_events(ref);
  REQUIRE(events_now.ok());
  auto seq_of = [&](const std::string& type) {
    for (const auto& e : *events_now)
      if (e.type == type) return e.seq;
    FAIL("no " << type << " event");
    return std::int64_t{0};
  };

  SECTION("UPDATE an event's data") {
    std::int64_t seq = seq_of("case.investigation_started");
    raw.exec("UPDATE events SET data = replace(data, 'investigating', 'closed') WHERE case_id = " + case_id +
             " AND seq = " + std::to_string(seq));
    expected_seq = seq;
  }
  SECTION("UPDATE an event's actor") {
    raw.exec("UPDATE events SET actor = 'staff:u-999' WHERE case_id = " + case_id + " AND seq = 3");
    expected_seq = 3;
  }
  SECTION("UPDATE an event's time") {
    raw.exec("UPDATE events SET at = at + 1 WHERE case_id = " + case_id + " AND seq = 2");
    expected_seq = 2;
  }
  SECTION("DELETE a middle event") {
    raw.exec("DELETE FROM events WHERE case_id = " + case_id + " AND seq = 3");
    expected_seq = 3;
  }
  SECTION("DELETE the first event") {
    raw.exec("DELETE FROM events WHERE case_id = " + case_id + " AND seq = 1");
    expected_seq = 1;
  }
  SECTION("DELETE the last event") {
    raw.exec("DELETE FROM events WHERE case_id = " + case_id + " AND seq = " + last);
    expected_seq = v;
  }
  SECTION("DELETE the last event and roll the case row back to match") {
    // Whoever does this must forge the head hash too; without the old hash they cannot.
    raw.exec("DELETE FROM events WHERE case_id = " + case_id + " AND seq = " + last);
    raw.exec("UPDATE cases SET version = " + std::to_string(v - 1) + " WHERE id = " + case_id);
    expected_seq = v - 1;
  }
  SECTION("INSERT a forged event with a made-up hash") {
    raw.exec("INSERT INTO events(case_id, seq, type, at, actor, data, hash) VALUES (" + case_id + ", " + next +
             ", 'case.closed', 0, 'staff:u-1', '{}', '" + std::string(64, 'a') + "')");
    expected_seq = v + 1;
  }
  SECTION("INSERT a forged event with a correctly chained hash") {
    Event forged;
    forged.seq = v + 1;
    forged.type = "redress.accepted";
    forged.at = kStart;
    forged.actor = "client";
    forged.data = "{}";
    std::string hash = chain_hash(c.head_hash, ref, forged);
    raw.exec("INSERT INTO events(case_id, seq, type, at, actor, data, hash) VALUES (" + case_id + ", " + next +
             ", 'redress.accepted', " + std::to_string(to_micros(kStart)) + ", 'client', '{}', '" + hash + "')");
    expected_seq = v + 1;
  }
  SECTION("swap two events' sequence numbers") {
    raw.exec("UPDATE events SET seq = -seq WHERE case_id = " + case_id + " AND seq IN (4, 5)");
    raw.exec("UPDATE events SET seq = 9 - (-seq) WHERE case_id = " + case_id + " AND seq < 0");
    expected_seq = 4;
  }

  auto report = w.store().verify_chains();
  REQUIRE(report.ok());
  REQUIRE(report->broken.size() == 1);
  CHECK(report->broken[0].reference == ref);
  CHECK(report->broken[0].seq == expected_seq);
  CHECK_FALSE(report->broken[0].problem.empty());
  CHECK(report->cases_checked == 2);
  (void)other;
}

TEST_CASE("store: concurrent actions on one case never lose an update", "[store][concurrency]") {
  World w;
  std::string ref = w.case_in(CaseStatus::kInvestigating);
  const std::int64_t start_version = w.load(ref).version;
  constexpr int kThreads = 8;
  constexpr int kPerThread = 40;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const Staff& by = t % 2 ? w.agent : w.lead;
      for (int i = 0; i < kPerThread; ++i) {
        auto r = w.request(ref, ActionType::kAddMessage, by);
        r.body = "thread " + std::to_string(t) + " message " + std::to_string(i);
        if (!w.act(std::move(r)).ok()) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(failures == 0);
  Case c = w.load(ref);
  CHECK(c.version == start_version + kThreads * kPerThread);
  auto events = w.store().case_events(ref);
  REQUIRE(events.ok());
  CHECK(static_cast<std::int64_t>(events->size()) == c.version);
  auto messages = w.store().case_messages(ref);
  REQUIRE(messages.ok());
  std::set<std::string> bodies;
  for (const auto& m : *messages) bodies.insert(m.body);
  CHECK(bodies.size() == static_cast<std::size_t>(kThreads * kPerThread));
  auto report = w.store().verify_chains();
  REQUIRE(report.ok());
  CHECK(report->broken.empty());
}

// Engine::submit plans an action on its caller's thread against the snapshot the writer keeps
// (Store::kept_snapshot); the writer writes that plan only while the snapshot is still the latest.
TEST_CASE(
    "store: an action planned ahead is written as made while its snapshot is the latest, and planned again when not",
    "[store][ahead][concurrency]") {
  World w;
  auto& store = *w.env->sqlite;
  std::string ref = w.case_in(CaseStatus::kInvestigating);
  // Ids for plans made ahead come from blocks already committed: the first message reserves one.
  auto first = w.request(ref, ActionType::kAddMessage, w.agent);
  first.body = "first note";
  w.must(first);

  auto before = store.counters();
  auto note = w.request(ref, ActionType::kAddMessage, w.agent);
  note.body = "planned ahead";
  w.must(note);
  auto after = store.counters();
  CHECK(after.ahead_plans - before.ahead_plans == 1);
  CHECK(after.ahead_written - before.ahead_written == 1);

  // A plan on the snapshot as it is now...
  auto kept = store.kept_snapshot(ref);
  REQUIRE(kept != nullptr);
  const std::int64_t kept_version = kept->record.version;
  CHECK(kept_version == w.load(ref).version);
  auto late = w.request(ref, ActionType::kAddMessage, w.agent);
  late.body = "planned on a snapshot that moved on";
  auto context = store.ahead_context();
  auto planned = plan_action(*kept, late, w.env->workflows, manual_clock(*w.env).now(), *context);
  REQUIRE(planned.ok());
  REQUIRE(context->complete());
  // ...then another action moves the case on. The snapshot held is not changed under its holder.
  auto moving = w.request(ref, ActionType::kAddMessage, w.agent2);
  moving.body = "moved on meanwhile";
  w.must(moving);
  CHECK(kept->record.version == kept_version);
  CHECK(store.kept_snapshot(ref) != kept);

  WorkItem item;
  item.reference = ref;
  item.ahead = AheadPlan{kept, std::move(planned).value()};
  item.plan = [&](const CaseSnapshot* current, WriteContext& writer) -> Result<Change> {
    if (!current) return Error::not_found(ref);
    return plan_action(*current, late, w.env->workflows, manual_clock(*w.env).now(), writer);
  };
  std::promise<Result<Committed>> answered;
  item.done = [&](Result<Committed> r) { answered.set_value(std::move(r)); };
  before = store.counters();
  store.submit(std::move(item));
  auto result = answered.get_future().get();
  INFO((result.ok() ? std::string() : result.error().detail));
  REQUIRE(result.ok());
  after = store.counters();
  CHECK(after.ahead_plans - before.ahead_plans == 1);
  CHECK(after.ahead_written - before.ahead_written == 0);  // planned again, on the case as stored
  CHECK(result->change.after.version == kept_version + 2);
  CHECK(w.load(ref).version == kept_version + 2);
  auto messages = w.store().case_messages(ref);
  REQUIRE(messages.ok());
  std::set<std::string> bodies;
  for (const auto& m : *messages) bodies.insert(m.body);
  CHECK(bodies.count("moved on meanwhile") == 1);
  CHECK(bodies.count("planned on a snapshot that moved on") == 1);
  auto report = w.store().verify_chains();
  REQUIRE(report.ok());
  CHECK(report->broken.empty());

  // A plan that needs staff (a transfer names its new owner) is made by the writer, in its
  // transaction: it is never planned ahead.
  before = store.counters();
  auto transfer = w.request(ref, ActionType::kTransfer, w.agent);
  transfer.owner = w.agent2.id;
  transfer.note = "Priya knows this client";
  w.must(transfer);
  after = store.counters();
  CHECK(after.ahead_plans == before.ahead_plans);
  CHECK(w.load(ref).owner_id == w.agent2.id);
}

// Plans made ahead and the writer's own plans take ids from the same blocks, so a case's later
// commitment always has the greater id (the latest pledge of a run is the one with the greatest
// id), and no id is handed out twice, across restarts too.
TEST_CASE(
    "store: ids increase in the order they are handed out, whether planned ahead or by the writer, across restarts",
    "[store][ahead][restart]") {
  World w;
  std::string ref = w.case_in(CaseStatus::kInvestigating);
  std::int64_t ahead_written = 0;
  Time now = kStart;
  for (int round = 0; round < 3; ++round) {
    auto before = w.env->sqlite->counters();
    for (int i = 0; i < 12; ++i) {
      now += std::chrono::minutes(1);
      manual_clock(*w.env).set(now);  // a reopened environment's clock starts again at kStart
      auto promise = w.request(ref, ActionType::kMakeCommitment, w.agent);
      promise.text = "Promise " + std::to_string(round) + "." + std::to_string(i);
      promise.due.in = parse_duration("P3D");
      w.must(promise);
      // A creation is planned by the writer; its pledges take commitment ids too.
      if (i % 4 == 0) (void)w.create("Interleaved " + std::to_string(i));
    }
    ahead_written += w.env->sqlite->counters().ahead_written - before.ahead_written;
    w.env.reset();  // close, reopen: the blocks in memory are gone, the sequences stay
    w.env = open_env(w.dir);
  }
  CHECK(ahead_written > 20);  // most promises were planned ahead

  auto snapshot = w.store().load_case(ref);
  REQUIRE(snapshot.ok());
  std::vector<const Commitment*> promises;
  for (const auto& k : snapshot->commitments)
    if (k.kind == CommitmentKind::kPromise) promises.push_back(&k);
  REQUIRE(promises.size() == 36);
  // In id order (the snapshot's), the promises were made one after another.
  for (std::size_t i = 1; i < promises.size(); ++i) {
    INFO(promises[i - 1]->text << " (k-" << promises[i - 1]->id << ") then " << promises[i]->text << " (k-"
                               << promises[i]->id << ")");
    CHECK(promises[i - 1]->created_at < promises[i]->created_at);
  }
  RawDb raw(w.db_path());
  CHECK(raw.integer("SELECT count(*) FROM commitments") == raw.integer("SELECT count(DISTINCT id) FROM commitments"));
  CHECK(raw.integer("SELECT count(*) FROM commitments WHERE kind = 'promise'") == 36);
}

TEST_CASE("store: of two actions racing at the same expected version exactly one wins", "[store][concurrency]") {
  World w;
  std::string ref = w.case_in(CaseStatus::kInvestigating);
  for (int round = 0; round < 20; ++round) {
    const std::int64_t version = w.load(ref).version;
    std::promise<void> go;
    std::shared_future<void> start = go.get_future().share();
    auto racer = [&](const Staff& by, int n) {
      return std::async(std::launch::async, [&, n, start] {
        auto r = w.request(ref, ActionType::kAddMessage, by);
        r.body = "racer " + std::to_string(n);
        r.expected_version = version;
        start.wait();
        return w.act(std::move(r));
      });
    };
    auto a = racer(w.agent, 1);
    auto b = racer(w.lead, 2);
    go.set_value();
    Result<Committed> ra = a.get();
    Result<Committed> rb = b.get();
    INFO("round " << round);
    REQUIRE(ra.ok() != rb.ok());
    const Result<Committed>& loser = ra.ok() ? rb : ra;
    CHECK(loser.error().code == ErrorCode::kStaleVersion);
    CHECK(w.load(ref).version == version + 1);
  }
  auto events = w.store().case_events(ref);
  REQUIRE(events.ok());
  CHECK(static_cast<std::int64_t>(events->size()) == w.load(ref).version);
}

TEST_CASE("store: bad input is refused with a clear reason and writes nothing", "[store][refusals]") {
  World w;
  std::string ref = w.case_in(CaseStatus::kAcknowledged);
  w.must(w.request(ref, ActionType::kTake, w.agent));
  RawDb raw(w.db_path());
  w.store().flush();
  const auto counts = raw.counts();
  const Case before = w.load(ref);

  SECTION("unknown case") {
    auto result = w.act(w.request("CMP-2026-999999", ActionType::kTake, w.agent));
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().code == ErrorCode::kNotFound);
    CHECK_THAT(result.error().detail, Catch::Contains("CMP-2026-999999"));
  }
  SECTION("an action the lifecycle refuses now lists the actions allowed now") {
    auto result = w.act(w.request(ref, ActionType::kClose, w.agent));
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().code == ErrorCode::kRefused);
    CHECK_FALSE(result.error().detail.empty());
    const auto& allowed = result.error().allowed_actions;
    CHECK(allowed == w.engine().allowed_actions(before));
    CHECK(std::find(allowed.begin(), allowed.end(), "close") == allowed.end());
    CHECK(std::find(allowed.begin(), allowed.end(), "start") != allowed.end());
    CHECK(std::find(allowed.begin(), allowed.end(), "transfer") != allowed.end());
    CHECK(std::find(allowed.begin(), allowed.end(), "take") == allowed.end());
  }
  SECTION("take on an owned case") {
    auto result = w.act(w.request(ref, ActionType::kTake, w.agent2));
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().code == ErrorCode::kRefused);
  }
  SECTION("transfer without a handover note names the field") {
    auto r = w.request(ref, ActionType::kTransfer, w.agent);
    r.owner = w.agent2.id;
    auto result = w.act(r);
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().code == ErrorCode::kInvalid);
    REQUIRE(result.error().fields.size() == 1);
    CHECK(result.error().fields[0].field == "note");
  }
  SECTION("re-assign without a handover note names the field") {
    auto r = w.request(ref, ActionType::kAssign, w.lead);
    r.owner = w.agent2.id;
    auto result = w.act(r);
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().code == ErrorCode::kInvalid);
    REQUIRE(result.error().fields.size() == 1);
    CHECK(result.error().fields[0].field == "note");
  }
  SECTION("transfer to an unknown staff member") {
    auto r = w.request(ref, ActionType::kTransfer, w.agent);
    r.owner = "u-999";
    r.note = "over to you";
    auto result = w.act(r);
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().code == ErrorCode::kInvalid);
    CHECK(result.error().fields.at(0).field == "owner");
  }
  SECTION("a stale expected version") {
    auto r = w.request(ref, ActionType::kStart, w.agent);
    r.expected_version = before.version - 1;
    auto result = w.act(r);
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().code == ErrorCode::kStaleVersion);
  }
  SECTION("an agent may not assign") {
    auto r = w.request(ref, ActionType::kAssign, w.agent2);
    r.owner = w.agent2.id;
    r.note = "mine now";
    auto result = w.act(r);
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().code == ErrorCode::kForbidden);
  }
  SECTION("deescalate at level 0") {
    auto r = w.request(ref, ActionType::kDeescalate, w.lead);
    r.reason = "calm";
    auto result = w.act(r);
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().code == ErrorCode::kRefused);
  }
  SECTION("keep an unknown commitment") {
    auto r = w.request(ref, ActionType::kKeepCommitment, w.agent);
    r.commitment_id = 424242;
    auto result = w.act(r);
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().code == ErrorCode::kNotFound);
  }
  SECTION("a commitment due in the past") {
    auto r = w.request(ref, ActionType::kMakeCommitment, w.agent);
    r.text = "Call back";
    r.due.at = kStart - std::chrono::hours(1);
    auto result = w.act(r);
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().code == ErrorCode::kInvalid);
  }

  w.store().flush();
  CHECK(raw.counts() == counts);
  const Case after = w.load(ref);
  CHECK(after.version == before.version);
  CHECK(after.head_hash == before.head_hash);
  CHECK(after.owner_id == before.owner_id);
  CHECK(after.status == before.status);
}

TEST_CASE("store: propose_redress with a final response lacking required elements writes nothing",
          "[store][refusals]") {
  World w;
  std::string ref = w.case_in(CaseStatus::kInvestigating);
  RawDb raw(w.db_path());
  const auto counts = raw.counts();
  auto propose = w.request(ref, ActionType::kProposeRedress, w.agent);
  propose.outcome = Outcome::kUpheld;
  propose.final_response = "Sorry about that.";
  propose.offers.push_back(RedressOffer{RedressKind::kRefund, 1250, "GBP", "the second charge"});
  auto result = w.act(propose);
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().code == ErrorCode::kInvalid);
  REQUIRE_FALSE(result.error().fields.empty());
  CHECK(result.error().fields[0].field == "final_response");
  w.store().flush();
  CHECK(raw.counts() == counts);
  CHECK(w.load(ref).status == CaseStatus::kInvestigating);
}

TEST_CASE("store: close waits for accepted redress to be fulfilled - reopen only within the window", "[store]") {
  World w;
  std::string ref = w.case_in(CaseStatus::kInvestigating);
  auto propose = w.request(ref, ActionType::kProposeRedress, w.agent);
  propose.outcome = Outcome::kUpheld;
  propose.final_response = World::final_response();
  propose.offers.push_back(RedressOffer{RedressKind::kRefund, 1250, "GBP", "the second charge"});
  w.must(propose);
  ActionRequest accept;
  accept.type = ActionType::kAcceptRedress;
  accept.reference = ref;
  accept.actor = Actor::client();
  w.must(accept);
  auto snapshot = w.store().load_case(ref);
  REQUIRE(snapshot.ok());
  CHECK(snapshot->record.status == CaseStatus::kResolved);
  CHECK(snapshot->record.clock == ClockState::kStopped);
  CHECK(snapshot->record.unfulfilled_redress == 1);
  REQUIRE(snapshot->redress.size() == 1);
  CHECK(snapshot->redress[0].status == RedressStatus::kAccepted);
  CHECK(snapshot->redress[0].amount_minor == 1250);

  auto refused = w.act(w.request(ref, ActionType::kClose, w.agent));
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == ErrorCode::kRefused);
  const auto& allowed = refused.error().allowed_actions;
  CHECK(std::find(allowed.begin(), allowed.end(), "close") == allowed.end());
  CHECK(std::find(allowed.begin(), allowed.end(), "reopen") != allowed.end());

  auto fulfil = w.request(ref, ActionType::kFulfilRedress, w.agent);
  fulfil.redress_id = snapshot->redress[0].id;
  w.must(fulfil);
  // Past the 28-day reopen window of the retail standard, reopen is refused; close is allowed.
  manual_clock(*w.env).advance(std::chrono::hours(24 * 29));
  auto reopen = w.request(ref, ActionType::kReopen, w.agent);
  reopen.reason = "the client wrote again";
  auto late = w.act(reopen);
  REQUIRE_FALSE(late.ok());
  CHECK(late.error().code == ErrorCode::kRefused);
  CHECK_THAT(late.error().detail, Catch::Contains("window"));
  w.must(w.request(ref, ActionType::kClose, w.agent));
  CHECK(w.load(ref).status == CaseStatus::kClosed);
}

// The clock state stored for `ref` (built up by the writer, from the folds it keeps with its cached
// snapshots) holds the runs that folding the case's whole history afresh gives.
void check_clock_state_is_the_history(World& w, const std::string& ref) {
  auto events = w.store().case_events(ref);
  REQUIRE(events.ok());
  auto stored = w.store().load_case(ref);
  REQUIRE(stored.ok());
  REQUIRE_FALSE(stored->clock_state.empty());
  auto restored = ClockFold::restore(w.env->workflows, stored->clock_state);
  REQUIRE(restored.ok());
  ClockFold fresh(w.env->workflows, stored->record.workflow, stored->record.category);
  for (const auto& e : *events) (void)fresh.apply(e);
  INFO(ref << " at version " << stored->record.version);
  CHECK(restored->runs() == fresh.runs());
}

TEST_CASE("store: the clock region is stored: paused while awaiting the client, resumed by the reply", "[store]") {
  World w;
  std::string ref = w.case_in(CaseStatus::kAwaitingClient);
  CHECK(w.load(ref).clock == ClockState::kPaused);
  ActionRequest reply;
  reply.type = ActionType::kAddMessage;
  reply.reference = ref;
  reply.actor = Actor::client();
  reply.body = "It was order 1234.";
  w.must(reply);
  Case c = w.load(ref);
  CHECK(c.status == CaseStatus::kInvestigating);
  CHECK(c.clock == ClockState::kRunning);
  auto resolve = w.request(ref, ActionType::kResolve, w.agent);
  resolve.outcome = Outcome::kNotUpheld;
  resolve.final_response = World::final_response();
  w.must(resolve);
  CHECK(w.load(ref).clock == ClockState::kStopped);
  auto reopen = w.request(ref, ActionType::kReopen, w.agent);
  reopen.reason = "new evidence";
  w.must(reopen);
  c = w.load(ref);
  CHECK(c.status == CaseStatus::kInvestigating);
  CHECK(c.clock == ClockState::kRunning);
  check_clock_state_is_the_history(w, ref);
}

TEST_CASE("store: ownership invariant under random actions through the engine (seeded)", "[store][random]") {
  World w;
  const std::vector<Staff> people{w.agent, w.agent2, w.lead};
  std::set<std::string> staff_ids;
  for (const auto& s : people) staff_ids.insert(s.id);
  constexpr int kCases = 12;
  constexpr int kRounds = 60;
  std::vector<std::string> refs;
  for (int i = 0; i < kCases; ++i) refs.push_back(w.create("Random walk " + std::to_string(i)));
  std::vector<std::string> owners(kCases);
  std::vector<std::int64_t> versions(kCases, 3);  // received and two retail pledges made
  std::mt19937 random(4242);
  auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(random); };
  std::map<std::string, int> outcomes;
  std::set<CaseStatus> statuses;

  for (int round = 0; round < kRounds; ++round) {
    std::vector<std::promise<Result<Committed>>> promises(kCases);
    std::vector<std::future<Result<Committed>>> futures;
    for (auto& p : promises) futures.push_back(p.get_future());
    for (int i = 0; i < kCases; ++i) {
      auto snapshot = w.store().load_case(refs[i]);
      REQUIRE(snapshot.ok());
      // Bias towards the lifecycle so that the walk moves.
      auto type = static_cast<ActionType>(pick(3) ? pick(kLifecycleActionCount) : pick(kActionTypeCount));
      // The mail intake's operations need a mail (tests/web/inbound_email_test.cpp): a message stands
      // in for them.
      // An exemption (a lead's record about one broken commitment) likewise.
      // Merge, link and unlink change a second case (the walk counts each case's own events; they
      // have their own tests, tests/web/desk_views_test.cpp and the storage contract).
      if (type == ActionType::kHoldMessage || type == ActionType::kAcceptMessage ||
          type == ActionType::kRejectMessage || type == ActionType::kRecordBounce ||
          type == ActionType::kExemptCommitment || acts_on_two_cases(type))
        type = ActionType::kAddMessage;
      const Staff* by = &people[static_cast<std::size_t>(pick(3))];
      // Under the workflows' default rights (issue 27) only the owner and leads decide on an owned
      // case: three times in four the walk acts as the owner instead of a colleague, who is refused.
      if (!snapshot->record.owner_id.empty() && by->role == Role::kAgent && by->id != snapshot->record.owner_id &&
          pick(4) != 0)
        for (const auto& p : people)
          if (p.id == snapshot->record.owner_id) by = &p;
      ActionRequest r = w.request(refs[i], type, *by);
      if (pick(4) == 0 && (type == ActionType::kAddMessage || type == ActionType::kAcceptRedress ||
                           type == ActionType::kRejectRedress || type == ActionType::kReopen))
        r.actor = Actor::client();
      if (type == ActionType::kRequestEscalation) r.actor = Actor::client();  // the client's to ask
      if (pick(2)) r.note = "handover note";
      r.owner = people[static_cast<std::size_t>(pick(3))].id;
      r.reason = "reason";
      r.outcome = Outcome::kPartlyUpheld;
      r.final_response = World::final_response();
      if (pick(2))
        r.offers.push_back(RedressOffer{pick(2) ? RedressKind::kApology : RedressKind::kCredit, 500, "GBP", "x"});
      if (type == ActionType::kOfferRedress && r.offers.empty())
        r.offers.push_back(RedressOffer{RedressKind::kGoodwill, std::nullopt, "", "flowers"});
      r.visibility = pick(2) ? Visibility::kClient : Visibility::kInternal;
      r.body = "body";
      r.text = "a promise";
      r.due.in = parse_duration("P1D");
      r.severity = Severity::kHigh;
      r.rating = 4;
      r.tags = {pick(2) ? "urgent" : "vip"};
      // flag_vulnerable needs its flag (clear_vulnerable is refused until there is one).
      r.vulnerability = Vulnerability{VulnerabilityDriver::kHealth, "a note",
                                      std::chrono::year_month_day{std::chrono::year(2099), std::chrono::month(1),
                                                                  std::chrono::day(1)}};
      // People keep and renegotiate promises and redress; the clocks' pledges are kept by events.
      std::vector<Commitment> kept_by_people;
      for (const auto& k : snapshot->commitments)
        if (k.kind != CommitmentKind::kPledge) kept_by_people.push_back(k);
      if (!kept_by_people.empty())
        r.commitment_id = kept_by_people[static_cast<std::size_t>(pick(static_cast<int>(kept_by_people.size())))].id;
      if (!snapshot->redress.empty())
        r.redress_id = snapshot->redress[static_cast<std::size_t>(pick(static_cast<int>(snapshot->redress.size())))].id;
      if (pick(8) == 0) r.expected_version = snapshot->record.version - 1;
      w.engine().submit(std::move(r), [&promises, i](Result<Committed> result) {
        promises[static_cast<std::size_t>(i)].set_value(std::move(result));
      });
    }
    for (int i = 0; i < kCases; ++i) {
      Result<Committed> result = futures[static_cast<std::size_t>(i)].get();
      outcomes[result.ok() ? "ok" : to_string(result.error().code)]++;
      Case c = w.load(refs[i]);
      INFO("round " << round << " case " << refs[i]);
      if (result.ok()) {
        REQUIRE(c.version == versions[i] + static_cast<std::int64_t>(result->change.events.size()));
        REQUIRE(c.version == result->change.after.version);
      } else {
        REQUIRE(c.version == versions[i]);  // a refusal writes nothing
      }
      // Once owned, always exactly one owner, a real staff member - but for a case given back to its
      // team's queue before investigation (return_to_queue).
      if (!owners[i].empty() && c.owner_id.empty()) {
        REQUIRE(result.ok());
        bool returned = false;
        for (const auto& e : result->change.events)
          returned = returned || (e.type == "case.owner_changed" &&
                                  e.data.find("\"via\":\"return_to_queue\"") != std::string::npos);
        REQUIRE(returned);
        REQUIRE((c.status == CaseStatus::kReceived || c.status == CaseStatus::kAcknowledged));
      }
      if (!c.owner_id.empty()) REQUIRE(staff_ids.count(c.owner_id) == 1);
      if (c.status == CaseStatus::kInvestigating || c.status == CaseStatus::kAwaitingClient ||
          c.status == CaseStatus::kRedressProposed)
        REQUIRE_FALSE(c.owner_id.empty());
      // Every change of owner is an owner_changed event.
      if (c.owner_id != owners[i]) {
        REQUIRE(result.ok());
        bool recorded = false;
        for (const auto& e : result->change.events) recorded = recorded || e.type == "case.owner_changed";
        REQUIRE(recorded);
      }
      owners[i] = c.owner_id;
      versions[i] = c.version;
      statuses.insert(c.status);
    }
  }
  INFO("outcomes: ok=" << outcomes["ok"] << " refused=" << outcomes["refused"] << " invalid=" << outcomes["invalid"]
                       << " not_found=" << outcomes["not_found"] << " forbidden=" << outcomes["forbidden"]
                       << " stale=" << outcomes["stale_version"] << " internal=" << outcomes["internal"]);
  CHECK(outcomes["ok"] > kCases * kRounds / 10);
  CHECK(outcomes["refused"] > 0);
  CHECK(statuses.size() >= 5);
  auto report = w.store().verify_chains();
  REQUIRE(report.ok());
  CHECK(report->broken.empty());
  for (int i = 0; i < kCases; ++i) {
    auto events = w.store().case_events(refs[i]);
    REQUIRE(events.ok());
    CHECK(static_cast<std::int64_t>(events->size()) == versions[i]);
    check_clock_state_is_the_history(w, refs[i]);
  }
}

TEST_CASE("store: idempotency keys replay the first case or refuse a different request", "[store][idempotency]") {
  World w;
  NewCase c;
  c.client = Client{"Ana Ruiz", "ana@example.org", "", ""};
  c.category = "billing";
  c.subject = "Charged twice";
  c.description = "Twice.";
  auto first = w.engine().create_case(c, Actor::intake("web-form"), "key-1", "digest-a");
  REQUIRE(first.ok());
  CHECK_FALSE(first->replayed);
  auto again = w.engine().create_case(c, Actor::intake("web-form"), "key-1", "digest-a");
  REQUIRE(again.ok());
  CHECK(again->replayed);
  CHECK(again->change.after.reference == first->change.after.reference);
  CHECK(again->change.events.empty());
  auto other = w.engine().create_case(c, Actor::intake("web-form"), "key-1", "digest-b");
  REQUIRE_FALSE(other.ok());
  CHECK(other.error().code == ErrorCode::kConflict);
  auto second = w.engine().create_case(c, Actor::intake("web-form"), "key-2", "digest-a");
  REQUIRE(second.ok());
  CHECK(second->change.after.reference != first->change.after.reference);
  RawDb raw(w.db_path());
  w.store().flush();
  CHECK(raw.integer("SELECT count(*) FROM cases") == 2);
  CHECK(raw.integer("SELECT count(*) FROM idempotency_keys") == 2);
}

TEST_CASE("store: migrations bring a fresh database from 0 to the latest version", "[store][migrations]") {
  TempDir dir;
  Config config = config_in(dir);
  auto first = migrate_database(config);
  REQUIRE(first.ok());
  CHECK(first->from == 0);
  CHECK(first->to == sqlite::latest_schema_version());
  auto second = migrate_database(config);
  REQUIRE(second.ok());
  CHECK(second->from == sqlite::latest_schema_version());
  CHECK(second->to == sqlite::latest_schema_version());
  RawDb raw(config.database_path());
  CHECK(raw.integer("PRAGMA user_version") == sqlite::latest_schema_version());
  CHECK(raw.integer("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'events'") == 1);
  // Every table is STRICT.
  CHECK(raw.integer("SELECT count(*) FROM pragma_table_list WHERE schema = 'main' AND type = 'table' AND strict = 0 "
                    "AND name NOT LIKE 'sqlite_%'") == 0);
}

TEST_CASE("store: an unmigrated database is refused by the store", "[store][migrations]") {
  TempDir dir;
  Config config = config_in(dir);
  ManualClock clock(kStart);
  {
    RawDb raw(config.database_path());
    raw.exec("CREATE TABLE t(x)");
  }
  sqlite::StoreOptions options;
  options.path = config.database_path();
  auto store = sqlite::SqliteStore::open(options, clock);
  REQUIRE_FALSE(store.ok());
  CHECK(store.error().code == ErrorCode::kInvalid);
  CHECK_THAT(store.error().detail, Catch::Contains("migrate"));
}

TEST_CASE("store: a database newer than this binary is refused and left byte for byte untouched",
          "[store][migrations]") {
  TempDir dir;
  Config config = config_in(dir);
  const fs::path path = config.database_path();
  bool wal = GENERATE(false, true);
  INFO((wal ? "WAL database" : "rollback-journal database"));
  {
    RawDb raw(path);
    if (wal) raw.exec("PRAGMA journal_mode = WAL");
    raw.exec("CREATE TABLE future(x TEXT); INSERT INTO future VALUES ('from a newer redress');");
    raw.exec("PRAGMA user_version = " + std::to_string(sqlite::latest_schema_version() + 1));
  }
  const std::string digest = file_digest(path);
  const auto entries_before = std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator());

  auto migrated = migrate_database(config);
  REQUIRE_FALSE(migrated.ok());
  CHECK(migrated.error().code == ErrorCode::kInvalid);
  CHECK_THAT(migrated.error().detail, Catch::Contains("newer"));
  CHECK(file_digest(path) == digest);

  ManualClock clock(kStart);
  sqlite::StoreOptions options;
  options.path = path.string();
  auto store = sqlite::SqliteStore::open(options, clock);
  REQUIRE_FALSE(store.ok());
  CHECK(store.error().code == ErrorCode::kInvalid);
  CHECK_THAT(store.error().detail, Catch::Contains("newer"));
  CHECK(file_digest(path) == digest);

  OpenOptions env_options;
  env_options.load_workflows = false;
  auto env = open_environment(config, env_options);
  REQUIRE_FALSE(env.ok());
  CHECK(file_digest(path) == digest);
  // No journal or WAL left behind either.
  CHECK(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()) == entries_before);
  RawDb raw(path);
  CHECK(raw.integer("PRAGMA user_version") == sqlite::latest_schema_version() + 1);
}

TEST_CASE("store: list_cases pages stay correct while new cases arrive between pages",
          "[store][pagination][concurrency]") {
  World w;
  std::vector<std::string> initial;
  for (int i = 0; i < 23; ++i) initial.push_back(w.create("Case " + std::to_string(i)));
  std::vector<std::string> seen;
  std::string cursor;
  int pages = 0, inserted = 0;
  do {
    auto page = w.store().list_cases(CaseFilter{}, cursor, 5);
    REQUIRE(page.ok());
    for (const auto& c : page->cases) seen.push_back(c.reference);
    cursor = page->next_cursor;
    ++pages;
    // New complaints arrive while the list is being read.
    for (int k = 0; k < 3; ++k, ++inserted) w.create("Late " + std::to_string(inserted));
    REQUIRE(pages < 20);
  } while (!cursor.empty());
  CHECK(pages == 5);
  // Newest first, every case that existed when the walk began exactly once, none twice.
  std::vector<std::string> expected(initial.rbegin(), initial.rend());
  CHECK(seen == expected);
  std::set<std::string> unique(seen.begin(), seen.end());
  CHECK(unique.size() == seen.size());

  // Filters page too.
  std::string owned = initial[4];
  w.must(w.request(owned, ActionType::kTake, w.agent));
  CaseFilter by_owner;
  by_owner.owner_id = w.agent.id;
  auto mine = w.store().list_cases(by_owner, "", 10);
  REQUIRE(mine.ok());
  REQUIRE(mine->cases.size() == 1);
  CHECK(mine->cases[0].reference == owned);
  CHECK(mine->next_cursor.empty());
}

TEST_CASE("store: a cursor the server did not issue is refused", "[store][pagination]") {
  World w;
  w.create();
  for (const std::string& bad :
       std::vector<std::string>{"garbage", "!!!", "YzE6LTE", "YzI6MQ", std::string(100, 'A')}) {
    INFO(bad);
    auto page = w.store().list_cases(CaseFilter{}, bad, 10);
    REQUIRE_FALSE(page.ok());
    CHECK(page.error().code == ErrorCode::kInvalid);
    REQUIRE(page.error().fields.size() == 1);
    CHECK(page.error().fields[0].field == "cursor");
  }
}

TEST_CASE("store: staff and tokens", "[store][staff]") {
  World w;
  Staff dup;
  dup.name = "Someone Else";
  dup.email = "SAM@redress.example";
  dup.role = Role::kAgent;
  auto conflict = w.store().add_staff(dup);
  REQUIRE_FALSE(conflict.ok());
  CHECK(conflict.error().code == ErrorCode::kConflict);
  auto found = w.store().find_staff(w.agent.email);
  REQUIRE(found.ok());
  CHECK(found->id == w.agent.id);
  auto by_id = w.store().find_staff(w.lead.id);
  REQUIRE(by_id.ok());
  CHECK(by_id->role == Role::kLead);
  CHECK(w.store().find_staff("nobody@redress.example").error().code == ErrorCode::kNotFound);
  REQUIRE(w.store().add_token(w.agent.id, sha256_hex("secret-token"), "test").ok());
  auto holder = w.store().staff_for_token(sha256_hex("secret-token"));
  REQUIRE(holder.ok());
  CHECK(holder->id == w.agent.id);
  CHECK(w.store().staff_for_token(sha256_hex("other")).error().code == ErrorCode::kNotFound);
  auto all = w.store().list_staff();
  REQUIRE(all.ok());
  CHECK(all->size() == 3);
}

TEST_CASE("store: withdrawal leaves a promise open, and it can still be kept", "[store]") {
  World w;
  std::string ref = w.case_in(CaseStatus::kInvestigating);
  auto promise = w.request(ref, ActionType::kMakeCommitment, w.agent);
  promise.text = "Send the returns label";
  promise.due.in = parse_duration("P2D");
  w.must(promise);
  auto withdraw = w.request(ref, ActionType::kWithdraw, w.agent);
  withdraw.reason = "the client no longer wishes to complain";
  w.must(withdraw);
  auto snapshot = w.store().load_case(ref);
  REQUIRE(snapshot.ok());
  CHECK(snapshot->record.status == CaseStatus::kWithdrawn);
  CHECK(snapshot->record.clock == ClockState::kStopped);
  // The pledges are cancelled with the case; the promise stays to be kept.
  const Commitment* promise_row = nullptr;
  for (const auto& k : snapshot->commitments) {
    if (k.kind == CommitmentKind::kPromise)
      promise_row = &k;
    else
      CHECK(k.status != CommitmentStatus::kOpen);
  }
  REQUIRE(promise_row != nullptr);
  CHECK(promise_row->status == CommitmentStatus::kOpen);
  auto keep = w.request(ref, ActionType::kKeepCommitment, w.agent);
  keep.commitment_id = promise_row->id;
  keep.note = "label sent anyway";
  w.must(keep);
  auto after = w.store().load_case(ref);
  REQUIRE(after.ok());
  for (const auto& k : after->commitments)
    if (k.id == keep.commitment_id) CHECK(k.status == CommitmentStatus::kKept);
  CHECK(after->record.status == CaseStatus::kWithdrawn);
  // Nothing else moves an ended case.
  auto message = w.request(ref, ActionType::kAddMessage, w.agent);
  message.visibility = Visibility::kClient;
  message.body = "hello";
  auto refused = w.act(message);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == ErrorCode::kRefused);
  CHECK(refused.error().allowed_actions.empty());
}

// A full disk in the middle of a group commit (issue 7), made deterministic with the writer's
// max_page_count: the database may not grow past a few pages more than it has, so a creation
// with a 1 MiB description fails with SQLITE_FULL while the creation before it in the same group
// has already written. SQLite then rolls the whole transaction back; the writer used to go on
// with savepoints, which committed a later item in a transaction of its own while every caller
// was answered 500. Every item of the group must be refused (kUnavailable), nothing of it
// written, and the next group must work once there is room.
TEST_CASE("store: a full disk in a group commit refuses the whole group, writes nothing, and the next group works",
          "[store][disk]") {
  // Search indexing on request: a background pass indexing the first case could be written (it
  // fits in the room left) between the refused group and the check that writes are failing.
  World w(sqlite::SearchIndexing::kOnRequest);
  auto& store = *w.env->sqlite;
  const std::string first = w.create();
  RawDb raw(w.db_path());
  w.store().flush();
  const std::int64_t events_before = raw.integer("SELECT count(*) FROM events");

  // The writer is held inside an admin item while the group queues up behind it.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::thread holder([&] {
    Status s = store.run_write(
        [&](sqlite::Connection& db) {
          released.wait();
          return db.exec("PRAGMA max_page_count = " + std::to_string(raw.integer("PRAGMA page_count") + 16));
        },
        sqlite::SqliteStore::WriteScope::kNoCaseRows);
    CHECK(s.ok());
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the admin item is running

  auto new_case = [](const std::string& subject, std::size_t description_bytes) {
    NewCase c;
    c.client = Client{"Ana Ruiz", "ana@example.org", "", "en-GB"};
    c.category = "billing";
    c.subject = subject;
    c.description = std::string(description_bytes, 'x');
    c.workflow = "retail";
    return c;
  };
  std::vector<std::promise<Result<Committed>>> answers(3);
  const std::size_t sizes[] = {40, 1 << 20, 40};
  for (std::size_t i = 0; i < 3; ++i)
    w.engine().create_case(new_case("Group item " + std::to_string(i), sizes[i]), Actor::intake("web-form"), {}, {},
                           [&answers, i](Result<Committed> r) { answers[i].set_value(std::move(r)); });
  release.set_value();
  holder.join();
  for (std::size_t i = 0; i < 3; ++i) {
    auto r = answers[i].get_future().get();
    INFO("item " << i << ": " << (r.ok() ? r->change.after.reference : r.error().detail));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ErrorCode::kUnavailable);
    CHECK(r.error().detail.find("the disk is full") != std::string::npos);
  }
  CHECK(raw.integer("SELECT count(*) FROM cases") == 1);
  CHECK(raw.integer("SELECT count(*) FROM events") == events_before);
  CHECK(store.write_failure().has_value());

  // Room again: the next group is written, with the next reference (no gap from the refused ones).
  REQUIRE(store
              .run_write([](sqlite::Connection& db) { return db.exec("PRAGMA max_page_count = 1073741823"); },
                         sqlite::SqliteStore::WriteScope::kNoCaseRows)
              .ok());
  const std::string next = w.create("After the disk had room");
  CHECK(next.substr(next.size() - 6) == "000002");
  CHECK(first.substr(first.size() - 6) == "000001");
  CHECK_FALSE(store.write_failure().has_value());
  auto audit = store.verify_chains();
  REQUIRE(audit.ok());
  CHECK(audit->broken.empty());
}

TEST_CASE("store: a search finds exactly what LIKE finds, whether a case is indexed yet or still waiting",
          "[store][search]") {
  // The index's thread would index waiting cases by itself; here the test decides when.
  World w(sqlite::SearchIndexing::kOnRequest);
  std::vector<std::string> subjects{"Late delivery to Leeds",         "Parcel left in the rain",
                                    "Late refund for order 7",        "Charged twice",
                                    "Delivery van blocked the drive", "Refund not received"};
  std::map<std::string, std::string> subject_of;
  for (const auto& subject : subjects) subject_of[w.create(subject)] = subject;

  RawDb raw(w.db_path());
  RawDb index(sqlite::SearchIndex::path_for(w.db_path().string()));
  // The exact answer: a case-insensitive substring test over the four searched fields.
  auto expected = [&](const std::string& text) {
    std::set<std::string> found;
    auto lower = [](std::string s) {
      for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return s;
    };
    for (const auto& [ref, subject] : subject_of)
      if (lower(subject).find(lower(text)) != std::string::npos || lower(ref).find(lower(text)) != std::string::npos ||
          std::string("ana ruiz").find(lower(text)) != std::string::npos ||
          std::string("ana@example.org").find(lower(text)) != std::string::npos)
        found.insert(ref);
    return found;
  };
  auto search = [&](const std::string& text) {
    auto page = w.store().search_cases(text, CaseFilter{}, "", 200);
    REQUIRE(page.ok());
    std::set<std::string> found;
    for (const auto& c : page->cases) found.insert(c.reference);
    return found;
  };
  const std::vector<std::string> queries{"late", "DELIVERY", "refund", "ain", "twice", "CMP-", "xyz", "ana@ex", "Le"};

  // All six are still waiting for the index, and found.
  w.store().flush();
  std::int64_t waiting = raw.integer("SELECT count(*) FROM search_pending");
  CHECK(waiting == 6);
  for (const auto& q : queries) {
    INFO("q=" << q << " with " << waiting << " waiting");
    CHECK(search(q) == expected(q));
  }

  // Indexed: the same answers, from the index.
  auto* sqlite_store = dynamic_cast<sqlite::SqliteStore*>(&w.store());
  REQUIRE(sqlite_store != nullptr);
  REQUIRE(sqlite_store->index_search().ok());
  CHECK(raw.integer("SELECT count(*) FROM search_pending") == 0);
  CHECK(index.integer("SELECT count(*) FROM cases_text WHERE cases_text MATCH '\"delivery\"'") == 2);
  for (const auto& q : queries) {
    INFO("q=" << q << " indexed");
    CHECK(search(q) == expected(q));
  }

  // Text changed after indexing (by another process here) is followed by the index.
  std::string renamed = w.create("Broken kettle");  // waiting
  std::string indexed = subject_of.begin()->first;
  raw.exec("UPDATE cases SET subject = 'Scratched worktop' WHERE reference = '" + indexed + "'");
  subject_of[indexed] = "Scratched worktop";
  // ...and so is text changed while a case waits: it is indexed as it is when its turn comes.
  raw.exec("UPDATE cases SET subject = 'Kettle leaks' WHERE reference = '" + renamed + "'");
  subject_of[renamed] = "Kettle leaks";
  for (const auto& q : {"worktop", "kettle", "broken", "leaks"}) {
    INFO("q=" << q << " after renames");
    CHECK(search(q) == expected(q));
  }
  REQUIRE(sqlite_store->index_search().ok());
  CHECK(index.integer("SELECT count(*) FROM cases_text WHERE cases_text MATCH '\"broken\"'") == 0);
  CHECK(index.integer("SELECT count(*) FROM cases_text WHERE cases_text MATCH '\"kettle leaks\"'") == 1);
  for (const std::string& q :
       std::vector<std::string>{"worktop", "kettle", "broken", "leaks", subjects[0].substr(0, 6)}) {
    INFO("q=" << q << " after renames, indexed");
    CHECK(search(q) == expected(q));
  }
  // The index is sound by FTS5's own check.
  index.exec("INSERT INTO cases_text(cases_text) VALUES ('integrity-check')");
}

TEST_CASE("store: the search index's thread indexes waiting cases by itself", "[store][search]") {
  World w;
  for (int i = 0; i < 5; ++i) w.create("Idle indexing " + std::to_string(i));
  RawDb raw(w.db_path());
  RawDb index(sqlite::SearchIndex::path_for(w.db_path().string()));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (raw.integer("SELECT count(*) FROM search_pending") > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(raw.integer("SELECT count(*) FROM search_pending") == 0);
  CHECK(index.integer("SELECT count(*) FROM cases_text WHERE cases_text MATCH '\"idle indexing\"'") == 5);
}

namespace {

std::set<std::string> search_references(Store& store, const std::string& text) {
  auto page = store.search_cases(text, CaseFilter{}, "", 200);
  INFO((page.ok() ? std::string() : page.error().detail));
  REQUIRE(page.ok());
  std::set<std::string> found;
  for (const auto& c : page->cases) found.insert(c.reference);
  return found;
}

}  // namespace

TEST_CASE("store: a case renamed while its round of indexing runs stays pending until its new text is indexed",
          "[store][search]") {
  World w(sqlite::SearchIndexing::kOnRequest);
  const std::string ref = w.create("Broken kettle");
  w.store().flush();
  const std::string path = w.db_path().string();
  RawDb index(sqlite::SearchIndex::path_for(path));
  // A second index on the same files, whose round is interrupted by a rename: the rename commits
  // after the round read the case and before it deletes the pending row.
  sqlite::Connection writer(path, sqlite::OpenMode::kReadWrite);
  REQUIRE(sqlite::configure_connection(writer, sqlite::Durability::kFull, sqlite::OpenMode::kReadWrite).ok());
  bool renamed = false;
  sqlite::SearchIndex racing(path, writer, [&](std::function<Status(sqlite::Connection&)> work) -> Status {
    if (!renamed) {
      renamed = true;
      auto rename = writer.exec("UPDATE cases SET subject = 'Kettle leaks' WHERE reference = '" + ref + "'");
      if (!rename) return rename;
    }
    if (auto s = writer.exec("BEGIN IMMEDIATE"); !s) return s;
    Status s = work(writer);
    (void)writer.exec(s ? "COMMIT" : "ROLLBACK");
    return s;
  });
  REQUIRE(racing.index_now().ok());
  CHECK(renamed);
  // The first round indexed the old text and left the row pending (its generation moved); the
  // next round, in the same index_now, indexed the new text.
  CHECK(index.integer("SELECT count(*) FROM cases_text WHERE cases_text MATCH '\"broken\"'") == 0);
  CHECK(index.integer("SELECT count(*) FROM cases_text WHERE cases_text MATCH '\"leaks\"'") == 1);
  RawDb raw(w.db_path());
  CHECK(raw.integer("SELECT count(*) FROM search_pending") == 0);
  CHECK(search_references(w.store(), "leaks") == std::set<std::string>{ref});
  CHECK(search_references(w.store(), "broken").empty());
}

TEST_CASE("store: a missing, damaged or foreign search index file is rebuilt, and searches stay exact meanwhile",
          "[store][search]") {
  TempDir dir;
  const std::string db = config_in(dir).database_path();
  const std::string index_path = sqlite::SearchIndex::path_for(db);
  std::vector<std::string> refs;
  auto env = open_env(dir, sqlite::SearchIndexing::kOnRequest);
  auto create = [&](Environment& e, const std::string& subject) {
    auto created = e.engine->create_case(billing_case(subject, "Rebuild me."), Actor::intake("web-form"));
    REQUIRE(created.ok());
    return created->change.after.reference;
  };
  for (int i = 0; i < 3; ++i) refs.push_back(create(*env, "Rebuilt index " + std::to_string(i)));
  auto* store = dynamic_cast<sqlite::SqliteStore*>(env->store.get());
  REQUIRE(store->index_search().ok());
  const std::set<std::string> all(refs.begin(), refs.end());
  CHECK(search_references(*env->store, "rebuilt") == all);

  auto reopen_and_check = [&](const std::string& what) {
    INFO(what);
    env = open_env(dir, sqlite::SearchIndexing::kOnRequest);
    RawDb raw(db);
    // Every case is pending again, and found while it waits.
    CHECK(raw.integer("SELECT count(*) FROM search_pending") == 3);
    CHECK(search_references(*env->store, "rebuilt") == all);
    CHECK(search_references(*env->store, "index 1") == std::set<std::string>{refs[1]});
    auto* reopened = dynamic_cast<sqlite::SqliteStore*>(env->store.get());
    REQUIRE(reopened->index_search().ok());
    CHECK(raw.integer("SELECT count(*) FROM search_pending") == 0);
    RawDb index(index_path);
    CHECK(index.integer("SELECT count(*) FROM cases_text") == 3);
    CHECK(search_references(*env->store, "rebuilt") == all);
  };

  env.reset();
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(index_path + suffix);
  reopen_and_check("the index file was deleted");

  env.reset();
  for (const char* suffix : {"-wal", "-shm"}) fs::remove(index_path + suffix);
  {
    std::ofstream garbage(index_path, std::ios::binary | std::ios::trunc);
    garbage << std::string(8192, 'x');
  }
  reopen_and_check("the index file was overwritten with garbage");

  env.reset();
  {
    // An index that belongs to another database: its owner id differs.
    RawDb index(index_path);
    index.exec("UPDATE meta SET value = 'another database' WHERE key = 'store'");
    index.exec(
        "INSERT INTO cases_text(rowid, reference, subject, client_name, client_email) "
        "VALUES (999, 'CMP-0000-000999', 'Rebuilt elsewhere', 'Bo', 'bo@example.org')");
  }
  reopen_and_check("the index file belonged to another database");
}

TEST_CASE("store: a deleted case leaves the search index", "[store][search]") {
  World w(sqlite::SearchIndexing::kOnRequest);
  const std::string kept = w.create("Dented fridge door"), gone = w.create("Dented oven door");
  auto* store = dynamic_cast<sqlite::SqliteStore*>(&w.store());
  REQUIRE(store->index_search().ok());
  RawDb index(sqlite::SearchIndex::path_for(w.db_path().string()));
  CHECK(index.integer("SELECT count(*) FROM cases_text WHERE cases_text MATCH '\"dented\"'") == 2);
  {
    RawDb raw(w.db_path());  // no foreign-key enforcement: as someone erasing a case by hand
    raw.exec("DELETE FROM cases WHERE reference = '" + gone + "'");
    CHECK(raw.integer("SELECT count(*) FROM search_pending") == 1);
  }
  REQUIRE(store->index_search().ok());
  CHECK(index.integer("SELECT count(*) FROM cases_text WHERE cases_text MATCH '\"dented\"'") == 1);
  CHECK(search_references(w.store(), "dented") == std::set<std::string>{kept});
}

TEST_CASE("store: under writes that never pause, the checkpointer keeps the WAL bounded", "[store][concurrency]") {
  // Without a checkpoint while the writes go on, these 1,200 cases would leave tens of MiB in the
  // WAL: the writer's idle checkpoint never comes (no half-second pause).
  TempDir dir;
  WorkflowSet workflows = open_env(dir, sqlite::SearchIndexing::kOnRequest)->workflows;  // migrated, closed
  sqlite::StoreOptions options = store_options_in(dir);
  const std::string path = options.path;
  options.checkpoint_pages = 256;  // 1 MiB of 4 KiB pages
  ManualClock clock(kStart);
  auto opened = sqlite::SqliteStore::open(options, clock);
  REQUIRE(opened.ok());
  auto& store = **opened;
  Engine engine(store, clock, workflows);

  std::atomic<bool> writing{true};
  std::atomic<std::int64_t> largest{0};
  std::thread sampler([&] {
    while (writing) {
      std::error_code missing;
      auto size = static_cast<std::int64_t>(fs::file_size(path + "-wal", missing));
      if (!missing && size > largest) largest = size;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t)
    writers.emplace_back([&] {
      for (int i = 0; i < 300; ++i) {
        NewCase c = billing_case("Checkpoint " + std::to_string(i), std::string(2000, 'x'));
        if (!engine.create_case(c, Actor::intake("web-form")).ok()) ++failures;
      }
    });
  for (auto& writer : writers) writer.join();
  writing = false;
  sampler.join();
  CHECK(failures == 0);
  auto counters = store.counters();
  INFO("largest WAL " << largest << " bytes, " << counters.checkpoints << " checkpoints ("
                      << counters.writer_checkpoints << " on the writer), " << counters.batches << " batches");
  CHECK(counters.checkpoints >= 2);
  CHECK(counters.checkpoints > counters.writer_checkpoints);  // the checkpointer's passes copied most
  // The threshold, what the writer commits while the checkpointer copies, and one batch.
  CHECK(largest <= 8 * 1024 * 1024);
}

TEST_CASE("store: a case's stamp reuses a kept read snapshot only while nothing has changed, whoever writes",
          "[store][readers]") {
  World w;
  auto* store = dynamic_cast<sqlite::SqliteStore*>(&w.store());
  REQUIRE(store != nullptr);
  std::string ref = w.case_in(CaseStatus::kAcknowledged);
  auto reused = [&] { return store->counters().readers.reused; };
  auto stamp = [&] {
    auto s = w.store().case_view_stamp(ref);
    REQUIRE(s.ok());
    return *s;
  };

  CaseViewStamp first = stamp();
  CHECK(first.owner_name.empty());
  // Nothing changed: the next stamps run in the transaction the first one left open (the age
  // limit is 10 ms; a slow machine may begin afresh now and then, never every time).
  std::int64_t before = reused();
  for (int i = 0; i < 20; ++i) CHECK(stamp() == first);
  CHECK(reused() > before);

  // The store's own commit: the very next stamp sees it.
  w.must(w.request(ref, ActionType::kTake, w.agent));
  CaseViewStamp taken = stamp();
  CHECK(taken.version == first.version + 1);
  CHECK(taken.owner_name == "Sam Okafor");

  // Another connection to the file, as another process or an operator's shell would be.
  RawDb raw(w.db_path());
  for (int i = 0; i < 20; ++i) CHECK(stamp() == taken);  // a snapshot is kept again
  raw.exec("UPDATE staff SET name = 'Samuel Okafor' WHERE id = '" + w.agent.id + "'");
  CHECK(stamp().owner_name == "Samuel Okafor");
  raw.exec("UPDATE client_links SET revoked_at = 1");
  CHECK(stamp().client_link_nonce.empty());
}

TEST_CASE("store: a kept read snapshot never holds the WAL back: idle ones end and the WAL truncates",
          "[store][readers]") {
  TempDir dir;
  WorkflowSet workflows = open_env(dir, sqlite::SearchIndexing::kOnRequest)->workflows;  // migrated, closed
  sqlite::StoreOptions options = store_options_in(dir);
  const std::string path = options.path;
  options.snapshot_reuse = std::chrono::milliseconds(1000);
  ManualClock clock(kStart);
  auto opened = sqlite::SqliteStore::open(options, clock);
  REQUIRE(opened.ok());
  auto& store = **opened;
  Engine engine(store, clock, workflows);
  auto created = engine.create_case(billing_case("Kept snapshot"), Actor::intake("web-form"));
  REQUIRE(created.ok());
  const std::string ref = created->change.after.reference;

  std::error_code missing;
  auto wal_size = [&] { return fs::file_size(path + "-wal", missing); };
  // The writer's idle pass truncates the WAL half a second after its last commit.
  for (int i = 0; i < 100 && (store.counters().checkpoints == 0 || wal_size() != 0); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  REQUIRE(wal_size() == 0);

  // A commit from another connection (the writer's idle pass knows nothing of it), then a stamp:
  // the reader's snapshot now stands on that frame of the WAL and is kept.
  RawDb raw{fs::path(path)};
  raw.exec("UPDATE cases SET version = version + 1 WHERE reference = '" + ref + "'");
  auto stamp = store.case_view_stamp(ref);
  REQUIRE(stamp.ok());
  CHECK(stamp->version == created->change.after.version + 1);

  // A truncating checkpoint cannot restart the WAL under the open snapshot; once its age limit
  // has passed, the reaper ends it and the truncation goes through.
  auto truncated = [&] {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "SELECT count(*) FROM sqlite_schema", nullptr, nullptr, nullptr) ==
            SQLITE_OK);  // opens the WAL
    int log = -1, done = -1;
    int rc = sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_TRUNCATE, &log, &done);
    sqlite3_close(db);
    UNSCOPED_INFO("rc " << rc << " log " << log << " done " << done << " wal " << wal_size());
    return rc == SQLITE_OK && wal_size() == 0;
  };
  CHECK_FALSE(truncated());
  bool ended = false;
  for (int i = 0; i < 100 && !ended; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ended = truncated();
  }
  CHECK(ended);
  CHECK(store.counters().readers.reaped >= 1);

  // The next snapshot sees the case as it is, and a change made after it.
  raw.exec("UPDATE cases SET version = version + 1 WHERE reference = '" + ref + "'");
  auto after = store.case_view_stamp(ref);
  REQUIRE(after.ok());
  CHECK(after->version == stamp->version + 1);
}

TEST_CASE("store: with snapshot reuse off, every stamp reads in its own transaction", "[store][readers]") {
  TempDir dir;
  WorkflowSet workflows = open_env(dir, sqlite::SearchIndexing::kOnRequest)->workflows;
  sqlite::StoreOptions options = store_options_in(dir);
  options.snapshot_reuse = std::chrono::milliseconds(0);
  ManualClock clock(kStart);
  auto opened = sqlite::SqliteStore::open(options, clock);
  REQUIRE(opened.ok());
  Engine engine(**opened, clock, workflows);
  auto created = engine.create_case(billing_case("No reuse"), Actor::intake("web-form"));
  REQUIRE(created.ok());
  for (int i = 0; i < 5; ++i) REQUIRE((*opened)->case_view_stamp(created->change.after.reference).ok());
  auto counters = (*opened)->counters().readers;
  CHECK(counters.reused == 0);
  CHECK(counters.begun == 0);
}

TEST_CASE("store: its connections overwrite what they delete (secure_delete, set whatever SQLite's default)",
          "[store]") {
  World w;
  auto secure = [](sqlite::Connection& db) {
    auto& pragma = db.cached("PRAGMA secure_delete");
    std::int64_t value = pragma.step() ? pragma.integer(0) : -1;
    pragma.reset();
    return value;
  };
  // Debian's SQLite turns it on by default; a connection that starts with it off, as another
  // build's would, has it on once configured like the store's.
  for (auto mode : {sqlite::OpenMode::kReadWrite, sqlite::OpenMode::kReadOnly}) {
    sqlite::Connection db(w.db_path().string(), mode);
    REQUIRE(db.exec("PRAGMA secure_delete = OFF").ok());
    REQUIRE(secure(db) == 0);
    REQUIRE(sqlite::configure_connection(db, sqlite::Durability::kFull, mode).ok());
    CHECK(secure(db) == 1);
  }
}

// The writer keeps the report summaries with one upsert per summary row per group
// (adapters/sqlite/summaries.h). These compare them with the aggregates over the rows.
std::string differing_summaries(const fs::path& db_path) {
  sqlite::Connection db(db_path.string(), sqlite::OpenMode::kReadOnly);
  auto differing = sqlite::check_summaries(db);
  REQUIRE(differing.ok());
  return *differing;
}

// An item that fails after writing its rows sends its group round again with a savepoint per
// item; its summary deltas must go with its rows. The creation under the key "boom" writes its
// case, then a temporary trigger on the writer's connection refuses its idempotency key.
TEST_CASE("store: the report summaries count only the items of a group that stand", "[store][reports]") {
  World w;
  auto& store = *w.env->sqlite;
  REQUIRE(store
              .run_write(
                  [](sqlite::Connection& db) {
                    return db.exec(
                        "CREATE TEMP TRIGGER refuse_boom BEFORE INSERT ON main.idempotency_keys "
                        "WHEN new.key = 'boom' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;");
                  },
                  sqlite::SqliteStore::WriteScope::kNoCaseRows)
              .ok());
  const std::string first = w.case_in(CaseStatus::kInvestigating);

  // The writer is held inside an admin item while the group queues up behind it.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::thread holder([&] {
    Status s = store.run_write(
        [&](sqlite::Connection&) {
          released.wait();
          return Status::success();
        },
        sqlite::SqliteStore::WriteScope::kNoCaseRows);
    CHECK(s.ok());
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const std::string keys[] = {"k-1", "boom", "k-3"};
  std::vector<std::promise<Result<Committed>>> answers(4);
  for (std::size_t i = 0; i < 3; ++i)
    w.engine().create_case(billing_case("Group item " + std::to_string(i)), Actor::intake("web-form"), keys[i],
                           "digest-" + keys[i],
                           [&answers, i](Result<Committed> r) { answers[i].set_value(std::move(r)); });
  // And an action that moves the summaries (an escalation: the open case changes level).
  ActionRequest escalate = w.request(first, ActionType::kEscalate, w.agent);
  escalate.reason = "the client is vulnerable";
  w.engine().submit(escalate, [&answers](Result<Committed> r) { answers[3].set_value(std::move(r)); });
  release.set_value();
  holder.join();
  std::vector<Result<Committed>> results;
  for (auto& a : answers) results.push_back(a.get_future().get());
  CHECK(results[0].ok());
  CHECK_FALSE(results[1].ok());
  CHECK(results[2].ok());
  INFO((results[3].ok() ? std::string() : results[3].error().detail));
  CHECK(results[3].ok());

  RawDb raw(w.db_path());
  CHECK(raw.integer("SELECT count(*) FROM cases") == 3);
  CHECK(raw.integer("SELECT sum(received) FROM report_received WHERE dimension = 'category'") == 3);
  CHECK(raw.integer("SELECT sum(open_cases) FROM report_open") == 3);
  CHECK(raw.integer("SELECT open_cases FROM report_open WHERE owner_id = '" + w.agent.id +
                    "' AND escalation_level = 1") == 1);
  CHECK(differing_summaries(w.db_path()).empty());
}

// Two nodes share the database: each writer keeps its own case snapshots, so one acts on a case
// the other changed since. Its plan on the stale snapshot is refused by the version check and made
// again on the case as stored, and the summaries' deltas come from that, not from the stale copy.
TEST_CASE("store: two nodes on one database keep the report summaries exact", "[store][reports]") {
  World w;
  const std::string ref = w.case_in(CaseStatus::kInvestigating);  // node 1's writer keeps its snapshot
  auto other = open_env(w.dir);
  ActionRequest transfer = w.request(ref, ActionType::kTransfer, w.agent);
  transfer.owner = w.agent2.id;
  transfer.note = "Handing over: account checked.";
  auto moved = other->engine->apply(transfer);
  INFO((moved.ok() ? std::string() : moved.error().detail));
  REQUIRE(moved.ok());

  ActionRequest escalate = w.request(ref, ActionType::kEscalate, w.lead);
  escalate.reason = "the client is vulnerable";
  w.must(escalate);
  RawDb raw(w.db_path());
  CHECK(raw.integer("SELECT count(*) FROM report_open WHERE open_cases <> 0") == 1);
  CHECK(raw.integer("SELECT open_cases FROM report_open WHERE owner_id = '" + w.agent2.id +
                    "' AND escalation_level = 1") == 1);
  CHECK(differing_summaries(w.db_path()).empty());
}

// Durability FULL: the writer commits without waiting for the disk and the syncer answers each
// group once the WAL is synced. Held before its sync, the syncer holds every answer back, while
// the writer goes on: a later group is committed (a reader sees it) before the first is answered.
TEST_CASE("store: answers wait for the WAL to be synced, the writer does not", "[store][concurrency]") {
  TempDir dir;
  WorkflowSet workflows = open_env(dir, sqlite::SearchIndexing::kOnRequest)->workflows;  // migrated, closed
  sqlite::StoreOptions options = store_options_in(dir);
  std::mutex gate_mutex;
  std::condition_variable gate_changed;
  bool held = false, open = true;  // guarded by gate_mutex
  options.before_sync = [&] {
    std::unique_lock lock(gate_mutex);
    held = true;
    gate_changed.notify_all();
    gate_changed.wait(lock, [&] { return open; });
    held = false;
  };
  ManualClock clock(kStart);
  auto opened = sqlite::SqliteStore::open(options, clock);
  REQUIRE(opened.ok());
  auto& store = **opened;
  Engine engine(store, clock, workflows);
  const std::string first =
      engine.create_case(billing_case("First"), Actor::intake("web-form"))->change.after.reference;
  const std::int64_t syncs_before = store.counters().syncs;
  CHECK(syncs_before >= 1);

  {
    std::lock_guard lock(gate_mutex);
    open = false;
  }
  std::promise<Result<Committed>> first_answer, second_answer;
  ActionRequest ack;
  ack.type = ActionType::kAcknowledge;
  ack.reference = first;
  ack.actor = Actor::system();
  engine.submit(ack, [&](Result<Committed> r) { first_answer.set_value(std::move(r)); });
  {
    std::unique_lock lock(gate_mutex);
    REQUIRE(gate_changed.wait_for(lock, std::chrono::seconds(10), [&] { return held; }));
  }
  // Committed (a reader sees it) but not answered: it is not known to be on disk yet.
  CHECK(store.load_case(first)->record.status == CaseStatus::kAcknowledged);
  auto first_future = first_answer.get_future();
  CHECK(first_future.wait_for(std::chrono::milliseconds(200)) == std::future_status::timeout);
  // The writer is not held: the next group commits meanwhile.
  engine.create_case(billing_case("Second"), Actor::intake("web-form"), {}, {},
                     [&](Result<Committed> r) { second_answer.set_value(std::move(r)); });
  bool second_committed = false;
  for (int i = 0; i < 200 && !second_committed; ++i) {
    auto page = store.list_cases(CaseFilter{}, "", 10);
    second_committed = page.ok() && page->cases.size() == 2;
    if (!second_committed) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(second_committed);
  auto second_future = second_answer.get_future();
  CHECK(second_future.wait_for(std::chrono::milliseconds(50)) == std::future_status::timeout);

  {
    std::lock_guard lock(gate_mutex);
    open = true;
  }
  gate_changed.notify_all();
  REQUIRE(first_future.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  REQUIRE(second_future.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  auto a = first_future.get();
  auto b = second_future.get();
  CHECK(a.ok());
  CHECK(b.ok());
  CHECK(store.counters().syncs > syncs_before);
}

// Durability NORMAL syncs nothing before answering (SQLite syncs at checkpoints).
TEST_CASE("store: durability normal answers at the commit, with no syncer", "[store]") {
  TempDir dir;
  WorkflowSet workflows = open_env(dir, sqlite::SearchIndexing::kOnRequest)->workflows;
  sqlite::StoreOptions options = store_options_in(dir);
  options.durability = sqlite::Durability::kNormal;
  bool synced = false;
  options.before_sync = [&] { synced = true; };
  ManualClock clock(kStart);
  auto opened = sqlite::SqliteStore::open(options, clock);
  REQUIRE(opened.ok());
  Engine engine(**opened, clock, workflows);
  CHECK(engine.create_case(billing_case("Normal"), Actor::intake("web-form")).ok());
  CHECK((*opened)->counters().syncs == 0);
  CHECK_FALSE(synced);
  auto stats = (*opened)->write_stats();
  REQUIRE(stats.has_value());
  CHECK(stats->sync.count == 0);
  CHECK(stats->write.count >= 1);
}

namespace {

// Observations of `h` at or below `bound` seconds (cumulative, as Prometheus's le buckets).
std::uint64_t observed_at_most(const HistogramCounts& h, double bound) {
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < h.bounds.size() && h.bounds[i] <= bound; ++i) n += h.buckets[i];
  return n;
}

std::uint64_t observations_in_buckets(const HistogramCounts& h) {
  std::uint64_t n = 0;
  for (std::size_t i = 0; i <= h.bounds.size(); ++i) n += h.buckets[i];
  return n;
}

}  // namespace

// write_stats() times every write from its submission: its wait in the queue, its group, the sync
// and the answer. A syncer held 60 ms before each sync makes every answer later than 50 ms while
// the queue wait stays short; each of five creations in turn is a group and a sync of its own.
TEST_CASE("store: write_stats times each write's queue, group, sync and answer", "[store]") {
  TempDir dir;
  WorkflowSet workflows = open_env(dir, sqlite::SearchIndexing::kOnRequest)->workflows;
  sqlite::StoreOptions options = store_options_in(dir);
  std::atomic<int> hold_ms{0};
  options.before_sync = [&] { std::this_thread::sleep_for(std::chrono::milliseconds(hold_ms.load())); };
  ManualClock clock(kStart);
  auto opened = sqlite::SqliteStore::open(options, clock);
  REQUIRE(opened.ok());
  auto& store = **opened;
  Engine engine(store, clock, workflows);
  REQUIRE(engine.create_case(billing_case("Before"), Actor::intake("web-form")).ok());
  auto before = store.write_stats();
  REQUIRE(before.has_value());
  CHECK(before->writes >= 1);
  CHECK(before->write.count == static_cast<std::uint64_t>(before->writes));
  CHECK(before->queue_wait.count == static_cast<std::uint64_t>(before->writes));
  CHECK(before->sync.count == static_cast<std::uint64_t>(before->syncs));
  CHECK(before->syncs >= 1);

  hold_ms = 60;
  for (int i = 0; i < 5; ++i)
    REQUIRE(engine.create_case(billing_case("Held " + std::to_string(i)), Actor::intake("web-form")).ok());
  auto after = store.write_stats();
  REQUIRE(after.has_value());
  CHECK(after->writes - before->writes == 5);
  CHECK(after->groups - before->groups == 5);
  CHECK(after->syncs - before->syncs == 5);
  CHECK(after->write.count - before->write.count == 5);
  CHECK(after->queue_wait.count - before->queue_wait.count == 5);
  CHECK(after->group.count - before->group.count == 5);
  CHECK(after->sync.count - before->sync.count == 5);
  // Every held answer came after more than 50 ms; none of them waited that long in the queue.
  CHECK(observed_at_most(after->write, 0.05) == observed_at_most(before->write, 0.05));
  CHECK(after->write.sum - before->write.sum >= 5 * 0.06);
  CHECK(observed_at_most(after->queue_wait, 0.05) - observed_at_most(before->queue_wait, 0.05) == 5);
  // The buckets account for every observation.
  for (const HistogramCounts* h : {&after->queue_wait, &after->group, &after->sync, &after->write})
    CHECK(observations_in_buckets(*h) == h->count);
  CHECK(after->queued == 0);
}

// A failed fdatasync may lose the WAL frames it covered while the kernel reports the error once;
// a later sync can then succeed over a WAL whose earlier frames are gone. So after one failed
// sync the store answers nothing later as durable, however its next syncs go, and refuses writes
// until it is opened again; reads go on.
TEST_CASE("store: after a failed sync of the WAL no later write is answered as durable until the store is opened again",
          "[store]") {
  TempDir dir;
  WorkflowSet workflows = open_env(dir, sqlite::SearchIndexing::kOnRequest)->workflows;
  sqlite::StoreOptions options = store_options_in(dir);
  std::atomic<bool> disk_error{false};
  options.sync_fault = [&]() -> Status {
    if (disk_error) return Error::unavailable("fdatasync: Input/output error");
    return Status::success();
  };
  ManualClock clock(kStart);
  std::string first;
  {
    auto opened = sqlite::SqliteStore::open(options, clock);
    REQUIRE(opened.ok());
    auto& store = **opened;
    Engine engine(store, clock, workflows);
    auto made = engine.create_case(billing_case("Before the error"), Actor::intake("web-form"));
    REQUIRE(made.ok());
    first = made->change.after.reference;
    CHECK_FALSE(store.write_failure().has_value());

    disk_error = true;
    auto lost = engine.create_case(billing_case("Under the error"), Actor::intake("web-form"));
    REQUIRE_FALSE(lost.ok());
    CHECK(lost.error().code == ErrorCode::kUnavailable);
    CHECK(lost.error().detail.find("could not be synced") != std::string::npos);

    // The disk answers again: the store still refuses, since its WAL may have a hole.
    disk_error = false;
    const std::int64_t syncs = store.counters().syncs;
    auto later = engine.create_case(billing_case("After the error"), Actor::intake("web-form"));
    REQUIRE_FALSE(later.ok());
    CHECK(later.error().code == ErrorCode::kUnavailable);
    CHECK(later.error().detail.find("until redress is restarted") != std::string::npos);
    ActionRequest ack;
    ack.type = ActionType::kAcknowledge;
    ack.reference = first;
    ack.actor = Actor::system();
    auto acted = engine.apply(ack);
    REQUIRE_FALSE(acted.ok());
    CHECK(acted.error().code == ErrorCode::kUnavailable);
    CHECK(store.counters().syncs == syncs);  // nothing more was written to sync
    auto failure = store.write_failure();
    REQUIRE(failure.has_value());
    CHECK(failure->find("sync") != std::string::npos);
    // Reads go on.
    auto read = store.load_case(first);
    REQUIRE(read.ok());
    CHECK(read->record.reference == first);
  }
  // Opened again: writes are accepted, and every chain is whole.
  auto reopened = sqlite::SqliteStore::open(options, clock);
  REQUIRE(reopened.ok());
  Engine engine(**reopened, clock, workflows);
  CHECK(engine.create_case(billing_case("After the restart"), Actor::intake("web-form")).ok());
  CHECK(!(*reopened)->write_failure().has_value());
}

// The page cache wrapper (adapters/sqlite/page_cache.h) is in place in this process, skips the
// truncation that ends a commit when nothing lies above the database's end, and still drops what
// does: a rolled-back transaction's new pages must not be found again by the next one.
TEST_CASE("store: a commit no longer walks the whole page cache, and a rollback still drops its pages", "[store]") {
  TempDir dir;
  sqlite::Connection db((dir.path() / "cache.db").string(), sqlite::OpenMode::kReadWrite);
  REQUIRE(db.exec("PRAGMA journal_mode = WAL; PRAGMA cache_size = -65536;"
                  "CREATE TABLE t(id INTEGER PRIMARY KEY, k TEXT, v TEXT); CREATE INDEX t_k ON t(k);")
              .ok());
  auto before = sqlite::page_cache_counters();
  // Inserts that split pages in random places of the index (the b-tree renumbers pages as it
  // balances them), committed in small groups.
  for (int group = 0; group < 50; ++group) {
    REQUIRE(db.exec("BEGIN").ok());
    REQUIRE(db.exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 64) "
                    "INSERT INTO t(k, v) SELECT hex(randomblob(8)), zeroblob(300) FROM n")
                .ok());
    REQUIRE(db.exec("COMMIT").ok());
  }
  auto after = sqlite::page_cache_counters();
  CHECK(after.truncations_skipped - before.truncations_skipped >= 40);

  // A transaction that grows the database, rolled back: its pages are past the end again and must
  // leave the cache (forwarded), so that the next transaction reads what is on disk.
  auto count = [&] {
    auto s = db.prepare("SELECT count(*), sum(length(v)) FROM t");
    REQUIRE(s.ok());
    REQUIRE(s->step());
    return std::make_pair(s->integer(0), s->integer(1));
  };
  auto rows = count();
  REQUIRE(db.exec("BEGIN").ok());
  REQUIRE(db.exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) "
                  "INSERT INTO t(k, v) SELECT hex(randomblob(8)), zeroblob(2000) FROM n")
              .ok());
  auto forwarded = sqlite::page_cache_counters().truncations_forwarded;
  REQUIRE(db.exec("ROLLBACK").ok());
  CHECK(sqlite::page_cache_counters().truncations_forwarded > forwarded);
  CHECK(count() == rows);
  // The database grows again into the same page numbers: every page read is what was written now.
  REQUIRE(db.exec("BEGIN; WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500) "
                  "INSERT INTO t(k, v) SELECT hex(randomblob(8)), zeroblob(100) FROM n; COMMIT;")
              .ok());
  CHECK(count().first == rows.first + 500);
  auto check = db.prepare("PRAGMA integrity_check");
  REQUIRE(check.ok());
  REQUIRE(check->step());
  CHECK(check->text(0) == "ok");
}
