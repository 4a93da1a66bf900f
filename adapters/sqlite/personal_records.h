// PersonalRecords: the SQLite store's side of personal data (ports/personal_data_store.h) - case
// rewrites for erasure, restriction, legal holds and redaction; the erasure records; the retention
// runs; and the purge that leaves no copy of erased data in the data directory's files.
//
// A rewrite runs on the writer's queue (write_pipeline.h) as one transaction that may touch cases
// (the writer forgets its kept snapshots first). The purge then works outside that transaction,
// on the parts with files of their own, in an order that a crash at any point leaves resumable:
// the blobs an erasure released are listed in `erasure_blobs` in the erasure's transaction and
// struck from the list only after the blob file has deleted them; the search index re-indexes the
// pending cases (their erased text), merges its segments so no deleted row's text remains in them,
// and truncates its WAL; lastly the store's own WAL is checkpointed and truncated. Every
// connection runs with secure_delete, so freed pages are zeroed rather than left readable; so
// compaction (`redress compact`) has nothing to rewrite here but the WALs, which it truncates again.
//
// Thread-safe: any thread, as the writer's queue and the reader pool are; purges take turns.
#pragma once

#include <mutex>
#include <string>

#include "adapters/sqlite/blob_store.h"
#include "adapters/sqlite/search_index.h"
#include "adapters/sqlite/store_access.h"
#include "ports/personal_data_store.h"

namespace redress::sqlite {

// The case's standing as stored (the defaults when it has no row).
[[nodiscard]] Result<CasePrivacy> select_privacy(Connection& db, std::int64_t case_id);

class PersonalRecords {
 public:
  PersonalRecords(const StoreAccess& store, const std::string& database_path, SearchIndex& search,
                  SqliteBlobStore& blobs)
      : store_(store), database_path_(database_path), search_(search), blobs_(blobs) {}

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
  [[nodiscard]] Result<CompactionReport> compact(const CompactionProgress& progress);
  [[nodiscard]] Result<bool> claim_retention_run(const std::string& day, const std::string& holder, Time now);
  [[nodiscard]] Status finish_retention_run(const std::string& day, const std::string& report, Time now);

 private:
  [[nodiscard]] Result<std::vector<PrivacyCandidate>> candidates(const std::string& where, const std::string& bound);

  StoreAccess store_;
  const std::string database_path_;
  SearchIndex& search_;
  SqliteBlobStore& blobs_;
  std::mutex purge_mutex_;  // one purge at a time in this process
};

}  // namespace redress::sqlite
