#include "adapters/postgres/report_records.h"

#include <algorithm>
#include <map>

#include "adapters/postgres/rows.h"
#include "engine/return_ledger.h"

namespace redress::postgres {

namespace {

constexpr std::int64_t kDayMicros = 86400LL * 1000000LL;

std::int64_t day_of(Time t) { return to_micros(t) / kDayMicros; }

// "a, b" → "k.a, k.b".
std::string prefixed(const char* list, const char* alias) {
  std::string columns = std::string(alias) + list;
  for (std::size_t at = 0; (at = columns.find(", ", at)) != std::string::npos; at += 2) columns.insert(at + 2, alias);
  return columns;
}

const std::string& report_columns() {
  static const std::string columns =
      prefixed(kCommitmentColumns, "k.") + ", c.reference, c.subject, c.team, c.escalation_level";
  return columns;
}

void read_items(const Rows& rows, std::vector<ReportItem>& out) {
  for (int i = 0; i < rows.size(); ++i) {
    ReportItem item;
    item.commitment = read_commitment(rows, i);
    item.reference = rows.text(i, kCommitmentColumnCount);
    item.case_subject = rows.text(i, kCommitmentColumnCount + 1);
    item.team = rows.text(i, kCommitmentColumnCount + 2);
    item.escalation_level = static_cast<int>(rows.integer(i, kCommitmentColumnCount + 3));
    out.push_back(std::move(item));
  }
}

constexpr const char* kOpenStatuses =
    "('received','acknowledged','investigating','awaiting_client','redress_proposed')";

}  // namespace

Result<OverdueReport> ReportRecords::overdue_report(Time now, int limit) {
  return pool_.with([&](Connection& db) -> Result<OverdueReport> {
    auto transaction = Transaction::begin(db, Isolation::kRepeatableRead);  // one snapshot for the parts
    if (!transaction) return transaction.error();
    const std::int64_t cap = std::clamp(limit, 1, 5000);
    const std::string from = " FROM commitments k JOIN cases c ON c.id = k.case_id ";
    Pipeline pipeline(db);
    pipeline.add(
        "SELECT " + report_columns() + from + "WHERE k.status = 'open' AND k.due_at <= $1 ORDER BY k.due_at LIMIT $2",
        Params().add(to_micros(now)).add(cap));
    pipeline.add("SELECT " + report_columns() + from +
                     "WHERE k.status = 'open' AND k.warnings_fired > 0 ORDER BY k.due_at LIMIT $1",
                 Params().add(cap));
    pipeline.add("SELECT " + report_columns() + from +
                     "WHERE k.status = 'broken' AND k.handled_at IS NULL ORDER BY k.due_at LIMIT $1",
                 Params().add(cap));
    pipeline.add("SELECT count(*) FROM commitments WHERE status = 'open' AND due_at <= $1",
                 Params().add(to_micros(now)));
    pipeline.add(
        "SELECT coalesce(sum(at_risk), 0)::bigint, coalesce(sum(broken_unhandled), 0)::bigint "
        "FROM report_attention");
    auto results = pipeline.run();
    if (!results) return results.error();
    OverdueReport report;
    read_items((*results)[0], report.past_due);
    read_items((*results)[1], report.at_risk);
    read_items((*results)[2], report.broken_unhandled);
    report.past_due_total = (*results)[3].integer(0, 0);
    report.at_risk_total = (*results)[4].integer(0, 0);
    report.broken_unhandled_total = (*results)[4].integer(0, 1);
    return report;
  });
}

Result<std::vector<OwnerStats>> ReportRecords::owner_report(Time since) {
  return pool_.with([&](Connection& db) -> Result<std::vector<OwnerStats>> {
    auto transaction = Transaction::begin(db, Isolation::kRepeatableRead);
    if (!transaction) return transaction.error();
    Pipeline pipeline(db);
    pipeline.add("SELECT owner_id, sum(open_cases)::bigint FROM report_open WHERE owner_id <> '' GROUP BY owner_id");
    pipeline.add(
        "SELECT owner_id, sum(acknowledged)::bigint, sum(acknowledge_total)::bigint, sum(resolved)::bigint, "
        "sum(resolve_total)::bigint FROM report_owner_cases WHERE day >= $1 AND owner_id <> '' GROUP BY owner_id",
        Params().add(day_of(since)));
    pipeline.add(
        "SELECT owner_id, open_commitments FROM report_attention WHERE owner_id <> '' AND open_commitments <> 0");
    pipeline.add(
        "SELECT owner_id, kind, status, sum(n)::bigint FROM report_settled WHERE day >= $1 AND owner_id <> '' "
        "GROUP BY owner_id, kind, status",
        Params().add(day_of(since)));
    auto results = pipeline.run();
    if (!results) return results.error();
    std::map<std::string, OwnerStats> by_owner;
    auto at = [&](const std::string& id) -> OwnerStats& {
      OwnerStats& o = by_owner[id];
      o.owner_id = id;
      return o;
    };
    const Rows& open = (*results)[0];
    for (int i = 0; i < open.size(); ++i)
      if (open.integer(i, 1) != 0) at(open.text(i, 0)).open_cases = open.integer(i, 1);
    const Rows& cases = (*results)[1];
    for (int i = 0; i < cases.size(); ++i) {
      OwnerStats& o = at(cases.text(i, 0));
      o.acknowledged = cases.integer(i, 1);
      o.acknowledge_total = Duration(cases.integer(i, 2));
      o.resolved_cases = cases.integer(i, 3);
      o.resolve_total = Duration(cases.integer(i, 4));
    }
    const Rows& pending = (*results)[2];
    for (int i = 0; i < pending.size(); ++i) at(pending.text(i, 0)).open_commitments = pending.integer(i, 1);
    const Rows& settled = (*results)[3];
    for (int i = 0; i < settled.size(); ++i) {
      std::int64_t n = settled.integer(i, 3);
      if (n == 0) continue;
      OwnerStats& o = at(settled.text(i, 0));
      bool promise = settled.view(i, 1) == "promise";
      if (settled.view(i, 2) == "kept")
        o.commitments_kept += n, o.promises_kept += promise ? n : 0;
      else
        o.commitments_broken += n, o.promises_broken += promise ? n : 0;
    }
    std::vector<OwnerStats> out;
    for (auto& [id, stats] : by_owner) out.push_back(std::move(stats));
    return out;
  });
}

Result<std::vector<PledgeAttainment>> ReportRecords::standards_report(Time now) {
  return pool_.with([&](Connection& db) -> Result<std::vector<PledgeAttainment>> {
    // The last 30 days are today and the 29 before; the last 90 likewise.
    const std::int64_t today = day_of(now);
    auto rows = db.query(
        "SELECT pledge, status, (day > $2)::int, sum(n)::bigint FROM report_pledges WHERE day > $1 AND day <= $3 "
        "GROUP BY 1, 2, 3",
        Params().add(today - 90).add(today - 30).add(today));
    if (!rows) return rows.error();
    std::map<std::string, PledgeAttainment> by_clock;
    for (int i = 0; i < rows->size(); ++i) {
      std::string key = rows->text(i, 0);
      auto slash = key.find('/');
      if (slash == std::string::npos) continue;
      PledgeAttainment& a = by_clock[key];
      a.workflow = key.substr(0, slash);
      a.clock = key.substr(slash + 1);
      const std::string bucket = rows->text(i, 1);
      const bool recent = rows->integer(i, 2) != 0;
      const std::int64_t n = rows->integer(i, 3);
      auto count = [&](std::int64_t PledgeAttainment::*last_90, std::int64_t PledgeAttainment::*last_30) {
        a.*last_90 += n;
        if (recent) a.*last_30 += n;
      };
      if (bucket == "kept" || bucket == "moved") count(&PledgeAttainment::met_90, &PledgeAttainment::met_30);
      if (bucket == "moved") count(&PledgeAttainment::moved_90, &PledgeAttainment::moved_30);
      if (bucket == "renegotiated") count(&PledgeAttainment::renegotiated_90, &PledgeAttainment::renegotiated_30);
      if (bucket == "broken") count(&PledgeAttainment::broken_90, &PledgeAttainment::broken_30);
    }
    std::vector<PledgeAttainment> out;
    for (auto& [key, a] : by_clock) out.push_back(std::move(a));
    return out;
  });
}

Result<std::vector<WorklistItem>> ReportRecords::owner_worklist(const std::string& owner_id, int limit) {
  return pool_.with([&](Connection& db) -> Result<std::vector<WorklistItem>> {
    static const std::string sql =
        "WITH mine AS (SELECT id, (SELECT min(due_at) FROM commitments k WHERE k.case_id = cases.id AND k.status "
        "= 'open') AS next_due FROM cases WHERE owner_id = $1 AND status IN " +
        std::string(kOpenStatuses) +
        "), shown AS (SELECT id, next_due FROM mine ORDER BY next_due IS NULL, next_due, id LIMIT $2) "
        "SELECT " +
        prefixed(kCaseColumns, "c.") +
        ", shown.next_due,"
        " EXISTS(SELECT 1 FROM commitments k WHERE k.case_id = c.id AND k.status = 'open' AND k.warnings_fired > 0)"
        "::int, EXISTS(SELECT 1 FROM commitments k WHERE k.case_id = c.id AND k.status = 'broken' AND "
        "k.handled_at IS NULL)::int, (SELECT count(*) FROM commitments k WHERE k.case_id = c.id AND k.status = "
        "'open') FROM shown JOIN cases c ON c.id = shown.id ORDER BY shown.next_due IS NULL, shown.next_due, c.id";
    auto rows = db.query(sql, Params().add(owner_id).add(std::int64_t{limit}));
    if (!rows) return rows.error();
    std::vector<WorklistItem> out;
    for (int i = 0; i < rows->size(); ++i) {
      WorklistItem item;
      item.record = read_case(*rows, i);
      if (auto due = rows->optional_integer(i, kCaseColumnCount); due && from_micros(*due) != Time::max())
        item.next_due = from_micros(*due);
      item.at_risk = rows->integer(i, kCaseColumnCount + 1) != 0;
      item.broken = rows->integer(i, kCaseColumnCount + 2) != 0;
      item.open_commitments = rows->integer(i, kCaseColumnCount + 3);
      out.push_back(std::move(item));
    }
    return out;
  });
}

Result<std::vector<AttentionCount>> ReportRecords::attention_by_owner(Time now) {
  return pool_.with([&](Connection& db) -> Result<std::vector<AttentionCount>> {
    auto transaction = Transaction::begin(db, Isolation::kRepeatableRead);
    if (!transaction) return transaction.error();
    Pipeline pipeline(db);
    pipeline.add(
        "SELECT owner_id, at_risk, broken_unhandled FROM report_attention WHERE at_risk <> 0 OR broken_unhandled <> 0");
    pipeline.add(
        "SELECT owner_id, count(*), min(due_at) FROM commitments WHERE status = 'open' AND due_at <= $1 "
        "GROUP BY owner_id",
        Params().add(to_micros(now)));
    // Each owner's oldest due time among the at-risk and broken ones (one aggregate for all owners).
    pipeline.add(
        "SELECT owner_id, min(due_at) FROM commitments WHERE (status = 'open' AND warnings_fired > 0) OR "
        "(status = 'broken' AND handled_at IS NULL) GROUP BY owner_id");
    auto results = pipeline.run();
    if (!results) return results.error();
    std::map<std::string, AttentionCount> by_owner;
    const Rows& counters = (*results)[0];
    for (int i = 0; i < counters.size(); ++i) {
      AttentionCount& a = by_owner[counters.text(i, 0)];
      a.owner_id = counters.text(i, 0);
      a.at_risk = counters.integer(i, 1);
      a.broken_unhandled = counters.integer(i, 2);
    }
    const Rows& due = (*results)[1];
    for (int i = 0; i < due.size(); ++i) {
      AttentionCount& a = by_owner[due.text(i, 0)];
      a.owner_id = due.text(i, 0);
      a.past_due = due.integer(i, 1);
      a.oldest_due = from_micros(due.integer(i, 2));
    }
    const Rows& oldest = (*results)[2];
    for (int i = 0; i < oldest.size(); ++i) {
      auto found = by_owner.find(oldest.text(i, 0));
      if (found == by_owner.end() || oldest.is_null(i, 1)) continue;
      Time t = from_micros(oldest.integer(i, 1));
      if (!found->second.oldest_due || t < *found->second.oldest_due) found->second.oldest_due = t;
    }
    std::vector<AttentionCount> out;
    for (auto& [id, a] : by_owner) out.push_back(std::move(a));
    return out;
  });
}

Result<std::vector<EscalationCount>> ReportRecords::escalation_counts() {
  return pool_.with([&](Connection& db) -> Result<std::vector<EscalationCount>> {
    auto rows =
        db.query(std::string("SELECT escalation_level, count(*), min(received_at) FROM cases WHERE status IN ") +
                 kOpenStatuses + " GROUP BY 1 ORDER BY 1");
    if (!rows) return rows.error();
    std::vector<EscalationCount> out;
    for (int i = 0; i < rows->size(); ++i)
      out.push_back(
          EscalationCount{static_cast<int>(rows->integer(i, 0)), rows->integer(i, 1), time_or_null(*rows, i, 2)});
    return out;
  });
}

Result<std::vector<WeeklyCount>> ReportRecords::weekly_counts(Time since) {
  return pool_.with([&](Connection& db) -> Result<std::vector<WeeklyCount>> {
    // Weeks start on Monday: day 0 (1970-01-01) was a Thursday, so day + 3 counts from a Monday.
    auto rows = db.query(
        "SELECT dimension, value, ((day + 3) / 7) * 7 - 3, sum(received)::bigint FROM report_received "
        "WHERE day >= $1 GROUP BY 1, 2, 3 HAVING sum(received) > 0 ORDER BY 1, 3, 2",
        Params().add(to_micros(since) / kDayMicros));
    if (!rows) return rows.error();
    std::vector<WeeklyCount> out;
    for (int i = 0; i < rows->size(); ++i)
      out.push_back(WeeklyCount{rows->text(i, 0), rows->text(i, 1), from_micros(rows->integer(i, 2) * kDayMicros),
                                rows->integer(i, 3)});
    return out;
  });
}

Result<std::vector<ReturnCaseHistory>> ReportRecords::return_histories(const std::string& workflow, Time before) {
  return pool_.with([&](Connection& db) -> Result<std::vector<ReturnCaseHistory>> {
    // The events a return counts, from the append-only history (as SQLite's). The type list repeats
    // the partial index events_returns's term (migration 4).
    auto rows = db.query(
        "SELECT c.id, c.reference, c.workflow, c.received_at, e.type, e.at, e.data FROM cases c "
        "LEFT JOIN events e ON e.case_id = c.id AND e.at < $1 AND e.type IN ('case.resolved', 'case.withdrawn', "
        "'case.reopened', 'client.vulnerability_flagged', 'client.vulnerability_cleared', 'redress.fulfilled') "
        "WHERE c.received_at < $1 AND ($2 = '' OR c.workflow = $2) ORDER BY c.id, e.seq",
        Params().add(to_micros(before)).add(workflow));
    if (!rows) return rows.error();
    std::vector<ReturnCaseHistory> out;
    std::int64_t current = 0;
    for (int i = 0; i < rows->size(); ++i) {
      const std::int64_t id = rows->integer(i, 0);
      if (out.empty() || id != current) {
        current = id;
        ReturnCaseHistory history;
        history.reference = rows->text(i, 1);
        history.workflow = rows->text(i, 2);
        history.received_at = from_micros(rows->integer(i, 3));
        out.push_back(std::move(history));
      }
      if (rows->is_null(i, 4)) continue;
      if (auto event = return_event_of(rows->view(i, 4), from_micros(rows->integer(i, 5)), rows->view(i, 6)))
        out.back().events.push_back(std::move(*event));
    }
    return out;
  });
}

Result<std::vector<SurveyAnswer>> ReportRecords::survey_answers(Time since) {
  return pool_.with([&](Connection& db) -> Result<std::vector<SurveyAnswer>> {
    auto rows = db.query(
        "SELECT c.reference, c.workflow, c.touchpoint, c.owner_id, c.team, e.at, e.data "
        "FROM events e JOIN cases c ON c.id = e.case_id "
        "WHERE e.type = 'survey.submitted' AND e.at >= $1 ORDER BY e.at, e.id",
        Params().add(to_micros(since)));
    if (!rows) return rows.error();
    std::vector<SurveyAnswer> out;
    for (int i = 0; i < rows->size(); ++i) {
      SurveyAnswer answer;
      answer.reference = rows->text(i, 0);
      answer.workflow = rows->text(i, 1);
      answer.touchpoint = rows->text(i, 2);
      answer.owner_id = rows->text(i, 3);
      answer.owner_team = rows->text(i, 4);
      answer.at = from_micros(rows->integer(i, 5));
      if (!read_survey_data(rows->view(i, 6), answer)) continue;
      out.push_back(std::move(answer));
    }
    return out;
  });
}

namespace {

// "sum(responses), ..., sum(responsiveness)" over report_survey's rows (migration 9).
constexpr const char* kSurveySums =
    "sum(responses)::bigint, sum(overall)::bigint, sum(rated)::bigint, sum(reliability)::bigint, "
    "sum(assurance)::bigint, sum(tangibles)::bigint, sum(empathy)::bigint, sum(responsiveness)::bigint";

SurveySums survey_sums_of(const Rows& rows, int row, int first) {
  SurveySums sums;
  sums.responses = rows.integer(row, first);
  sums.overall = rows.integer(row, first + 1);
  sums.rated = rows.integer(row, first + 2);
  for (std::size_t i = 0; i < sums.scores.size(); ++i) sums.scores[i] = rows.integer(row, first + 3 + static_cast<int>(i));
  return sums;
}

}  // namespace

Result<std::vector<SurveyGroupSums>> ReportRecords::survey_by_group(Time since) {
  return pool_.with([&](Connection& db) -> Result<std::vector<SurveyGroupSums>> {
    auto rows = db.query(std::string("SELECT CASE dimension WHEN 'workflow' THEN 0 WHEN 'touchpoint' THEN 1 "
                                     "WHEN 'owner' THEN 2 ELSE 3 END, value, ") +
                             kSurveySums + " FROM report_survey WHERE day >= $1 GROUP BY 1, 2 HAVING sum(responses) > 0 "
                             "ORDER BY 1, 2",
                         Params().add(std::int64_t{to_micros(since) / (86400LL * 1000000LL)}));
    if (!rows) return rows.error();
    std::vector<SurveyGroupSums> out;
    for (int i = 0; i < rows->size(); ++i)
      out.push_back(SurveyGroupSums{static_cast<SurveyGroup>(rows->integer(i, 0)), rows->text(i, 1),
                                    survey_sums_of(*rows, i, 2)});
    return out;
  });
}

Result<std::vector<SurveyDaySums>> ReportRecords::survey_by_day(Time since) {
  return pool_.with([&](Connection& db) -> Result<std::vector<SurveyDaySums>> {
    // Each answer is added up once per dimension: the workflow's rows hold every answer once.
    auto rows = db.query(std::string("SELECT day, ") + kSurveySums +
                             " FROM report_survey WHERE day >= $1 AND dimension = 'workflow' GROUP BY 1 "
                             "HAVING sum(responses) > 0 ORDER BY 1",
                         Params().add(std::int64_t{to_micros(since) / (86400LL * 1000000LL)}));
    if (!rows) return rows.error();
    std::vector<SurveyDaySums> out;
    for (int i = 0; i < rows->size(); ++i)
      out.push_back(SurveyDaySums{static_cast<std::int32_t>(rows->integer(i, 0)), survey_sums_of(*rows, i, 1)});
    return out;
  });
}

namespace {

// The measures whose sums carry over from one period to the next (ReturnLedgerRows::before).
constexpr const char* kLedgerCarriedMeasures = "('opened', 'closed', 'reopened', 'vulnerable_outstanding')";

}  // namespace

Result<ReturnLedgerRows> ReportRecords::return_days(const std::string& workflow, std::int32_t first_day,
                                                    std::int32_t last_day) {
  return pool_.with([&](Connection& db) -> Result<ReturnLedgerRows> {
    auto transaction = Transaction::begin(db, Isolation::kRepeatableRead);  // the days and the sums of one snapshot
    if (!transaction) return transaction.error();
    Pipeline pipeline(db);
    pipeline.add(
        "SELECT day, workflow, measure, key, value FROM return_days WHERE day >= $1 AND day <= $2 "
        "AND ($3 = '' OR workflow = $3) AND value <> 0",
        Params().add(std::int64_t{first_day}).add(std::int64_t{last_day}).add(workflow));
    pipeline.add(std::string("SELECT workflow, measure, sum(value)::bigint FROM return_days WHERE day < $1 "
                             "AND ($2 = '' OR workflow = $2) AND measure IN ") +
                     kLedgerCarriedMeasures + " GROUP BY workflow, measure",
                 Params().add(std::int64_t{first_day}).add(workflow));
    auto results = pipeline.run();
    if (!results) return results.error();
    ReturnLedgerRows out;
    const Rows& days = (*results)[0];
    for (int i = 0; i < days.size(); ++i) {
      auto measure = parse_ReturnMeasure(days.view(i, 2));
      if (!measure) continue;  // a measure of a later redress
      out.days.push_back(ReturnDay{days.text(i, 1), static_cast<std::int32_t>(days.integer(i, 0)), *measure,
                                   days.text(i, 3), days.integer(i, 4)});
    }
    const Rows& before = (*results)[1];
    for (int i = 0; i < before.size(); ++i) {
      auto measure = parse_ReturnMeasure(before.view(i, 1));
      if (!measure) continue;
      out.before.push_back(ReturnDay{before.text(i, 0), first_day - 1, *measure, "", before.integer(i, 2)});
    }
    return out;
  });
}

Result<bool> ReportRecords::return_ledger_built() {
  return pool_.with([&](Connection& db) -> Result<bool> {
    auto rows = db.query("SELECT built FROM return_ledger WHERE id = 1");
    if (!rows) return rows.error();
    return !rows->empty() && rows->boolean(0, 0);
  });
}

Status ReportRecords::rebuild_return_ledger(Connection& db, const ReturnEntriesOf& entries_of) {
  // Every node's writer adds to return_days before its COMMIT: locked, they wait, and what they
  // add after this commit is of events this rebuild did not read.
  if (auto s = db.execute("LOCK TABLE return_days IN EXCLUSIVE MODE"); !s) return s;
  std::vector<ReturnEntry> all;
  constexpr int kBatch = 2000;
  for (std::int64_t after = 0;;) {
    auto cases = db.query(std::string("SELECT ") + kCaseColumns + " FROM cases WHERE id > $1 ORDER BY id LIMIT $2",
                          Params().add(after).add(std::int64_t{kBatch}));
    if (!cases) return cases.error();
    if (cases->empty()) break;
    const std::int64_t first = read_case(*cases, 0).id;
    const std::int64_t last = read_case(*cases, cases->size() - 1).id;
    Pipeline pipeline(db);
    pipeline.add(
        "SELECT case_id, seq, type, at, actor, data, hash FROM events WHERE case_id BETWEEN $1 AND $2 AND type IN "
        "('case.received', 'case.resolved', 'case.withdrawn', 'case.reopened', 'client.vulnerability_flagged', "
        "'client.vulnerability_cleared', 'redress.fulfilled') ORDER BY case_id, seq",
        Params().add(first).add(last));
    pipeline.add(std::string("SELECT ") + kCommitmentColumns +
                     " FROM commitments WHERE case_id BETWEEN $1 AND $2 AND kind = 'pledge' AND status IN "
                     "('kept', 'broken') ORDER BY case_id, id",
                 Params().add(first).add(last));
    auto results = pipeline.run();
    if (!results) return results.error();
    const Rows& events = (*results)[0];
    const Rows& pledges = (*results)[1];
    int e = 0, p = 0;
    for (int i = 0; i < cases->size(); ++i) {
      const Case record = read_case(*cases, i);
      std::vector<Event> history;
      for (; e < events.size() && events.integer(e, 0) <= record.id; ++e)
        if (events.integer(e, 0) == record.id) history.push_back(read_event(events, e));
      std::vector<Commitment> settled;
      for (; p < pledges.size() && pledges.integer(p, 1) <= record.id; ++p)
        if (pledges.integer(p, 1) == record.id) settled.push_back(read_commitment(pledges, p));
      auto entries = entries_of(record, history, settled);
      all.insert(all.end(), std::make_move_iterator(entries.begin()), std::make_move_iterator(entries.end()));
    }
    if (all.size() > 1000000) all = summed(std::move(all));
    after = last;
  }
  if (auto s = db.execute("DELETE FROM return_days"); !s) return s;
  const std::vector<ReturnEntry> rows = summed(std::move(all));
  for (std::size_t start = 0; start < rows.size(); start += 1000) {
    Pipeline inserts(db);
    for (std::size_t i = start; i < rows.size() && i < start + 1000; ++i)
      inserts.add("INSERT INTO return_days(day, workflow, measure, key, value) VALUES ($1,$2,$3,$4,$5)",
                  Params()
                      .add(std::int64_t{rows[i].day})
                      .add(rows[i].workflow)
                      .add(to_string(rows[i].measure))
                      .add(rows[i].key)
                      .add(rows[i].value));
    if (auto done = inserts.run(); !done) return done.error();
  }
  return db.execute("UPDATE return_ledger SET built = true WHERE id = 1");
}

Result<TouchpointReport> ReportRecords::touchpoint_report(const std::string& touchpoint, Time since, int limit) {
  // As SQLite's (report_queries.cpp): the broken commitments and the survey from the summary
  // report_touchpoints, the rest from the rows, in one snapshot and one round trip, and one more
  // for the cases of the top causes.
  return pool_.with([&](Connection& db) -> Result<TouchpointReport> {
    auto transaction = Transaction::begin(db, Isolation::kRepeatableRead);
    if (!transaction) return transaction.error();
    constexpr std::int64_t kDay = 86400LL * 1000000LL;
    const std::int64_t first_day = to_micros(since) / kDay;
    const std::int64_t from = first_day * kDay;
    const Params window = Params().add(touchpoint).add(from);
    Pipeline pipeline(db);
    pipeline.add("SELECT count(*) FROM cases WHERE touchpoint = $1 AND received_at >= $2", window);
    pipeline.add(
        "SELECT c.reference, c.subject, c.workflow, c.owner_id, c.status, c.received_at, c.outcome, c.root_cause, "
        "(SELECT count(*) FROM commitments k WHERE k.case_id = c.id AND k.status = 'broken') FROM cases c "
        "WHERE c.touchpoint = $1 AND c.received_at >= $2 ORDER BY c.received_at DESC LIMIT $3",
        Params().add(touchpoint).add(from).add(std::int64_t{limit}));
    pipeline.add(
        "SELECT workflow, root_cause, count(*), count(*) FILTER (WHERE outcome IN ('upheld', 'partly_upheld')) "
        "FROM cases WHERE touchpoint = $1 AND received_at >= $2 AND outcome IS NOT NULL GROUP BY 1, 2 "
        "ORDER BY 3 DESC, 1, 2",
        window);
    // The broken commitments by day and the survey's sums from the summary (report_touchpoints),
    // the latest answers by LIMIT on the index of answers in their order, as on SQLite.
    pipeline.add(
        "SELECT day, n FROM report_touchpoints WHERE day >= $2 AND touchpoint = $1 AND measure = 'broken' AND n <> 0 "
        "ORDER BY day",
        Params().add(touchpoint).add(first_day));
    pipeline.add("SELECT " + report_columns() +
                     " FROM commitments k JOIN cases c ON c.id = k.case_id WHERE k.status = 'broken' AND k.due_at >= $2 "
                     "AND c.touchpoint = $1 ORDER BY k.due_at DESC LIMIT $3",
                 Params().add(touchpoint).add(from).add(std::int64_t{limit}));
    pipeline.add(
        "SELECT measure, key, sum(n)::bigint FROM report_touchpoints WHERE day >= $2 AND touchpoint = $1 "
        "AND measure IN ('survey_responses', 'survey_overall', 'survey_rated', 'survey_score') GROUP BY 1, 2",
        Params().add(touchpoint).add(first_day));
    pipeline.add(
        "SELECT c.reference, e.data FROM events e JOIN cases c ON c.id = e.case_id WHERE e.type = 'survey.submitted' "
        "AND e.at >= $2 AND c.touchpoint = $1 ORDER BY e.at DESC LIMIT $3",
        Params().add(touchpoint).add(from).add(std::int64_t{limit}));
    auto results = pipeline.run();
    if (!results) return results.error();
    TouchpointReport out;
    out.received = (*results)[0].integer(0, 0);
    const Rows& cases = (*results)[1];
    for (int i = 0; i < cases.size(); ++i) {
      TouchpointCase c;
      c.reference = cases.text(i, 0);
      c.subject = cases.text(i, 1);
      c.workflow = cases.text(i, 2);
      c.owner_id = cases.text(i, 3);
      c.status = parse_CaseStatus(cases.view(i, 4)).value_or(CaseStatus::kReceived);
      c.received_at = from_micros(cases.integer(i, 5));
      if (!cases.is_null(i, 6)) c.outcome = parse_Outcome(cases.view(i, 6));
      c.root_cause = cases.text(i, 7);
      c.broken = cases.integer(i, 8);
      out.cases.push_back(std::move(c));
    }
    const Rows& causes = (*results)[2];
    for (int i = 0; i < causes.size(); ++i)
      out.causes.push_back(
          TouchpointCause{causes.text(i, 0), causes.text(i, 1), causes.integer(i, 2), causes.integer(i, 3), {}});
    const Rows& by_day = (*results)[3];
    for (int i = 0; i < by_day.size(); ++i) out.broken_by_day.emplace_back(by_day.integer(i, 0), by_day.integer(i, 1));
    read_items((*results)[4], out.broken);
    // The survey: every answer of the window added up (the summary), the latest `limit` listed.
    const Rows& sums = (*results)[5];
    for (int i = 0; i < sums.size(); ++i) {
      const std::string_view measure = sums.view(i, 0);
      const std::int64_t n = sums.integer(i, 2);
      if (measure == "survey_responses") out.survey.responses = n;
      if (measure == "survey_overall") out.survey.overall = n;
      if (measure == "survey_rated") out.survey.rated = n;
      if (measure == "survey_score")
        for (std::size_t d = 0; d < rater_dimensions().size(); ++d)
          if (sums.view(i, 1) == rater_dimensions()[d]) out.survey.scores[d] = n;
    }
    const Rows& answers = (*results)[6];
    for (int i = 0; i < answers.size(); ++i) {
      SurveyAnswer answer;
      if (read_survey_data(answers.view(i, 1), answer))
        out.answered.push_back(TouchpointAnswer{answers.text(i, 0), answer.overall});
    }
    // The newest cases of the first five causes.
    if (!out.causes.empty()) {
      Pipeline references(db);
      for (std::size_t i = 0; i < out.causes.size() && i < 5; ++i)
        references.add(
            "SELECT reference FROM cases WHERE touchpoint = $1 AND received_at >= $2 AND workflow = $3 "
            "AND root_cause = $4 AND outcome IS NOT NULL ORDER BY received_at DESC LIMIT 10",
            Params().add(touchpoint).add(from).add(out.causes[i].workflow).add(out.causes[i].root_cause));
      auto found = references.run();
      if (!found) return found.error();
      for (std::size_t i = 0; i < found->size(); ++i)
        for (int r = 0; r < (*found)[i].size(); ++r) out.causes[i].references.push_back((*found)[i].text(r, 0));
    }
    return out;
  });
}

Result<std::vector<TouchpointCount>> ReportRecords::touchpoint_counts(const std::vector<std::string>& touchpoints,
                                                                      Time since) {
  return pool_.with([&](Connection& db) -> Result<std::vector<TouchpointCount>> {
    // From the summaries, as on SQLite: the cases received (report_received) and the broken
    // commitments (report_touchpoints) of the days from that of `since`.
    const std::int64_t from_day = to_micros(since) / (86400LL * 1000000LL);
    Pipeline pipeline(db);
    pipeline.add(
        "SELECT value, sum(received)::bigint FROM report_received WHERE day >= $1 AND dimension = 'touchpoint' "
        "GROUP BY 1",
        Params().add(from_day));
    pipeline.add(
        "SELECT touchpoint, sum(n)::bigint FROM report_touchpoints WHERE day >= $1 AND measure = 'broken' GROUP BY 1",
        Params().add(from_day));
    auto results = pipeline.run();
    if (!results) return results.error();
    std::vector<TouchpointCount> out;
    for (const auto& touchpoint : touchpoints) {
      TouchpointCount count{touchpoint, 0, 0};
      for (int i = 0; i < (*results)[0].size(); ++i)
        if ((*results)[0].view(i, 0) == touchpoint) count.received = (*results)[0].integer(i, 1);
      for (int i = 0; i < (*results)[1].size(); ++i)
        if ((*results)[1].view(i, 0) == touchpoint) count.broken = (*results)[1].integer(i, 1);
      out.push_back(std::move(count));
    }
    return out;
  });
}

}  // namespace redress::postgres
