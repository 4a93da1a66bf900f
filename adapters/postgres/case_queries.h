// CaseQueries: the PostgreSQL store's CaseReader, CaseSearch and ClientLinks: cases as stored, read
// on pooled connections (each call one statement, or one REPEATABLE READ transaction when it reads
// several), and the replacement of a case's client link.
//
// Thread-safe: the pool lends each call its own connection.
#pragma once

#include "adapters/postgres/connection_pool.h"
#include "engine/clock.h"
#include "ports/store.h"

namespace redress::postgres {

class CaseQueries {
 public:
  CaseQueries(ConnectionPool& pool, const Clock& clock) : pool_(pool), clock_(clock) {}

  [[nodiscard]] Result<CaseSnapshot> load_case(const std::string& reference);
  [[nodiscard]] Result<std::vector<Event>> case_events(const std::string& reference);
  [[nodiscard]] Result<std::vector<Message>> case_messages(const std::string& reference);
  [[nodiscard]] Result<CaseView> load_case_view(const std::string& reference);
  [[nodiscard]] Result<CaseViewStamp> case_view_stamp(const std::string& reference);
  [[nodiscard]] Result<CasePage> list_cases(const CaseFilter& filter, const std::string& cursor, int limit);
  [[nodiscard]] Result<CasePage> search_cases(const std::string& text, const CaseFilter& filter,
                                              const std::string& cursor, int limit);
  [[nodiscard]] Result<AuditReport> verify_chains();
  [[nodiscard]] Result<CommitmentPage> list_commitments(const CommitmentFilter& filter, const std::string& cursor,
                                                        int limit);
  [[nodiscard]] Result<std::string> commitment_case(std::int64_t commitment_id);
  [[nodiscard]] Result<std::string> redress_case(std::int64_t redress_id);
  [[nodiscard]] Result<std::vector<std::pair<std::string, std::int64_t>>> count_cases_by_status();
  [[nodiscard]] Result<std::int64_t> count_open_commitments();
  [[nodiscard]] Result<std::vector<TagCount>> count_cases_by_tag();

  [[nodiscard]] Result<CaseSnapshot> load_case_by_client_link(const std::string& token_hash);
  [[nodiscard]] Result<std::string> client_link_nonce(const std::string& reference);
  [[nodiscard]] Status replace_client_link(const std::string& reference, const std::string& nonce,
                                           const std::string& token_hash);

 private:
  ConnectionPool& pool_;
  const Clock& clock_;
};

}  // namespace redress::postgres
