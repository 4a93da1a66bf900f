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

Result<bool> SchedulerRecords::acquire_lease(const std::string& name, const std::string& holder, Time now, Time until) {
  bool held = false;
  Status written = store_.writer.run_write(
      [&](Connection& db) -> Status {
        auto& s = db.cached(
            "INSERT INTO leases(name, holder, expires_at) VALUES (?1, ?2, ?4) "
            "ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at "
            "WHERE leases.holder = excluded.holder OR leases.expires_at <= ?3");
        s.bind(1, name).bind(2, holder).bind(3, to_micros(now)).bind(4, to_micros(until));
        if (auto r = s.run(); !r) return r;
        held = db.changes() == 1;
        return Status::success();
      },
      WriteScope::kNoCaseRows);
  if (!written) return written.error();
  return held;
}

Status SchedulerRecords::release_lease(const std::string& name, const std::string& holder) {
  return store_.writer.run_write(
      [&](Connection& db) -> Status {
        auto& s = db.cached("DELETE FROM leases WHERE name = ?1 AND holder = ?2");
        s.bind(1, name).bind(2, holder);
        return s.run();
      },
      WriteScope::kNoCaseRows);
}

}  // namespace redress::sqlite
