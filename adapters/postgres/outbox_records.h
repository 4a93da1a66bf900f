// OutboxRecords: the PostgreSQL store's delivery claims (ports/outbox_store.h), so far the claims
// themselves and the next delivery time.
//
// A claim is one statement under READ COMMITTED: the due notifications first in line for their
// recipient are selected `FOR UPDATE SKIP LOCKED` and leased to the claimer. A row another node is
// claiming at that moment is skipped, not waited for, and a row it has just leased no longer
// qualifies (PostgreSQL checks the WHERE again on the row it locks), so two claimers never get the
// same notification while its lease runs.
//
// Thread-safe: the pool lends each call its own connection.
#pragma once

#include "adapters/postgres/connection_pool.h"
#include "ports/outbox_store.h"

namespace redress::postgres {

class OutboxRecords {
 public:
  explicit OutboxRecords(ConnectionPool& pool) : pool_(pool) {}

  [[nodiscard]] Result<std::vector<OutboxItem>> claim_notifications(NotificationDraft::Channel channel, Time now,
                                                                    const std::string& holder, Time lease_until,
                                                                    int limit);
  [[nodiscard]] Result<std::optional<Time>> next_delivery(NotificationDraft::Channel channel);

 private:
  ConnectionPool& pool_;
};

}  // namespace redress::postgres
