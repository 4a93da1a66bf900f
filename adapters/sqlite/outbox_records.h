// OutboxRecords: the outbox and what feeds it - claiming due notifications under leases (first in
// line per recipient), storing the payload once (a resend is the same bytes), recording every
// delivery attempt, dead letters and their retry, the deliveries a case shows; the web hook
// subscriptions; the managers' daily digests.
//
// Notifications are written by the writer in the same transaction as the event that owes them
// (change_writer.h); only their lease holder moves them on. A change to the subscriptions is
// announced to the writer (subscriptions_changed) inside its own write, before the next change
// fans out. Writes go through the writer's queue (write_pipeline.h); reads use the reader pool.
//
// Thread-safe: any thread, as the reader pool and the writer are.
#pragma once

#include "adapters/sqlite/store_access.h"
#include "ports/outbox_store.h"

namespace redress::sqlite {

class OutboxRecords {
 public:
  explicit OutboxRecords(const StoreAccess& store) : store_(store) {}

  [[nodiscard]] Result<std::vector<OutboxItem>> claim_notifications(NotificationDraft::Channel channel, Time now,
                                                                    const std::string& holder, Time lease_until,
                                                                    int limit);
  [[nodiscard]] Result<std::vector<std::string>> store_payloads(
      const std::string& holder, const std::vector<std::pair<std::int64_t, std::string>>& payloads);
  [[nodiscard]] Status record_deliveries(const std::string& holder, const std::vector<DeliveryRecord>& records);
  [[nodiscard]] Result<std::optional<Time>> next_delivery(NotificationDraft::Channel channel);
  [[nodiscard]] Result<std::vector<NotificationView>> case_notifications(const std::string& reference);
  [[nodiscard]] Result<std::vector<NotificationView>> dead_notifications(int limit);
  [[nodiscard]] Result<std::int64_t> retry_notifications(std::optional<std::int64_t> id, Time now);
  [[nodiscard]] Result<Subscription> add_subscription(const Subscription& subscription);
  [[nodiscard]] Result<std::vector<Subscription>> list_subscriptions();
  [[nodiscard]] Result<Subscription> find_subscription(std::int64_t id);
  [[nodiscard]] Status delete_subscription(std::int64_t id);
  [[nodiscard]] Status disable_subscription(std::int64_t id, const std::string& reason, Time now);
  [[nodiscard]] Result<bool> digest_owed(const std::string& day, const std::string& recipient, Time now);
  [[nodiscard]] Result<bool> digest_owed_fenced(const std::string& day, const std::string& recipient, Time now,
                                                const LeaseFence& fence);
  // A digest's state in the `digests` table: pending until the mail server accepted it.
  enum class DigestState { kPending, kSent };
  [[nodiscard]] Status record_digest(const std::string& day, const std::string& recipient, DigestState state,
                                     const std::string& detail, Time now);

 private:
  [[nodiscard]] Result<bool> owed_digest(const std::string& day, const std::string& recipient, Time now,
                                         const LeaseFence* fence);

  StoreAccess store_;
};

}  // namespace redress::sqlite
