#include "adapters/postgres/summaries.h"

#include <iterator>

namespace redress::postgres {

namespace {

struct Definition {
  const char* table;
  const char* columns;    // the table's columns, in the aggregate's order
  const char* aggregate;  // a SELECT over the rows
  const char* counting;   // the rows that count something: only these are compared
};

constexpr Definition kDefinitions[] = {
    {"report_settled", "day, owner_id, kind, status, pledge, n",
     "SELECT settled_at / 86400000000 AS day, owner_id, kind, status, CASE WHEN kind = 'pledge' AND "
     "position('#' in pledge_key) > 0 THEN substr(pledge_key, 1, position('#' in pledge_key) - 1) ELSE '' "
     "END AS pledge, count(*)::bigint AS n FROM commitments WHERE status IN ('kept','broken') AND "
     "settled_at IS NOT NULL GROUP BY 1, 2, 3, 4, 5",
     "n <> 0"},
    {"report_pledges", "day, pledge, status, n",
     "SELECT settled_at / 86400000000 AS day, CASE WHEN position('#' in pledge_key) > 0 THEN "
     "substr(pledge_key, 1, position('#' in pledge_key) - 1) ELSE '' END AS pledge, CASE WHEN status = "
     "'kept' AND rule_due_at IS NOT NULL AND settled_at > rule_due_at THEN 'renegotiated' WHEN status = "
     "'kept' AND replaces_id <> 0 THEN 'moved' ELSE status END AS status, count(*)::bigint AS n FROM "
     "commitments WHERE kind = 'pledge' AND status IN ('kept','broken') AND settled_at IS NOT NULL GROUP "
     "BY 1, 2, 3",
     "n <> 0"},
    {"report_owner_cases", "day, owner_id, acknowledged, acknowledge_total, resolved, resolve_total",
     "SELECT received_at / 86400000000 AS day, owner_id, count(acknowledged_at)::bigint AS acknowledged, "
     "coalesce(sum(acknowledged_at - received_at), 0)::bigint AS acknowledge_total, "
     "count(resolved_at)::bigint AS resolved, coalesce(sum(resolved_at - received_at), 0)::bigint AS "
     "resolve_total FROM cases GROUP BY 1, 2",
     "acknowledged <> 0 OR acknowledge_total <> 0 OR resolved <> 0 OR resolve_total <> 0"},
    {"report_received", "day, dimension, value, received",
     "SELECT received_at / 86400000000 AS day, 'category' AS dimension, category AS value, "
     "count(*)::bigint AS received FROM cases GROUP BY 1, 3 UNION ALL SELECT received_at / 86400000000, "
     "'touchpoint', touchpoint, count(*)::bigint FROM cases GROUP BY 1, 3",
     "received <> 0"},
    {"report_open", "owner_id, escalation_level, open_cases",
     "SELECT owner_id, escalation_level, count(*)::bigint AS open_cases FROM cases WHERE status IN "
     "('received','acknowledged','investigating','awaiting_client','redress_proposed') GROUP BY 1, 2",
     "open_cases <> 0"},
    {"report_attention", "owner_id, open_commitments, at_risk, broken_unhandled",
     "SELECT owner_id, count(*) FILTER (WHERE status = 'open')::bigint AS open_commitments, count(*) "
     "FILTER (WHERE status = 'open' AND warnings_fired > 0)::bigint AS at_risk, count(*) FILTER (WHERE "
     "status = 'broken' AND handled_at IS NULL)::bigint AS broken_unhandled FROM commitments GROUP BY "
     "owner_id",
     "open_commitments <> 0 OR at_risk <> 0 OR broken_unhandled <> 0"},
    // Moments of truth, per touchpoint (the case's): commitments broken, by the day they fell due;
    // survey answers by the day given — responses, the sum of the overall answers, the answers that
    // rated RATER, and each dimension's sum over those.
    {"report_touchpoints", "day, touchpoint, measure, key, n",
     "SELECT k.due_at / 86400000000 AS day, c.touchpoint AS touchpoint, 'broken' AS measure, '' AS key, "
     "count(*)::bigint AS n FROM commitments k JOIN cases c ON c.id = k.case_id WHERE k.status = 'broken' "
     "GROUP BY 1, 2 UNION ALL SELECT e.at / 86400000000, c.touchpoint, 'survey_responses', '', "
     "count(*)::bigint FROM events e JOIN cases c ON c.id = e.case_id WHERE e.type = 'survey.submitted' "
     "GROUP BY 1, 2 UNION ALL SELECT e.at / 86400000000, c.touchpoint, 'survey_overall', '', "
     "sum(coalesce(nullif(CASE WHEN jsonb_typeof(e.data::jsonb->'overall') = 'number' THEN "
     "(e.data::jsonb->'overall')::text::numeric::bigint ELSE 0 END, 0), CASE WHEN "
     "jsonb_typeof(e.data::jsonb->'rating') = 'number' THEN "
     "(e.data::jsonb->'rating')::text::numeric::bigint ELSE 0 END))::bigint FROM events e JOIN cases c ON "
     "c.id = e.case_id WHERE e.type = 'survey.submitted' GROUP BY 1, 2 UNION ALL SELECT e.at / "
     "86400000000, c.touchpoint, 'survey_rated', '', count(*)::bigint FROM events e JOIN cases c ON c.id "
     "= e.case_id WHERE e.type = 'survey.submitted' AND jsonb_typeof(e.data::jsonb->'rater') = 'object' "
     "GROUP BY 1, 2 UNION ALL SELECT e.at / 86400000000, c.touchpoint, 'survey_score', d.name, sum(CASE "
     "WHEN jsonb_typeof(e.data::jsonb->'rater'->d.name) = 'number' THEN "
     "(e.data::jsonb->'rater'->d.name)::text::numeric::bigint ELSE 0 END)::bigint FROM events e JOIN "
     "cases c ON c.id = e.case_id CROSS JOIN (VALUES ('reliability'), ('assurance'), ('tangibles'), "
     "('empathy'), ('responsiveness')) d(name) WHERE e.type = 'survey.submitted' AND "
     "jsonb_typeof(e.data::jsonb->'rater') = 'object' GROUP BY 1, 2, 4",
     "n <> 0"},
    // The survey's answers by the day given, per workflow, touchpoint, owner and team (the owner and
    // team the event names, else the case's): responses, the sum of the overall answers (or the
    // rating of before RATER), the answers that rated RATER, and each dimension's sum over those.
    {"report_survey",
     "day, dimension, value, responses, overall, rated, reliability, assurance, tangibles, empathy, responsiveness",
     "WITH a AS (SELECT e.at / 86400000000 AS day, c.workflow, c.touchpoint, coalesce(d->>'owner', "
     "c.owner_id) AS owner, coalesce(d->>'team', c.team) AS team, coalesce(nullif(CASE WHEN "
     "jsonb_typeof(d->'overall') = 'number' THEN (d->'overall')::text::numeric::bigint ELSE 0 END, 0), "
     "CASE WHEN jsonb_typeof(d->'rating') = 'number' THEN (d->'rating')::text::numeric::bigint ELSE 0 "
     "END) AS overall, (jsonb_typeof(d->'rater') IS NOT DISTINCT FROM 'object')::int AS rated, CASE WHEN "
     "jsonb_typeof(d->'rater'->'reliability') = 'number' THEN "
     "(d->'rater'->'reliability')::text::numeric::bigint ELSE 0 END AS reliability, CASE WHEN "
     "jsonb_typeof(d->'rater'->'assurance') = 'number' THEN "
     "(d->'rater'->'assurance')::text::numeric::bigint ELSE 0 END AS assurance, CASE WHEN "
     "jsonb_typeof(d->'rater'->'tangibles') = 'number' THEN "
     "(d->'rater'->'tangibles')::text::numeric::bigint ELSE 0 END AS tangibles, CASE WHEN "
     "jsonb_typeof(d->'rater'->'empathy') = 'number' THEN (d->'rater'->'empathy')::text::numeric::bigint "
     "ELSE 0 END AS empathy, CASE WHEN jsonb_typeof(d->'rater'->'responsiveness') = 'number' THEN "
     "(d->'rater'->'responsiveness')::text::numeric::bigint ELSE 0 END AS responsiveness FROM events e "
     "JOIN cases c ON c.id = e.case_id CROSS JOIN LATERAL (SELECT e.data::jsonb AS d) j WHERE e.type = "
     "'survey.submitted') SELECT day, 'workflow' AS dimension, workflow AS value, count(*)::bigint AS "
     "responses, sum(overall)::bigint AS overall, sum(rated)::bigint AS rated, sum(reliability)::bigint "
     "AS reliability, sum(assurance)::bigint AS assurance, sum(tangibles)::bigint AS tangibles, "
     "sum(empathy)::bigint AS empathy, sum(responsiveness)::bigint AS responsiveness FROM a GROUP BY 1, 3 "
     "UNION ALL SELECT day, 'touchpoint', touchpoint, count(*)::bigint, sum(overall)::bigint, "
     "sum(rated)::bigint, sum(reliability)::bigint, sum(assurance)::bigint, sum(tangibles)::bigint, "
     "sum(empathy)::bigint, sum(responsiveness)::bigint FROM a GROUP BY 1, 3 UNION ALL SELECT day, "
     "'owner', owner, count(*)::bigint, sum(overall)::bigint, sum(rated)::bigint, "
     "sum(reliability)::bigint, sum(assurance)::bigint, sum(tangibles)::bigint, sum(empathy)::bigint, "
     "sum(responsiveness)::bigint FROM a GROUP BY 1, 3 UNION ALL SELECT day, 'team', team, "
     "count(*)::bigint, sum(overall)::bigint, sum(rated)::bigint, sum(reliability)::bigint, "
     "sum(assurance)::bigint, sum(tangibles)::bigint, sum(empathy)::bigint, sum(responsiveness)::bigint "
     "FROM a GROUP BY 1, 3",
     "responses <> 0"},
};

}  // namespace

Status fill_summaries(Connection& db) {
  for (const auto& d : kDefinitions)
    if (auto s = db.execute(std::string("INSERT INTO ") + d.table + "(" + d.columns + ") " + d.aggregate); !s)
      return s;
  return Status::success();
}

Status rebuild_summaries(Connection& db) {
  std::string tables;
  for (const auto& d : kDefinitions) tables += (tables.empty() ? "" : ", ") + std::string(d.table);
  if (auto s = db.execute("LOCK TABLE " + tables + " IN SHARE ROW EXCLUSIVE MODE"); !s) return s;
  for (const auto& d : kDefinitions)
    if (auto s = db.execute(std::string("DELETE FROM ") + d.table); !s) return s;
  return fill_summaries(db);
}

Result<std::string> check_summaries(Connection& db) {
  std::string differing;
  for (const auto& d : kDefinitions) {
    const std::string summary = std::string("SELECT ") + d.columns + " FROM " + d.table + " WHERE " + d.counting;
    const std::string direct = std::string("SELECT * FROM (") + d.aggregate + ") a WHERE " + d.counting;
    auto rows = db.query_once("SELECT EXISTS (" + summary + " EXCEPT " + direct + ") OR EXISTS (" + direct + " EXCEPT " +
                              summary + ")");
    if (!rows) return rows.error();
    if (rows->boolean(0, 0)) differing += (differing.empty() ? "" : ", ") + std::string(d.table);
  }
  return differing;
}

}  // namespace redress::postgres
