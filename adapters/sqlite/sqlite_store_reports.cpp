// SqliteStore: the scheduler's wake times and leases, and the reports managers review.
#include <algorithm>
#include <map>

#include "adapters/sqlite/rows.h"
#include "adapters/sqlite/sqlite_store.h"
#include "adapters/sqlite/summaries.h"

namespace redress::sqlite {

namespace {

constexpr const char* kReportColumns =
    "k.id, k.case_id, k.kind, k.text, k.due_at, k.owner_id, k.client_visible, k.status, k.created_at, k.settled_at, "
    "k.note, k.replaces_id, k.replaced_by_id, k.redress_id, k.pledge_key, k.warning_times, k.warnings_fired, "
    "k.handled_at, k.handled_note, c.reference, c.subject, c.team, c.escalation_level";
constexpr int kReportCommitmentColumns = 19;

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

Result<std::optional<Time>> SqliteStore::next_wake() {
  return with_reader([&](Connection& db) -> Result<std::optional<Time>> {
    auto& s = db.cached("SELECT min(wake_at) FROM case_wakes");
    std::optional<Time> wake;
    if (s.step() && !s.is_null(0)) wake = from_micros(s.integer(0));
    Status status = s.status();
    s.reset();
    if (!status) return status.error();
    return wake;
  });
}

Result<std::vector<DueCase>> SqliteStore::due_cases(Time now, int limit) {
  return with_reader([&](Connection& db) -> Result<std::vector<DueCase>> {
    auto& s = db.cached(
        "SELECT c.reference, w.wake_at FROM case_wakes w JOIN cases c ON c.id = w.case_id "
        "WHERE w.wake_at <= ?1 ORDER BY w.wake_at, w.case_id LIMIT ?2");
    s.bind(1, to_micros(now)).bind(2, static_cast<std::int64_t>(std::max(1, limit)));
    std::vector<DueCase> due;
    while (s.step()) due.push_back(DueCase{s.text(0), from_micros(s.integer(1))});
    Status status = s.status();
    s.reset();
    if (!status) return status.error();
    return due;
  });
}

Result<bool> SqliteStore::acquire_lease(const std::string& name, const std::string& holder, Time now, Time until) {
  bool held = false;
  Status written = run_write(
      [&](Connection& db) -> Status {
        auto& s = db.cached(
            "INSERT INTO leases(name, holder, expires_at) VALUES (?1, ?2, ?4) "
            "ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at "
            "WHERE leases.holder = excluded.holder OR leases.expires_at <= ?3");
        s.bind(1, name).bind(2, holder).bind(3, to_micros(now)).bind(4, to_micros(until));
        if (auto r = s.run(); !r) return r;
        held = db.changes() == 1;
        return Status::success();
      },
      WriteScope::kNoCaseRows);
  if (!written) return written.error();
  return held;
}

Status SqliteStore::release_lease(const std::string& name, const std::string& holder) {
  return run_write(
      [&](Connection& db) -> Status {
        auto& s = db.cached("DELETE FROM leases WHERE name = ?1 AND holder = ?2");
        s.bind(1, name).bind(2, holder);
        return s.run();
      },
      WriteScope::kNoCaseRows);
}

Result<OverdueReport> SqliteStore::overdue_report(Time now, int limit) {
  return with_reader([&](Connection& db) -> Result<OverdueReport> {
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
Result<std::vector<OwnerStats>> SqliteStore::owner_report(Time since) {
  return with_reader([&](Connection& db) -> Result<std::vector<OwnerStats>> {
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

Result<std::vector<PledgeAttainment>> SqliteStore::standards_report(Time now) {
  return with_reader([&](Connection& db) -> Result<std::vector<PledgeAttainment>> {
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
      bool kept = s.text(1) == "kept";
      bool recent = s.integer(2) != 0;
      std::int64_t n = s.integer(3);
      (kept ? a.met_90 : a.broken_90) += n;
      if (recent) (kept ? a.met_30 : a.broken_30) += n;
    }
    if (auto status = s.status(); !status) return status.error();
    s.reset();
    std::vector<PledgeAttainment> out;
    for (auto& [key, a] : by_clock) out.push_back(std::move(a));
    return out;
  });
}

}  // namespace redress::sqlite
