// SavedViewRecords: the PostgreSQL side of ports/saved_views.h (table saved_views, migration 6),
// on the store's connection pool. A name taken by its owner is refused by the unique index too,
// so two nodes saving the same name at once store one.
//
// Thread-safe: any thread, as the pool is.
#pragma once

#include "adapters/postgres/connection_pool.h"
#include "engine/clock.h"
#include "ports/saved_views.h"

namespace redress::postgres {

class SavedViewRecords {
 public:
  SavedViewRecords(ConnectionPool& pool, const Clock& clock) : pool_(pool), clock_(clock) {}

  [[nodiscard]] Result<std::vector<SavedView>> list_views(const std::string& staff_id, const std::string& team);
  [[nodiscard]] Result<SavedView> save_view(const SavedView& view);
  [[nodiscard]] Status delete_view(std::int64_t id, const std::string& staff_id);

 private:
  ConnectionPool& pool_;
  const Clock& clock_;
};

}  // namespace redress::postgres
