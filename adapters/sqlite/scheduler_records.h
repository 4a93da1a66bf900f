// SchedulerRecords: what the scheduler and the outbox workers coordinate through - each case's next
// wake time (written with the case by the writer, change_writer.h), the cases due, and named
// leases held by one holder at a time until they expire.
//
// A lease is taken or renewed by one upsert, so two nodes never both hold it. Lease writes touch no
// case row (WriteScope::kNoCaseRows); reads use the reader pool.
//
// Thread-safe: any thread, as the reader pool and the writer are.
#pragma once

#include "adapters/sqlite/store_access.h"
#include "engine/store.h"

namespace redress::sqlite {

class SchedulerRecords {
 public:
  explicit SchedulerRecords(const StoreAccess& store) : store_(store) {}

  [[nodiscard]] Result<std::optional<Time>> next_wake();
  [[nodiscard]] Result<std::vector<DueCase>> due_cases(Time now, int limit);
  [[nodiscard]] Result<bool> acquire_lease(const std::string& name, const std::string& holder, Time now, Time until);
  [[nodiscard]] Status release_lease(const std::string& name, const std::string& holder);

 private:
  StoreAccess store_;
};

}  // namespace redress::sqlite
