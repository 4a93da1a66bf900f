#include "adapters/sqlite/saved_view_records.h"

namespace redress::sqlite {

Result<std::vector<SavedView>> SavedViewRecords::list_views(const std::string& staff_id, const std::string& team) {
  return store_.readers.read([&](Connection& db) -> Result<std::vector<SavedView>> {
    // Their own, and their team's shared ones (the unique index and the partial team index).
    auto& list = db.cached(
        "SELECT id, staff_id, name, team, filter, created_at FROM saved_views WHERE staff_id = ?1 "
        "UNION SELECT id, staff_id, name, team, filter, created_at FROM saved_views WHERE ?2 <> '' AND team = ?2 "
        "ORDER BY name, id");
    list.bind(1, staff_id).bind(2, team);
    std::vector<SavedView> views;
    while (list.step())
      views.push_back(SavedView{list.integer(0), list.text(1), list.text(2), list.text(3), list.text(4),
                                from_micros(list.integer(5))});
    if (!list.status()) return list.status().error();
    return views;
  });
}

Result<SavedView> SavedViewRecords::save_view(const SavedView& view) {
  SavedView saved = view;
  saved.created_at = store_.clock.now();
  Status status = store_.writer.run_write(
      [&](Connection& db) -> Status {
        auto& taken = db.cached("SELECT 1 FROM saved_views WHERE staff_id = ?1 AND name = ?2");
        taken.bind(1, saved.staff_id).bind(2, saved.name);
        const bool exists = taken.step();
        taken.reset();
        if (exists) return Error::conflict("you have a view named \"" + saved.name + "\" already");
        auto& insert = db.cached(
            "INSERT INTO saved_views(staff_id, name, team, filter, created_at) VALUES (?1,?2,?3,?4,?5) RETURNING id");
        insert.bind(1, saved.staff_id)
            .bind(2, saved.name)
            .bind(3, saved.team)
            .bind(4, saved.filter)
            .bind(5, to_micros(saved.created_at));
        if (!insert.step()) return insert.status().ok() ? Error::internal("no id for the saved view") : insert.status();
        saved.id = insert.integer(0);
        insert.reset();
        return Status::success();
      },
      WriteScope::kNoCaseRows);
  if (!status) return status.error();
  return saved;
}

Status SavedViewRecords::delete_view(std::int64_t id, const std::string& staff_id) {
  return store_.writer.run_write(
      [&](Connection& db) -> Status {
        auto& drop = db.cached("DELETE FROM saved_views WHERE id = ?1 AND staff_id = ?2");
        drop.bind(1, id).bind(2, staff_id);
        if (auto s = drop.run(); !s) return s;
        if (db.changes() == 0) return Error::not_found("you have no saved view " + std::to_string(id));
        return Status::success();
      },
      WriteScope::kNoCaseRows);
}

}  // namespace redress::sqlite
