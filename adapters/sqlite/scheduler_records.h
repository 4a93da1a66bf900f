// SchedulerRecords: what the scheduler and the outbox workers coordinate through - each case's next
// wake time (written with the case by the writer, change_writer.h), the cases due, and named
// leases held by one holder at a time until they expire.
//
// A lease is taken or renewed by one upsert, so two nodes never both hold it; its `attempt` grows
// each time it changes hands (migration 21), and a write fenced by a lease (LeaseFence) checks it
// in the write's own transaction (fence_holds). Lease writes touch no case row
// (WriteScope::kNoCaseRows); reads use the reader pool.
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
  [[nodiscard]] Result<std::optional<std::int64_t>> acquire_lease(const std::string& name, const std::string& holder,
                                                                  Time now, Time until);
  [[nodiscard]] Result<bool> holds_lease(const LeaseFence& fence, Time now);
  [[nodiscard]] Status release_lease(const std::string& name, const std::string& holder);

 private:
  StoreAccess store_;
};

// Inside a write transaction: success while `fence` is its lease's current holder and attempt,
// unexpired at `now`; kConflict otherwise (the lease was taken over: the write must not happen).
[[nodiscard]] Status fence_holds(Connection& db, const LeaseFence& fence, Time now);

}  // namespace redress::sqlite
