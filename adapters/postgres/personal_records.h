// PersonalRecords: the PostgreSQL store's side of personal data (ports/personal_data_store.h), as
// adapters/sqlite/personal_records.h does it on SQLite: a case's rewrite in one transaction with
// the case row locked (FOR UPDATE, so any node's writer waits for it and its version check sees
// it), the erasure records, the retention runs, and the purge of the blobs erased cases released.
//
// What PostgreSQL itself keeps is another matter (docs/personal-data.md): an UPDATE leaves the old
// row version in the table until VACUUM reclaims it, and the WAL (and any WAL archive or
// replica) keeps the change as written. purge_erased leaves those to compaction (compaction.h,
// `redress compact`), which locks each table while it rewrites it.
//
// Thread-safe: each call borrows its own pooled connection.
#pragma once

#include "adapters/postgres/connection_pool.h"
#include "engine/clock.h"
#include "ports/personal_data_store.h"

namespace redress::postgres {

// The case's standing as stored (the defaults when it has no row).
[[nodiscard]] Result<CasePrivacy> select_privacy(Connection& db, std::int64_t case_id);

class PersonalRecords {
 public:
  explicit PersonalRecords(ConnectionPool& pool) : pool_(pool) {}

  [[nodiscard]] Result<CaseRewrite> rewrite_case(const std::string& reference,
                                                 const PersonalDataStore::RewritePlan& plan);
  [[nodiscard]] Result<CasePrivacy> case_privacy(const std::string& reference);
  [[nodiscard]] Result<std::vector<PrivacyCandidate>> cases_of_client(const std::string& email);
  [[nodiscard]] Result<std::vector<PrivacyCandidate>> retention_candidates();
  [[nodiscard]] Result<std::vector<PrivacyCandidate>> unerased_cases();
  [[nodiscard]] Result<std::int64_t> start_erasure(const ErasureRecord& record);
  [[nodiscard]] Status finish_erasure(std::int64_t id, std::int64_t erased, std::int64_t restricted, Time at);
  [[nodiscard]] Result<std::vector<ErasureRecord>> erasures();
  [[nodiscard]] Result<PurgeReport> purge_erased();
  [[nodiscard]] Result<bool> claim_retention_run(const std::string& day, const std::string& holder, Time now);
  [[nodiscard]] Status finish_retention_run(const std::string& day, const std::string& report, Time now);

 private:
  [[nodiscard]] Result<std::vector<PrivacyCandidate>> candidates(const std::string& where, const Params& params);

  ConnectionPool& pool_;
};

}  // namespace redress::postgres
