// CaseQueries: the store's reads of cases and what hangs off them - a case's snapshot, history,
// messages and view (with the cheap stamp that says whether a cached view is still current), the
// case and commitment lists, client links, the counts /metrics shows and the audit of the hash
// chains - and the one write among them, replacing a case's client link.
//
// Reads run on the pooled read-only connections and see committed data only (WAL snapshot
// isolation); a read that makes several look-ups runs them in one read transaction, so they see
// one snapshot. The write goes through the writer's queue (write_pipeline.h) and returns once it
// is durable.
//
// Thread-safe: any thread, as the reader pool and the writer are.
#pragma once

#include "adapters/sqlite/store_access.h"
#include "ports/case_reader.h"
#include "ports/client_links.h"

namespace redress::sqlite {

class CaseQueries {
 public:
  explicit CaseQueries(const StoreAccess& store) : store_(store) {}

  [[nodiscard]] Result<CaseSnapshot> load_case(const std::string& reference);
  [[nodiscard]] Result<std::vector<Event>> case_events(const std::string& reference);
  [[nodiscard]] Result<std::vector<Message>> case_messages(const std::string& reference);
  [[nodiscard]] Result<CaseView> load_case_view(const std::string& reference);
  [[nodiscard]] Result<CaseViewStamp> case_view_stamp(const std::string& reference);
  [[nodiscard]] Result<CasePage> list_cases(const CaseFilter& filter, const std::string& cursor, int limit);
  [[nodiscard]] Result<CasePage> search_cases(const std::string& text, const CaseFilter& filter,
                                              const std::string& cursor, int limit);
  [[nodiscard]] Result<AuditReport> verify_chains();
  [[nodiscard]] Result<CaseSnapshot> load_case_by_client_link(const std::string& token_hash);
  [[nodiscard]] Result<std::string> client_link_nonce(const std::string& reference);
  [[nodiscard]] Status replace_client_link(const std::string& reference, const std::string& nonce,
                                           const std::string& token_hash);
  [[nodiscard]] Result<CommitmentPage> list_commitments(const CommitmentFilter& filter, const std::string& cursor,
                                                        int limit);
  [[nodiscard]] Result<std::string> commitment_case(std::int64_t commitment_id);
  [[nodiscard]] Result<std::string> redress_case(std::int64_t redress_id);
  [[nodiscard]] Result<std::vector<std::pair<std::string, std::int64_t>>> count_cases_by_status();
  [[nodiscard]] Result<std::int64_t> count_open_commitments();
  [[nodiscard]] Result<std::vector<TagCount>> count_cases_by_tag();

 private:
  StoreAccess store_;
};

}  // namespace redress::sqlite
