// MemoryCaseStore: the engine's CaseStore in memory, for tests that drive the Engine and the
// Scheduler without any storage adapter.
//
// submit() runs the item at once on the caller's thread, as one transaction under one mutex: the
// plan sees a copy of the case as kept, the change's expected version is checked against the kept
// version (kStaleVersion when another change came first), and only then is the case replaced, its
// events, messages and notifications kept and its wake time moved; `done` runs after the mutex is
// released. Ids never repeat, even for a refused plan; references count per year from 1, as the
// SQLite store's do. An idempotency key replays the case it created (kConflict with another digest).
// Nothing is planned ahead (kept_snapshot is null). Staff the plans look up are added by the test.
//
// Thread-safe: any thread may submit and read.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/store.h"

namespace redress::enginetest {

class MemoryCaseStore final : public CaseStore {
 public:
  // Adds a staff member the plans may find; gives it an id ("u-<n>") when it has none.
  Staff add_staff(Staff staff) {
    std::lock_guard lock(mutex_);
    if (staff.id.empty()) staff.id = "u-" + std::to_string(staff_.size() + 1);
    staff_.push_back(staff);
    return staff;
  }

  void submit(WorkItem item) override {
    Result<Committed> result = [&] {
      std::lock_guard lock(mutex_);
      return run(item);
    }();
    if (item.done) item.done(std::move(result));
  }
  // All the items under one hold of the mutex; on a failure the cases, wake times and ids are put
  // back as they were before the first item, and every item gets that failure.
  void submit_together(std::vector<WorkItem> items) override {
    std::vector<Result<Committed>> results;
    {
      std::lock_guard lock(mutex_);
      const auto cases = cases_;
      const auto wakes = wakes_;
      std::optional<Error> failed;
      for (std::size_t i = 0; i < items.size() && !failed; ++i) {
        for (std::size_t j = 0; j < i; ++j)
          if (items[j].reference == items[i].reference) failed = Error::invalid("two items on one case");
        if (failed) break;
        results.push_back(run(items[i]));
        if (!results.back()) failed = results.back().error();
      }
      if (failed) {
        cases_ = cases;
        wakes_ = wakes;
        results.assign(items.size(), Result<Committed>(*failed));
      }
    }
    for (std::size_t i = 0; i < items.size(); ++i)
      if (items[i].done) items[i].done(std::move(results[i]));
  }
  void flush() override {}

  [[nodiscard]] Result<std::optional<Time>> next_wake() override {
    std::lock_guard lock(mutex_);
    std::optional<Time> earliest;
    for (const auto& [reference, wake_at] : wakes_)
      if (!earliest || wake_at < *earliest) earliest = wake_at;
    return earliest;
  }

  [[nodiscard]] Result<std::vector<DueCase>> due_cases(Time now, int limit) override {
    std::lock_guard lock(mutex_);
    std::vector<DueCase> due;
    for (const auto& [reference, wake_at] : wakes_)
      if (wake_at <= now) due.push_back(DueCase{reference, wake_at});
    std::sort(due.begin(), due.end(), [](const DueCase& a, const DueCase& b) {
      return std::pair(a.wake_at, a.reference) < std::pair(b.wake_at, b.reference);
    });
    auto most = static_cast<std::size_t>(std::max(limit, 0));
    if (due.size() > most) due.resize(most);
    return due;
  }

  [[nodiscard]] Result<std::optional<std::int64_t>> acquire_lease(const std::string& name, const std::string& holder,
                                                                  Time now, Time until) override {
    std::lock_guard lock(mutex_);
    auto found = leases_.find(name);
    if (found == leases_.end()) {
      leases_[name] = Lease{holder, until, 1};
      return std::optional<std::int64_t>(1);
    }
    Lease& lease = found->second;
    if (lease.holder != holder && lease.until > now) return std::optional<std::int64_t>();
    if (lease.holder != holder) ++lease.attempt;
    lease.holder = holder;
    lease.until = until;
    return std::optional<std::int64_t>(lease.attempt);
  }

  [[nodiscard]] Result<bool> holds_lease(const LeaseFence& fence, Time now) override {
    std::lock_guard lock(mutex_);
    auto found = leases_.find(fence.name);
    return found != leases_.end() && found->second.holder == fence.holder && found->second.attempt == fence.attempt &&
           found->second.until > now;
  }

  [[nodiscard]] Status release_lease(const std::string& name, const std::string& holder) override {
    std::lock_guard lock(mutex_);
    if (auto lease = leases_.find(name); lease != leases_.end() && lease->second.holder == holder)
      lease->second.until = Time{};
    return Status::success();
  }

  // ---- what the tests look at ----
  [[nodiscard]] std::optional<CaseSnapshot> snapshot(const std::string& reference) const {
    std::lock_guard lock(mutex_);
    auto stored = cases_.find(reference);
    if (stored == cases_.end()) return std::nullopt;
    return stored->second.snapshot;
  }
  [[nodiscard]] std::vector<Event> events(const std::string& reference) const {
    std::lock_guard lock(mutex_);
    auto stored = cases_.find(reference);
    return stored == cases_.end() ? std::vector<Event>{} : stored->second.events;
  }
  [[nodiscard]] std::vector<NotificationDraft> notifications(const std::string& reference) const {
    std::lock_guard lock(mutex_);
    auto stored = cases_.find(reference);
    return stored == cases_.end() ? std::vector<NotificationDraft>{} : stored->second.notifications;
  }
  [[nodiscard]] std::optional<Time> wake_time(const std::string& reference) const {
    std::lock_guard lock(mutex_);
    auto wake = wakes_.find(reference);
    if (wake == wakes_.end()) return std::nullopt;
    return wake->second;
  }
  [[nodiscard]] std::size_t case_count() const {
    std::lock_guard lock(mutex_);
    return cases_.size();
  }

