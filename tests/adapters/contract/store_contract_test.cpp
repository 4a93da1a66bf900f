// The storage contract: one set of test cases run against every Store backend (SQLite and
// PostgreSQL), through the real engine. A backend here is a database and a way to open a store on
// it; "another node" is a second store on the same database, as a second `redress serve` would be.
#include <catch2/catch.hpp>

#include <algorithm>
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
#include "tests/adapters/contract/backends.h"
#include "tests/support/files.h"
#include "tests/support/postgres.h"
#include "workflows/loader.h"

namespace redress {
namespace {

const Time kStart = *parse_time("2026-03-02T09:00:00Z");  // a Monday morning

using storagetest::shipped_workflows;

using storagetest::PostgresBackend;
using storagetest::SqliteBackend;

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

STORE_CONTRACT("contract: an action appends to the chain - a stale expected version writes nothing", "[contract]") {
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

STORE_CONTRACT("contract: creations and actions written together on two nodes: every reference once, no gap, "
               "each case's actions in order",
               "[contract][concurrency]") {
  World<TestType> world;
  Node second = world.node();
  std::string first_case = world.create(*world.first.engine);
  const int first_number = std::stoi(first_case.substr(9));
  // Submitted without waiting, so that each node's writer takes many at once: creations, a
  // creation whose plan takes a reference and then fails (its number must go to the next one),
  // and actions on one case, from both nodes.
  constexpr int kCreations = 24;
  std::mutex answers_mutex;
  std::vector<std::string> references;
  std::vector<std::string> failures;
  int refused = 0;
  std::vector<std::future<void>> answered;
  auto remember = [&](Result<Committed> done) {
    std::lock_guard lock(answers_mutex);
    if (done.ok())
      references.push_back(done->change.after.reference);
    else
      failures.push_back(done.error().detail);
  };
  for (int i = 0; i < kCreations; ++i) {
    Node& node = i % 2 == 0 ? world.first : second;
    auto promise = std::make_shared<std::promise<void>>();
    answered.push_back(promise->get_future());
    NewCase c;
    c.client = Client{"Client " + std::to_string(i), "client" + std::to_string(i) + "@example.org", "", "en-GB"};
    c.channel = Channel::kWeb;
    c.category = "billing";
    c.touchpoint = "billing";
    c.subject = "Charged twice";
    c.description = "I was charged twice for one order.";
    c.workflow = "retail";
    node.engine->create_case(c, Actor::intake("web-form"), "", "", [&, promise](Result<Committed> done) {
      remember(std::move(done));
      promise->set_value();
    });
    if (i % 6 == 3) {
      auto failed = std::make_shared<std::promise<void>>();
      answered.push_back(failed->get_future());
      WorkItem item;
      item.plan = [](const CaseSnapshot*, WriteContext& context) -> Result<Change> {
        (void)context.next_reference(2026);
        return Error::invalid("refused after taking its reference");
      };
      item.done = [&, failed](Result<Committed> done) {
        {
          std::lock_guard lock(answers_mutex);
          if (!done.ok() && done.error().code == ErrorCode::kInvalid) ++refused;
        }
        failed->set_value();
      };
      node.store->submit(std::move(item));
    }
    auto noted = std::make_shared<std::promise<void>>();
    answered.push_back(noted->get_future());
    node.engine->submit(world.message(first_case, "note " + std::to_string(i)), [&, noted](Result<Committed> done) {
      if (!done.ok()) {
        std::lock_guard lock(answers_mutex);
        failures.push_back(done.error().detail);
      }
      noted->set_value();
    });
  }
  for (auto& one : answered) one.wait();
  INFO((failures.empty() ? std::string() : failures.front()));
  CHECK(failures.empty());
  CHECK(refused == kCreations / 6);
  REQUIRE(references.size() == static_cast<std::size_t>(kCreations));
  std::set<int> numbers;
  for (const auto& reference : references) numbers.insert(std::stoi(reference.substr(9)));
  CHECK(numbers.size() == references.size());
  CHECK(*numbers.begin() == first_number + 1);
  CHECK(*numbers.rbegin() == first_number + kCreations);
  auto messages = second.store->case_messages(first_case);
  REQUIRE(messages.ok());
  CHECK(messages->size() == static_cast<std::size_t>(kCreations));
  // Each node's notes in the order it submitted them.
  std::vector<int> even, odd;
  for (const auto& m : *messages) {
    int n = std::stoi(m.body.substr(5));
    (n % 2 == 0 ? even : odd).push_back(n);
  }
  CHECK(std::is_sorted(even.begin(), even.end()));
  CHECK(std::is_sorted(odd.begin(), odd.end()));
  auto audit = second.store->verify_chains();
  REQUIRE(audit.ok());
  CHECK(audit->cases_checked == kCreations + 1);
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
  auto renewed =
      a.acquire_lease("scheduler", "node-a", now + std::chrono::seconds(20), until + std::chrono::seconds(30));
  REQUIRE(renewed.ok());
  CHECK(*renewed);
  // Expired: the other node takes it over, and the first one's renewal is refused now.
  auto taken =
      b.acquire_lease("scheduler", "node-b", until + std::chrono::seconds(31), until + std::chrono::seconds(90));
  REQUIRE(taken.ok());
  CHECK(*taken);
  auto late =
      a.acquire_lease("scheduler", "node-a", until + std::chrono::seconds(32), until + std::chrono::seconds(60));
  REQUIRE(late.ok());
  CHECK_FALSE(*late);
  // Released: free at once for anyone.
  REQUIRE(b.release_lease("scheduler", "node-b").ok());
  auto again =
      a.acquire_lease("scheduler", "node-a", until + std::chrono::seconds(33), until + std::chrono::seconds(90));
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
  CHECK(all.size() >= static_cast<std::size_t>(kCases));       // every client is owed at least one mail
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
    c.tags = {"billing", "vip"};  // issue 27: tags, links and the merge pointer
    c.links = {"CMP-2026-000098", "CMP-2026-000099"};
    c.merged_into = "CMP-2026-000099";
    change.tags_changed = true;
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
  CHECK(c.tags == std::vector<std::string>{"billing", "vip"});
  CHECK(c.links == std::vector<std::string>{"CMP-2026-000098", "CMP-2026-000099"});
  CHECK(c.merged_into == "CMP-2026-000099");
  CaseFilter tagged;
  tagged.tags = {"vip"};
  auto by_tag = second.store->list_cases(tagged, "", 10);
  REQUIRE(by_tag.ok());
  REQUIRE(by_tag->cases.size() == 1);
  CHECK(by_tag->cases[0].reference == reference);
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

STORE_CONTRACT("contract: sign-in failures lock an address whatever its case, and sessions end", "[contract]") {
  World<TestType> world;
  Node second = world.node();
  Store& a = *world.first.store;
  Store& b = *second.store;
  const Duration window = std::chrono::minutes(15);
  const Duration lockout = std::chrono::minutes(30);
  for (int i = 1; i <= 2; ++i) {
    auto gate = (i % 2 ? a : b).record_sign_in_failure("Sam@Redress.example", kStart, 3, window, lockout);
    REQUIRE(gate.ok());
    CHECK(gate->failures == i);
    CHECK_FALSE(gate->locked_until);
  }
  auto locked = b.record_sign_in_failure("sam@redress.example", kStart + std::chrono::minutes(1), 3, window, lockout);
  REQUIRE(locked.ok());
  CHECK(locked->failures == 3);
  REQUIRE(locked->locked_until);
  auto gate = a.sign_in_gate("SAM@redress.example", kStart + std::chrono::minutes(2));
  REQUIRE(gate.ok());
  CHECK(gate->failures == 3);
  CHECK(gate->locked_until == kStart + std::chrono::minutes(1) + lockout);
  auto later = a.sign_in_gate("sam@redress.example", kStart + std::chrono::hours(2));
  REQUIRE(later.ok());
  CHECK_FALSE(later->locked_until);
  // Past the window and the lock, counting starts again.
  auto fresh = a.record_sign_in_failure("sam@redress.example", kStart + std::chrono::hours(2), 3, window, lockout);
  REQUIRE(fresh.ok());
  CHECK(fresh->failures == 1);
  REQUIRE(b.clear_sign_in_failures("Sam@redress.example").ok());
  auto cleared = a.sign_in_gate("sam@redress.example", kStart + std::chrono::hours(2));
  REQUIRE(cleared.ok());
  CHECK(cleared->failures == 0);

  StaffSession session{"hash-1", world.agent.id, "csrf-1", kStart, kStart + std::chrono::hours(8)};
  REQUIRE(a.create_session(session).ok());
  auto found = b.find_session("hash-1", kStart + std::chrono::hours(1));
  REQUIRE(found.ok());
  CHECK(found->staff_id == world.agent.id);
  CHECK(found->csrf == "csrf-1");
  CHECK(found->expires_at == kStart + std::chrono::hours(8));
  auto expired = b.find_session("hash-1", kStart + std::chrono::hours(9));
  REQUIRE_FALSE(expired.ok());
  CHECK(expired.error().code == ErrorCode::kNotFound);
  REQUIRE(b.end_session("hash-1", kStart + std::chrono::hours(2)).ok());
  auto ended = a.find_session("hash-1", kStart + std::chrono::hours(3));
  REQUIRE_FALSE(ended.ok());
  CHECK(ended.error().code == ErrorCode::kNotFound);
  auto unknown = a.find_session("no-such-hash", kStart);
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().code == ErrorCode::kNotFound);
}

STORE_CONTRACT("contract: a holder that stalled past its lease is refused its late writes (fencing by attempt)",
               "[contract]") {
  World<TestType> world;
  Node second = world.node();
  Store& a = *world.first.store;
  Store& b = *second.store;
  const std::string mailbox_lease = "mailbox:complaints";
  Time now = world.clock.now();
  auto first = a.acquire_lease(mailbox_lease, "node-a", now, now + std::chrono::minutes(2));
  REQUIRE(first.ok());
  REQUIRE(first->has_value());
  const LeaseFence stale{mailbox_lease, "node-a", **first};
  CHECK(a.holds_lease(stale, now).value());
  REQUIRE(a.set_mailbox_position_fenced("complaints", MailboxPosition{7, 40}, stale, now).ok());
  // A renewal by the holder keeps its attempt.
  auto renewed =
      a.acquire_lease(mailbox_lease, "node-a", now + std::chrono::minutes(1), now + std::chrono::minutes(3));
  REQUIRE(renewed.ok());
  REQUIRE(renewed->has_value());
  CHECK(**renewed == stale.attempt);

  // node-a stalls: the clock passes its lease, and node-b takes the mailbox over, a new attempt.
  world.clock.advance(std::chrono::minutes(5));
  now = world.clock.now();
  CHECK_FALSE(a.holds_lease(stale, now).value());
  auto taken = b.acquire_lease(mailbox_lease, "node-b", now, now + std::chrono::minutes(2));
  REQUIRE(taken.ok());
  REQUIRE(taken->has_value());
  CHECK(**taken == stale.attempt + 1);
  const LeaseFence current{mailbox_lease, "node-b", **taken};
  CHECK(b.holds_lease(current, now).value());
  CHECK_FALSE(b.holds_lease(stale, now).value());
  REQUIRE(b.set_mailbox_position_fenced("complaints", MailboxPosition{7, 45}, current, now).ok());

  // node-a wakes up and records the UID it took before the stall: refused, the position stays.
  auto late = a.set_mailbox_position_fenced("complaints", MailboxPosition{7, 41}, stale, now);
  REQUIRE_FALSE(late.ok());
  CHECK(late.error().code == ErrorCode::kConflict);
  // With the time its stalled clock still showed, too: the attempt decides, not the clock.
  auto late_clock =
      a.set_mailbox_position_fenced("complaints", MailboxPosition{7, 41}, stale, now - std::chrono::minutes(5));
  REQUIRE_FALSE(late_clock.ok());
  CHECK(late_clock.error().code == ErrorCode::kConflict);
  auto position = b.mailbox_position("complaints");
  REQUIRE(position.ok());
  REQUIRE(position->has_value());
  CHECK((*position)->last_uid == 45);

  // The same lease back with node-a later is another attempt: the stale one stays refused.
  REQUIRE(b.release_lease(mailbox_lease, "node-b").ok());
  auto again = a.acquire_lease(mailbox_lease, "node-a", now, now + std::chrono::minutes(2));
  REQUIRE(again.ok());
  REQUIRE(again->has_value());
  CHECK(**again == stale.attempt + 2);
  CHECK_FALSE(a.set_mailbox_position_fenced("complaints", MailboxPosition{7, 41}, stale, now).ok());

  // The digest: a node that stalled past the digest's lease is refused the next digest it would
  // send; its successor's is owed to the successor alone, and its late failure unsends nothing.
  auto digest_a = a.acquire_lease("digest", "node-a", now, now + std::chrono::minutes(10));
  REQUIRE(digest_a.ok());
  REQUIRE(digest_a->has_value());
  const LeaseFence stale_digest{"digest", "node-a", **digest_a};
  auto owed_a = a.digest_owed_fenced("2026-03-02", "lead@example.org", now, stale_digest);
  REQUIRE(owed_a.ok());
  CHECK(*owed_a);
  world.clock.advance(std::chrono::minutes(11));
  now = world.clock.now();
  auto digest_b = b.acquire_lease("digest", "node-b", now, now + std::chrono::minutes(10));
  REQUIRE(digest_b.ok());
  REQUIRE(digest_b->has_value());
  const LeaseFence current_digest{"digest", "node-b", **digest_b};
  auto owed_b = b.digest_owed_fenced("2026-03-02", "manager@example.org", now, current_digest);
  REQUIRE(owed_b.ok());
  CHECK(*owed_b);
  auto refused = a.digest_owed_fenced("2026-03-02", "manager@example.org", now, stale_digest);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == ErrorCode::kConflict);
  auto refused_new = a.digest_owed_fenced("2026-03-02", "other@example.org", now, stale_digest);
  REQUIRE_FALSE(refused_new.ok());
  CHECK(refused_new.error().code == ErrorCode::kConflict);
  REQUIRE(b.record_digest("2026-03-02", "lead@example.org", true, "", now).ok());
  REQUIRE(a.record_digest("2026-03-02", "lead@example.org", false, "timed out", now).ok());  // node-a, late
  auto resend = b.digest_owed_fenced("2026-03-02", "lead@example.org", now, current_digest);
  REQUIRE(resend.ok());
  CHECK_FALSE(*resend);
}

STORE_CONTRACT("contract: a mailbox's position and each raw message's record are shared by every node", "[contract]") {
  World<TestType> world;
  Node second = world.node();
  Store& a = *world.first.store;
  Store& b = *second.store;
  auto none = a.mailbox_position("complaints");
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());
  REQUIRE(a.set_mailbox_position("complaints", MailboxPosition{7, 41}).ok());
  REQUIRE(b.set_mailbox_position("complaints", MailboxPosition{7, 42}).ok());
  auto position = a.mailbox_position("complaints");
  REQUIRE(position.ok());
  REQUIRE(position->has_value());
  CHECK((*position)->uidvalidity == 7);
  CHECK((*position)->last_uid == 42);

