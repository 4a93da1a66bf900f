#include "adapters/sqlite/plan_contexts.h"

#include <cstdio>

#include "adapters/sqlite/rows.h"

namespace redress::sqlite {

namespace {

// Ids reserved at a time. Plans made ahead take ids only from blocks already committed, so a block
// lasts several groups (an unused rest is a gap at restart).
constexpr std::int64_t kIdBlock = 4096;

const std::string& sequence_name(WriteContext::IdKind kind) {
  static const std::string kCase = "case", kCommitment = "commitment", kRedress = "redress", kMessage = "message";
  switch (kind) {
    case WriteContext::IdKind::kCase: return kCase;
    case WriteContext::IdKind::kCommitment: return kCommitment;
    case WriteContext::IdKind::kRedress: return kRedress;
    case WriteContext::IdKind::kMessage: return kMessage;
  }
  return kMessage;
}

}  // namespace

std::int64_t WriterContext::next_id(IdKind kind) { return next(sequence_name(kind), kIdBlock); }

std::string WriterContext::next_reference(int year) {
  // References are handed out one at a time so that they have no gaps.
  reference_taken = true;
  std::int64_t n = next("reference-" + std::to_string(year), 1);
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "CMP-%04d-%06lld", year, static_cast<long long>(n));
  return buffer;
}

std::optional<Staff> WriterContext::find_staff(const std::string& id_or_email) {
  if (id_or_email.empty()) return std::nullopt;
  return select_staff(db_, id_or_email);
}

std::vector<Staff> WriterContext::staff_with_roles(const std::vector<Role>& roles,
                                                   const std::vector<std::string>& teams) {
  return select_staff_with_roles(db_, roles, teams);
}

std::vector<Event> WriterContext::case_history(std::int64_t case_id) {
  auto events = select_events(db_, case_id);
  if (!events) {
    Error error = events.error();
    error.detail = "cannot read the history of case " + std::to_string(case_id) + ": " + error.detail;
    throw StorageFailure(std::move(error));
  }
  return std::move(events).value();
}

// A rolled back transaction forgets its blocks (the writer calls forget_id_blocks), so no id is
// ever handed out twice; plans made ahead share the blocks, so ids of each kind are handed out in
// increasing order: a later commitment of a case always has the greater id.
std::int64_t WriterContext::next(const std::string& sequence, std::int64_t block) {
  if (auto id = cache_.take_id(sequence)) return *id;
  std::int64_t changes_before = sqlite3_total_changes64(db_.handle());
  // An UPDATE, then a SELECT of the new value: `UPDATE ... RETURNING` gathers its rows in a
  // temporary b-tree, made and dropped at every call (a creation reserves a reference each).
  auto& reserve = db_.cached("UPDATE sequences SET value = value + ?2 WHERE name = ?1");
  reserve.bind(1, sequence).bind(2, block);
  if (auto s = reserve.run(); !s) throw StorageFailure(s.error());
  if (sqlite3_changes64(db_.handle()) == 0) {
    // The sequence's first use: its row starts at the block's end.
    auto& insert = db_.cached("INSERT INTO sequences(name, value) VALUES (?1, ?2)");
    insert.bind(1, sequence).bind(2, block);
    if (auto s = insert.run(); !s) throw StorageFailure(s.error());
  }
  auto& read = db_.cached("SELECT value FROM sequences WHERE name = ?1");
  read.bind(1, sequence);
  if (!read.step()) {
    Status failed = read.status().ok() ? Status(Error::internal("no sequence row " + sequence)) : read.status();
    read.reset();
    throw StorageFailure(failed.error());
  }
  std::int64_t top = read.integer(0);
  read.reset();
  sequence_changes += sqlite3_total_changes64(db_.handle()) - changes_before;
  return cache_.start_block(sequence, top - block + 1, top + 1);
}

std::int64_t AheadPlanContext::next_id(IdKind kind) {
  if (auto id = cache_.take_committed_id(sequence_name(kind))) return *id;
  complete_ = false;
  return 0;
}

}  // namespace redress::sqlite
