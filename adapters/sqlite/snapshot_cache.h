// SnapshotCache: what the store's writer shares with the threads that plan actions ahead of it
// (Engine::submit): the case snapshots its own commits left, and the blocks of ids it reserved.
//
// Kept snapshots. The writer keeps the snapshot of each case it writes, as its transaction leaves
// it, so that the next plan on that case need not read it back; it is only a shortcut (the plan is
// written with a version-checked UPDATE, which refuses it if the database moved on). Invariants:
// a snapshot, once kept, is never changed (a plan made ahead may still be reading it without a
// lock): the writer keeps a new one after each change. Only the writer changes the map, under the
// mutex; it reads the map without it (nobody else writes it), and other threads copy a pointer out
// under the mutex. Whatever a rolled-back transaction or savepoint may have kept is forgotten with
// it (forget_snapshots). At most `capacity` snapshots are kept (0: none).
//
// Id blocks. Ids are handed out from blocks reserved in the `sequences` table by the writer's
// transaction (WriterContext). Plans made ahead take ids only from blocks whose reservation is
// committed, so ids of each kind are handed out in increasing order and none twice; a block not
// used up is a gap at restart. A rolled-back transaction forgets every block (forget_id_blocks).
//
// Thread-safety: the writer-only members say so; the others may be called from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "engine/store.h"

namespace redress::sqlite {

class SnapshotCache {
 public:
  using Kept = std::shared_ptr<const CaseSnapshot>;

  explicit SnapshotCache(std::size_t capacity) : capacity_(capacity) {}
  SnapshotCache(const SnapshotCache&) = delete;
  SnapshotCache& operator=(const SnapshotCache&) = delete;

  // ---- kept snapshots

  // The snapshot kept for `reference`, or null. Any thread.
  [[nodiscard]] Kept kept(const std::string& reference) const;
  // Writer only: the entry kept for `reference` (valid until the writer next changes the map), or
  // null.
  [[nodiscard]] Kept* writer_entry(const std::string& reference);
  // Writer only: after `change` is written on the case kept in `entry`, keeps the snapshot it
  // leaves in its place: a new one, the old one is left as it is.
  void keep_changed(Kept& entry, const Change& change);
  // Writer only: keeps the snapshot `before` becomes once `change` is written on it (a creation:
  // `before` empty).
  void keep(const std::string& reference, CaseSnapshot before, const Change& change);
  // Writer only: forgets the snapshot of `reference` (written by another process, or refused).
  void forget(const std::string& reference);
  // Writer only: forgets every snapshot (a rollback, or work that may change any case row).
  void forget_snapshots();

  // ---- id blocks (by sequence name)

  // An id of a committed block for a plan made ahead, or nullopt (the writer will plan the item).
  [[nodiscard]] std::optional<std::int64_t> take_committed_id(const std::string& sequence);
  // Writer only: an id of the current block of `sequence`, committed or not; nullopt when it has
  // none left (reserve a block, then `start_block`).
  [[nodiscard]] std::optional<std::int64_t> take_id(const std::string& sequence);
  // Writer only: replaces the block of `sequence` with the ids [first, end), reserved in the open
  // transaction (not committed yet), and takes the first.
  [[nodiscard]] std::int64_t start_block(const std::string& sequence, std::int64_t first, std::int64_t end);
  // Writer only: the transaction that reserved the blocks committed; plans made ahead may take
  // from them.
  void commit_id_blocks();
  // Writer only: the transaction that reserved the blocks rolled back.
  void forget_id_blocks();

 private:
  struct IdBlock {
    std::int64_t next = 0;
    std::int64_t end = 0;    // exclusive
    bool committed = false;  // its reservation is committed: plans made ahead may take from it
  };

  const std::size_t capacity_;
  mutable std::mutex snapshots_mutex_;
  std::unordered_map<std::string, Kept> snapshots_;  // changed by the writer only, under snapshots_mutex_
  std::mutex ids_mutex_;
  std::map<std::string, IdBlock> id_blocks_;  // guarded by ids_mutex_; blocks are started by the writer only
};

}  // namespace redress::sqlite