  std::string reference = world.create(*world.first.engine, "bouncing@example.org");
  // A bounce recorded with the change it made, in its transaction; the case reference is the store's.
  InboundReceipt receipt;
  receipt.blob_key = std::string(64, 'd');
  receipt.message_id = "<m1@example.org>";
  receipt.mailbox = "complaints";
  receipt.from_address = "bouncing@example.org";
  receipt.subject = "Re: case";
  receipt.received_at = kStart;
  receipt.disposition = "bounce";
  receipt.detail = "550 no such user";
  receipt.bounced_address = "bouncing@example.org";
  auto recorded = world.write(reference, [&](const CaseSnapshot&, Change& change, WriteContext&) {
    change.inbound = receipt;
  });
  INFO((recorded.ok() ? std::string() : recorded.error().detail));
  REQUIRE(recorded.ok());
  // The same message again, on either node: refused as a conflict, and nothing of its change written.
  auto version = a.load_case(reference);
  REQUIRE(version.ok());
  auto twice = world.write(reference, [&](const CaseSnapshot&, Change& change, WriteContext& context) {
    change.inbound = receipt;
    change.messages.push_back(Message::make(context.next_id(WriteContext::IdKind::kMessage), change.after.id,
                                            Visibility::kClient, "client", "Bounced again", kStart));
  });
  REQUIRE_FALSE(twice.ok());
  CHECK(twice.error().code == ErrorCode::kConflict);
  auto messages = b.case_messages(reference);
  REQUIRE(messages.ok());
  CHECK(messages->empty());
  auto found = b.find_inbound(receipt.blob_key);
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  CHECK((*found)->case_reference == reference);
  CHECK((*found)->disposition == "bounce");
  auto unknown = a.find_inbound(std::string(64, 'f'));
  REQUIRE(unknown.ok());
  CHECK_FALSE(unknown->has_value());
  // Mail that changed no case is recorded alone, once whichever node meets it.
  InboundReceipt ignored = receipt;
  ignored.blob_key = std::string(64, 'e');
  ignored.message_id = "<auto@example.org>";
  ignored.disposition = "ignored";
  ignored.bounced_address.clear();
  ignored.received_at = kStart - std::chrono::hours(3);
  auto alone = b.record_inbound(ignored);
  REQUIRE(alone.ok());
  CHECK(*alone == Recorded::kNew);
  auto repeated = a.record_inbound(ignored);
  REQUIRE(repeated.ok());
  CHECK(*repeated == Recorded::kDuplicate);
  auto listed = a.list_inbound(reference, 10);
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 1);
  CHECK(listed->front().message_id == "<m1@example.org>");
  CHECK(listed->front().bounced_address == "bouncing@example.org");
  CHECK(listed->front().received_at == kStart);
  auto all = b.list_inbound("", 10);
  REQUIRE(all.ok());
  CHECK(all->size() == 2);
  auto from = a.count_inbound_from("bouncing@example.org", kStart - std::chrono::hours(1));
  REQUIRE(from.ok());
  CHECK(*from == 1);
  auto bounces = b.count_open_cases_with_bounces();
  REQUIRE(bounces.ok());
  CHECK(*bounces == 1);
  auto owed = a.case_notifications(reference);
  REQUIRE(owed.ok());
  REQUIRE_FALSE(owed->empty());
  auto whose = b.notification_case(owed->front().item.id);
  REQUIRE(whose.ok());
  CHECK(*whose == reference);
  auto nobody = b.notification_case(999999);
  REQUIRE_FALSE(nobody.ok());
  CHECK(nobody.error().code == ErrorCode::kNotFound);
}