 private:
  struct StoredCase {
    CaseSnapshot snapshot;
    std::vector<Event> events;
    std::vector<Message> messages;
    std::vector<NotificationDraft> notifications;
  };

  // The plan's services, answered from the store while its mutex is held.
  class Context final : public WriteContext {
   public:
    explicit Context(MemoryCaseStore& store) : store_(store) {}
    std::int64_t next_id(IdKind kind) override { return ++store_.last_ids_[kind]; }
    std::string next_reference(int year) override {
      char buffer[32];
      std::snprintf(buffer, sizeof buffer, "CMP-%04d-%06lld", year,
                    static_cast<long long>(++store_.last_references_[year]));
      return buffer;
    }
    std::optional<Staff> find_staff(const std::string& id_or_email) override {
      for (const auto& s : store_.staff_)
        if (!id_or_email.empty() && (s.id == id_or_email || s.email == id_or_email)) return s;
      return std::nullopt;
    }
    std::vector<Staff> staff_with_roles(const std::vector<Role>& roles,
                                        const std::vector<std::string>& teams) override {
      std::vector<Staff> found;
      for (const auto& s : store_.staff_) {
        bool role_matches = std::find(roles.begin(), roles.end(), s.role) != roles.end();
        bool team_matches = teams.empty() || std::find(teams.begin(), teams.end(), s.team) != teams.end();
        if (s.active && role_matches && team_matches) found.push_back(s);
      }
      return found;
    }
    std::vector<Event> case_history(std::int64_t case_id) override {
      for (const auto& [reference, stored] : store_.cases_)
        if (stored.snapshot.record.id == case_id) return stored.events;
      return {};
    }

   private:
    MemoryCaseStore& store_;
  };

  // Rows keyed by id, as a snapshot keeps them: each of `changed` replaces its row or is added.
  template <typename Row>
  static void replace_by_id(std::vector<Row>& rows, const std::vector<Row>& changed) {
    for (const auto& row : changed) {
      auto at = std::find_if(rows.begin(), rows.end(), [&row](const Row& r) { return r.id == row.id; });
      if (at == rows.end())
        rows.push_back(row);
      else
        *at = row;
    }
    std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.id < b.id; });
  }

  // Runs one item; the caller holds mutex_.
  Result<Committed> run(const WorkItem& item) {
    Context context(*this);
    if (item.reference.empty()) {
      if (auto used = idempotency_keys_.find(item.idempotency_key);
          !item.idempotency_key.empty() && used != idempotency_keys_.end()) {
        if (used->second.first != item.request_digest)
          return Error::conflict("the Idempotency-Key was used before with a different request");
        const CaseSnapshot& created = cases_.at(used->second.second).snapshot;
        Committed replay;
        replay.change.after = created.record;
        replay.change.commitments = created.commitments;
        replay.change.redress = created.redress;
        replay.replayed = true;
        return replay;
      }
      auto change = item.plan(nullptr, context);
      if (!change) return change.error();
      if (change->expected_version != -1) return Error::internal("a creation's change expects a stored version");
      if (cases_.count(change->after.reference)) return Error::conflict("case " + change->after.reference + " exists");
      keep(*change);
      if (!item.idempotency_key.empty())
        idempotency_keys_[item.idempotency_key] = {item.request_digest, change->after.reference};
      return Committed{std::move(change).value(), false};
    }
    auto stored = cases_.find(item.reference);
    if (stored == cases_.end()) return Error::not_found("no case " + item.reference);
    CaseSnapshot current = stored->second.snapshot;
    auto change = item.plan(&current, context);
    if (!change) return change.error();
    if (change->expected_version != stored->second.snapshot.record.version)
      return Error::stale("case " + item.reference + " changed since version " +
                          std::to_string(change->expected_version));
    keep(*change);
    return Committed{std::move(change).value(), false};
  }

  void keep(const Change& change) {
    StoredCase& stored = cases_[change.after.reference];
    stored.snapshot.record = change.after;
    replace_by_id(stored.snapshot.commitments, change.commitments);
    replace_by_id(stored.snapshot.redress, change.redress);
    if (change.clock_state) {
      stored.snapshot.clock_state = *change.clock_state;
      stored.snapshot.clock_fold = change.clock_fold;
    }
    stored.events.insert(stored.events.end(), change.events.begin(), change.events.end());
    for (const auto& m : change.messages) {  // inserted, or replaced when staff decide on a held one
      auto same = std::find_if(stored.messages.begin(), stored.messages.end(),
                               [&](const Message& kept) { return kept.id == m.id; });
      if (same == stored.messages.end())
        stored.messages.push_back(m);
      else
        *same = m;
    }
    stored.notifications.insert(stored.notifications.end(), change.notifications.begin(), change.notifications.end());
    if (change.wake == Change::Wake::kSet)
      wakes_[change.after.reference] = change.wake_at;
    else if (change.wake == Change::Wake::kClear)
      wakes_.erase(change.after.reference);
  }

  mutable std::mutex mutex_;
  std::map<std::string, StoredCase> cases_;                                      // by reference
  std::map<std::string, Time> wakes_;                                            // by reference
  std::map<std::string, std::pair<std::string, std::string>> idempotency_keys_;  // key: digest, reference
  struct Lease {
    std::string holder;
    Time until{};
    std::int64_t attempt = 1;
  };
  std::map<std::string, Lease> leases_;
  std::map<WriteContext::IdKind, std::int64_t> last_ids_;
  std::map<int, std::int64_t> last_references_;
  std::vector<Staff> staff_;
};

}  // namespace redress::enginetest
