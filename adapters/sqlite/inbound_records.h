// InboundRecords: the SQLite side of ports/inbound_mail_store.h — the inbound_mail table.
//
// Claims and finishes are administrative writes through the writer's queue (they touch no case
// row: WriteScope::kNoCaseRows); look-ups use the reader pool. Thread-safe: any thread.
#pragma once

#include "adapters/sqlite/store_access.h"
#include "ports/inbound_mail_store.h"

namespace redress::sqlite {

class InboundRecords {
 public:
  explicit InboundRecords(const StoreAccess& store) : store_(store) {}

  [[nodiscard]] Result<InboundClaim> claim_inbound(const InboundArrival& arrival, Time now, Duration lease);
  [[nodiscard]] Status finish_inbound(std::int64_t id, const std::string& disposition,
                                      const std::string& case_reference, const std::string& detail,
                                      const std::string& bounced_address);
  [[nodiscard]] Result<std::int64_t> count_inbound_from(const std::string& address, Time since);
  [[nodiscard]] Result<std::string> notification_case(std::int64_t notification_id);
  [[nodiscard]] Result<std::vector<InboundRecord>> list_inbound(const std::string& case_reference, int limit);
  [[nodiscard]] Result<std::int64_t> count_open_cases_with_bounces();

 private:
  StoreAccess store_;
};

}  // namespace redress::sqlite