STORE_CONTRACT("contract: a delivery's payload, attempts, death and retry, under the claimer's lease only",
               "[contract]") {
  World<TestType> world;
  Node second = world.node();
  Store& a = *world.first.store;
  Store& b = *second.store;
  std::string reference = world.create(*world.first.engine);
  world.first.store->flush();
  const Time now = kStart + std::chrono::minutes(1);
  auto claimed =
      a.claim_notifications(NotificationDraft::Channel::kEmail, now, "node-a", now + std::chrono::minutes(5), 1);
  REQUIRE(claimed.ok());
  REQUIRE(claimed->size() == 1);
  const std::int64_t id = claimed->front().id;
  CHECK(claimed->front().reference == reference);
  // The payload is stored once; another holder's (no lease) stores nothing.
  auto stored = a.store_payloads("node-a", {{id, "first bytes"}});
  REQUIRE(stored.ok());
  CHECK(stored->at(0) == "first bytes");
  auto again = a.store_payloads("node-a", {{id, "second bytes"}});
  REQUIRE(again.ok());
  CHECK(again->at(0) == "first bytes");
  auto stranger = b.store_payloads("node-b", {{id, "other bytes"}});
  REQUIRE(stranger.ok());
  CHECK(stranger->at(0).empty());
  // A late record by a node that no longer holds the lease moves nothing.
  DeliveryRecord late{DeliveryAttempt{id, now, DeliveryOutcome::kDelivered, 250, "late"}, OutboxState::kDelivered, now};
  REQUIRE(b.record_deliveries("node-b", {late}).ok());
  DeliveryRecord dead{DeliveryAttempt{id, now, DeliveryOutcome::kPermanentFailure, 550, "mailbox unavailable"},
                      OutboxState::kDead, now};
  REQUIRE(a.record_deliveries("node-a", {dead}).ok());
  auto dead_list = b.dead_notifications(10);
  REQUIRE(dead_list.ok());
  REQUIRE(dead_list->size() == 1);
  const NotificationView& view = dead_list->front();
  CHECK(view.item.id == id);
  CHECK(view.state == OutboxState::kDead);
  CHECK(view.last_error == "mailbox unavailable");
  CHECK(view.item.payload == "first bytes");
  CHECK(view.item.attempts == 1);
  REQUIRE(view.attempts.size() == 2);  // the late one is kept as an attempt
  CHECK(view.attempts[1].status_code == 550);
  CHECK(view.attempts[1].outcome == DeliveryOutcome::kPermanentFailure);
  auto unknown = a.retry_notifications(std::int64_t{999999}, now);
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().code == ErrorCode::kNotFound);
  auto retried = a.retry_notifications(id, now + std::chrono::minutes(10));
  REQUIRE(retried.ok());
  CHECK(*retried == 1);
  auto views = b.case_notifications(reference);
  REQUIRE(views.ok());
  bool seen = false;
  for (const auto& v : *views)
    if (v.item.id == id) {
      seen = true;
      CHECK(v.state == OutboxState::kPending);
      CHECK(v.next_attempt_at == now + std::chrono::minutes(10));
      CHECK(v.attempts.size() == 2);
    }
  CHECK(seen);
  auto next = b.next_delivery(NotificationDraft::Channel::kEmail);
  REQUIRE(next.ok());
  REQUIRE(next->has_value());
  // Claimed and delivered by the other node this time.
  auto reclaimed = b.claim_notifications(NotificationDraft::Channel::kEmail, now + std::chrono::minutes(10), "node-b",
                                         now + std::chrono::minutes(15), 10);
  REQUIRE(reclaimed.ok());
  bool ours = false;
  for (const auto& item : *reclaimed) ours = ours || item.id == id;
  REQUIRE(ours);
  DeliveryRecord sent{DeliveryAttempt{id, now + std::chrono::minutes(10), DeliveryOutcome::kDelivered, 250, "ok"},
                      OutboxState::kDelivered, now};
  REQUIRE(b.record_deliveries("node-b", {sent}).ok());
  auto delivered = a.case_notifications(reference);
  REQUIRE(delivered.ok());
  for (const auto& v : *delivered)
    if (v.item.id == id) {
      CHECK(v.state == OutboxState::kDelivered);
      CHECK(v.delivered_at == now + std::chrono::minutes(10));
      CHECK(v.last_error.empty());
    }
}

