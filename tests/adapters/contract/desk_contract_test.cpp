// The storage contract for the desk (issue 27), on SQLite and PostgreSQL through the real engine:
// work on two cases written together or not at all (even when the first was written before the
// second failed, and among other work of the same group), tags kept by case for the list's filter
// and the count by tag, the list's team and receipt-time filters, and the saved views.
#include <catch2/catch.hpp>

#include <future>

#include "adapters/postgres/connection.h"
#include "adapters/postgres/postgres_store.h"
#include "adapters/postgres/schema.h"
#include "adapters/sqlite/sqlite_store.h"
#include "app/environment.h"
#include "engine/engine.h"
#include "engine/planner.h"
#include "tests/adapters/contract/backends.h"
#include "tests/support/files.h"
#include "tests/support/postgres.h"
#include "workflows/loader.h"

namespace redress::contracttest::desk {

const Time kDeskStart = *parse_time("2026-03-02T09:00:00Z");  // a Monday morning

// The backends under the names this file's test names carry.
using DeskSqlite = storagetest::SqliteBackend;
using DeskPostgres = storagetest::PostgresBackend;
using storagetest::shipped_workflows;

template <typename Backend>
struct DeskWorld {
  Backend backend;
  ManualClock clock{kDeskStart};
  WorkflowSet workflows = shipped_workflows();
  std::unique_ptr<Store> store = backend.open_node(clock);
  Engine engine{*store, clock, workflows};
  Staff agent = add_staff("Sam Okafor", "sam@redress.example", Role::kAgent, "customer-care");

