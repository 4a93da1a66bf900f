// OutboxStore: the notifications changes made owed, on their way out, and where web hooks go.
//
// Every change writes the notifications it owes in its own transaction (Change::notifications,
// through the engine); from then on they live here. Delivery workers (adapters/outbox) claim due
// ones under a lease held in the database, so several processes never send one notification at
// once and a crashed worker's claims are taken over when its lease runs out; the payload of each
// is stored before its first attempt, and every attempt is recorded with what the peer answered.
// The store also keeps the web hook subscriptions that notifications fan out to, and which of the
// managers' daily digests have been sent.
//
// Implementations (adapters/sqlite, later PostgreSQL) are thread-safe: any thread may call, and
// each call that moves several notifications does so in one transaction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/outbound.h"
#include "engine/result.h"
#include "engine/store.h"

namespace redress {

// A web hook subscription. The signing secret is stored sealed; `secret_sealed` is opaque here.
struct Subscription {
  std::int64_t id = 0;  // shown as "wh-<id>"
  std::string url;
  std::vector<std::string> event_types;  // {"*"} for every type
  std::string description;
  std::string secret_sealed;
  Time created_at{};
  std::optional<Time> disabled_at;
  std::string disabled_reason;
};

enum class OutboxState { kPending, kDelivered, kDead };
[[nodiscard]] std::string_view to_string(OutboxState state);

// A notification owed, as a delivery worker claims it.
struct OutboxItem {
  std::int64_t id = 0;
  std::int64_t case_id = 0;
  std::string reference;
  std::int64_t event_seq = 0;
  NotificationDraft::Channel channel = NotificationDraft::Channel::kEmail;
  std::string audience;
  std::string recipient;  // an email address; "wh-<id>" for a web hook
  std::string recipient_name;
  std::string template_name;  // the mail template, or the event type for a web hook
  std::int64_t subscription_id = 0;
  int attempts = 0;  // before this one
  Time created_at{};
  std::string payload;  // as composed before the first attempt ("" until then): every attempt sends it
};

// One delivery attempt, as recorded.
struct DeliveryAttempt {
  std::int64_t notification_id = 0;
  Time at{};
  DeliveryOutcome outcome = DeliveryOutcome::kRetry;
  int status_code = 0;
  std::string detail;
};

// What a worker decided after an attempt.
struct DeliveryRecord {
  DeliveryAttempt attempt;
  OutboxState next = OutboxState::kPending;
  Time next_attempt_at{};  // for kPending
};

// A notification with its delivery history, as the case and the admins see it.
struct NotificationView {
  OutboxItem item;
  OutboxState state = OutboxState::kPending;
  Time next_attempt_at{};
  std::optional<Time> delivered_at;
  std::string last_error;
  std::vector<DeliveryAttempt> attempts;
};

class OutboxStore {
 public:
  virtual ~OutboxStore() = default;

  // Claims up to `limit` pending notifications of `channel` whose next attempt is due by `now`, for
  // `holder` until `lease_until`: oldest first, and none whose recipient has an older one still
  // pending (delivery in order per recipient). A claim whose lease ran out may be claimed again.
  [[nodiscard]] virtual Result<std::vector<OutboxItem>> claim_notifications(NotificationDraft::Channel channel,
                                                                            Time now, const std::string& holder,
                                                                            Time lease_until, int limit) = 0;
  // Stores each claimed notification's composed payload before its first attempt, unless it has
  // one already; returns, in order, the payload each now has, or "" for one no longer leased to
  // `holder` (not this worker's to send).
  [[nodiscard]] virtual Result<std::vector<std::string>> store_payloads(
      const std::string& holder, const std::vector<std::pair<std::int64_t, std::string>>& payloads) = 0;
  // Records the attempts and moves each notification on, in one transaction. A record for a
  // notification no longer leased to `holder` is still kept as an attempt, but moves nothing.
  [[nodiscard]] virtual Status record_deliveries(const std::string& holder,
                                                 const std::vector<DeliveryRecord>& records) = 0;
  // The earliest next attempt of a pending notification of `channel`; nullopt when none.
  [[nodiscard]] virtual Result<std::optional<Time>> next_delivery(NotificationDraft::Channel channel) = 0;
  [[nodiscard]] virtual Result<std::vector<NotificationView>> case_notifications(const std::string& reference) = 0;
  [[nodiscard]] virtual Result<std::vector<NotificationView>> dead_notifications(int limit) = 0;
  // Dead (or, with `id`, that one dead) notifications become pending again at `now`. Returns how many.
  [[nodiscard]] virtual Result<std::int64_t> retry_notifications(std::optional<std::int64_t> id, Time now) = 0;

  // ---- web hook subscriptions ----
  [[nodiscard]] virtual Result<Subscription> add_subscription(const Subscription& subscription) = 0;
  [[nodiscard]] virtual Result<std::vector<Subscription>> list_subscriptions() = 0;
  [[nodiscard]] virtual Status delete_subscription(std::int64_t id) = 0;
  [[nodiscard]] virtual Result<Subscription> find_subscription(std::int64_t id) = 0;
  [[nodiscard]] virtual Status disable_subscription(std::int64_t id, const std::string& reason, Time now) = 0;

  // ---- the managers' daily digest ----
  // True when the digest of `day` to `recipient` is still to be sent (recording that it is owed).
  [[nodiscard]] virtual Result<bool> digest_owed(const std::string& day, const std::string& recipient, Time now) = 0;
  // The same under the digest's lease (`fence`, current at `now`): kConflict, recording nothing,
  // once another node took the lease over, so that a node that stalled past its lease sends no
  // digest its successor is sending.
  [[nodiscard]] virtual Result<bool> digest_owed_fenced(const std::string& day, const std::string& recipient, Time now,
                                                        const LeaseFence& fence) = 0;
  // Records an attempt: sent, or still owed with the reason.
  [[nodiscard]] virtual Status record_digest(const std::string& day, const std::string& recipient, bool sent,
                                             const std::string& detail, Time now) = 0;
};

}  // namespace redress
