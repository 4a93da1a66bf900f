#include "adapters/postgres/scheduler_records.h"

#include <algorithm>

namespace redress::postgres {

Result<std::optional<Time>> SchedulerRecords::next_wake() {
  return pool_.with([&](Connection& db) -> Result<std::optional<Time>> {
    auto rows = db.query("SELECT min(wake_at) FROM case_wakes");
    if (!rows) return rows.error();
    if (rows->empty() || rows->is_null(0, 0)) return std::optional<Time>();
    return std::optional<Time>(from_micros(rows->integer(0, 0)));
  });
}

Result<std::vector<DueCase>> SchedulerRecords::due_cases(Time now, int limit) {
  return pool_.with([&](Connection& db) -> Result<std::vector<DueCase>> {
    auto rows = db.query(
        "SELECT c.reference, w.wake_at FROM case_wakes w JOIN cases c ON c.id = w.case_id "
        "WHERE w.wake_at <= $1 ORDER BY w.wake_at, w.case_id LIMIT $2",
        Params().add(to_micros(now)).add(std::int64_t{std::max(1, limit)}));
    if (!rows) return rows.error();
    std::vector<DueCase> due;
    for (int i = 0; i < rows->size(); ++i) due.push_back(DueCase{rows->text(i, 0), from_micros(rows->integer(i, 1))});
    return due;
  });
}

Result<std::optional<std::int64_t>> SchedulerRecords::acquire(const std::string& name, const std::string& holder,
                                                              Time now, Time until) {
  return pool_.with([&](Connection& db) -> Result<std::optional<std::int64_t>> {
    // One statement: the row lock of the upsert decides between nodes racing for the lease.
    auto rows = db.query(
        "INSERT INTO leases(name, holder, expires_at, attempt) VALUES ($1, $2, $4, 1) "
        "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at, "
        "attempt = leases.attempt + CASE WHEN leases.holder = excluded.holder THEN 0 ELSE 1 END "
        "WHERE leases.holder = excluded.holder OR leases.expires_at <= $3 RETURNING attempt",
        Params().add(name).add(holder).add(to_micros(now)).add(to_micros(until)));
    if (!rows) return rows.error();
    if (rows->empty()) return std::optional<std::int64_t>();
    return std::optional<std::int64_t>(rows->integer(0, 0));
  });
}

Result<bool> SchedulerRecords::holds(const std::string& name, const std::string& holder, std::int64_t attempt,
                                     Time now) {
  return pool_.with([&](Connection& db) -> Result<bool> {
    auto rows = db.query("SELECT 1 FROM leases WHERE name = $1 AND holder = $2 AND attempt = $3 AND expires_at > $4",
                         Params().add(name).add(holder).add(attempt).add(to_micros(now)));
    if (!rows) return rows.error();
    return !rows->empty();
  });
}

Status SchedulerRecords::release(const std::string& name, const std::string& holder) {
  return pool_.with([&](Connection& db) -> Status {
    // Expired now rather than deleted: the attempt count goes on with the next holder.
    auto rows = db.query("UPDATE leases SET expires_at = 0 WHERE name = $1 AND holder = $2",
                         Params().add(name).add(holder));
    if (!rows) return rows.error();
    return Status::success();
  });
}

}  // namespace redress::postgres
