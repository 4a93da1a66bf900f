#include "adapters/sqlite/report_queries.h"

#include <algorithm>
#include <map>

#include "adapters/sqlite/rows.h"
#include "engine/actions.h"
#include "adapters/sqlite/summaries.h"
#include "engine/return_ledger.h"

namespace redress::sqlite {

namespace {

constexpr const char* kOpenStatuses =
    "('received','acknowledged','investigating','awaiting_client','redress_proposed')";
// The same statuses as the WHERE of the partial index cases_open_level (migration 12) states them:
// a query uses that index only when its WHERE repeats the index's term for term.
constexpr const char* kOpenStatusTerm =
    "(status = 'received' OR status = 'acknowledged' OR status = 'investigating' OR status = 'awaiting_client' OR "
    "status = 'redress_proposed')";

constexpr const char* kReportColumns =
    "k.id, k.case_id, k.kind, k.text, k.due_at, k.owner_id, k.client_visible, k.status, k.created_at, k.settled_at, "
    "k.note, k.replaces_id, k.replaced_by_id, k.redress_id, k.pledge_key, k.warning_times, k.warnings_fired, "
    "k.handled_at, k.handled_note, k.rule_due_at, k.exemption, c.reference, c.subject, c.team, c.escalation_level";
constexpr int kReportCommitmentColumns = 21;

Status read_items(Statement& s, std::vector<ReportItem>& out) {
  while (s.step()) {
    ReportItem item;
    item.commitment = read_commitment(s, 0);
    item.reference = s.text(kReportCommitmentColumns);
    item.case_subject = s.text(kReportCommitmentColumns + 1);
    item.team = s.text(kReportCommitmentColumns + 2);
    item.escalation_level = static_cast<int>(s.integer(kReportCommitmentColumns + 3));
    out.push_back(std::move(item));
  }
  Status status = s.status();
  s.reset();
  return status;
}

Result<std::int64_t> count(Connection& db, const char* sql, std::optional<std::int64_t> bound = std::nullopt) {
  auto& s = db.cached(sql);
  if (bound) s.bind(1, *bound);
  std::int64_t n = 0;
  if (s.step()) n = s.integer(0);
  Status status = s.status();
  s.reset();
  if (!status) return status.error();
  return n;
}

}  // namespace

Result<OverdueReport> ReportQueries::overdue_report(Time now, int limit) {
  return store_.readers.read([&](Connection& db) -> Result<OverdueReport> {
    OverdueReport report;
    std::int64_t cap = std::clamp(limit, 1, 5000);
    static const std::string past_due = std::string("SELECT ") + kReportColumns +
                                        " FROM commitments k JOIN cases c ON c.id = k.case_id "
                                        "WHERE k.status = 'open' AND k.due_at <= ?1 ORDER BY k.due_at LIMIT ?2";
    static const std::string at_risk = std::string("SELECT ") + kReportColumns +
                                       " FROM commitments k JOIN cases c ON c.id = k.case_id "
                                       "WHERE k.status = 'open' AND k.warnings_fired > 0 ORDER BY k.due_at LIMIT ?1";
    static const std::string broken = std::string("SELECT ") + kReportColumns +
                                      " FROM commitments k JOIN cases c ON c.id = k.case_id "
                                      "WHERE k.status = 'broken' AND k.handled_at IS NULL ORDER BY k.due_at LIMIT ?1";
    auto& a = db.cached(past_due.c_str());
    a.bind(1, to_micros(now)).bind(2, cap);
    if (auto s = read_items(a, report.past_due); !s) return s.error();
    auto& b = db.cached(at_risk.c_str());
    b.bind(1, cap);
    if (auto s = read_items(b, report.at_risk); !s) return s.error();
    auto& c = db.cached(broken.c_str());
    c.bind(1, cap);
    if (auto s = read_items(c, report.broken_unhandled); !s) return s.error();
    auto n1 = count(db, "SELECT count(*) FROM commitments WHERE status = 'open' AND due_at <= ?1", to_micros(now));
    // The counters of migration 8 (the at-risk and broken-unhandled rows may be many).
    auto n2 = count(db, "SELECT coalesce(sum(at_risk), 0) FROM report_attention");
    auto n3 = count(db, "SELECT coalesce(sum(broken_unhandled), 0) FROM report_attention");
    if (!n1) return n1.error();
    if (!n2) return n2.error();
    if (!n3) return n3.error();
    report.past_due_total = *n1;
    report.at_risk_total = *n2;
    report.broken_unhandled_total = *n3;
    return report;
  });
}

// Reads the summaries of migration 6: windows are whole UTC days, the day of `since` included.
Result<std::vector<OwnerStats>> ReportQueries::owner_report(Time since) {
  return store_.readers.read([&](Connection& db) -> Result<std::vector<OwnerStats>> {
    std::map<std::string, OwnerStats> by_owner;
    auto at = [&](const std::string& id) -> OwnerStats& {
      OwnerStats& o = by_owner[id];
      o.owner_id = id;
      return o;
    };
    // Open cases and open commitments from the counters of migration 8.
    auto& open = db.cached("SELECT owner_id, sum(open_cases) FROM report_open WHERE owner_id <> '' GROUP BY owner_id");
    while (open.step())
      if (open.integer(1) != 0) at(open.text(0)).open_cases = open.integer(1);
    if (auto s = open.status(); !s) return s.error();
    open.reset();
    auto& cases = db.cached(
        "SELECT owner_id, sum(acknowledged), sum(acknowledge_total), sum(resolved), sum(resolve_total) "
        "FROM report_owner_cases WHERE day >= ?1 AND owner_id <> '' GROUP BY owner_id");
    cases.bind(1, day_of(since));
    while (cases.step()) {
      OwnerStats& o = at(cases.text(0));
      o.acknowledged = cases.integer(1);
      o.acknowledge_total = Duration(cases.integer(2));
      o.resolved_cases = cases.integer(3);
      o.resolve_total = Duration(cases.integer(4));
    }
    if (auto s = cases.status(); !s) return s.error();
    cases.reset();
    auto& pending = db.cached(
        "SELECT owner_id, open_commitments FROM report_attention WHERE owner_id <> '' AND open_commitments <> 0");
    while (pending.step()) at(pending.text(0)).open_commitments = pending.integer(1);
    if (auto s = pending.status(); !s) return s.error();
    pending.reset();
    auto& settled = db.cached(
        "SELECT owner_id, kind, status, sum(n) FROM report_settled WHERE day >= ?1 AND owner_id <> '' "
        "GROUP BY owner_id, kind, status");
    settled.bind(1, day_of(since));
    while (settled.step()) {
      std::int64_t n = settled.integer(3);
      if (n == 0) continue;
      OwnerStats& o = at(settled.text(0));
      bool promise = settled.text(1) == "promise";
      if (settled.text(2) == "kept")
        o.commitments_kept += n, o.promises_kept += promise ? n : 0;
      else
        o.commitments_broken += n, o.promises_broken += promise ? n : 0;
    }
    if (auto s = settled.status(); !s) return s.error();
    settled.reset();
    std::vector<OwnerStats> out;
    for (auto& [id, stats] : by_owner) out.push_back(std::move(stats));
    return out;
  });
}

Result<std::vector<PledgeAttainment>> ReportQueries::standards_report(Time now) {
  return store_.readers.read([&](Connection& db) -> Result<std::vector<PledgeAttainment>> {
    // The last 30 days are today and the 29 before; the last 90 likewise.
    auto& s = db.cached(
        "SELECT pledge, status, day > ?2, sum(n) FROM report_pledges WHERE day > ?1 AND day <= ?3 GROUP BY 1, 2, 3");
    std::int64_t today = day_of(now);
    s.bind(1, today - 90).bind(2, today - 30).bind(3, today);
    std::map<std::string, PledgeAttainment> by_clock;
    while (s.step()) {
      std::string key = s.text(0);
      auto slash = key.find('/');
      if (slash == std::string::npos) continue;
      PledgeAttainment& a = by_clock[key];
      a.workflow = key.substr(0, slash);
      a.clock = key.substr(slash + 1);
      // The attainment buckets of report_pledges (summaries.cpp).
      const std::string bucket = s.text(1);
      bool recent = s.integer(2) != 0;
      std::int64_t n = s.integer(3);
      auto count = [&](std::int64_t PledgeAttainment::*last_90, std::int64_t PledgeAttainment::*last_30) {
        a.*last_90 += n;
        if (recent) a.*last_30 += n;
      };
      if (bucket == "kept" || bucket == "moved") count(&PledgeAttainment::met_90, &PledgeAttainment::met_30);
      if (bucket == "moved") count(&PledgeAttainment::moved_90, &PledgeAttainment::moved_30);
      if (bucket == "renegotiated") count(&PledgeAttainment::renegotiated_90, &PledgeAttainment::renegotiated_30);
      if (bucket == "broken") count(&PledgeAttainment::broken_90, &PledgeAttainment::broken_30);
    }
    if (auto status = s.status(); !status) return status.error();
    s.reset();
    std::vector<PledgeAttainment> out;
    for (auto& [key, a] : by_clock) out.push_back(std::move(a));
    return out;
  });
}

Result<std::vector<WorklistItem>> ReportQueries::owner_worklist(const std::string& owner_id, int limit) {
  return store_.readers.read([&](Connection& db) -> Result<std::vector<WorklistItem>> {
    // The order is decided on narrow data first: the owner's open cases from the index
    // cases_owner_status and each one's next due time from commitments_open_case, both covering;
    // only the rows shown are then read whole, with their flags.
    static const std::string sql = [] {
      std::string columns;
      std::string list = kCaseColumns;
      std::size_t start = 0;
      while (start < list.size()) {
        std::size_t comma = list.find(',', start);
        std::string name = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        name.erase(0, name.find_first_not_of(' '));
        columns += (columns.empty() ? "c." : ", c.") + name;
        start = comma == std::string::npos ? list.size() : comma + 1;
      }
      return "WITH mine AS (SELECT id, (SELECT min(due_at) FROM commitments k WHERE k.case_id = cases.id AND k.status "
             "= 'open') AS next_due "
             "  FROM cases WHERE owner_id = ?1 AND status IN " +
             std::string(kOpenStatuses) +
             "), "
             "shown AS (SELECT id, next_due FROM mine ORDER BY next_due IS NULL, next_due, id LIMIT ?2) "
             "SELECT " +
             columns +
             ", shown.next_due,"
             " EXISTS(SELECT 1 FROM commitments k WHERE k.case_id = c.id AND k.status = 'open' AND k.warnings_fired > "
             "0),"
             " EXISTS(SELECT 1 FROM commitments k WHERE k.case_id = c.id AND k.status = 'broken' AND k.handled_at IS "
             "NULL),"
             " (SELECT count(*) FROM commitments k WHERE k.case_id = c.id AND k.status = 'open') "
             "FROM shown JOIN cases c ON c.id = shown.id ORDER BY shown.next_due IS NULL, shown.next_due, c.id";
    }();
    auto& list = db.cached(sql.c_str());
    list.bind(1, owner_id).bind(2, limit);
    std::vector<WorklistItem> out;
    while (list.step()) {
      WorklistItem item;
      item.record = read_case(list, 0);
      if (auto due = list.optional_integer(kCaseColumnCount); due && from_micros(*due) != Time::max())
        item.next_due = from_micros(*due);
      item.at_risk = list.integer(kCaseColumnCount + 1) != 0;
      item.broken = list.integer(kCaseColumnCount + 2) != 0;
      item.open_commitments = list.integer(kCaseColumnCount + 3);
      out.push_back(std::move(item));
    }
    if (auto s = list.status(); !s) return s.error();
    list.reset();
    return out;
  });
}

Result<std::vector<AttentionCount>> ReportQueries::attention_by_owner(Time now) {
  return store_.readers.read([&](Connection& db) -> Result<std::vector<AttentionCount>> {
    // At risk and broken from the counters of migration 8; past due from the open commitments due
    // by now (few: the scheduler breaks them as they fall due); each owner's oldest due time by
    // one seek per partial index of migration 7.
    std::map<std::string, AttentionCount> by_owner;
    auto& counters = db.cached(
        "SELECT owner_id, at_risk, broken_unhandled FROM report_attention WHERE at_risk <> 0 OR broken_unhandled <> 0");
    while (counters.step()) {
      AttentionCount& a = by_owner[counters.text(0)];
      a.owner_id = counters.text(0);
      a.at_risk = counters.integer(1);
      a.broken_unhandled = counters.integer(2);
    }
    if (auto s = counters.status(); !s) return s.error();
    counters.reset();
    // INDEXED BY: for the GROUP BY, the planner would rather walk commitments_owner_status over
    // every commitment (75 ms at 446,000) than the few open ones due by now (0.01 ms).
    auto& due = db.cached(
        "SELECT owner_id, count(*), min(due_at) FROM commitments INDEXED BY commitments_open_due "
        "WHERE status = 'open' AND due_at <= ?1 GROUP BY owner_id");
    due.bind(1, to_micros(now));
    while (due.step()) {
      AttentionCount& a = by_owner[due.text(0)];
      a.owner_id = due.text(0);
      a.past_due = due.integer(1);
      a.oldest_due = from_micros(due.integer(2));
    }
    if (auto s = due.status(); !s) return s.error();
    due.reset();
    auto& oldest_at_risk = db.cached(
        "SELECT min(due_at) FROM commitments INDEXED BY commitments_at_risk_owner WHERE status = 'open' AND "
        "warnings_fired > 0 AND owner_id = ?1");
    auto& oldest_broken = db.cached(
        "SELECT min(due_at) FROM commitments INDEXED BY commitments_broken_owner WHERE status = 'broken' AND "
        "handled_at IS NULL AND owner_id = ?1");
    std::vector<AttentionCount> out;
    for (auto& [id, a] : by_owner) {
      for (auto* statement : {&oldest_at_risk, &oldest_broken}) {
        statement->reset();
        statement->bind(1, id);
        if (statement->step() && !statement->is_null(0)) {
          Time t = from_micros(statement->integer(0));
          if (!a.oldest_due || t < *a.oldest_due) a.oldest_due = t;
        }
        if (auto s = statement->status(); !s) return s.error();
        statement->reset();
      }
      out.push_back(std::move(a));
    }
    return out;
  });
}

Result<std::vector<EscalationCount>> ReportQueries::escalation_counts() {
  return store_.readers.read([&](Connection& db) -> Result<std::vector<EscalationCount>> {
    // Counts from the counters of migration 8; each level's oldest case by one seek.
    auto& counts = db.cached(
        "SELECT escalation_level, sum(open_cases) FROM report_open GROUP BY 1 HAVING sum(open_cases) > 0 ORDER BY 1");
    static const std::string oldest_sql =
        std::string("SELECT min(received_at) FROM cases INDEXED BY cases_open_level WHERE ") + kOpenStatusTerm +
        " AND escalation_level = ?1";
    auto& oldest = db.cached(oldest_sql.c_str());
    std::vector<EscalationCount> out;
    while (counts.step())
      out.push_back(EscalationCount{static_cast<int>(counts.integer(0)), counts.integer(1), std::nullopt});
    if (auto s = counts.status(); !s) return s.error();
    counts.reset();
    for (auto& level : out) {
      oldest.reset();
      oldest.bind(1, level.level);
      if (oldest.step() && !oldest.is_null(0)) level.oldest_received = from_micros(oldest.integer(0));
      if (auto s = oldest.status(); !s) return s.error();
      oldest.reset();
    }
    return out;
  });
}

Result<std::vector<WeeklyCount>> ReportQueries::weekly_counts(Time since) {
  return store_.readers.read([&](Connection& db) -> Result<std::vector<WeeklyCount>> {
    // From the report_received summary (migration 6). Weeks start on Monday: day 0 (1970-01-01)
    // was a Thursday, so day + 3 counts from a Monday.
    constexpr std::int64_t kDay = 86400LL * 1000000LL;
    auto& counts = db.cached(
        "SELECT dimension, value, ((day + 3) / 7) * 7 - 3, sum(received) FROM report_received "
        "WHERE day >= ?1 GROUP BY 1, 2, 3 HAVING sum(received) > 0 ORDER BY 1, 3, 2");
    counts.bind(1, to_micros(since) / kDay);
    std::vector<WeeklyCount> out;
    while (counts.step())
      out.push_back(
          WeeklyCount{counts.text(0), counts.text(1), from_micros(counts.integer(2) * kDay), counts.integer(3)});
    if (auto s = counts.status(); !s) return s.error();
    counts.reset();
    return out;
  });
}

Result<std::vector<ReturnCaseHistory>> ReportQueries::return_histories(const std::string& workflow, Time before) {
  return store_.readers.read([&](Connection& db) -> Result<std::vector<ReturnCaseHistory>> {
    // The events a return counts, from the append-only history: what was true at each moment,
    // whatever the case row says now (a reopened case has no resolved_at; a re-resolution another
    // root cause).
    auto& rows = db.cached(
        "SELECT c.id, c.reference, c.workflow, c.received_at, e.type, e.at, e.data FROM cases c "
        // The type list repeats the partial index events_returns's term for term (migration 16).
        "LEFT JOIN events e ON e.case_id = c.id AND e.at < ?1 AND e.type IN ('case.resolved', 'case.withdrawn', "
        "'case.reopened', 'client.vulnerability_flagged', 'client.vulnerability_cleared', 'redress.fulfilled') "
        "WHERE c.received_at < ?1 AND (?2 = '' OR c.workflow = ?2) ORDER BY c.id, e.seq");
    rows.bind(1, to_micros(before)).bind(2, workflow);
    std::vector<ReturnCaseHistory> out;
    std::int64_t current = 0;
    while (rows.step()) {
      const std::int64_t id = rows.integer(0);
      if (out.empty() || id != current) {
        current = id;
        ReturnCaseHistory history;
        history.reference = rows.text(1);
        history.workflow = rows.text(2);
        history.received_at = from_micros(rows.integer(3));
        out.push_back(std::move(history));
      }
      if (rows.is_null(4)) continue;
      if (auto event = return_event_of(rows.text(4), from_micros(rows.integer(5)), rows.text(6)))
        out.back().events.push_back(std::move(*event));
    }
    if (auto s = rows.status(); !s) return s.error();
    rows.reset();
    return out;
  });
}

Result<std::vector<SurveyAnswer>> ReportQueries::survey_answers(Time since) {
  return store_.readers.read([&](Connection& db) -> Result<std::vector<SurveyAnswer>> {
    auto& rows = db.cached(
        "SELECT c.reference, c.workflow, c.touchpoint, c.owner_id, c.team, e.at, e.data "
        "FROM events e JOIN cases c ON c.id = e.case_id "
        "WHERE e.type = 'survey.submitted' AND e.at >= ?1 ORDER BY e.at, e.id");
    rows.bind(1, to_micros(since));
    std::vector<SurveyAnswer> out;
    while (rows.step()) {
      SurveyAnswer answer;
      answer.reference = rows.text(0);
      answer.workflow = rows.text(1);
      answer.touchpoint = rows.text(2);
      answer.owner_id = rows.text(3);
      answer.owner_team = rows.text(4);
      answer.at = from_micros(rows.integer(5));
      if (!read_survey_data(rows.text(6), answer)) continue;
      out.push_back(std::move(answer));
    }
    if (auto s = rows.status(); !s) return s.error();
    rows.reset();
    return out;
  });
}

namespace {

// The survey sums of a report_survey row's last eight columns, from column `first`.
SurveySums survey_sums_of(Statement& rows, int first) {
  SurveySums sums;
  sums.responses = rows.integer(first);
  sums.overall = rows.integer(first + 1);
  sums.rated = rows.integer(first + 2);
  for (std::size_t i = 0; i < sums.scores.size(); ++i) sums.scores[i] = rows.integer(first + 3 + static_cast<int>(i));
  return sums;
}

std::optional<SurveyGroup> survey_group_of(std::string_view dimension) {
  if (dimension == "workflow") return SurveyGroup::kWorkflow;
  if (dimension == "touchpoint") return SurveyGroup::kTouchpoint;
  if (dimension == "owner") return SurveyGroup::kOwner;
  if (dimension == "team") return SurveyGroup::kTeam;
  return std::nullopt;
}

}  // namespace

Result<std::vector<SurveyGroupSums>> ReportQueries::survey_by_group(Time since) {
  // From the summary the writer keeps (report_survey), not the events.
  return store_.readers.read([&](Connection& db) -> Result<std::vector<SurveyGroupSums>> {
    auto& rows = db.cached(
        "SELECT dimension, value, sum(responses), sum(overall), sum(rated), sum(reliability), sum(assurance), "
        "sum(tangibles), sum(empathy), sum(responsiveness) FROM report_survey WHERE day >= ?1 "
        "GROUP BY dimension, value HAVING sum(responses) <> 0 ORDER BY dimension, value");
    rows.bind(1, day_of(since));
    std::vector<SurveyGroupSums> out;
    while (rows.step())
      if (auto group = survey_group_of(rows.text(0)))
        out.push_back(SurveyGroupSums{*group, rows.text(1), survey_sums_of(rows, 2)});
    if (auto s = rows.status(); !s) return s.error();
    rows.reset();
    return out;
  });
}

Result<std::vector<SurveyDaySums>> ReportQueries::survey_by_day(Time since) {
  // Every answer counts once per dimension: the workflow rows are every answer once.
  return store_.readers.read([&](Connection& db) -> Result<std::vector<SurveyDaySums>> {
    auto& rows = db.cached(
        "SELECT day, sum(responses), sum(overall), sum(rated), sum(reliability), sum(assurance), sum(tangibles), "
        "sum(empathy), sum(responsiveness) FROM report_survey WHERE day >= ?1 AND dimension = 'workflow' "
        "GROUP BY day HAVING sum(responses) <> 0 ORDER BY day");
    rows.bind(1, day_of(since));
    std::vector<SurveyDaySums> out;
    while (rows.step()) out.push_back(SurveyDaySums{static_cast<std::int32_t>(rows.integer(0)), survey_sums_of(rows, 1)});
    if (auto s = rows.status(); !s) return s.error();
    rows.reset();
    return out;
  });
}

namespace {

// The measures whose sums carry over from one period to the next (ReturnLedgerRows::before).
constexpr const char* kCarriedMeasures = "('opened', 'closed', 'reopened', 'vulnerable_outstanding')";
// The commitment columns of kReportColumns, as read_commitment reads them.
constexpr const char* kLedgerPledgeColumns =
    "k.id, k.case_id, k.kind, k.text, k.due_at, k.owner_id, k.client_visible, k.status, k.created_at, k.settled_at, "
    "k.note, k.replaces_id, k.replaced_by_id, k.redress_id, k.pledge_key, k.warning_times, k.warnings_fired, "
    "k.handled_at, k.handled_note, k.rule_due_at, k.exemption";

}  // namespace

Result<ReturnLedgerRows> ReportQueries::return_days(const std::string& workflow, std::int32_t first_day,
                                                    std::int32_t last_day) {
  // One read transaction: the days and the sums before them are of the same commit.
  return store_.readers.read_current([&](Connection& db) -> Result<ReturnLedgerRows> {
    ReturnLedgerRows out;
    auto& days = db.cached(
        "SELECT day, workflow, measure, key, value FROM return_days WHERE day >= ?1 AND day <= ?2 "
        "AND (?3 = '' OR workflow = ?3) AND value <> 0");
    days.bind(1, std::int64_t{first_day}).bind(2, std::int64_t{last_day}).bind(3, workflow);
    while (days.step()) {
      auto measure = parse_ReturnMeasure(days.text(2));
      if (!measure) continue;  // a measure of a later redress
      out.days.push_back(ReturnDay{days.text(1), static_cast<std::int32_t>(days.integer(0)), *measure, days.text(3),
                                   days.integer(4)});
    }
    if (auto s = days.status(); !s) return s.error();
    days.reset();
    static const std::string before_sql =
        std::string("SELECT workflow, measure, sum(value) FROM return_days WHERE day < ?1 AND (?2 = '' OR workflow = ?2) "
                    "AND measure IN ") +
        kCarriedMeasures + " GROUP BY workflow, measure";
    auto& before = db.cached(before_sql.c_str());
    before.bind(1, std::int64_t{first_day}).bind(2, workflow);
    while (before.step()) {
      auto measure = parse_ReturnMeasure(before.text(1));
      if (!measure) continue;
      out.before.push_back(ReturnDay{before.text(0), first_day - 1, *measure, "", before.integer(2)});
    }
    if (auto s = before.status(); !s) return s.error();
    before.reset();
    return out;
  });
}

Result<bool> ReportQueries::return_ledger_built() {
  return store_.readers.read([&](Connection& db) -> Result<bool> {
    auto& built = db.cached("SELECT built FROM return_ledger WHERE id = 1");
    bool answer = false;
    if (built.step()) answer = built.integer(0) != 0;
    if (auto s = built.status(); !s) return s.error();
    built.reset();
    return answer;
  });
}

Status ReportQueries::rebuild_return_ledger(const ReturnEntriesOf& entries_of) {
  return store_.writer.run_write([&](Connection& db) -> Status {
    // Every case with its counted events and its settled pledges, merged by case id.
    auto cases = db.prepare(std::string("SELECT ") + kCaseColumns + " FROM cases ORDER BY id");
    if (!cases) return cases.error();
    auto events = db.prepare(
        "SELECT case_id, seq, type, at, actor, data, hash FROM events WHERE type IN ('case.received', "
        "'case.resolved', 'case.withdrawn', 'case.reopened', 'client.vulnerability_flagged', "
        "'client.vulnerability_cleared', 'redress.fulfilled') ORDER BY case_id, seq");
    if (!events) return events.error();
    auto pledges = db.prepare(std::string("SELECT ") + kLedgerPledgeColumns +
                              " FROM commitments k WHERE k.kind = 'pledge' AND k.status IN ('kept', 'broken') "
                              "ORDER BY k.case_id, k.id");
    if (!pledges) return pledges.error();
    std::vector<ReturnEntry> all;
    bool more_events = events->step();
    bool more_pledges = pledges->step();
    while (cases->step()) {
      const Case record = read_case(*cases, 0);
      std::vector<Event> history;
      for (; more_events && events->integer(0) <= record.id; more_events = events->step()) {
        if (events->integer(0) < record.id) continue;  // an orphan event (audit verify names it)
        history.push_back(Event{record.id, events->integer(1), events->text(2), from_micros(events->integer(3)),
                                events->text(4), events->text(5), events->text(6)});
      }
      std::vector<Commitment> settled;
      for (; more_pledges && pledges->integer(1) <= record.id; more_pledges = pledges->step())
        if (pledges->integer(1) == record.id) settled.push_back(read_commitment(*pledges, 0));
      auto entries = entries_of(record, history, settled);
      all.insert(all.end(), std::make_move_iterator(entries.begin()), std::make_move_iterator(entries.end()));
      if (all.size() > 1000000) all = summed(std::move(all));
    }
    for (auto* statement : {&*cases, &*events, &*pledges})
      if (auto s = statement->status(); !s) return s;
    if (auto s = db.exec("DELETE FROM return_days"); !s) return s;
    auto& put = db.cached("INSERT INTO return_days(day, workflow, measure, key, value) VALUES (?1,?2,?3,?4,?5)");
    for (const auto& e : summed(std::move(all))) {
      put.bind(1, std::int64_t{e.day}).bind(2, e.workflow).bind(3, to_string(e.measure)).bind(4, e.key).bind(5, e.value);
      if (auto s = put.run(); !s) return s;
    }
    return db.exec("UPDATE return_ledger SET built = 1 WHERE id = 1");
  });
}

Result<TouchpointReport> ReportQueries::touchpoint_report(const std::string& touchpoint, Time since, int limit) {
  // One read transaction, reads bounded whatever the touchpoint's history: the counts from the
  // summaries (report_received, report_touchpoints), the root causes from the covering index
  // cases_touchpoint, the lists by LIMIT on an index in their order (migration 20).
  return store_.readers.read_current([&](Connection& db) -> Result<TouchpointReport> {
    TouchpointReport out;
    constexpr std::int64_t kDay = 86400LL * 1000000LL;
    const std::int64_t first_day = day_of(since);
    const std::int64_t from = first_day * kDay;
    auto& received = db.cached(
        "SELECT coalesce(sum(received), 0) FROM report_received WHERE day >= ?1 AND dimension = 'touchpoint' "
        "AND value = ?2");
    received.bind(1, first_day).bind(2, touchpoint);
    if (received.step()) out.received = received.integer(0);
    if (auto s = received.status(); !s) return s.error();
    received.reset();

    auto& newest = db.cached(
        "SELECT c.reference, c.subject, c.workflow, c.owner_id, c.status, c.received_at, c.outcome, c.root_cause, "
        "(SELECT count(*) FROM commitments k WHERE k.case_id = c.id AND k.status = 'broken') "
        "FROM cases c INDEXED BY cases_touchpoint WHERE c.touchpoint = ?1 AND c.received_at >= ?2 "
        "ORDER BY c.received_at DESC LIMIT ?3");
    newest.bind(1, touchpoint).bind(2, from).bind(3, limit);
    while (newest.step()) {
      TouchpointCase c;
      c.reference = newest.text(0);
      c.subject = newest.text(1);
      c.workflow = newest.text(2);
      c.owner_id = newest.text(3);
      c.status = parse_CaseStatus(newest.text(4)).value_or(CaseStatus::kReceived);
      c.received_at = from_micros(newest.integer(5));
      if (!newest.is_null(6)) c.outcome = parse_Outcome(newest.text(6));
      c.root_cause = newest.text(7);
      c.broken = newest.integer(8);
      out.cases.push_back(std::move(c));
    }
    if (auto s = newest.status(); !s) return s.error();
    newest.reset();

    auto& causes = db.cached(
        "SELECT workflow, root_cause, count(*), sum(outcome IN ('upheld', 'partly_upheld')) "
        "FROM cases INDEXED BY cases_touchpoint WHERE touchpoint = ?1 AND received_at >= ?2 AND outcome IS NOT NULL "
        "GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2");
    causes.bind(1, touchpoint).bind(2, from);
    while (causes.step())
      out.causes.push_back(TouchpointCause{causes.text(0), causes.text(1), causes.integer(2), causes.integer(3), {}});
    if (auto s = causes.status(); !s) return s.error();
    causes.reset();
    auto& cases_of = db.cached(
        "SELECT reference FROM cases INDEXED BY cases_touchpoint WHERE touchpoint = ?1 AND received_at >= ?2 "
        "AND workflow = ?3 AND root_cause = ?4 AND outcome IS NOT NULL ORDER BY received_at DESC LIMIT ?5");
    for (std::size_t i = 0; i < out.causes.size() && i < 5; ++i) {
      cases_of.bind(1, touchpoint).bind(2, from).bind(3, out.causes[i].workflow).bind(4, out.causes[i].root_cause).bind(5, 10);
      while (cases_of.step()) out.causes[i].references.push_back(cases_of.text(0));
      if (auto s = cases_of.status(); !s) return s.error();
      cases_of.reset();
    }

    auto& by_day = db.cached(
        "SELECT day, n FROM report_touchpoints WHERE day >= ?1 AND touchpoint = ?2 AND measure = 'broken' AND n <> 0 "
        "ORDER BY day");
    by_day.bind(1, first_day).bind(2, touchpoint);
    while (by_day.step()) out.broken_by_day.emplace_back(by_day.integer(0), by_day.integer(1));
    if (auto s = by_day.status(); !s) return s.error();
    by_day.reset();
    static const std::string broken_sql =
        std::string("SELECT ") + kReportColumns +
        " FROM commitments k INDEXED BY commitments_broken_due JOIN cases c ON c.id = k.case_id "
        "WHERE k.status = 'broken' AND k.due_at >= ?2 AND c.touchpoint = ?1 ORDER BY k.due_at DESC LIMIT ?3";
    auto& broken = db.cached(broken_sql.c_str());
    broken.bind(1, touchpoint).bind(2, from).bind(3, limit);
    if (auto s = read_items(broken, out.broken); !s) return s.error();

    auto& survey = db.cached(
        "SELECT measure, key, sum(n) FROM report_touchpoints WHERE day >= ?1 AND touchpoint = ?2 "
        "AND measure IN ('survey_responses', 'survey_overall', 'survey_rated', 'survey_score') GROUP BY 1, 2");
    survey.bind(1, first_day).bind(2, touchpoint);
    while (survey.step()) {
      const std::string measure = survey.text(0);
      const std::int64_t n = survey.integer(2);
      if (measure == "survey_responses") out.survey.responses = n;
      if (measure == "survey_overall") out.survey.overall = n;
      if (measure == "survey_rated") out.survey.rated = n;
      if (measure == "survey_score")
        for (std::size_t i = 0; i < rater_dimensions().size(); ++i)
          if (survey.text(1) == rater_dimensions()[i]) out.survey.scores[i] = n;
    }
    if (auto s = survey.status(); !s) return s.error();
    survey.reset();
    auto& answered = db.cached(
        "SELECT c.reference, e.data FROM events e INDEXED BY events_surveys JOIN cases c ON c.id = e.case_id "
        "WHERE e.type = 'survey.submitted' AND e.at >= ?2 AND c.touchpoint = ?1 ORDER BY e.at DESC LIMIT ?3");
    answered.bind(1, touchpoint).bind(2, from).bind(3, limit);
    while (answered.step()) {
      SurveyAnswer answer;
      if (read_survey_data(answered.text(1), answer))
        out.answered.push_back(TouchpointAnswer{answered.text(0), answer.overall});
    }
    if (auto s = answered.status(); !s) return s.error();
    answered.reset();
    return out;
  });
}

Result<std::vector<TouchpointCount>> ReportQueries::touchpoint_counts(const std::vector<std::string>& touchpoints,
                                                                      Time since) {
  // From the summaries: the cases received (report_received) and the broken commitments
  // (report_touchpoints) of the days from that of `since`.
  return store_.readers.read_current([&](Connection& db) -> Result<std::vector<TouchpointCount>> {
    std::map<std::string, TouchpointCount> counts;
    for (const auto& t : touchpoints) counts[t] = TouchpointCount{t, 0, 0};
    auto& received = db.cached(
        "SELECT value, sum(received) FROM report_received WHERE day >= ?1 AND dimension = 'touchpoint' GROUP BY 1");
    received.bind(1, day_of(since));
    while (received.step())
      if (auto it = counts.find(received.text(0)); it != counts.end()) it->second.received = received.integer(1);
    if (auto s = received.status(); !s) return s.error();
    received.reset();
    auto& broken = db.cached(
        "SELECT touchpoint, sum(n) FROM report_touchpoints WHERE day >= ?1 AND measure = 'broken' GROUP BY 1");
    broken.bind(1, day_of(since));
    while (broken.step())
      if (auto it = counts.find(broken.text(0)); it != counts.end()) it->second.broken = broken.integer(1);
    if (auto s = broken.status(); !s) return s.error();
    broken.reset();
    std::vector<TouchpointCount> out;
    for (const auto& t : touchpoints) out.push_back(counts[t]);
    return out;
  });
}

}  // namespace redress::sqlite
