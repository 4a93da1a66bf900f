// MailboxRecords: the SQLite side of ports/mailbox_state.h, one row per polled mailbox
// (table mailbox_positions, migration 13). Writes touch no case row (WriteScope::kNoCaseRows);
// reads use the reader pool.
//
// Thread-safe: any thread, as the reader pool and the writer are.
#pragma once

#include "adapters/sqlite/store_access.h"
#include "ports/mailbox_state.h"

namespace redress::sqlite {

class MailboxRecords {
 public:
  explicit MailboxRecords(const StoreAccess& store) : store_(store) {}

  [[nodiscard]] Result<std::optional<MailboxPosition>> mailbox_position(const std::string& mailbox);
  [[nodiscard]] Status set_mailbox_position(const std::string& mailbox, const MailboxPosition& position);
  [[nodiscard]] Status set_mailbox_position_fenced(const std::string& mailbox, const MailboxPosition& position,
                                                   const LeaseFence& fence, Time now);

 private:
  StoreAccess store_;
};

}  // namespace redress::sqlite
