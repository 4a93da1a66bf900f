// The SqliteStore's reads and writes for the web pages: staff sign-in sessions and lock-outs,
// work lists, and the review board's counts.
#include <map>

#include "adapters/sqlite/rows.h"
#include "adapters/sqlite/sqlite_store.h"

namespace redress::sqlite {

namespace {

constexpr const char* kOpenStatuses =
    "('received','acknowledged','investigating','awaiting_client','redress_proposed')";
// The same statuses as the WHERE of the partial index cases_open_level (migration 12) states them:
// a query uses that index only when its WHERE repeats the index's term for term.
constexpr const char* kOpenStatusTerm =
    "(status = 'received' OR status = 'acknowledged' OR status = 'investigating' OR status = 'awaiting_client' OR "
    "status = 'redress_proposed')";

}  // namespace

Result<std::string> SqliteStore::password_hash(const std::string& staff_id) {
  return with_reader([&](Connection& db) -> Result<std::string> {
    auto& find =
        db.cached("SELECT password_hash FROM staff WHERE id = ?1 AND active = 1 AND password_hash IS NOT NULL");
    find.bind(1, staff_id);
    if (!find.step()) return find.status().ok() ? Error::not_found("no password is set") : find.status().error();
    std::string hash = find.text(0);
    find.reset();
    return hash;
  });
}

Result<SignInGate> SqliteStore::sign_in_gate(const std::string& email, Time now) {
  return with_reader([&](Connection& db) -> Result<SignInGate> {
    auto& find = db.cached("SELECT failures, locked_until FROM sign_in_failures WHERE email = ?1");
    find.bind(1, email);
    SignInGate gate;
    if (find.step()) {
      gate.failures = static_cast<int>(find.integer(0));
      if (auto until = find.optional_integer(1); until && from_micros(*until) > now)
        gate.locked_until = from_micros(*until);
    }
    if (auto s = find.status(); !s) return s.error();
    find.reset();
    return gate;
  });
}

Result<SignInGate> SqliteStore::record_sign_in_failure(const std::string& email, Time now, int max_failures,
                                                       Duration window, Duration lockout) {
  SignInGate gate;
  Status status = run_write(
      [&](Connection& db) -> Status {
        // One statement, so concurrent failures (several nodes) count each one.
        auto& upsert = db.cached(
            "INSERT INTO sign_in_failures(email, failures, first_at, locked_until) VALUES (?1, 1, ?2, NULL) "
            "ON CONFLICT(email) DO UPDATE SET "
            " failures = CASE WHEN first_at < ?3 AND coalesce(locked_until, 0) < ?2 THEN 1 ELSE failures + 1 END, "
            " first_at = CASE WHEN first_at < ?3 AND coalesce(locked_until, 0) < ?2 THEN ?2 ELSE first_at END "
            "RETURNING failures");
        upsert.bind(1, email).bind(2, to_micros(now)).bind(3, to_micros(now - window));
        if (!upsert.step())
          return upsert.status().ok() ? Status(Error::internal("no failure count returned")) : upsert.status();
        gate.failures = static_cast<int>(upsert.integer(0));
        upsert.reset();
        if (gate.failures >= max_failures) {
          auto& lock = db.cached("UPDATE sign_in_failures SET locked_until = ?2 WHERE email = ?1");
          lock.bind(1, email).bind(2, to_micros(now + lockout));
          if (auto s = lock.run(); !s) return s;
          gate.locked_until = now + lockout;
        }
        return Status::success();
      },
      WriteScope::kNoCaseRows);
  if (!status) return status.error();
  return gate;
}

Status SqliteStore::clear_sign_in_failures(const std::string& email) {
  return run_write(
      [&](Connection& db) -> Status {
        auto& clear = db.cached("DELETE FROM sign_in_failures WHERE email = ?1");
        clear.bind(1, email);
        return clear.run();
      },
      WriteScope::kNoCaseRows);
}

Status SqliteStore::create_session(const StaffSession& session) {
  return run_write(
      [&](Connection& db) -> Status {
        auto& insert = db.cached(
            "INSERT INTO staff_sessions(token_hash, staff_id, csrf, created_at, expires_at) VALUES (?1,?2,?3,?4,?5)");
        insert.bind(1, session.token_hash)
            .bind(2, session.staff_id)
            .bind(3, session.csrf)
            .bind(4, to_micros(session.created_at))
            .bind(5, to_micros(session.expires_at));
        if (auto s = insert.run(); !s) return s;
        // Sessions long over are of no use: each sign-in sweeps its staff member's old ones.
        auto& sweep =
            db.cached("DELETE FROM staff_sessions WHERE staff_id = ?1 AND (expires_at < ?2 OR ended_at < ?2)");
        sweep.bind(1, session.staff_id)
            .bind(2, static_cast<std::int64_t>(to_micros(session.created_at) - std::int64_t{86400} * 1000000));
        return sweep.run();
      },
      WriteScope::kNoCaseRows);
}

Result<StaffSession> SqliteStore::find_session(const std::string& token_hash, Time now) {
  return with_reader([&](Connection& db) -> Result<StaffSession> {
    auto& find = db.cached(
        "SELECT s.staff_id, s.csrf, s.created_at, s.expires_at FROM staff_sessions s JOIN staff st ON st.id = "
        "s.staff_id "
        "WHERE s.token_hash = ?1 AND s.ended_at IS NULL AND s.expires_at > ?2 AND st.active = 1");
    find.bind(1, token_hash).bind(2, to_micros(now));
    if (!find.step()) return find.status().ok() ? Error::not_found("no such session") : find.status().error();
    StaffSession session{token_hash, find.text(0), find.text(1), from_micros(find.integer(2)),
                         from_micros(find.integer(3))};
    find.reset();
    return session;
  });
}

Status SqliteStore::end_session(const std::string& token_hash, Time now) {
  return run_write(
      [&](Connection& db) -> Status {
        auto& end = db.cached("UPDATE staff_sessions SET ended_at = ?2 WHERE token_hash = ?1 AND ended_at IS NULL");
        end.bind(1, token_hash).bind(2, to_micros(now));
        return end.run();
      },
      WriteScope::kNoCaseRows);
}

Result<std::vector<WorklistItem>> SqliteStore::owner_worklist(const std::string& owner_id, int limit) {
  return with_reader([&](Connection& db) -> Result<std::vector<WorklistItem>> {
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

Result<std::vector<AttentionCount>> SqliteStore::attention_by_owner(Time now) {
  return with_reader([&](Connection& db) -> Result<std::vector<AttentionCount>> {
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

Result<std::vector<EscalationCount>> SqliteStore::escalation_counts() {
  return with_reader([&](Connection& db) -> Result<std::vector<EscalationCount>> {
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

Result<std::vector<WeeklyCount>> SqliteStore::weekly_counts(Time since) {
  return with_reader([&](Connection& db) -> Result<std::vector<WeeklyCount>> {
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

}  // namespace redress::sqlite
