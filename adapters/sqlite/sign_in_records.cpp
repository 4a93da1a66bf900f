#include "adapters/sqlite/sign_in_records.h"

#include "adapters/sqlite/rows.h"

namespace redress::sqlite {

Result<SignInGate> SignInRecords::sign_in_gate(const std::string& email, Time now) {
  return store_.readers.read([&](Connection& db) -> Result<SignInGate> {
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

Result<SignInGate> SignInRecords::record_sign_in_failure(const std::string& email, Time now, int max_failures,
                                                         Duration window, Duration lockout) {
  SignInGate gate;
  Status status = store_.writer.run_write(
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

Status SignInRecords::clear_sign_in_failures(const std::string& email) {
  return store_.writer.run_write(
      [&](Connection& db) -> Status {
        auto& clear = db.cached("DELETE FROM sign_in_failures WHERE email = ?1");
        clear.bind(1, email);
        return clear.run();
      },
      WriteScope::kNoCaseRows);
}

Status SignInRecords::create_session(const StaffSession& session) {
  return store_.writer.run_write(
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

Result<StaffSession> SignInRecords::find_session(const std::string& token_hash, Time now) {
  return store_.readers.read([&](Connection& db) -> Result<StaffSession> {
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

Status SignInRecords::end_session(const std::string& token_hash, Time now) {
  return store_.writer.run_write(
      [&](Connection& db) -> Status {
        auto& end = db.cached("UPDATE staff_sessions SET ended_at = ?2 WHERE token_hash = ?1 AND ended_at IS NULL");
        end.bind(1, token_hash).bind(2, to_micros(now));
        return end.run();
      },
      WriteScope::kNoCaseRows);
}

}  // namespace redress::sqlite
