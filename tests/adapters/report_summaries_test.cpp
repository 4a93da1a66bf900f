// The report summaries (migrations 6 and 8, kept by the store's writer since migration 12:
// adapters/sqlite/summaries.h) always equal the GROUP BY queries they replace: after a
// realistic data set built through the engine (`redress demo`: creations, transfers, assessments
// that change categories, reopenings, breaches, renegotiations, kept and broken commitments), every
// summary row matches a direct aggregate over the cases and commitments, and nothing is missing.
#include <catch2/catch.hpp>

#include "adapters/sqlite/database.h"
#include "adapters/sqlite/summaries.h"
#include "tests/adapters/peers.h"

namespace redress::peers {

namespace {

// Rows of a query as text, sorted, each column joined by '|'.
std::vector<std::string> rows(sqlite::Connection& db, const char* sql) {
  auto statement = db.prepare(sql);
  REQUIRE(statement);
  std::vector<std::string> out;
  while (statement->step()) {
    std::string row;
    for (int i = 0; i < sqlite3_column_count(statement->handle()); ++i) row += (i ? "|" : "") + statement->text(i);
    out.push_back(std::move(row));
  }
  REQUIRE(statement->status());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("report summaries: the writer keeps every summary equal to the aggregate it replaces",
          "[adapters][sqlite][reports]") {
  TempDir dir;
  fs::path data = dir.path() / "data";
  pid_t pid = spawn({REDRESS_BINARY, "demo", "--cases", "400", "--days", "60", "--quiet", "--data-dir", data.string()},
                    dir.path() / "demo.out");
  auto status = wait_exit(pid, std::chrono::seconds(240));
  INFO(read_text(dir.path() / "demo.out"));
  REQUIRE(status == 0);
  sqlite::Connection db((data / "redress.db").string(), sqlite::OpenMode::kReadOnly);
  REQUIRE(rows(db, "SELECT count(*) > 300 FROM cases") == std::vector<std::string>{"1"});

  auto settled = rows(db, "SELECT day, owner_id, kind, status, pledge, n FROM report_settled WHERE n <> 0");
  auto settled_direct =
      rows(db,
           "SELECT settled_at / 86400000000, owner_id, kind, status, "
           " CASE WHEN kind = 'pledge' THEN substr(pledge_key, 1, instr(pledge_key, '#') - 1) ELSE '' END, count(*) "
           "FROM commitments WHERE status IN ('kept','broken') AND settled_at IS NOT NULL GROUP BY 1, 2, 3, 4, 5");
  CHECK(settled.size() > 50);
  CHECK(settled == settled_direct);

  auto owners =
      rows(db,
           "SELECT day, owner_id, acknowledged, acknowledge_total, resolved, resolve_total FROM report_owner_cases "
           "WHERE acknowledged <> 0 OR acknowledge_total <> 0 OR resolved <> 0 OR resolve_total <> 0");
  auto owners_direct =
      rows(db,
           "SELECT * FROM (SELECT received_at / 86400000000 AS day, owner_id, count(acknowledged_at) AS a, "
           " coalesce(sum(acknowledged_at - received_at), 0) AS at, count(resolved_at) AS r, coalesce(sum(resolved_at "
           "- received_at), 0) AS rt "
           " FROM cases GROUP BY 1, 2) WHERE a <> 0 OR at <> 0 OR r <> 0 OR rt <> 0");
  CHECK(owners.size() > 20);
  CHECK(owners == owners_direct);

  auto received = rows(db, "SELECT day, dimension, value, received FROM report_received WHERE received <> 0");
  auto received_direct =
      rows(db,
           "SELECT received_at / 86400000000, 'category', category, count(*) FROM cases GROUP BY 1, 3 "
           "UNION ALL SELECT received_at / 86400000000, 'touchpoint', touchpoint, count(*) FROM cases GROUP BY 1, 3");
  CHECK(received.size() > 50);
  CHECK(received == received_direct);
  auto open = rows(db, "SELECT owner_id, escalation_level, open_cases FROM report_open WHERE open_cases <> 0");
  auto open_direct = rows(
      db,
      "SELECT owner_id, escalation_level, count(*) FROM cases "
      "WHERE status IN ('received','acknowledged','investigating','awaiting_client','redress_proposed') GROUP BY 1, 2");
  CHECK(open.size() > 3);
  CHECK(open == open_direct);

  auto attention = rows(db,
                        "SELECT owner_id, open_commitments, at_risk, broken_unhandled FROM report_attention "
                        "WHERE open_commitments <> 0 OR at_risk <> 0 OR broken_unhandled <> 0");
  auto attention_direct = rows(
      db,
      "SELECT * FROM (SELECT owner_id, sum(status = 'open') AS o, sum(status = 'open' AND warnings_fired > 0) AS r, "
      " sum(status = 'broken' AND handled_at IS NULL) AS b FROM commitments GROUP BY owner_id) WHERE o <> 0 OR r <> 0 "
      "OR b <> 0");
  CHECK(attention.size() > 3);
  CHECK(attention == attention_direct);

  auto pledges = rows(db, "SELECT day, pledge, status, n FROM report_pledges WHERE n <> 0");
  auto pledges_direct =
      rows(db,
           "SELECT settled_at / 86400000000, substr(pledge_key, 1, instr(pledge_key, '#') - 1), status, count(*) FROM "
           "commitments "
           "WHERE kind = 'pledge' AND status IN ('kept','broken') AND settled_at IS NOT NULL GROUP BY 1, 2, 3");
  CHECK(pledges.size() > 20);
  CHECK(pledges == pledges_direct);

  // No count ever went below zero (a contribution taken away that was never added).
  CHECK(rows(db, "SELECT count(*) FROM report_settled WHERE n < 0") == std::vector<std::string>{"0"});
  CHECK(rows(db, "SELECT count(*) FROM report_received WHERE received < 0") == std::vector<std::string>{"0"});
  CHECK(rows(db, "SELECT count(*) FROM report_open WHERE open_cases < 0") == std::vector<std::string>{"0"});
  CHECK(
      rows(db,
           "SELECT count(*) FROM report_attention WHERE open_commitments < 0 OR at_risk < 0 OR broken_unhandled < 0") ==
      std::vector<std::string>{"0"});
  // The touchpoints' summary (migration 20) counts broken commitments and survey answers too; the
  // check below compares it with its definition.
  CHECK(rows(db, "SELECT count(*) > 10 FROM report_touchpoints WHERE measure = 'broken' AND n > 0") ==
        std::vector<std::string>{"1"});
  CHECK(rows(db, "SELECT count(*) > 10 FROM report_touchpoints WHERE measure = 'survey_score' AND n > 0") ==
        std::vector<std::string>{"1"});
  CHECK(rows(db, "SELECT count(*) FROM report_touchpoints WHERE n < 0") == std::vector<std::string>{"0"});
  // The survey's summary (migration 22): each answer once per workflow, touchpoint, owner and team.
  CHECK(rows(db, "SELECT count(*) > 10 FROM report_survey WHERE dimension = 'owner' AND rated > 0") ==
        std::vector<std::string>{"1"});
  CHECK(rows(db, "SELECT count(DISTINCT sum) FROM (SELECT dimension, sum(responses) AS sum FROM report_survey GROUP BY "
                 "1)") == std::vector<std::string>{"1"});
  CHECK(rows(db, "SELECT sum(responses) = (SELECT count(*) FROM events WHERE type = 'survey.submitted') FROM "
                 "report_survey WHERE dimension = 'team'") == std::vector<std::string>{"1"});
  auto survey = rows(db, "SELECT * FROM report_survey");
  // And the store's own check agrees (what `redress audit summaries` runs).
  auto differing = sqlite::check_summaries(db);
  REQUIRE(differing.ok());
  CHECK(differing->empty());

  // Rebuilt from the rows (what migration 12 and `redress audit summaries --repair` do, by the
  // definitions the migrations fill the summaries with and the check compares against), every
  // summary counts what the writer's deltas made it count.
  sqlite::Connection writer((data / "redress.db").string(), sqlite::OpenMode::kReadWrite);
  REQUIRE(writer.exec("BEGIN IMMEDIATE"));
  REQUIRE(sqlite::rebuild_summaries(writer));
  CHECK(rows(writer, "SELECT day, owner_id, kind, status, pledge, n FROM report_settled WHERE n <> 0") == settled);
  CHECK(rows(writer,
             "SELECT day, owner_id, acknowledged, acknowledge_total, resolved, resolve_total FROM report_owner_cases "
             "WHERE acknowledged <> 0 OR acknowledge_total <> 0 OR resolved <> 0 OR resolve_total <> 0") == owners);
  CHECK(rows(writer, "SELECT day, dimension, value, received FROM report_received WHERE received <> 0") == received);
  CHECK(rows(writer, "SELECT owner_id, escalation_level, open_cases FROM report_open WHERE open_cases <> 0") == open);
  CHECK(rows(writer,
             "SELECT owner_id, open_commitments, at_risk, broken_unhandled FROM report_attention "
             "WHERE open_commitments <> 0 OR at_risk <> 0 OR broken_unhandled <> 0") == attention);
  CHECK(rows(writer, "SELECT day, pledge, status, n FROM report_pledges WHERE n <> 0") == pledges);
  CHECK(rows(writer, "SELECT * FROM report_survey") == survey);
  auto rebuilt_differing = sqlite::check_summaries(writer);
  REQUIRE(rebuilt_differing.ok());
  CHECK(rebuilt_differing->empty());
  REQUIRE(writer.exec("ROLLBACK"));
}

}  // namespace redress::peers
