#include "adapters/postgres/report_records.h"

#include <algorithm>
#include <map>

#include "adapters/postgres/rows.h"

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

}  // namespace redress::postgres
