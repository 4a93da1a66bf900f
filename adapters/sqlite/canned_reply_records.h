// CannedReplyRecords: the SQLite side of ports/canned_replies.h, one row per canned reply (table
// canned_replies; its AUTOINCREMENT id is never reused). Writes touch no case row
// (WriteScope::kNoCaseRows) and return once durable; reads use the reader pool.
//
// Thread-safe: any thread, as the reader pool and the writer are.
#pragma once

#include "adapters/sqlite/store_access.h"
#include "ports/canned_replies.h"

namespace redress::sqlite {

class CannedReplyRecords {
 public:
  explicit CannedReplyRecords(const StoreAccess& store) : store_(store) {}

  [[nodiscard]] Result<std::vector<CannedReply>> list_canned_replies();
  [[nodiscard]] Result<CannedReply> find_canned_reply(std::int64_t id);
  [[nodiscard]] Result<CannedReply> add_canned_reply(const CannedReply& reply);
  [[nodiscard]] Result<CannedReply> update_canned_reply(const CannedReply& reply);
  [[nodiscard]] Status delete_canned_reply(std::int64_t id);

 private:
  StoreAccess store_;
};

}  // namespace redress::sqlite
