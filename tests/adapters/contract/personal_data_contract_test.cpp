// The personal data contract (ports/personal_data_store.h), run against both stores through the
// real engine: an erasure leaves no row holding the client's data and the chains verify; holds
// keep a case; restriction hides it; redaction takes one value out; the blobs erased cases released
// are deleted; the day's retention run is taken once across nodes.
#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>

#include "adapters/postgres/connection.h"
#include "adapters/postgres/postgres_store.h"
#include "adapters/postgres/schema.h"
#include "adapters/sqlite/sqlite_store.h"
#include "app/environment.h"
#include "engine/engine.h"
#include "engine/personal_data.h"
#include "tests/adapters/contract/backends.h"
#include "tests/support/files.h"
#include "tests/support/postgres.h"
#include "workflows/loader.h"

namespace redress::storagetest::personal {

const Time kPersonalStart = *parse_time("2026-03-02T09:00:00Z");

// The tables that hold anything about a case, for the row search.
const std::vector<std::string>& personal_tables() {
  static const std::vector<std::string> tables{"cases",         "events",        "messages",
                                               "message_attachments", "commitments", "redress",
                                               "notifications", "notification_attempts", "inbound_mail",
                                               "client_links"};
  return tables;
}

struct SqlitePersonalBackend : storagetest::SqliteBackend {
  // How many rows of the tables hold `needle` in any column.
  int rows_holding(const std::string& needle) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open_v2(config.database_path().c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
    int found = 0;
    for (const auto& table : personal_tables()) {
      sqlite3_stmt* select = nullptr;
      REQUIRE(sqlite3_prepare_v2(db, ("SELECT * FROM " + table).c_str(), -1, &select, nullptr) == SQLITE_OK);
      while (sqlite3_step(select) == SQLITE_ROW)
        for (int column = 0; column < sqlite3_column_count(select); ++column) {
          const auto* text = sqlite3_column_text(select, column);
          if (text && std::string(reinterpret_cast<const char*>(text)).find(needle) != std::string::npos) ++found;
        }
      sqlite3_finalize(select);
    }
    sqlite3_close(db);
    return found;
  }
};

struct PostgresPersonalBackend : storagetest::PostgresBackend {
  int rows_holding(const std::string& needle) {
    auto connection = postgres::Connection::open(url);
    REQUIRE(connection.ok());
    int found = 0;
    for (const auto& table : personal_tables()) {
      auto rows = (*connection)->query_once("SELECT count(*) FROM " + table + " t WHERE strpos(row_to_json(t)::text, $1) > 0",
                                            postgres::Params().add(needle));
      REQUIRE(rows.ok());
      found += static_cast<int>(rows->integer(0, 0));
    }
    return found;
  }
};


Staff personal_agent(Store& store) {
  Staff s{"", "Sam Okafor", "sam@redress.example", Role::kAgent, "customer-care", true};
  auto added = store.add_staff(s);
  REQUIRE(added.ok());
  return added.value();
}

template <typename Backend>
struct PersonalWorld {
  Backend backend;
  ManualClock clock{kPersonalStart};
  WorkflowSet workflows = storagetest::shipped_workflows();
  std::unique_ptr<Store> store = backend.open_node(clock);
  Engine engine{*store, clock, workflows};
  Staff agent = personal_agent(*store);

