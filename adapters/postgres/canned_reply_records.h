// CannedReplyRecords: the PostgreSQL store's CannedReplyStore (ports/canned_replies.h), one row per
// canned reply (table canned_replies, whose identity column never gives an id twice), on pooled
// connections: every node sees a change as soon as it is committed.
//
// Thread-safe: the pool lends each call its own connection.
#pragma once

#include "adapters/postgres/connection_pool.h"
#include "engine/clock.h"
#include "ports/canned_replies.h"

namespace redress::postgres {

class CannedReplyRecords {
 public:
  CannedReplyRecords(ConnectionPool& pool, const Clock& clock) : pool_(pool), clock_(clock) {}

  [[nodiscard]] Result<std::vector<CannedReply>> list_canned_replies();
  [[nodiscard]] Result<CannedReply> find_canned_reply(std::int64_t id);
  [[nodiscard]] Result<CannedReply> add_canned_reply(const CannedReply& reply);
  [[nodiscard]] Result<CannedReply> update_canned_reply(const CannedReply& reply);
  [[nodiscard]] Status delete_canned_reply(std::int64_t id);

 private:
  ConnectionPool& pool_;
  const Clock& clock_;
};

}  // namespace redress::postgres
