// Compaction: what PostgreSQL keeps of rows as they were before an erasure, rewritten away
// (PersonalDataStore::compact; docs/personal-data.md, "Compaction on PostgreSQL").
//
// An UPDATE leaves the old row version in the table file until VACUUM, and even then its bytes stay
// in the page's free space; ANALYZE copies column values into pg_statistic; the WAL keeps every
// change as written, and with wal_recycle on (the default) a finished segment is renamed for reuse
// with its old bytes inside. Compaction therefore:
//   1. rewrites each table that holds case data (VACUUM (FULL, ANALYZE): a new file from the live
//      rows; the old file is emptied at commit and removed at the next checkpoint);
//   2. rewrites pg_statistic, whose rows ANALYZE has just taken again from what is left;
//   3. switches to a new WAL segment and checkpoints, again and again, until every segment that
//      existed when the erasure's WAL was written has been removed or written over from its start
//      (a switched segment's unused tail is written as zeroes).
// Each table is locked while it is rewritten (ACCESS EXCLUSIVE): writers and readers of it wait.
// A table still locked by others after `lock_timeout` is reported and left for the next run.
//
// Steps the role may not take are reported StepOutcome::kNotPermitted with what to grant: the
// tables need their owner (the role that ran `redress migrate`), pg_statistic the database's owner
// or a superuser, the WAL pg_checkpoint, pg_monitor and EXECUTE on pg_switch_wal().
//
// Thread-safe: each call opens a connection of its own.
#pragma once

#include <chrono>
#include <string>

#include "ports/personal_data_store.h"

namespace redress::postgres {

class Compaction {
 public:
  explicit Compaction(std::string url, std::chrono::seconds lock_timeout = std::chrono::seconds(30))
      : url_(std::move(url)), lock_timeout_(lock_timeout) {}

  [[nodiscard]] Result<CompactionReport> run(const CompactionProgress& progress);

  // The tables that hold case data, personal or derived from it: each erasure rewrites rows in
  // them (the storage contract test reads every row of each after an erasure).
  static const std::vector<std::string>& personal_tables();

 private:
  std::string url_;
  std::chrono::seconds lock_timeout_;
};

}  // namespace redress::postgres