STORE_CONTRACT("contract: web hook subscriptions, and the digest owed once a day", "[contract]") {
  World<TestType> world;
  Node second = world.node();
  Store& a = *world.first.store;
  Store& b = *second.store;
  Subscription sub;
  sub.url = "https://hooks.example.org/redress";
  sub.event_types = {"*"};
  sub.description = "CRM";
  sub.secret_sealed = "sealed";
  auto added = a.add_subscription(sub);
  REQUIRE(added.ok());
  CHECK(added->id > 0);
  CHECK(added->created_at == kStart);
  // A case created now owes the subscription a hook.
  std::string reference = world.create(*world.first.engine);
  auto owed = a.case_notifications(reference);
  REQUIRE(owed.ok());
  bool hook = false;
  for (const auto& v : *owed)
    if (v.item.channel == NotificationDraft::Channel::kWebhook) {
      hook = true;
      CHECK(v.item.subscription_id == added->id);
      CHECK(v.item.recipient == "wh-" + std::to_string(added->id));
    }
  CHECK(hook);
  auto listed = b.list_subscriptions();
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 1);
  CHECK(listed->front().event_types == sub.event_types);
  CHECK(listed->front().secret_sealed == "sealed");
  REQUIRE(b.disable_subscription(added->id, "410 Gone", kStart + std::chrono::hours(1)).ok());
  auto found = a.find_subscription(added->id);
  REQUIRE(found.ok());
  CHECK(found->disabled_at == kStart + std::chrono::hours(1));
  CHECK(found->disabled_reason == "410 Gone");
  REQUIRE(a.delete_subscription(added->id).ok());
  auto gone = b.find_subscription(added->id);
  REQUIRE_FALSE(gone.ok());
  CHECK(gone.error().code == ErrorCode::kNotFound);
  auto twice = a.delete_subscription(added->id);
  REQUIRE_FALSE(twice.ok());
  CHECK(twice.error().code == ErrorCode::kNotFound);

  auto owed_digest = a.digest_owed("2026-03-02", "lead@example.org", kStart);
  REQUIRE(owed_digest.ok());
  CHECK(*owed_digest);
  auto still = b.digest_owed("2026-03-02", "lead@example.org", kStart);
  REQUIRE(still.ok());
  CHECK(*still);
  REQUIRE(b.record_digest("2026-03-02", "lead@example.org", false, "smtp down", kStart).ok());
  auto retry = a.digest_owed("2026-03-02", "lead@example.org", kStart);
  REQUIRE(retry.ok());
  CHECK(*retry);
  REQUIRE(a.record_digest("2026-03-02", "lead@example.org", true, "", kStart).ok());
  auto sent = b.digest_owed("2026-03-02", "lead@example.org", kStart);
  REQUIRE(sent.ok());
  CHECK_FALSE(*sent);
}