  Staff add_staff(const std::string& name, const std::string& email, Role role, const std::string& team) {
    Staff s;
    s.name = name;
    s.email = email;
    s.role = role;
    s.team = team;
    auto added = store->add_staff(s);
    REQUIRE(added.ok());
    return added.value();
  }
  std::string create(const std::string& subject = "Charged twice") {
    NewCase c;
    c.client = Client{"Ana Ruiz", "ana@example.org", "", "en-GB"};
    c.channel = Channel::kWeb;
    c.category = "billing";
    c.touchpoint = "billing";
    c.subject = subject;
    c.description = "I was charged twice for one order.";
    c.workflow = "retail";
    auto created = engine.create_case(c, Actor::intake("web-form"));
    INFO((created.ok() ? std::string() : created.error().detail));
    REQUIRE(created.ok());
    return created->change.after.reference;
  }
  Result<Committed> act(ActionType type, const std::string& reference, std::vector<std::string> tags = {},
                        std::string other = {}) {
    ActionRequest r;
    r.type = type;
    r.reference = reference;
    r.actor = Actor::staff(agent.id, agent.role);
    r.tags = std::move(tags);
    r.other_case = std::move(other);
    return engine.apply(r);
  }
  std::int64_t version(const std::string& reference) {
    auto loaded = store->load_case(reference);
    REQUIRE(loaded.ok());
    return loaded->record.version;
  }
  std::vector<std::string> listed(const CaseFilter& filter) {
    auto page = store->list_cases(filter, "", 100);
    INFO((page.ok() ? std::string() : page.error().detail));
    REQUIRE(page.ok());
    std::vector<std::string> references;
    for (const auto& c : page->cases) references.push_back(c.reference);
    std::sort(references.begin(), references.end());
    return references;
  }
  // A work item that adds an internal note to `reference` through the engine's planner.
  WorkItem note_item(const std::string& reference, std::promise<Result<Committed>>& answer) {
    WorkItem item;
    item.reference = reference;
    item.plan = [this, reference](const CaseSnapshot* current, WriteContext& context) -> Result<Change> {
      ActionRequest r;
      r.type = ActionType::kAddMessage;
      r.reference = reference;
      r.actor = Actor::staff(agent.id, agent.role);
      r.body = "A note written together";
      return plan_action(*current, r, workflows, clock.now(), context);
    };
    item.done = [&answer](Result<Committed> result) { answer.set_value(std::move(result)); };
    return item;
  }
};

std::vector<std::string> sorted_refs(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

#define DESK_CONTRACT(name, tags) TEMPLATE_TEST_CASE(name, tags, DeskSqlite, DeskPostgres)

DESK_CONTRACT("contract: work on two cases is written together or not at all", "[contract][desk]") {
  DeskWorld<TestType> world;
  const std::string a = world.create("First");
  const std::string b = world.create("Second");
  const std::string c = world.create("Bystander");
  const std::int64_t a_version = world.version(a), b_version = world.version(b), c_version = world.version(c);

  // The first item plans and writes; the second fails: neither is committed, and a bystander's
  // work in the same group stands.
  std::promise<Result<Committed>> first, second, bystander;
  std::vector<WorkItem> together;
  together.push_back(world.note_item(a, first));
  WorkItem failing;
  failing.reference = b;
  failing.plan = [](const CaseSnapshot*, WriteContext&) -> Result<Change> {
    return Error::refused("the second case says no", {});
  };
  failing.done = [&second](Result<Committed> result) { second.set_value(std::move(result)); };
  together.push_back(std::move(failing));
  world.store->submit(world.note_item(c, bystander));
  world.store->submit_together(std::move(together));
  auto first_result = first.get_future().get();
  auto second_result = second.get_future().get();
  REQUIRE_FALSE(first_result.ok());
  CHECK(first_result.error().detail == "the second case says no");
  REQUIRE_FALSE(second_result.ok());
  CHECK(bystander.get_future().get().ok());
  CHECK(world.version(a) == a_version);
  CHECK(world.version(b) == b_version);
  CHECK(world.version(c) == c_version + 1);
  auto messages = world.store->case_messages(a);
  REQUIRE(messages.ok());
  CHECK(messages->empty());

  // Both succeed: both committed.
  std::promise<Result<Committed>> one, two;
  std::vector<WorkItem> both;
  both.push_back(world.note_item(a, one));
  both.push_back(world.note_item(b, two));
  world.store->submit_together(std::move(both));
  CHECK(one.get_future().get().ok());
  CHECK(two.get_future().get().ok());
  CHECK(world.version(a) == a_version + 1);
  CHECK(world.version(b) == b_version + 1);

  // Two items on one case are refused, nothing written.
  std::promise<Result<Committed>> x, y;
  std::vector<WorkItem> same;
  same.push_back(world.note_item(a, x));
  same.push_back(world.note_item(a, y));
  world.store->submit_together(std::move(same));
  auto refused = x.get_future().get();
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == ErrorCode::kInvalid);
  CHECK_FALSE(y.get_future().get().ok());
  CHECK(world.version(a) == a_version + 1);
  auto audit = world.store->verify_chains();
  REQUIRE(audit.ok());
  CHECK(audit->broken.empty());
}

DESK_CONTRACT("contract: a merge and a link are stored on both cases - a refused merge stores nothing",
              "[contract][desk]") {
  DeskWorld<TestType> world;
  const std::string survivor = world.create("Charged twice");
  const std::string duplicate = world.create("Charged twice again");
  const std::string related = world.create("Charged three times");
  REQUIRE(world.act(ActionType::kTag, duplicate, {"billing"}).ok());
  auto merged = world.act(ActionType::kMerge, duplicate, {}, survivor);
  INFO((merged.ok() ? std::string() : merged.error().detail));
  REQUIRE(merged.ok());
  auto closed = world.store->load_case(duplicate);
  auto kept = world.store->load_case(survivor);
  REQUIRE(closed.ok());
  REQUIRE(kept.ok());
  CHECK(closed->record.status == CaseStatus::kClosed);
  CHECK(closed->record.merged_into == survivor);
  CHECK(closed->record.links == std::vector<std::string>{survivor});
  CHECK(closed->record.tags == std::vector<std::string>{"billing"});
  CHECK(kept->record.links == std::vector<std::string>{duplicate});
  CHECK(kept->record.merged_into.empty());

  // Into the closed duplicate: the second side refuses, the first is not written either.
  const std::int64_t related_version = world.version(related), duplicate_version = world.version(duplicate);
  auto refused = world.act(ActionType::kMerge, related, {}, duplicate);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == ErrorCode::kRefused);
  CHECK(world.version(related) == related_version);
  CHECK(world.version(duplicate) == duplicate_version);
  auto still = world.store->load_case(related);
  REQUIRE(still.ok());
  CHECK(still->record.status == CaseStatus::kReceived);
  CHECK(still->record.merged_into.empty());

  REQUIRE(world.act(ActionType::kLink, related, {}, survivor).ok());
  auto linked = world.store->load_case(survivor);
  REQUIRE(linked.ok());
  CHECK(linked->record.links == sorted_refs({duplicate, related}));
  REQUIRE(world.act(ActionType::kUnlink, survivor, {}, related).ok());
  auto unlinked = world.store->load_case(related);
  REQUIRE(unlinked.ok());
  CHECK(unlinked->record.links.empty());
  auto audit = world.store->verify_chains();
  REQUIRE(audit.ok());
  CHECK(audit->broken.empty());
}

