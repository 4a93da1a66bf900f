// OutboxRecords: the PostgreSQL store's OutboxStore (ports/outbox_store.h): delivery claims, the
// payloads and attempts recorded under a claim, dead letters and retries, web hook subscriptions
// and the daily digest's records.
//
// A claim is one statement under READ COMMITTED: the due notifications first in line for their
// recipient are selected `FOR UPDATE SKIP LOCKED` and leased to the claimer. A row another node is
// claiming at that moment is skipped, not waited for, and a row it has just leased no longer
// qualifies (PostgreSQL checks the WHERE again on the row it locks), so two claimers never get the
// same notification while its lease runs.
//
// A delivery's payload and outcome are written only while the writer still holds the row's lease
// (`lease_holder = holder`): a node whose lease ran out and was taken over cannot overwrite the
// new holder's work. The writer reads the live subscriptions in each transaction that fans out web
// hooks, so a subscription changed on any node takes effect at the next commit on every node.
//
// Thread-safe: the pool lends each call its own connection.
#pragma once

#include "adapters/postgres/connection_pool.h"
#include "engine/clock.h"
#include "ports/outbox_store.h"

namespace redress::postgres {

class OutboxRecords {
 public:
  OutboxRecords(ConnectionPool& pool, const Clock& clock) : pool_(pool), clock_(clock) {}

  [[nodiscard]] Result<std::vector<OutboxItem>> claim_notifications(NotificationDraft::Channel channel, Time now,
                                                                    const std::string& holder, Time lease_until,
                                                                    int limit);
  [[nodiscard]] Result<std::optional<Time>> next_delivery(NotificationDraft::Channel channel);
  [[nodiscard]] Result<std::vector<std::string>> store_payloads(
      const std::string& holder, const std::vector<std::pair<std::int64_t, std::string>>& payloads);
  [[nodiscard]] Status record_deliveries(const std::string& holder, const std::vector<DeliveryRecord>& records);
  [[nodiscard]] Result<std::vector<NotificationView>> case_notifications(const std::string& reference);
  [[nodiscard]] Result<std::vector<NotificationView>> dead_notifications(int limit);
  [[nodiscard]] Result<std::int64_t> retry_notifications(std::optional<std::int64_t> id, Time now);
  [[nodiscard]] Result<Subscription> add_subscription(const Subscription& subscription);
  [[nodiscard]] Result<std::vector<Subscription>> list_subscriptions();
  [[nodiscard]] Status delete_subscription(std::int64_t id);
  [[nodiscard]] Result<Subscription> find_subscription(std::int64_t id);
  [[nodiscard]] Status disable_subscription(std::int64_t id, const std::string& reason, Time now);
  [[nodiscard]] Result<bool> digest_owed(const std::string& day, const std::string& recipient, Time now);
  [[nodiscard]] Result<bool> digest_owed_fenced(const std::string& day, const std::string& recipient, Time now,
                                                const LeaseFence& fence);
  [[nodiscard]] Status record_digest(const std::string& day, const std::string& recipient, bool sent,
                                     const std::string& detail, Time now);

 private:
  ConnectionPool& pool_;
  const Clock& clock_;
};

}  // namespace redress::postgres
