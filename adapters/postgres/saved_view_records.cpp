#include "adapters/postgres/saved_view_records.h"

namespace redress::postgres {

Result<std::vector<SavedView>> SavedViewRecords::list_views(const std::string& staff_id, const std::string& team) {
  return pool_.with([&](Connection& db) -> Result<std::vector<SavedView>> {
    auto rows = db.query(
        "SELECT id, staff_id, name, team, filter, created_at FROM saved_views "
        "WHERE staff_id = $1 OR ($2 <> '' AND team = $2) ORDER BY name, id",
        Params().add(staff_id).add(team));
    if (!rows) return rows.error();
    std::vector<SavedView> views;
    for (int i = 0; i < rows->size(); ++i)
      views.push_back(SavedView{rows->integer(i, 0), rows->text(i, 1), rows->text(i, 2), rows->text(i, 3),
                                rows->text(i, 4), from_micros(rows->integer(i, 5))});
    return views;
  });
}

Result<SavedView> SavedViewRecords::save_view(const SavedView& view) {
  SavedView saved = view;
  saved.created_at = clock_.now();
  return pool_.with([&](Connection& db) -> Result<SavedView> {
    auto rows = db.query(
        "INSERT INTO saved_views(staff_id, name, team, filter, created_at) VALUES ($1,$2,$3,$4,$5) "
        "ON CONFLICT (staff_id, name) DO NOTHING RETURNING id",
        Params().add(saved.staff_id).add(saved.name).add(saved.team).add(saved.filter).add(to_micros(saved.created_at)));
    if (!rows) return rows.error();
    if (rows->empty()) return Error::conflict("you have a view named \"" + saved.name + "\" already");
    saved.id = rows->integer(0, 0);
    return saved;
  });
}

Status SavedViewRecords::delete_view(std::int64_t id, const std::string& staff_id) {
  return pool_.with([&](Connection& db) -> Status {
    auto rows = db.query("DELETE FROM saved_views WHERE id = $1 AND staff_id = $2", Params().add(id).add(staff_id));
    if (!rows) return rows.error();
    if (rows->affected() == 0) return Error::not_found("you have no saved view " + std::to_string(id));
    return Status::success();
  });
}

}  // namespace redress::postgres
