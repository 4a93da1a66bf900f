// SchedulerRecords: the PostgreSQL store's wake times and leases (engine/store.h's scheduler part).
//
// A lease is one row per name, taken in one statement (an upsert whose WHERE admits the holder's
// renewal or an expired lease), so that any number of nodes agree on its holder. Each time the
// lease changes hands its `attempt` grows: acquire returns it, and `holds` tells a holder whether
// its attempt is still the current one, so that a node that stalled past its lease can refuse its
// own late work (fencing). The CaseStore port returns only whether the lease is held.
//
// Thread-safe: the pool lends each call its own connection.
#pragma once

#include "adapters/postgres/connection_pool.h"
#include "engine/store.h"

namespace redress::postgres {

class SchedulerRecords {
 public:
  explicit SchedulerRecords(ConnectionPool& pool) : pool_(pool) {}

  [[nodiscard]] Result<std::optional<Time>> next_wake();
  [[nodiscard]] Result<std::vector<DueCase>> due_cases(Time now, int limit);
  // The lease's attempt number when `holder` holds it afterwards; nullopt when another does.
  [[nodiscard]] Result<std::optional<std::int64_t>> acquire(const std::string& name, const std::string& holder,
                                                            Time now, Time until);
  // Whether `holder` still holds the lease under `attempt` and it has not expired at `now`.
  [[nodiscard]] Result<bool> holds(const std::string& name, const std::string& holder, std::int64_t attempt,
                                   Time now);
  [[nodiscard]] Status release(const std::string& name, const std::string& holder);

 private:
  ConnectionPool& pool_;
};

}  // namespace redress::postgres
