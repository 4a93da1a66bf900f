#include "adapters/postgres/staff_records.h"

#include "adapters/postgres/rows.h"

namespace redress::postgres {

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

}  // namespace redress::postgres
