// SavedViewRecords: the SQLite side of ports/saved_views.h, the case-list views staff save in the
// console (table saved_views, migration 18). Writes go through the writer's queue and touch no
// case row (WriteScope::kNoCaseRows); reads use the reader pool.
//
// Thread-safe: any thread, as the reader pool and the writer are.
#pragma once

#include "adapters/sqlite/store_access.h"
#include "ports/saved_views.h"

namespace redress::sqlite {

class SavedViewRecords {
 public:
  explicit SavedViewRecords(const StoreAccess& store) : store_(store) {}

  [[nodiscard]] Result<std::vector<SavedView>> list_views(const std::string& staff_id, const std::string& team);
  [[nodiscard]] Result<SavedView> save_view(const SavedView& view);
  [[nodiscard]] Status delete_view(std::int64_t id, const std::string& staff_id);

 private:
  StoreAccess store_;
};

}  // namespace redress::sqlite
