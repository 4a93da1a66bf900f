#include "adapters/postgres/staff_records.h"

#include "adapters/postgres/rows.h"

namespace redress::postgres {

namespace {

// Moves the credentials' generation forward in the caller's transaction and tells every node at
// the commit (ports/staff_directory.h, listener.h).
Status move_credentials_generation(Connection& db) {
  auto moved = db.query(
      "INSERT INTO sequences(name, value) VALUES ('credentials', 1) ON CONFLICT (name) DO UPDATE SET value = "
      "sequences.value + 1 RETURNING value");
  if (!moved) return moved.error();
  auto notified = db.query("SELECT pg_notify('redress_wake', $1)",
                           Params().add("credentials=" + std::to_string(moved->integer(0, 0))));
  if (!notified) return notified.error();
  return Status::success();
}

}  // namespace

Result<Staff> StaffRecords::add_staff(const Staff& staff) {
  const Time now = clock_.now();
  return pool_.with([&](Connection& db) -> Result<Staff> {
    auto transaction = Transaction::begin(db);
    if (!transaction) return transaction.error();
    auto existing = select_staff(db, staff.email);
    if (!existing) return existing.error();
    if (*existing) return Error::conflict("a staff member with the email " + staff.email + " exists");
    auto number = db.query(
        "INSERT INTO sequences(name, value) VALUES ('staff', 1) ON CONFLICT (name) DO UPDATE SET value = "
        "sequences.value + 1 RETURNING value");
    if (!number) return number.error();
    Staff added = staff;
    added.id = "u-" + std::to_string(number->integer(0, 0));
    auto inserted =
        db.query("INSERT INTO staff(id, name, email, role, team, active, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7)",
                 Params()
                     .add(added.id)
                     .add(added.name)
                     .add(added.email)
                     .add(to_string(added.role))
                     .add(added.team)
                     .add(std::int64_t{added.active ? 1 : 0})
                     .add(to_micros(now)));
    if (!inserted) {
      if (db.last_failure() == Failure::kUnique)
        return Error::conflict("a staff member with the email " + staff.email + " exists");
      return inserted.error();
    }
    if (auto s = transaction->commit(); !s) return s.error();
    return added;
  });
}

Result<Staff> StaffRecords::find_staff(const std::string& id_or_email) {
  return pool_.with([&](Connection& db) -> Result<Staff> {
    auto staff = select_staff(db, id_or_email);
    if (!staff) return staff.error();
    if (!*staff) return Error::not_found("no staff member " + id_or_email);
    return **staff;
  });
}

Result<std::vector<Staff>> StaffRecords::list_staff() {
  return pool_.with([&](Connection& db) -> Result<std::vector<Staff>> {
    auto rows = db.query(std::string("SELECT ") + kStaffColumns +
                         " FROM staff ORDER BY CASE WHEN id ~ '^u-[0-9]+$' THEN substr(id, 3)::bigint END, id");
    if (!rows) return rows.error();
    std::vector<Staff> all;
    for (int i = 0; i < rows->size(); ++i) all.push_back(read_staff(*rows, i));
    return all;
  });
}

Status StaffRecords::add_token(const std::string& staff_id, const std::string& token_hash, const std::string& label) {
  const Time now = clock_.now();
  return pool_.with([&](Connection& db) -> Status {
    auto inserted = db.query("INSERT INTO tokens(hash, staff_id, label, created_at) VALUES ($1,$2,$3,$4)",
                             Params().add(token_hash).add(staff_id).add(label).add(to_micros(now)));
    if (!inserted) return inserted.error();
    return Status::success();
  });
}

Result<Staff> StaffRecords::staff_for_token(const std::string& token_hash) {
  return pool_.with([&](Connection& db) -> Result<Staff> {
    auto rows = db.query(
        "SELECT s.id, s.name, s.email, s.role, s.team, s.active FROM tokens t JOIN staff s ON s.id = t.staff_id "
        "WHERE t.hash = $1 AND t.revoked_at IS NULL AND s.active = 1",
        Params().add(token_hash));
    if (!rows) return rows.error();
    if (rows->empty()) return Error::not_found("unknown or revoked token");
    return read_staff(*rows, 0);
  });
}

Result<std::string> StaffRecords::password_hash(const std::string& staff_id) {
  return pool_.with([&](Connection& db) -> Result<std::string> {
    auto rows = db.query("SELECT password_hash FROM staff WHERE id = $1 AND active = 1 AND password_hash IS NOT NULL",
                         Params().add(staff_id));
    if (!rows) return rows.error();
    if (rows->empty()) return Error::not_found("no password is set");
    return rows->text(0, 0);
  });
}

Status StaffRecords::set_password_hash(const std::string& staff_id, const std::string& hash) {
  return pool_.with([&](Connection& db) -> Status {
    auto updated = db.query("UPDATE staff SET password_hash = $2 WHERE id = $1", Params().add(staff_id).add(hash));
    if (!updated) return updated.error();
    if (updated->affected() == 0) return Error::not_found("no staff member " + staff_id);
    return Status::success();
  });
}

namespace {

constexpr std::size_t kTokenIdDigits = 16;
constexpr const char* kTokenColumns = "hash, staff_id, label, created_at, revoked_at";

TokenInfo read_token(const Rows& rows, int i) {
  TokenInfo token;
  token.id = "t-" + rows.text(i, 0).substr(0, kTokenIdDigits);
  token.staff_id = rows.text(i, 1);
  token.label = rows.text(i, 2);
  token.created_at = from_micros(rows.integer(i, 3));
  if (!rows.is_null(i, 4)) token.revoked_at = from_micros(rows.integer(i, 4));
  return token;
}

}  // namespace

Result<Staff> StaffRecords::update_staff(const Staff& staff) {
  const Time now = clock_.now();
  return pool_.with([&](Connection& db) -> Result<Staff> {
    auto transaction = Transaction::begin(db);
    if (!transaction) return transaction.error();
    // The member's row locked first, so two admins changing one member take turns.
    auto locked = db.query("SELECT active FROM staff WHERE id = $1 FOR UPDATE", Params().add(staff.id));
    if (!locked) return locked.error();
    if (locked->empty()) return Error::not_found("no staff member " + staff.id);
    const bool was_active = locked->integer(0, 0) != 0;
    auto updated = db.query("UPDATE staff SET name = $2, email = $3, role = $4, team = $5, active = $6 WHERE id = $1",
                            Params()
                                .add(staff.id)
                                .add(staff.name)
                                .add(staff.email)
                                .add(to_string(staff.role))
                                .add(staff.team)
                                .add(std::int64_t{staff.active ? 1 : 0}));
    if (!updated) {
      if (db.last_failure() == Failure::kUnique)
        return Error::conflict("a staff member with the email " + staff.email + " exists");
      return updated.error();
    }
    if (was_active && !staff.active) {
      // A leaver: every token and session ends with the change, on every node at once.
      auto tokens = db.query("UPDATE tokens SET revoked_at = $2 WHERE staff_id = $1 AND revoked_at IS NULL",
                             Params().add(staff.id).add(to_micros(now)));
      if (!tokens) return tokens.error();
      auto sessions = db.query("UPDATE staff_sessions SET ended_at = $2 WHERE staff_id = $1 AND ended_at IS NULL",
                               Params().add(staff.id).add(to_micros(now)));
      if (!sessions) return sessions.error();
    }
    // A role, a team or the active flag may have changed: every node forgets its token look-ups.
    if (auto s = move_credentials_generation(db); !s) return s.error();
    if (auto s = transaction->commit(); !s) return s.error();
    return staff;
  });
}

Result<std::vector<TokenInfo>> StaffRecords::list_tokens(const std::string& staff_id) {
  return pool_.with([&](Connection& db) -> Result<std::vector<TokenInfo>> {
    auto rows = db.query(std::string("SELECT ") + kTokenColumns +
                             " FROM tokens WHERE staff_id = $1 ORDER BY created_at, hash",
                         Params().add(staff_id));
    if (!rows) return rows.error();
    std::vector<TokenInfo> all;
    for (int i = 0; i < rows->size(); ++i) all.push_back(read_token(*rows, i));
    return all;
  });
}

Result<TokenInfo> StaffRecords::revoke_token(const std::string& token_id) {
  // "t-" and 16 lower-case hex digits: the prefix of one token's hash.
  if (token_id.size() != 2 + kTokenIdDigits || token_id.rfind("t-", 0) != 0 ||
      token_id.find_first_not_of("0123456789abcdef", 2) != std::string::npos)
    return Error::not_found("no token " + token_id);
  const std::string prefix = token_id.substr(2);
  const Time now = clock_.now();
  return pool_.with([&](Connection& db) -> Result<TokenInfo> {
    auto transaction = Transaction::begin(db);
    if (!transaction) return transaction.error();
    auto rows = db.query(std::string("SELECT ") + kTokenColumns +
                             " FROM tokens WHERE substr(hash, 1, 16) = $1 LIMIT 2 FOR UPDATE",
                         Params().add(prefix));
    if (!rows) return rows.error();
    if (rows->empty()) return Error::not_found("no token " + token_id);
    if (rows->size() > 1) return Error::conflict("the token id " + token_id + " is ambiguous");
    TokenInfo token = read_token(*rows, 0);
    if (!token.revoked_at) {
      auto updated = db.query("UPDATE tokens SET revoked_at = $2 WHERE hash = $1",
                              Params().add(rows->text(0, 0)).add(to_micros(now)));
      if (!updated) return updated.error();
      token.revoked_at = now;
      if (auto s = move_credentials_generation(db); !s) return s.error();
    }
    if (auto s = transaction->commit(); !s) return s.error();
    return token;
  });
}

Result<std::int64_t> StaffRecords::credentials_generation() {
  return pool_.with([&](Connection& db) -> Result<std::int64_t> {
    auto rows = db.query("SELECT value FROM sequences WHERE name = 'credentials'");
    if (!rows) return rows.error();
    if (rows->empty()) return std::int64_t{0};
    return rows->integer(0, 0);
  });
}

}  // namespace redress::postgres
