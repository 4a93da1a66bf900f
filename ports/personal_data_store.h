// PersonalDataStore: where erasure, restriction, legal holds and redaction are written, and the
// records they keep (docs/personal-data.md).
//
// rewrite_case reads a case whole (its row, history, messages with their files, commitments,
// redress and standing) inside one write transaction, hands it to a plan the engine makes
// (engine/personal_data.h), and writes the CaseRewrite back in that transaction: all of it or
// nothing, the case's version checked as for any change. An erasure (RewriteScope::kWholeCase)
// also blanks, in the same transaction, the case's stored mail and hook payloads with their
// attempts' details, its inbound mail records (and those from the client's address that name no
// case), deletes its client links, and queues the files and raw mail it no longer needs. What lives
// outside that transaction (the blob file, the search index, the WAL and free pages: SQLite's
// copies) is cleaned by purge_erased, which is idempotent and safe to re-run after a crash: until it
// has run, the data is unreachable through Redress but may remain in those files.
//
// Implementations (adapters/sqlite, adapters/postgres) are thread-safe: any thread may call.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "engine/personal_data.h"
#include "engine/result.h"

namespace redress {

// One erasure: a request about one client (identified only by a salted hash of their address) or
// a retention run. `id` is set by the store.
struct ErasureRecord {
  std::int64_t id = 0;
  std::string email_salt;  // hex
  std::string email_hash;  // hex SHA-256(salt bytes || lower-case email); "" for a retention run
  std::string reason;
  std::string actor;   // "staff:u-1", "system"
  std::string source;  // "request" or "retention"
  Time requested_at{};
  std::optional<Time> finished_at;
  std::int64_t cases_erased = 0;
  std::int64_t cases_restricted = 0;
};

// A case as the retention run and the erasure ledger look at it.
struct PrivacyCandidate {
  std::string reference;
  std::string workflow;
  std::string client_email;  // "" once erased
  Time received_at{};
  std::optional<Time> ended_at;
  CasePrivacy privacy;
};

// Where copies of erased data may still be once purge_erased has run.
enum class ErasedCopies {
  kNone,            // in no file of the store (SQLite: the WALs were truncated)
  kWalUntilIdle,    // SQLite: readers kept the WAL busy; the server truncates it when next idle
  kUntilCompacted,  // PostgreSQL: old row versions and WAL segments, until compact() rewrites them
};
// "none", "wal_until_idle", "until_compacted": the API's names (copies_left).
[[nodiscard]] inline const char* to_string(ErasedCopies copies) {
  switch (copies) {
    case ErasedCopies::kNone:
      return "none";
    case ErasedCopies::kWalUntilIdle:
      return "wal_until_idle";
    case ErasedCopies::kUntilCompacted:
      return "until_compacted";
  }
  return "until_compacted";
}

// What purge_erased did.
struct PurgeReport {
  std::int64_t blobs_deleted = 0;
  std::int64_t blobs_kept = 0;  // still referred to by a case that is not erased
  ErasedCopies copies_left = ErasedCopies::kNone;
};

// One step of compact(), as done or not.
enum class StepOutcome { kDone, kNotPermitted, kFailed };
struct CompactionStep {
  std::string name;    // "VACUUM (FULL, ANALYZE) events", "the WAL: 3 segments switched"
  StepOutcome outcome = StepOutcome::kDone;
  std::string detail;  // why not, and what to grant or change; "" when done
  std::chrono::milliseconds took{0};
};

// What compact() did, and where copies remain that it cannot reach (a WAL archive, a replica's
// WAL, segments PostgreSQL keeps for wal_keep_size or a replication slot).
struct CompactionReport {
  std::vector<CompactionStep> steps;
  std::vector<std::string> copies_left;
  // Every step done and nothing left: no file of the store holds erased data.
  [[nodiscard]] bool complete() const {
    for (const auto& step : steps)
      if (step.outcome != StepOutcome::kDone) return false;
    return copies_left.empty();
  }
};

// Called before each step: (its index from 0, how many there are, its name).
using CompactionProgress = std::function<void(std::size_t step, std::size_t steps, const std::string& name)>;

class PersonalDataStore {
 public:
  virtual ~PersonalDataStore() = default;

  using RewritePlan = std::function<Result<CaseRewrite>(const StoredCase& stored)>;
  // Plans and writes one case's rewrite in one transaction; the rewrite as written. kNotFound for
  // no such case; the plan's own error (nothing written) when it refuses.
  [[nodiscard]] virtual Result<CaseRewrite> rewrite_case(const std::string& reference, const RewritePlan& plan) = 0;
  // The case's standing (the defaults when nothing was ever recorded); kNotFound for no such case.
  [[nodiscard]] virtual Result<CasePrivacy> case_privacy(const std::string& reference) = 0;

  // Cases not erased whose client address is `email` (any case), restricted ones included.
  [[nodiscard]] virtual Result<std::vector<PrivacyCandidate>> cases_of_client(const std::string& email) = 0;
  // Cases not erased that are ended or restricted: what retention may erase.
  [[nodiscard]] virtual Result<std::vector<PrivacyCandidate>> retention_candidates() = 0;
  // Every case not erased, with its client address (the erasure ledger matches them after a restore).
  [[nodiscard]] virtual Result<std::vector<PrivacyCandidate>> unerased_cases() = 0;

  // Records an erasure as started; its id.
  [[nodiscard]] virtual Result<std::int64_t> start_erasure(const ErasureRecord& record) = 0;
  [[nodiscard]] virtual Status finish_erasure(std::int64_t id, std::int64_t erased, std::int64_t restricted,
                                              Time at) = 0;
  [[nodiscard]] virtual Result<std::vector<ErasureRecord>> erasures() = 0;

  // Deletes the files and raw mail erased cases no longer need and, on SQLite, re-indexes the
  // search index, merges its segments and truncates the WALs, so that no copy of erased data is
  // left in the data directory's files. Idempotent.
  [[nodiscard]] virtual Result<PurgeReport> purge_erased() = 0;

  // Rewrites what the store keeps of rows as they were before they were erased, so that no file
  // of the store holds erased data (docs/personal-data.md, "Compaction"). SQLite zeroes freed
  // pages as it frees them, so this is purge_erased's WAL truncation again. PostgreSQL keeps old
  // row versions in its table files and WAL: each table that holds case data is rewritten
  // (VACUUM FULL, which locks it meanwhile), then the statistics catalog, then the WAL is switched
  // until no segment written before is left unrewritten. A step the database role may not take is
  // reported kNotPermitted, with what to grant; the others still run. Safe to run at any time.
  [[nodiscard]] virtual Result<CompactionReport> compact(const CompactionProgress& progress) = 0;

  // The daily retention run: true when `holder` took `day` ("2026-12-06"), false when another
  // process has it.
  [[nodiscard]] virtual Result<bool> claim_retention_run(const std::string& day, const std::string& holder,
                                                         Time now) = 0;
  [[nodiscard]] virtual Status finish_retention_run(const std::string& day, const std::string& report, Time now) = 0;
};

}  // namespace redress