STORE_CONTRACT("contract: commitments listed by filter, newest first, a page at a time", "[contract]") {
  World<TestType> world;
  std::string first = world.create(*world.first.engine, "one@example.org");
  std::string second = world.create(*world.first.engine, "two@example.org");
  CommitmentFilter by_case;
  by_case.case_reference = first;
  auto of_first = world.first.store->list_commitments(by_case, "", 50);
  REQUIRE(of_first.ok());
  REQUIRE_FALSE(of_first->items.empty());
  for (const auto& [k, reference] : of_first->items) CHECK(reference == first);
  CommitmentFilter open;
  open.status = CommitmentStatus::kOpen;
  std::vector<std::int64_t> ids;
  std::string cursor;
  for (int page = 0; page < 50; ++page) {
    auto listed = world.first.store->list_commitments(open, cursor, 1);
    REQUIRE(listed.ok());
    for (const auto& [k, reference] : listed->items) {
      CHECK(k.status == CommitmentStatus::kOpen);
      ids.push_back(k.id);
    }
    cursor = listed->next_cursor;
    if (cursor.empty()) break;
  }
  auto all = world.first.store->count_open_commitments();
  REQUIRE(all.ok());
  CHECK(static_cast<std::int64_t>(ids.size()) == *all);
  CHECK(std::is_sorted(ids.rbegin(), ids.rend()));
  auto bad = world.first.store->list_commitments(open, "not-a-cursor", 1);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == ErrorCode::kInvalid);
  (void)second;
}

