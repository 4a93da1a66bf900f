#include "adapters/sqlite/snapshot_cache.h"

#include "adapters/sqlite/rows.h"

namespace redress::sqlite {

namespace {

// Merges `changed` rows into `rows`, both sorted by id: a row with the same id is replaced.
template <typename Row>
void merge_by_id(std::vector<Row>& rows, const std::vector<Row>& changed) {
  for (const auto& row : changed) {
    auto at = lower_bound_id(rows, row.id);
    if (at != rows.end() && at->id == row.id)
      *at = row;
    else
      rows.insert(at, row);
  }
}

// The snapshot after `change`, from the one before: what load_snapshot would now read.
void apply_change(CaseSnapshot& snapshot, const Change& change) {
  snapshot.record = change.after;
  if (change.clock_state) {
    snapshot.clock_state = *change.clock_state;
    snapshot.clock_fold = change.clock_fold;
  }
  merge_by_id(snapshot.commitments, change.commitments);
  merge_by_id(snapshot.redress, change.redress);
}

// The same, as a new snapshot: `before` is left as it is. Copies all but the case record, which
// the change replaces.
CaseSnapshot changed_snapshot(const CaseSnapshot& before, const Change& change) {
  CaseSnapshot after{change.after, before.commitments, before.redress,
                     change.clock_state ? *change.clock_state : before.clock_state,
                     change.clock_state ? change.clock_fold : before.clock_fold};
  merge_by_id(after.commitments, change.commitments);
  merge_by_id(after.redress, change.redress);
  return after;
}

}  // namespace

SnapshotCache::Kept SnapshotCache::kept(const std::string& reference) const {
  std::lock_guard lock(snapshots_mutex_);
  auto kept = snapshots_.find(reference);
  if (kept == snapshots_.end()) return nullptr;
  return kept->second;
}

SnapshotCache::Kept* SnapshotCache::writer_entry(const std::string& reference) {
  // No lock: only the writer changes the map.
  auto kept = snapshots_.find(reference);
  return kept == snapshots_.end() ? nullptr : &kept->second;
}

void SnapshotCache::keep_changed(Kept& entry, const Change& change) {
  // Never in place, even when nobody else seems to hold it: use_count() is a relaxed read, so it
  // would not order a planning thread's last reads before these writes.
  auto after = std::make_shared<const CaseSnapshot>(changed_snapshot(*entry, change));
  std::lock_guard lock(snapshots_mutex_);
  entry = std::move(after);
}

void SnapshotCache::keep(const std::string& reference, CaseSnapshot before, const Change& change) {
  if (capacity_ == 0) return;
  apply_change(before, change);
  auto kept = std::make_shared<const CaseSnapshot>(std::move(before));
  std::lock_guard lock(snapshots_mutex_);
  if (snapshots_.size() >= capacity_) snapshots_.erase(snapshots_.begin());
  snapshots_.insert_or_assign(reference, std::move(kept));
}

void SnapshotCache::forget(const std::string& reference) {
  std::lock_guard lock(snapshots_mutex_);
  snapshots_.erase(reference);
}

void SnapshotCache::forget_snapshots() {
  std::lock_guard lock(snapshots_mutex_);
  snapshots_.clear();
}

std::optional<std::int64_t> SnapshotCache::take_committed_id(const std::string& sequence) {
  std::lock_guard lock(ids_mutex_);
  auto ids = id_blocks_.find(sequence);
  if (ids == id_blocks_.end() || !ids->second.committed || ids->second.next >= ids->second.end) return std::nullopt;
  return ids->second.next++;
}

std::optional<std::int64_t> SnapshotCache::take_id(const std::string& sequence) {
  std::lock_guard lock(ids_mutex_);
  auto& ids = id_blocks_[sequence];
  if (ids.next < ids.end) return ids.next++;
  return std::nullopt;
}

std::int64_t SnapshotCache::start_block(const std::string& sequence, std::int64_t first, std::int64_t end) {
  // Only the writer starts blocks, so the one replaced is still used up.
  std::lock_guard lock(ids_mutex_);
  auto& ids = id_blocks_[sequence];
  ids = IdBlock{first, end, false};
  return ids.next++;
}

void SnapshotCache::commit_id_blocks() {
  std::lock_guard lock(ids_mutex_);
  for (auto& [name, ids] : id_blocks_) ids.committed = true;
}

void SnapshotCache::forget_id_blocks() {
  std::lock_guard lock(ids_mutex_);
  id_blocks_.clear();
}

}  // namespace redress::sqlite
