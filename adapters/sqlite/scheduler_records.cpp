#include "adapters/sqlite/scheduler_records.h"

#include "adapters/sqlite/rows.h"

namespace redress::sqlite {

Result<std::optional<Time>> SchedulerRecords::next_wake() {
  return store_.readers.read([&](Connection& db) -> Result<std::optional<Time>> {
    return step_optional_time(db.cached("SELECT min(wake_at) FROM case_wakes"));
  });
}

Result<std::vector<DueCase>> SchedulerRecords::due_cases(Time now, int limit) {
  return store_.readers.read([&](Connection& db) -> Result<std::vector<DueCase>> {
    auto& s = db.cached(
        "SELECT c.reference, w.wake_at FROM case_wakes w JOIN cases c ON c.id = w.case_id "
        "WHERE w.wake_at <= ?1 ORDER BY w.wake_at, w.case_id LIMIT ?2");
    s.bind(1, to_micros(now)).bind(2, static_cast<std::int64_t>(std::max(1, limit)));
    std::vector<DueCase> due;
    while (s.step()) due.push_back(DueCase{s.text(0), from_micros(s.integer(1))});
    Status status = s.status();
    s.reset();
    if (!status) return status.error();
    return due;
  });
}

Result<std::optional<std::int64_t>> SchedulerRecords::acquire_lease(const std::string& name, const std::string& holder,
                                                                    Time now, Time until) {
  std::optional<std::int64_t> attempt;
  Status written = store_.writer.run_write(
      [&](Connection& db) -> Status {
        attempt.reset();
        auto& s = db.cached(
            "INSERT INTO leases(name, holder, expires_at, attempt) VALUES (?1, ?2, ?4, 1) "
            "ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at, "
            "attempt = leases.attempt + (leases.holder <> excluded.holder) "
            "WHERE leases.holder = excluded.holder OR leases.expires_at <= ?3 RETURNING attempt");
        s.bind(1, name).bind(2, holder).bind(3, to_micros(now)).bind(4, to_micros(until));
        if (s.step()) attempt = s.integer(0);
        Status status = s.status();
        s.reset();
        return status;
      },
      WriteScope::kNoCaseRows);
  if (!written) return written.error();
  return attempt;
}

Result<bool> SchedulerRecords::holds_lease(const LeaseFence& fence, Time now) {
  return store_.readers.read([&](Connection& db) -> Result<bool> {
    auto& s = db.cached("SELECT 1 FROM leases WHERE name = ?1 AND holder = ?2 AND attempt = ?3 AND expires_at > ?4");
    s.bind(1, fence.name).bind(2, fence.holder).bind(3, fence.attempt).bind(4, to_micros(now));
    bool held = s.step();
    Status status = s.status();
    s.reset();
    if (!status) return status.error();
    return held;
  });
}

Status fence_holds(Connection& db, const LeaseFence& fence, Time now) {
  auto& s = db.cached("SELECT 1 FROM leases WHERE name = ?1 AND holder = ?2 AND attempt = ?3 AND expires_at > ?4");
  s.bind(1, fence.name).bind(2, fence.holder).bind(3, fence.attempt).bind(4, to_micros(now));
  bool held = s.step();
  Status status = s.status();
  s.reset();
  if (!status) return status;
  if (!held)
    return Error::conflict("the lease " + fence.name + " is no longer held by " + fence.holder + " under attempt " +
                           std::to_string(fence.attempt) + ": another holder took it over");
  return Status::success();
}

Status SchedulerRecords::release_lease(const std::string& name, const std::string& holder) {
  return store_.writer.run_write(
      [&](Connection& db) -> Status {
        // Expired now rather than deleted: the attempt count goes on with the next holder.
        auto& s = db.cached("UPDATE leases SET expires_at = 0 WHERE name = ?1 AND holder = ?2");
        s.bind(1, name).bind(2, holder);
        return s.run();
      },
      WriteScope::kNoCaseRows);
}

}  // namespace redress::sqlite
