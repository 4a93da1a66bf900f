#include "adapters/sqlite/staff_records.h"

#include "adapters/sqlite/rows.h"

namespace redress::sqlite {

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

}  // namespace redress::sqlite
