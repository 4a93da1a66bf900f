// SavedViewStore: the case-list filters staff save under a name in the console (issue 27).
//
// A view belongs to the staff member who saved it; it may also be shared with their team, and
// then the team's members see it in their lists too (only its owner deletes it). The filter is
// kept as the case list's query string ("status=investigating&tag=vip"), which the console reads
// back through its one strict parser, so a view can never hold a filter the list would refuse
// silently. Names are unique per owner.
//
// Implementations (adapters/sqlite, adapters/postgres) are thread-safe: any thread may call.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/result.h"
#include "engine/time.h"

namespace redress {

struct SavedView {
  std::int64_t id = 0;
  std::string staff_id;  // who saved it
  std::string name;
  std::string team;    // shared with this team's members; "" for the owner alone
  std::string filter;  // the case list's query string
  Time created_at{};
};

class SavedViewStore {
 public:
  virtual ~SavedViewStore() = default;
  // The views `staff_id` saved, and those shared with `team` (when not empty), by name.
  [[nodiscard]] virtual Result<std::vector<SavedView>> list_views(const std::string& staff_id,
                                                                  const std::string& team) = 0;
  // Stores a new view (its id and created_at are set); kConflict when its owner has a view of that name.
  [[nodiscard]] virtual Result<SavedView> save_view(const SavedView& view) = 0;
  // Deletes view `id` if `staff_id` saved it; kNotFound otherwise (another's view is not theirs to delete).
  [[nodiscard]] virtual Status delete_view(std::int64_t id, const std::string& staff_id) = 0;
};

}  // namespace redress
