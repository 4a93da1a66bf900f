// InboundRecords: the SQLite side of ports/inbound_mail_store.h — the inbound_mail table.
//
// A record with a case change is written by the ChangeWriter (insert_inbound_receipt, in the
// change's transaction); one without, by record_inbound, an administrative write through the
// writer's queue (it touches no case row: WriteScope::kNoCaseRows). Look-ups use the reader pool.
// Thread-safe: any thread.
#pragma once

#include "adapters/sqlite/store_access.h"
#include "ports/inbound_mail_store.h"

namespace redress::sqlite {

// Inserts the record on the open transaction: true when written, false when the message has one.
[[nodiscard]] Result<bool> insert_inbound_receipt(Connection& db, const InboundReceipt& receipt);

class InboundRecords {
 public:
  explicit InboundRecords(const StoreAccess& store) : store_(store) {}

  [[nodiscard]] Result<std::optional<InboundRecord>> find_inbound(const std::string& blob_key);
  [[nodiscard]] Result<Recorded> record_inbound(const InboundReceipt& receipt);
  [[nodiscard]] Result<std::int64_t> count_inbound_from(const std::string& address, Time since);
  [[nodiscard]] Result<std::string> notification_case(std::int64_t notification_id);
  [[nodiscard]] Result<std::vector<InboundRecord>> list_inbound(const std::string& case_reference, int limit);
  [[nodiscard]] Result<std::int64_t> count_open_cases_with_bounces();

 private:
  StoreAccess store_;
};

}  // namespace redress::sqlite
