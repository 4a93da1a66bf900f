// The WriteContexts plans are made in (engine/store.h): WriterContext, on the writer's connection
// inside its transaction, and AheadPlanContext, on a thread planning ahead of the writer.
//
// Ids come in blocks reserved from the `sequences` table in the writer's transaction and kept in
// the SnapshotCache, shared with the plans made ahead, which take ids only from committed blocks
// (snapshot_cache.h); case references are reserved one at a time, so that they have no gaps.
//
// Thread-compatible: a WriterContext is used by the writer thread only, for the time of one group
// (or one administration item); an AheadPlanContext by the one thread making its plan.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "adapters/sqlite/database.h"
#include "adapters/sqlite/snapshot_cache.h"
#include "engine/store.h"

namespace redress::sqlite {

// A read or write a WriteContext could not make (its interface has no Result): carries the
// store's Error, so that a full disk is still answered 503, not 500. The writer catches it around
// each item.
struct StorageFailure : std::runtime_error {
  explicit StorageFailure(Error e) : std::runtime_error(e.detail), error(std::move(e)) {}
  Error error;
};

// The WriteContext handed to the writer's plans: ids and staff look-ups on the writer connection.
class WriterContext final : public WriteContext {
 public:
  WriterContext(SnapshotCache& cache, Connection& db) : cache_(cache), db_(db) {}

  std::int64_t next_id(IdKind kind) override;
  std::string next_reference(int year) override;
  std::optional<Staff> find_staff(const std::string& id_or_email) override;
  std::vector<Staff> staff_with_roles(const std::vector<Role>& roles, const std::vector<std::string>& teams) override;
  std::vector<Event> case_history(std::int64_t case_id) override;

  // The next id of `sequence`, from the current block or a new one of `block` ids reserved in the
  // open transaction. Throws StorageFailure when the reservation fails.
  std::int64_t next(const std::string& sequence, std::int64_t block);

  // What the current item did to `sequences` (the writer tells from these whether a failed item
  // wrote anything else).
  void start_item() {
    sequence_changes = 0;
    reference_taken = false;
  }
  std::int64_t sequence_changes = 0;  // rows of `sequences` changed
  bool reference_taken = false;       // a case reference was handed out

 private:
  SnapshotCache& cache_;
  Connection& db_;
};

// The context of plans made ahead of the writer: ids from committed blocks, nothing else.
class AheadPlanContext final : public AheadContext {
 public:
  explicit AheadPlanContext(SnapshotCache& cache) : cache_(cache) {}

  std::int64_t next_id(IdKind kind) override;
  std::string next_reference(int) override { return incomplete<std::string>(); }
  std::optional<Staff> find_staff(const std::string&) override { return incomplete<std::optional<Staff>>(); }
  std::vector<Staff> staff_with_roles(const std::vector<Role>&, const std::vector<std::string>&) override {
    return incomplete<std::vector<Staff>>();
  }
  std::vector<Event> case_history(std::int64_t) override { return incomplete<std::vector<Event>>(); }
  bool complete() const override { return complete_; }

 private:
  // What only the writer's transaction can answer (a gapless reference, staff as they are now, the
  // history): the plan is left to the writer.
  template <typename T>
  T incomplete() {
    complete_ = false;
    return T{};
  }

  SnapshotCache& cache_;
  bool complete_ = true;
};

}  // namespace redress::sqlite
