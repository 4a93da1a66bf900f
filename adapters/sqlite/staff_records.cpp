#include "adapters/sqlite/staff_records.h"

#include "adapters/sqlite/rows.h"

namespace redress::sqlite {

namespace {

// Moves the credentials' generation forward inside the writer's transaction (ports/staff_directory.h).
Status move_credentials_generation(Connection& db) {
  auto& move = db.cached(
      "INSERT INTO sequences(name, value) VALUES ('credentials', 1) "
      "ON CONFLICT(name) DO UPDATE SET value = value + 1");
  return move.run();
}

}  // namespace

Result<Staff> StaffRecords::add_staff(const Staff& staff) {
  Staff added = staff;
  Status status = store_.writer.run_write([&](Connection& db) -> Status {
    if (select_staff(db, staff.email))
      return Error::conflict("a staff member with the email " + staff.email + " exists");
    WriterContext context(ids_, db);
    added.id = "u-" + std::to_string(context.next("staff", 1));
    auto& insert =
        db.cached("INSERT INTO staff(id, name, email, role, team, active, created_at) VALUES (?1,?2,?3,?4,?5,?6,?7)");
    insert.bind(1, added.id)
        .bind(2, added.name)
        .bind(3, added.email)
        .bind(4, to_string(added.role))
        .bind(5, added.team)
        .bind(6, added.active ? 1 : 0)
        .bind(7, to_micros(store_.clock.now()));
    return insert.run();
  });
  if (!status) return status.error();
  return added;
}

Result<Staff> StaffRecords::find_staff(const std::string& id_or_email) {
  return store_.readers.read([&](Connection& db) -> Result<Staff> {
    auto staff = select_staff(db, id_or_email);
    if (!staff) return Error::not_found("no staff member " + id_or_email);
    return *staff;
  });
}

Result<std::vector<Staff>> StaffRecords::list_staff() {
  return store_.readers.read([&](Connection& db) -> Result<std::vector<Staff>> {
    std::vector<Staff> all;
    auto& list =
        db.cached("SELECT id, name, email, role, team, active FROM staff ORDER BY CAST(substr(id, 3) AS INTEGER)");
    while (list.step()) all.push_back(read_staff(list, 0));
    if (!list.status()) return list.status().error();
    return all;
  });
}

Status StaffRecords::add_token(const std::string& staff_id, const std::string& token_hash, const std::string& label) {
  return store_.writer.run_write([&](Connection& db) -> Status {
    auto& insert = db.cached("INSERT INTO tokens(hash, staff_id, label, created_at) VALUES (?1,?2,?3,?4)");
    insert.bind(1, token_hash).bind(2, staff_id).bind(3, label).bind(4, to_micros(store_.clock.now()));
    return insert.run();
  });
}

Result<Staff> StaffRecords::staff_for_token(const std::string& token_hash) {
  return store_.readers.read([&](Connection& db) -> Result<Staff> {
    auto& find = db.cached(
        "SELECT s.id, s.name, s.email, s.role, s.team, s.active FROM tokens t JOIN staff s ON s.id = t.staff_id "
        "WHERE t.hash = ?1 AND t.revoked_at IS NULL AND s.active = 1");
    find.bind(1, token_hash);
    if (!find.step()) return find.status().ok() ? Error::not_found("unknown or revoked token") : find.status().error();
    Staff staff = read_staff(find, 0);
    find.reset();
    return staff;
  });
}

Result<std::string> StaffRecords::password_hash(const std::string& staff_id) {
  return store_.readers.read([&](Connection& db) -> Result<std::string> {
    auto& find =
        db.cached("SELECT password_hash FROM staff WHERE id = ?1 AND active = 1 AND password_hash IS NOT NULL");
    find.bind(1, staff_id);
    if (!find.step()) return find.status().ok() ? Error::not_found("no password is set") : find.status().error();
    std::string hash = find.text(0);
    find.reset();
    return hash;
  });
}

Result<Staff> StaffRecords::update_staff(const Staff& staff) {
  Status status = store_.writer.run_write([&](Connection& db) -> Status {
    auto stored = select_staff(db, staff.id);
    if (!stored || stored->id != staff.id) return Error::not_found("no staff member " + staff.id);
    if (auto other = select_staff(db, staff.email); other && other->id != staff.id)
      return Error::conflict("a staff member with the email " + staff.email + " exists (" + other->id + ")");
    auto& update = db.cached("UPDATE staff SET name = ?2, email = ?3, role = ?4, team = ?5, active = ?6 WHERE id = ?1");
    update.bind(1, staff.id)
        .bind(2, staff.name)
        .bind(3, staff.email)
        .bind(4, to_string(staff.role))
        .bind(5, staff.team)
        .bind(6, staff.active ? 1 : 0);
    if (auto s = update.run(); !s) return s;
    if (!staff.active && stored->active) {
      const auto now = to_micros(store_.clock.now());
      auto& tokens = db.cached("UPDATE tokens SET revoked_at = ?2 WHERE staff_id = ?1 AND revoked_at IS NULL");
      tokens.bind(1, staff.id).bind(2, now);
      if (auto s = tokens.run(); !s) return s;
      auto& sessions =
          db.cached("UPDATE staff_sessions SET ended_at = ?2 WHERE staff_id = ?1 AND ended_at IS NULL");
      sessions.bind(1, staff.id).bind(2, now);
      if (auto s = sessions.run(); !s) return s;
    }
    // A role, a team or the active flag may have changed: every node forgets its token look-ups.
    return move_credentials_generation(db);
  });
  if (!status) return status.error();
  return staff;
}

Status StaffRecords::set_password_hash(const std::string& staff_id, const std::string& hash) {
  return store_.writer.run_write([&](Connection& db) -> Status {
    auto& update = db.cached("UPDATE staff SET password_hash = ?2 WHERE id = ?1");
    update.bind(1, staff_id).bind(2, hash);
    if (auto s = update.run(); !s) return s;
    if (db.changes() == 0) return Error::not_found("no staff member " + staff_id);
    return Status::success();
  });
}

namespace {

constexpr std::size_t kTokenIdDigits = 16;

TokenInfo read_token(const Statement& row) {
  TokenInfo token;
  token.id = "t-" + row.text(0).substr(0, kTokenIdDigits);
  token.staff_id = row.text(1);
  token.label = row.text(2);
  token.created_at = from_micros(row.integer(3));
  if (auto revoked = row.optional_integer(4)) token.revoked_at = from_micros(*revoked);
  return token;
}

}  // namespace

Result<std::vector<TokenInfo>> StaffRecords::list_tokens(const std::string& staff_id) {
  return store_.readers.read([&](Connection& db) -> Result<std::vector<TokenInfo>> {
    std::vector<TokenInfo> all;
    auto& list = db.cached(
        "SELECT hash, staff_id, label, created_at, revoked_at FROM tokens WHERE staff_id = ?1 ORDER BY created_at, hash");
    list.bind(1, staff_id);
    while (list.step()) all.push_back(read_token(list));
    if (!list.status()) return list.status().error();
    return all;
  });
}

Result<TokenInfo> StaffRecords::revoke_token(const std::string& token_id) {
  // "t-" and 16 lower-case hex digits: the prefix of one token's hash.
  if (token_id.size() != 2 + kTokenIdDigits || token_id.rfind("t-", 0) != 0 ||
      token_id.find_first_not_of("0123456789abcdef", 2) != std::string::npos)
    return Error::not_found("no token " + token_id);
  const std::string prefix = token_id.substr(2);
  TokenInfo revoked;
  Status status = store_.writer.run_write([&](Connection& db) -> Status {
    auto& find = db.cached(
        "SELECT hash, staff_id, label, created_at, revoked_at FROM tokens WHERE substr(hash, 1, 16) = ?1 LIMIT 2");
    find.bind(1, prefix);
    std::vector<std::string> hashes;
    while (find.step()) {
      hashes.push_back(find.text(0));
      revoked = read_token(find);
    }
    if (!find.status()) return find.status();
    if (hashes.empty()) return Error::not_found("no token " + token_id);
    if (hashes.size() > 1) return Error::conflict("the token id " + token_id + " is ambiguous");
    if (revoked.revoked_at) return Status::success();
    const Time now = store_.clock.now();
    auto& update = db.cached("UPDATE tokens SET revoked_at = ?2 WHERE hash = ?1 AND revoked_at IS NULL");
    update.bind(1, hashes.front()).bind(2, to_micros(now));
    if (auto s = update.run(); !s) return s;
    revoked.revoked_at = now;
    return move_credentials_generation(db);
  });
  if (!status) return status.error();
  return revoked;
}

}  // namespace redress::sqlite