DESK_CONTRACT("contract: tags are listed, filtered and counted - the team and receipt-time filters",
              "[contract][desk]") {
  DeskWorld<TestType> world;
  const std::string a = world.create("One");
  const std::string b = world.create("Two");
  world.clock.advance(std::chrono::hours(48));
  const std::string c = world.create("Three");
  REQUIRE(world.act(ActionType::kTag, a, {"billing", "vip"}).ok());
  REQUIRE(world.act(ActionType::kTag, b, {"vip"}).ok());
  REQUIRE(world.act(ActionType::kTag, c, {"vip"}).ok());
  REQUIRE(world.act(ActionType::kWithdraw, c).ok());

  CaseFilter vip;
  vip.tags = {"vip"};
  CHECK(world.listed(vip) == sorted_refs({a, b, c}));
  CaseFilter both;
  both.tags = {"billing", "vip"};
  CHECK(world.listed(both) == std::vector<std::string>{a});
  auto searched = world.store->search_cases("Two", vip, "", 10);
  REQUIRE(searched.ok());
  REQUIRE(searched->cases.size() == 1);
  CHECK(searched->cases[0].reference == b);
  CHECK(searched->cases[0].tags == std::vector<std::string>{"vip"});

  auto counts = world.store->count_cases_by_tag();
  REQUIRE(counts.ok());
  REQUIRE(counts->size() == 2);
  CHECK((*counts)[0].tag == "vip");
  CHECK((*counts)[0].cases == 3);
  CHECK((*counts)[0].open_cases == 2);
  CHECK((*counts)[1].tag == "billing");
  CHECK((*counts)[1].cases == 1);

  REQUIRE(world.act(ActionType::kUntag, a, {"vip"}).ok());
  CHECK(world.listed(vip) == sorted_refs({b, c}));
  CHECK(world.listed(both).empty());

  CaseFilter received;
  received.received_from = kDeskStart + std::chrono::hours(24);
  CHECK(world.listed(received) == std::vector<std::string>{c});
  received.received_from.reset();
  received.received_to = kDeskStart + std::chrono::hours(24);
  CHECK(world.listed(received) == sorted_refs({a, b}));
  CaseFilter team;
  team.team = "no-such-team";
  CHECK(world.listed(team).empty());
  auto stored = world.store->load_case(a);
  REQUIRE(stored.ok());
  team.team = stored->record.team;
  CHECK(world.listed(team) == sorted_refs({a, b, c}));

  // Overdue: an open commitment past due (a and b's acknowledgement, ten days on; c's were
  // cancelled with its withdrawal), or a broken one (d's, written so; e has neither).
  world.clock.advance(std::chrono::hours(240));
  const std::string d = world.create("Four");
  const std::string e = world.create("Five");
  std::promise<Result<Committed>> broken;
  WorkItem item;
  item.reference = d;
  item.plan = [](const CaseSnapshot* current, WriteContext&) -> Result<Change> {
    Change change;
    change.after = current->record;
    change.expected_version = current->record.version;
    Commitment k = current->commitments.front();
    k.status = CommitmentStatus::kBroken;
    k.settled_at = k.created_at;
    change.commitments.push_back(k);
    return change;
  };
  item.done = [&broken](Result<Committed> result) { broken.set_value(std::move(result)); };
  world.store->submit(std::move(item));
  REQUIRE(broken.get_future().get().ok());
  CaseFilter overdue;
  overdue.overdue = true;
  CHECK(world.listed(overdue) == sorted_refs({a, b, d}));
  overdue.owner_id = "none";
  overdue.received_from = kDeskStart + std::chrono::hours(200);
  CHECK(world.listed(overdue) == std::vector<std::string>{d});
  (void)e;
}

DESK_CONTRACT("contract: saved views are each person's, shared with their team when asked", "[contract][desk]") {
  DeskWorld<TestType> world;
  Staff colleague = world.add_staff("Ana Ruiz", "ana@redress.example", Role::kAgent, "customer-care");
  Staff elsewhere = world.add_staff("Bo Lind", "bo@redress.example", Role::kAgent, "claims");
  SavedView mine;
  mine.staff_id = world.agent.id;
  mine.name = "My VIPs";
  mine.filter = "owner=me&tag=vip";
  auto saved = world.store->save_view(mine);
  REQUIRE(saved.ok());
  CHECK(saved->id > 0);
  SavedView shared = mine;
  shared.name = "Team overdue";
  shared.team = "customer-care";
  shared.filter = "overdue=true&team=customer-care";
  auto team_view = world.store->save_view(shared);
  REQUIRE(team_view.ok());
  auto again = world.store->save_view(mine);
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == ErrorCode::kConflict);

  auto names = [&](const Staff& who) {
    auto views = world.store->list_views(who.id, who.team);
    REQUIRE(views.ok());
    std::vector<std::string> out;
    for (const auto& v : *views) out.push_back(v.name);
    return out;
  };
  CHECK(names(world.agent) == std::vector<std::string>{"My VIPs", "Team overdue"});
  CHECK(names(colleague) == std::vector<std::string>{"Team overdue"});
  CHECK(names(elsewhere).empty());
  // Only its owner deletes a view.
  auto not_theirs = world.store->delete_view(team_view->id, colleague.id);
  REQUIRE_FALSE(not_theirs.ok());
  CHECK(not_theirs.error().code == ErrorCode::kNotFound);
  REQUIRE(world.store->delete_view(team_view->id, world.agent.id).ok());
  CHECK(names(colleague).empty());
  auto views = world.store->list_views(world.agent.id, world.agent.team);
  REQUIRE(views.ok());
  REQUIRE(views->size() == 1);
  CHECK(views->front().filter == "owner=me&tag=vip");
  CHECK(views->front().created_at == kDeskStart);
}

}  // namespace redress::contracttest::desk