// The reports agree with the rows on both stores: what they count is counted from the cases made.
STORE_CONTRACT("contract: the reports count what was written, whichever node wrote it", "[contract]") {
  World<TestType> world;
  Node second = world.node();
  std::vector<std::string> references;
  for (int i = 0; i < 3; ++i)
    references.push_back(
        world.create(i % 2 ? *second.engine : *world.first.engine, "client" + std::to_string(i) + "@example.org"));
  for (int i = 0; i < 2; ++i) {
    ActionRequest take;
    take.type = ActionType::kTake;
    take.reference = references[static_cast<std::size_t>(i)];
    take.actor = Actor::staff(world.agent.id, world.agent.role);
    auto taken = (i ? *second.engine : *world.first.engine).apply(take);
    INFO((taken.ok() ? std::string() : taken.error().detail));
    REQUIRE(taken.ok());
  }
  world.first.store->flush();
  second.store->flush();
  Store& store = *world.first.store;
  auto levels = store.escalation_counts();
  REQUIRE(levels.ok());
  std::int64_t open = 0;
  for (const auto& level : *levels) {
    open += level.open_cases;
    CHECK(level.oldest_received);
  }
  CHECK(open == 3);
  auto weeks = store.weekly_counts(kStart - std::chrono::hours(24 * 7));
  REQUIRE(weeks.ok());
  std::int64_t billing = 0;
  for (const auto& w : *weeks)
    if (w.dimension == "category" && w.value == "billing") billing += w.received;
  CHECK(billing == 3);
  auto worklist = store.owner_worklist(world.agent.id, 10);
  REQUIRE(worklist.ok());
  CHECK(worklist->size() == 2);
  for (const auto& item : *worklist) {
    CHECK(item.record.owner_id == world.agent.id);
    CHECK(item.open_commitments > 0);
    CHECK(item.next_due);
  }
  auto owners = store.owner_report(kStart - std::chrono::hours(24));
  REQUIRE(owners.ok());
  const OwnerStats* agent = nullptr;
  for (const auto& o : *owners)
    if (o.owner_id == world.agent.id) agent = &o;
  REQUIRE(agent);
  CHECK(agent->open_cases == 2);
  CHECK(agent->open_commitments > 0);
  // A year later nothing was kept or broken (no scheduler ran): every open commitment is past due.
  const Time later = kStart + std::chrono::hours(24 * 365);
  auto open_commitments = store.count_open_commitments();
  REQUIRE(open_commitments.ok());
  auto overdue = store.overdue_report(later, 2);
  REQUIRE(overdue.ok());
  CHECK(overdue->past_due_total == *open_commitments);
  CHECK(overdue->past_due.size() == 2);
  CHECK(overdue->at_risk_total == 0);
  CHECK(overdue->broken_unhandled_total == 0);
  auto attention = store.attention_by_owner(later);
  REQUIRE(attention.ok());
  std::int64_t past_due = 0;
  for (const auto& a : *attention) past_due += a.past_due;
  CHECK(past_due == *open_commitments);
  auto standards = store.standards_report(later);
  REQUIRE(standards.ok());
  CHECK(standards->empty());  // nothing settled
}