  std::string create(const std::string& name, const std::string& email, const std::string& description,
                     const std::string& phone = "+44 7700 900777") {
    NewCase c;
    c.client = Client{name, email, phone, "en-GB"};
    c.channel = Channel::kWeb;
    c.category = "billing";
    c.touchpoint = "billing";
    c.subject = "About " + description;
    c.description = description;
    c.workflow = "retail";
    auto created = engine.create_case(c, Actor::intake("web-form"));
    INFO((created.ok() ? std::string() : created.error().detail));
    REQUIRE(created.ok());
    return created->change.after.reference;
  }
  void message(const std::string& reference, const std::string& body, std::vector<AttachmentRef> files = {}) {
    ActionRequest r;
    r.type = ActionType::kAddMessage;
    r.reference = reference;
    r.actor = Actor::staff(agent.id, agent.role);
    r.visibility = Visibility::kInternal;
    r.body = body;
    r.attachments = std::move(files);
    auto done = engine.apply(r);
    INFO((done.ok() ? std::string() : done.error().detail));
    REQUIRE(done.ok());
  }
  Result<CaseRewrite> rewrite(const std::string& reference,
                              std::function<Result<CaseRewrite>(const StoredCase&)> plan) {
    return store->rewrite_case(reference, plan);
  }
  void chains_verify() {
    auto audit = store->verify_chains();
    REQUIRE(audit.ok());
    INFO((audit->broken.empty() ? std::string() : audit->broken.front().problem));
    CHECK(audit->broken.empty());
  }
};

const PrivacyRequest kErasure{Actor::staff("u-admin", Role::kAdmin), "Article 17 request", 1};

#define PERSONAL_CONTRACT(name, tags) \
  TEMPLATE_TEST_CASE(name, tags, SqlitePersonalBackend, PostgresPersonalBackend)

PERSONAL_CONTRACT("personal contract: an erased case keeps no row holding the client, and its chain verifies",
                  "[contract][personal]") {
  PersonalWorld<TestType> world;
  auto blob = world.store->put_blob("%PDF statement of Zoltan Brisbane-Okoro");
  REQUIRE(blob.ok());
  const std::string zoltan =
      world.create("Zoltan Brisbane-Okoro", "zoltan.bo@example.org", "Overcharged ZQ-5512", "+44 7700 900111");
  world.message(zoltan, "Zoltan rang about ZQ-5512 again",
                {AttachmentRef{blob->key, "zoltan-statement.pdf", "application/pdf", blob->size}});
  const std::string other = world.create("Maud Linnell", "maud@example.net", "Broken lamp ML-7");
  for (const std::string needle : {"Zoltan Brisbane-Okoro", "zoltan.bo@example.org", "ZQ-5512", "zoltan-statement"})
    CHECK(world.backend.rows_holding(needle) > 0);

  auto erased = world.rewrite(zoltan, [&](const StoredCase& stored) {
    return plan_erasure(stored, kErasure, world.clock.now());
  });
  INFO((erased.ok() ? std::string() : erased.error().detail));
  REQUIRE(erased.ok());
  for (const std::string needle : {"Zoltan", "zoltan.bo@example.org", "ZQ-5512", "zoltan-statement", "7700 900111"}) {
    INFO(needle);
    CHECK(world.backend.rows_holding(needle) == 0);
  }
  CHECK(world.backend.rows_holding("Maud Linnell") > 0);
  world.chains_verify();
  auto privacy = world.store->case_privacy(zoltan);
  REQUIRE(privacy.ok());
  CHECK(privacy->state == PrivacyState::kErased);
  auto snapshot = world.store->load_case(zoltan);
  REQUIRE(snapshot.ok());
  CHECK(snapshot->record.client.name == "[erased]");
  CHECK(snapshot->record.workflow == "retail");
  auto found = world.store->search_cases("Zoltan", CaseFilter{}, "", 10);
  REQUIRE(found.ok());
  CHECK(found->cases.empty());
  CHECK(world.store->cases_of_client("zoltan.bo@example.org")->empty());
  CHECK(world.store->cases_of_client("MAUD@example.net")->size() == 1);
  // A second erasure of the same case is refused, and writes nothing.
  auto again = world.rewrite(zoltan, [&](const StoredCase& stored) {
    return plan_erasure(stored, kErasure, world.clock.now());
  });
  REQUIRE(!again.ok());
  CHECK(again.error().code == ErrorCode::kRefused);

  // The file it released goes at the purge.
  auto purged = world.store->purge_erased();
  REQUIRE(purged.ok());
  CHECK(purged->blobs_deleted == 1);
  CHECK(world.store->get_blob(blob->key).error().code == ErrorCode::kNotFound);
  CHECK(world.store->purge_erased()->blobs_deleted == 0);  // idempotent
  CHECK(other != zoltan);

  // Compaction takes every step, and the store goes on as before: reads, and new cases.
  auto compacted = world.store->compact({});
  REQUIRE(compacted.ok());
  for (const auto& step : compacted->steps) {
    INFO(step.name << ": " << step.detail);
    CHECK(step.outcome == StepOutcome::kDone);
  }
  CHECK(compacted->complete());
  CHECK(world.store->load_case(other)->record.client.name == "Maud Linnell");
  world.create("Ida Marsh", "ida@example.net", "Late parcel IM-3");
  CHECK(world.store->cases_of_client("ida@example.net")->size() == 1);
  world.chains_verify();
}

PERSONAL_CONTRACT("personal contract: a hold keeps a case - restriction hides it from lists - lifting lets it go",
                  "[contract][personal]") {
  PersonalWorld<TestType> world;
  const std::string reference = world.create("Nia Holdsworth", "nia@example.org", "Mis-sold policy NH-1");
  const PrivacyRequest manager{Actor::staff("u-m", Role::kManager), "litigation: claim 2026-41", 0};
  auto held = world.rewrite(reference, [&](const StoredCase& stored) {
    return plan_legal_hold(stored, HoldChange::kSet, manager, world.clock.now());
  });
  REQUIRE(held.ok());
  CHECK(world.store->case_privacy(reference)->legal_hold == "litigation: claim 2026-41");
  auto refused = world.rewrite(reference, [&](const StoredCase& stored) {
    return plan_erasure(stored, kErasure, world.clock.now());
  });
  REQUIRE(!refused.ok());
  CHECK(refused.error().code == ErrorCode::kRefused);
  CHECK(world.backend.rows_holding("Nia Holdsworth") > 0);

  auto restricted = world.rewrite(reference, [&](const StoredCase& stored) {
    return plan_restriction(stored, kErasure, "it is under legal hold", world.clock.now());
  });
  REQUIRE(restricted.ok());
  CaseFilter filter;
  CHECK(world.store->list_cases(filter, "", 50)->cases.empty());
  CHECK(world.store->search_cases("Holdsworth", filter, "", 50)->cases.empty());
  filter.restricted = CaseFilter::Restricted::kShown;
  CHECK(world.store->list_cases(filter, "", 50)->cases.size() == 1);
  auto stamp = world.store->case_view_stamp(reference);
  REQUIRE(stamp.ok());
  CHECK(stamp->privacy == PrivacyState::kRestricted);
  auto view = world.store->load_case_view(reference);
  REQUIRE(view.ok());
  CHECK(view->privacy.state == PrivacyState::kRestricted);
  CHECK(view->privacy.legal_hold == "litigation: claim 2026-41");
  auto candidates = world.store->retention_candidates();
  REQUIRE(candidates.ok());
  REQUIRE(candidates->size() == 1);
  CHECK(candidates->front().privacy.state == PrivacyState::kRestricted);

  auto lifted = world.rewrite(reference, [&](const StoredCase& stored) {
    return plan_legal_hold(stored, HoldChange::kLift, manager, world.clock.now());
  });
  REQUIRE(lifted.ok());
  auto erased = world.rewrite(reference, [&](const StoredCase& stored) {
    return plan_erasure(stored, kErasure, world.clock.now());
  });
  REQUIRE(erased.ok());
  CHECK(world.backend.rows_holding("Holdsworth") == 0);
  world.chains_verify();
  auto events = world.store->case_events(reference);
  REQUIRE(events.ok());
  std::vector<std::string> types;
  for (const auto& e : *events) types.push_back(e.type);
  CHECK(std::count(types.begin(), types.end(), "case.legal_hold_set") == 1);
  CHECK(std::count(types.begin(), types.end(), "case.legal_hold_lifted") == 1);
  CHECK(std::count(types.begin(), types.end(), "case.restricted") == 1);
  CHECK(types.back() == "case.erased");
}

PERSONAL_CONTRACT("personal contract: a redaction takes one value out of every row - the chain verifies",
                  "[contract][personal]") {
  PersonalWorld<TestType> world;
  const std::string reference = world.create("Oren Pask", "oren@example.org", "Refund for order OP-3");
  world.message(reference, "My card is 4929 1234 5678 9012, please refund it");
  auto messages = world.store->case_messages(reference);
  REQUIRE(messages.ok());
  RedactionTarget target;
  target.message_id = messages->back().id;
  const PrivacyRequest lead{Actor::staff("u-l", Role::kLead), "a card number the client pasted", 0};
  auto redacted = world.rewrite(reference, [&](const StoredCase& stored) {
    return plan_redaction(stored, target, lead, world.clock.now());
  });
  INFO((redacted.ok() ? std::string() : redacted.error().detail));
  REQUIRE(redacted.ok());
  CHECK(world.backend.rows_holding("4929 1234") == 0);
  CHECK(world.backend.rows_holding("Oren Pask") > 0);  // nothing else
  CHECK(world.store->case_messages(reference)->back().body == "[redacted]");
  world.chains_verify();
}

PERSONAL_CONTRACT("personal contract: erasure records and the day's retention run, once across nodes",
                  "[contract][personal]") {
  PersonalWorld<TestType> world;
  auto second = world.backend.open_node(world.clock);
  ErasureRecord record;
  record.email_salt = "00112233445566778899aabbccddeeff";
  record.email_hash = std::string(64, 'a');
  record.reason = "request";
  record.actor = "system";
  record.source = "request";
  record.requested_at = world.clock.now();
  auto id = world.store->start_erasure(record);
  REQUIRE(id.ok());
  REQUIRE(world.store->finish_erasure(*id, 2, 1, world.clock.now()).ok());
  auto records = second->erasures();
  REQUIRE(records.ok());
  REQUIRE(records->size() == 1);
  CHECK(records->front().email_hash == record.email_hash);
  CHECK(records->front().cases_erased == 2);
  CHECK(records->front().cases_restricted == 1);
  CHECK(records->front().finished_at.has_value());

  CHECK(*world.store->claim_retention_run("2026-03-02", "node-a", world.clock.now()));
  CHECK(!*second->claim_retention_run("2026-03-02", "node-b", world.clock.now()));
  CHECK(*second->claim_retention_run("2026-03-03", "node-b", world.clock.now()));
  CHECK(world.store->finish_retention_run("2026-03-02", "retention: 0 cases erased", world.clock.now()).ok());
}


// docs/personal-data.md, "Compaction": PostgreSQL keeps an updated row's old version in the table
// file, ANALYZE copies column values into pg_statistic, and the WAL keeps every change (recycled
// segments too, with wal_recycle on as by default) until compaction rewrites them.
TEST_CASE("personal on PostgreSQL: after compaction no file of the cluster holds the erased client, WAL included",
          "[contract][personal][postgres]") {
  PersonalWorld<PostgresPersonalBackend> world;
  auto blob = world.store->put_blob("%PDF statement of Zoltan Brisbane-Okoro");
  REQUIRE(blob.ok());
  const std::string zoltan =
      world.create("Zoltan Brisbane-Okoro", "zoltan.bo@example.org", "Overcharged ZQ-5512", "+44 7700 900111");
  world.message(zoltan, "Zoltan rang about ZQ-5512 again",
                {AttachmentRef{blob->key, "zoltan-statement.pdf", "application/pdf", blob->size}});
  world.create("Maud Linnell", "maud@example.net", "Broken lamp ML-7");
  auto admin = postgres::Connection::open(world.backend.url);
  REQUIRE(admin.ok());
  postgres::Connection& db = **admin;
  // As autovacuum would on a busy table: the statistics now hold column values too.
  REQUIRE(db.execute("ANALYZE").ok());
  REQUIRE(db.execute("CHECKPOINT").ok());
  const auto& cluster = testing::PostgresServer::shared();
  const std::vector<std::string> needles{"Brisbane-Okoro", "zoltan.bo@example.org", "ZQ-5512", "7700 900111"};
  for (const auto& needle : needles) {
    INFO(needle);
    CHECK(!cluster.files_holding(needle).empty());  // the search sees what is there
  }

  auto erased = world.rewrite(zoltan, [&](const StoredCase& stored) {
    return plan_erasure(stored, kErasure, world.clock.now());
  });
  REQUIRE(erased.ok());
  auto purged = world.store->purge_erased();
  REQUIRE(purged.ok());
  CHECK(purged->copies_left == ErasedCopies::kUntilCompacted);
  // Before compaction the old row versions are still in the files: why it exists.
  REQUIRE(db.execute("CHECKPOINT").ok());
  bool left_before = false;
  for (const auto& needle : needles) left_before = left_before || !cluster.files_holding(needle).empty();
  CHECK(left_before);

  std::vector<std::string> announced;
  auto compacted = world.store->compact(
      [&](std::size_t step, std::size_t steps, const std::string& name) {
        CHECK(step == announced.size());
        CHECK(steps == 13);
        announced.push_back(name);
      });
  REQUIRE(compacted.ok());
  for (const auto& step : compacted->steps) {
    INFO(step.name << ": " << step.detail);
    CHECK(step.outcome == StepOutcome::kDone);
  }
  CHECK(compacted->steps.size() == 13);
  CHECK(announced.size() == 13);
  CHECK(compacted->copies_left.empty());
  CHECK(compacted->complete());
  for (const auto& needle : needles) {
    const auto files = cluster.files_holding(needle);
    INFO(needle << " in " << (files.empty() ? std::string("none") : files.front()));
    CHECK(files.empty());
  }
  CHECK(!cluster.files_holding("Maud Linnell").empty());
  world.chains_verify();
  // What is left reads as before.
  CHECK(world.store->case_privacy(zoltan)->state == PrivacyState::kErased);
}

}  // namespace redress::storagetest::personal
