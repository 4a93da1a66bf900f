#include "adapters/sqlite/summaries.h"

#include <iterator>
#include <string>
#include <utility>

#include "adapters/sqlite/database.h"
#include "engine/actions.h"
#include "ports/report_store.h"

namespace redress::sqlite {

namespace {

// Each summary with the aggregate over the rows it stands for: the one definition the migrations
// that create the summaries fill them with, rebuild_summaries rebuilds them with and
// check_summaries compares them against. Each aggregate names its columns as the table does.
struct Definition {
  const char* table;
  const char* columns;    // the table's columns, in the aggregate's order
  const char* aggregate;  // a SELECT over the cases or commitments
  // The rows that count something (the writer keeps rows that went back to zero, and the
  // aggregates of report_owner_cases give rows of zeros): only these are compared.
  const char* counting;
  // The aggregate for a schema from before `since` (null: the aggregate above is good for every
  // version that has the table): migrations 8 and 12 fill and rebuild the summaries before the
  // columns a later definition reads exist.
  const char* legacy_aggregate = nullptr;
  int since = 0;
  // The migration that creates the table (0: one of the first ones, 6 and 8): before it, a rebuild
  // (migration 12's) and a check skip the summary.
  int created = 0;
};
constexpr Definition kDefinitions[] = {
    // Commitments kept or broken, by the day they settled, owner, kind, status and pledge (for kind
    // pledge: "workflow/clock", the pledge key without its run number).
    {"report_settled", "day, owner_id, kind, status, pledge, n",
     "SELECT settled_at / 86400000000 AS day, owner_id, kind, status, CASE WHEN kind = 'pledge' THEN "
     "substr(pledge_key, "
     "1, instr(pledge_key, '#') - 1) ELSE '' END AS pledge, count(*) AS n FROM commitments WHERE status IN "
     "('kept','broken') AND settled_at IS NOT NULL GROUP BY 1, 2, 3, 4, 5",
     "n <> 0"},
    // The pledges of the above, by day, pledge and attainment (pledge_attainment): "kept" met by the
    // time its rule set, "moved" met by that time after a move the rule allows, "renegotiated"
    // kept only on a date renegotiated past it, "broken".
    {"report_pledges", "day, pledge, status, n",
     "SELECT settled_at / 86400000000 AS day, substr(pledge_key, 1, instr(pledge_key, '#') - 1) AS pledge, "
     "CASE WHEN status = 'kept' AND rule_due_at IS NOT NULL AND settled_at > rule_due_at THEN 'renegotiated' "
     "WHEN status = 'kept' AND replaces_id <> 0 THEN 'moved' ELSE status END AS status, "
     "count(*) AS n FROM commitments WHERE kind = 'pledge' AND status IN ('kept','broken') AND settled_at IS NOT NULL "
     "GROUP BY 1, 2, 3",
     "n <> 0",
     "SELECT settled_at / 86400000000 AS day, substr(pledge_key, 1, instr(pledge_key, '#') - 1) AS pledge, status, "
     "count(*) AS n FROM commitments WHERE kind = 'pledge' AND status IN ('kept','broken') AND settled_at IS NOT NULL "
     "GROUP BY 1, 2, 3",
     13},
    // Cases by the day they were received and their owner: acknowledged and resolved ones, with the
    // sums of the times they took.
    {"report_owner_cases", "day, owner_id, acknowledged, acknowledge_total, resolved, resolve_total",
     "SELECT received_at / 86400000000 AS day, owner_id, count(acknowledged_at) AS acknowledged, "
     "coalesce(sum(acknowledged_at - received_at), 0) AS acknowledge_total, count(resolved_at) AS resolved, "
     "coalesce(sum(resolved_at - received_at), 0) AS resolve_total FROM cases GROUP BY 1, 2",
     "acknowledged <> 0 OR acknowledge_total <> 0 OR resolved <> 0 OR resolve_total <> 0"},
    // Cases by the day they were received, per category and per touchpoint.
    {"report_received", "day, dimension, value, received",
     "SELECT received_at / 86400000000 AS day, 'category' AS dimension, category AS value, count(*) AS received "
     "FROM cases GROUP BY 1, 3 UNION ALL SELECT received_at / 86400000000, 'touchpoint', touchpoint, count(*) FROM "
     "cases GROUP BY 1, 3",
     "received <> 0"},
    // Open cases per owner and escalation level (the statuses SummaryDeltas counts as open).
    {"report_open", "owner_id, escalation_level, open_cases",
     "SELECT owner_id, escalation_level, count(*) AS open_cases FROM cases "
     "WHERE status IN ('received','acknowledged','investigating','awaiting_client','redress_proposed') GROUP BY 1, 2",
     "open_cases <> 0"},
    // Per owner: open commitments, those at risk (a warning raised) and broken ones nobody handled.
    {"report_attention", "owner_id, open_commitments, at_risk, broken_unhandled",
     "SELECT owner_id, sum(status = 'open') AS open_commitments, sum(status = 'open' AND warnings_fired > 0) AS "
     "at_risk, sum(status = 'broken' AND handled_at IS NULL) AS broken_unhandled FROM commitments GROUP BY owner_id",
     "open_commitments <> 0 OR at_risk <> 0 OR broken_unhandled <> 0"},
    // Moments of truth, per touchpoint (the case's): commitments broken, by the day they fell due;
    // survey answers by the day given — responses, the sum of the overall answers (or the rating of
    // before RATER), the answers that rated RATER, and each dimension's sum over those.
    {"report_touchpoints", "day, touchpoint, measure, key, n",
     "SELECT k.due_at / 86400000000 AS day, c.touchpoint AS touchpoint, 'broken' AS measure, '' AS key, count(*) AS n "
     "FROM commitments k JOIN cases c ON c.id = k.case_id WHERE k.status = 'broken' GROUP BY 1, 2 "
     "UNION ALL SELECT e.at / 86400000000, c.touchpoint, 'survey_responses', '', count(*) FROM events e "
     "JOIN cases c ON c.id = e.case_id WHERE e.type = 'survey.submitted' GROUP BY 1, 2 "
     "UNION ALL SELECT e.at / 86400000000, c.touchpoint, 'survey_overall', '', "
     "sum(coalesce(nullif(json_extract(e.data, '$.overall'), 0), json_extract(e.data, '$.rating'), 0)) FROM events e "
     "JOIN cases c ON c.id = e.case_id WHERE e.type = 'survey.submitted' GROUP BY 1, 2 "
     "UNION ALL SELECT e.at / 86400000000, c.touchpoint, 'survey_rated', '', count(*) FROM events e "
     "JOIN cases c ON c.id = e.case_id WHERE e.type = 'survey.submitted' AND json_type(e.data, '$.rater') = 'object' "
     "GROUP BY 1, 2 "
     "UNION ALL SELECT e.at / 86400000000, c.touchpoint, 'survey_score', d.name, "
     "sum(coalesce(json_extract(e.data, '$.rater.' || d.name), 0)) FROM events e JOIN cases c ON c.id = e.case_id "
     "JOIN (SELECT 'reliability' AS name UNION ALL SELECT 'assurance' UNION ALL SELECT 'tangibles' UNION ALL "
     "SELECT 'empathy' UNION ALL SELECT 'responsiveness') d "
     "WHERE e.type = 'survey.submitted' AND json_type(e.data, '$.rater') = 'object' GROUP BY 1, 2, 4",
     "n <> 0",
     nullptr,
     0,
     kTouchpointsSummaryMigration},
    // The survey's answers by the day given, per workflow, touchpoint, owner and team (the owner and
    // team the event names, of when the client answered; the case's for answers recorded before
    // events named them): responses, the sum of the overall answers, the answers that rated RATER,
    // and each dimension's sum over those.
    {"report_survey",
     "day, dimension, value, responses, overall, rated, reliability, assurance, tangibles, empathy, responsiveness",
     "SELECT e.at / 86400000000 AS day, g.dimension AS dimension, CASE g.dimension WHEN 'workflow' THEN c.workflow "
     "WHEN 'touchpoint' THEN c.touchpoint WHEN 'owner' THEN coalesce(json_extract(e.data, '$.owner'), c.owner_id) "
     "ELSE coalesce(json_extract(e.data, '$.team'), c.team) END AS value, count(*) AS responses, "
     "sum(coalesce(nullif(json_extract(e.data, '$.overall'), 0), json_extract(e.data, '$.rating'), 0)) AS overall, "
     "sum(json_type(e.data, '$.rater') IS 'object') AS rated, "
     "sum(coalesce(json_extract(e.data, '$.rater.reliability'), 0)) AS reliability, "
     "sum(coalesce(json_extract(e.data, '$.rater.assurance'), 0)) AS assurance, "
     "sum(coalesce(json_extract(e.data, '$.rater.tangibles'), 0)) AS tangibles, "
     "sum(coalesce(json_extract(e.data, '$.rater.empathy'), 0)) AS empathy, "
     "sum(coalesce(json_extract(e.data, '$.rater.responsiveness'), 0)) AS responsiveness "
     "FROM events e JOIN cases c ON c.id = e.case_id JOIN (SELECT 'workflow' AS dimension UNION ALL SELECT "
     "'touchpoint' UNION ALL SELECT 'owner' UNION ALL SELECT 'team') g WHERE e.type = 'survey.submitted' "
     "GROUP BY 1, 2, 3",
     "responses <> 0",
     nullptr,
     0,
     kSurveySummaryMigration},
};

static_assert(std::size(kDefinitions) == static_cast<std::size_t>(Summary::kSurvey) + 1,
              "one per Summary, in order");

const Definition& definition(Summary summary) { return kDefinitions[static_cast<std::size_t>(summary)]; }

}  // namespace

Status apply_summaries(Connection& db, const SummaryDeltas& deltas) {
  for (const auto& [key, n] : deltas.settled()) {
    const auto& [day, owner, kind, status, pledge] = key;
    auto& put = db.cached(
        "INSERT INTO report_settled(day, owner_id, kind, status, pledge, n) VALUES (?1,?2,?3,?4,?5,?6) "
        "ON CONFLICT DO UPDATE SET n = n + excluded.n");
    put.bind(1, day).bind_static(2, owner).bind_static(3, kind).bind_static(4, status).bind_static(5, pledge).bind(6,
                                                                                                                   n);
    if (auto s = put.run(); !s) return s;
  }
  for (const auto& [key, n] : deltas.pledges()) {
    const auto& [day, pledge, status] = key;
    auto& put = db.cached(
        "INSERT INTO report_pledges(day, pledge, status, n) VALUES (?1,?2,?3,?4) ON CONFLICT DO UPDATE SET n = n + "
        "excluded.n");
    put.bind(1, day).bind_static(2, pledge).bind_static(3, status).bind(4, n);
    if (auto s = put.run(); !s) return s;
  }
  for (const auto& [key, d] : deltas.owner_cases()) {
    auto& put = db.cached(
        "INSERT INTO report_owner_cases(day, owner_id, acknowledged, acknowledge_total, resolved, resolve_total) "
        "VALUES (?1,?2,?3,?4,?5,?6) ON CONFLICT DO UPDATE SET acknowledged = acknowledged + excluded.acknowledged, "
        "acknowledge_total = acknowledge_total + excluded.acknowledge_total, resolved = resolved + excluded.resolved, "
        "resolve_total = resolve_total + excluded.resolve_total");
    put.bind(1, key.first)
        .bind_static(2, key.second)
        .bind(3, d.acknowledged)
        .bind(4, d.acknowledge_total)
        .bind(5, d.resolved)
        .bind(6, d.resolve_total);
    if (auto s = put.run(); !s) return s;
  }
  for (const auto& [key, n] : deltas.received()) {
    const auto& [day, dimension, value] = key;
    auto& put = db.cached(
        "INSERT INTO report_received(day, dimension, value, received) VALUES (?1,?2,?3,?4) "
        "ON CONFLICT DO UPDATE SET received = received + excluded.received");
    put.bind(1, day).bind_static(2, dimension).bind_static(3, value).bind(4, n);
    if (auto s = put.run(); !s) return s;
  }
  for (const auto& [key, n] : deltas.open()) {
    auto& put = db.cached(
        "INSERT INTO report_open(owner_id, escalation_level, open_cases) VALUES (?1,?2,?3) "
        "ON CONFLICT DO UPDATE SET open_cases = open_cases + excluded.open_cases");
    put.bind_static(1, key.first).bind(2, key.second).bind(3, n);
    if (auto s = put.run(); !s) return s;
  }
  for (const auto& [owner, d] : deltas.attention()) {
    auto& put = db.cached(
        "INSERT INTO report_attention(owner_id, open_commitments, at_risk, broken_unhandled) VALUES (?1,?2,?3,?4) "
        "ON CONFLICT DO UPDATE SET open_commitments = open_commitments + excluded.open_commitments, "
        "at_risk = at_risk + excluded.at_risk, broken_unhandled = broken_unhandled + excluded.broken_unhandled");
    put.bind_static(1, owner).bind(2, d.open).bind(3, d.at_risk).bind(4, d.broken_unhandled);
    if (auto s = put.run(); !s) return s;
  }
  for (const auto& [key, n] : deltas.touchpoints()) {
    if (n == 0) continue;
    const auto& [day, touchpoint, measure, entry_key] = key;
    auto& put = db.cached(
        "INSERT INTO report_touchpoints(day, touchpoint, measure, key, n) VALUES (?1,?2,?3,?4,?5) "
        "ON CONFLICT DO UPDATE SET n = n + excluded.n");
    put.bind(1, day).bind_static(2, touchpoint).bind_static(3, measure).bind_static(4, entry_key).bind(5, n);
    if (auto s = put.run(); !s) return s;
  }
  for (const auto& [key, sums] : deltas.survey()) {
    const auto& [day, dimension, value] = key;
    auto& put = db.cached(
        "INSERT INTO report_survey(day, dimension, value, responses, overall, rated, reliability, assurance, "
        "tangibles, empathy, responsiveness) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11) ON CONFLICT DO UPDATE SET "
        "responses = responses + excluded.responses, overall = overall + excluded.overall, "
        "rated = rated + excluded.rated, reliability = reliability + excluded.reliability, "
        "assurance = assurance + excluded.assurance, tangibles = tangibles + excluded.tangibles, "
        "empathy = empathy + excluded.empathy, responsiveness = responsiveness + excluded.responsiveness");
    put.bind(1, day).bind_static(2, dimension).bind_static(3, value).bind(4, sums.responses).bind(5, sums.overall).bind(
        6, sums.rated);
    for (std::size_t i = 0; i < sums.scores.size(); ++i) put.bind(static_cast<int>(7 + i), sums.scores[i]);
    if (auto s = put.run(); !s) return s;
  }
  for (const auto& [key, value] : deltas.returns()) {
    if (value == 0) continue;
    const auto& [day, workflow, measure, entry_key] = key;
    auto& put = db.cached(
        "INSERT INTO return_days(day, workflow, measure, key, value) VALUES (?1,?2,?3,?4,?5) "
        "ON CONFLICT DO UPDATE SET value = value + excluded.value");
    put.bind(1, std::int64_t{day}).bind_static(2, workflow).bind_static(3, measure).bind_static(4, entry_key).bind(5, value);
    if (auto s = put.run(); !s) return s;
  }
  return Status::success();
}

namespace {

// The schema version of `db` as its user_version says; 0 when unreadable.
int schema_version_of(Connection& db) {
  auto statement = db.prepare("PRAGMA user_version");
  if (!statement || !statement->step()) return 0;
  return static_cast<int>(statement->integer(0));
}

}  // namespace

Status fill_summary(Connection& db, Summary summary) {
  const Definition& d = definition(summary);
  // Inside a migration user_version is still the version before it.
  const char* aggregate = d.legacy_aggregate && schema_version_of(db) + 1 < d.since ? d.legacy_aggregate : d.aggregate;
  return db.exec(std::string("INSERT INTO ") + d.table + "(" + d.columns + ") " + aggregate);
}

namespace {

// Whether the summary's table exists at the database's schema version (inside a migration,
// user_version is still the version before it).
bool exists_in(Connection& db, const Definition& d) { return d.created == 0 || schema_version_of(db) >= d.created; }

}  // namespace

Status rebuild_summaries(Connection& db) {
  for (const auto& d : kDefinitions)
    if (exists_in(db, d))
      if (auto s = db.exec(std::string("DELETE FROM ") + d.table); !s) return s;
  for (std::size_t i = 0; i < std::size(kDefinitions); ++i)
    if (exists_in(db, kDefinitions[i]))
      if (auto s = fill_summary(db, static_cast<Summary>(i)); !s) return s;
  return Status::success();
}

Result<std::string> check_summaries(Connection& db) {
  std::string differing;
  for (const auto& d : kDefinitions) {
    if (!exists_in(db, d)) continue;
    std::string summary = std::string("SELECT ") + d.columns + " FROM " + d.table + " WHERE " + d.counting;
    std::string direct = std::string("SELECT * FROM (") + d.aggregate + ") WHERE " + d.counting;
    std::string sql =
        "SELECT EXISTS (" + summary + " EXCEPT " + direct + ") OR EXISTS (" + direct + " EXCEPT " + summary + ")";
    auto statement = db.prepare(sql);
    if (!statement) return statement.error();
    if (!statement->step())
      return statement->status().ok() ? Error::internal("no result checking " + std::string(d.table))
                                      : statement->status().error();
    if (statement->integer(0) != 0) differing += (differing.empty() ? "" : ", ") + std::string(d.table);
  }
  return differing;
}

}  // namespace redress::sqlite