STORE_CONTRACT("contract: canned replies are added, changed and deleted, and every node sees them at once",
               "[contract]") {
  World<TestType> world;
  Node other = world.node();
  auto& store = *world.first.store;
  CannedReply reply;
  reply.title = "We are on it";
  reply.body = "Dear {{client.name}}, your complaint {{case.reference}} is with us.";
  reply.workflow = "retail";
  reply.created_by = world.agent.id;
  auto added = store.add_canned_reply(reply);
  REQUIRE(added.ok());
  CHECK(added->id > 0);
  CHECK(added->created_at == kStart);
  CHECK(added->updated_by == world.agent.id);
  CannedReply second = reply;
  second.title = "Another";
  second.workflow = "";
  second.team = "customer-care";
  auto also = store.add_canned_reply(second);
  REQUIRE(also.ok());
  CHECK(also->id != added->id);
  auto seen = other.store->list_canned_replies();
  REQUIRE(seen.ok());
  REQUIRE(seen->size() == 2);
  CHECK(seen->front().title == "Another");  // by title
  CHECK(seen->back().body == reply.body);
  CHECK(seen->front().team == "customer-care");

  world.clock.advance(std::chrono::minutes(5));
  CannedReply changed = *added;
  changed.title = "We are still on it";
  changed.updated_by = "u-99";
  auto stored = other.store->update_canned_reply(changed);
  REQUIRE(stored.ok());
  CHECK(stored->title == "We are still on it");
  CHECK(stored->created_at == kStart);
  CHECK(stored->updated_at == kStart + std::chrono::minutes(5));
  CHECK(store.find_canned_reply(added->id)->updated_by == "u-99");
  CannedReply missing = changed;
  missing.id = also->id + 100;
  CHECK(store.update_canned_reply(missing).error().code == ErrorCode::kNotFound);

  REQUIRE(store.delete_canned_reply(added->id).ok());
  CHECK(other.store->find_canned_reply(added->id).error().code == ErrorCode::kNotFound);
  CHECK(other.store->delete_canned_reply(added->id).error().code == ErrorCode::kNotFound);
  // A deleted reply's id is never given to another.
  auto third = store.add_canned_reply(reply);
  REQUIRE(third.ok());
  CHECK(third->id > also->id);
}

STORE_CONTRACT("contract: a deactivation, a role change and a revoked token move the credentials' generation for "
               "every node",
               "[contract]") {
  World<TestType> world;
  Node other = world.node();
  auto& store = *world.first.store;
  auto before = other.store->credentials_generation();
  REQUIRE(before.ok());
  REQUIRE(store.add_token(world.agent.id, std::string(64, 'a'), "laptop").ok());
  REQUIRE(store.add_token(world.agent.id, std::string(64, 'b'), "phone").ok());
  CHECK(*other.store->credentials_generation() == *before);  // a new token refuses nothing
  auto revoked = store.revoke_token("t-" + std::string(16, 'a'));
  REQUIRE(revoked.ok());
  const std::int64_t after_revoke = *other.store->credentials_generation();
  CHECK(after_revoke > *before);
  CHECK(other.store->staff_for_token(std::string(64, 'a')).error().code == ErrorCode::kNotFound);
  // Revoking it again changes nothing.
  REQUIRE(store.revoke_token("t-" + std::string(16, 'a')).ok());
  CHECK(*other.store->credentials_generation() == after_revoke);
  Staff lead = world.agent;
  lead.role = Role::kLead;
  REQUIRE(store.update_staff(lead).ok());
  const std::int64_t after_role = *other.store->credentials_generation();
  CHECK(after_role > after_revoke);
  CHECK(other.store->staff_for_token(std::string(64, 'b'))->role == Role::kLead);
  lead.active = false;
  REQUIRE(store.update_staff(lead).ok());
  CHECK(*other.store->credentials_generation() > after_role);
  CHECK(other.store->staff_for_token(std::string(64, 'b')).error().code == ErrorCode::kNotFound);
}

}  // namespace
}  // namespace redress
