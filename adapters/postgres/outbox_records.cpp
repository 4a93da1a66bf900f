#include "adapters/postgres/outbox_records.h"

#include <algorithm>

namespace redress::postgres {

namespace {

const char* channel_name(NotificationDraft::Channel channel) {
  return channel == NotificationDraft::Channel::kEmail ? "email" : "webhook";
}

}  // namespace

Result<std::vector<OutboxItem>> OutboxRecords::claim_notifications(NotificationDraft::Channel channel, Time now,
                                                                   const std::string& holder, Time lease_until,
                                                                   int limit) {
  return pool_.with([&](Connection& db) -> Result<std::vector<OutboxItem>> {
    // Due, not leased to someone else, and first in line for its recipient; rows being claimed
    // elsewhere are skipped.
    auto rows = db.query(
        "WITH picked AS ("
        " SELECT n.id FROM notifications n WHERE n.status = 'pending' AND n.channel = $1 AND n.next_attempt_at <= $2"
        " AND (n.lease_until IS NULL OR n.lease_until <= $2 OR n.lease_holder = $3)"
        " AND NOT EXISTS (SELECT 1 FROM notifications p WHERE p.status = 'pending' AND p.recipient = n.recipient"
        "                 AND p.id < n.id)"
        " ORDER BY n.next_attempt_at, n.id LIMIT $5 FOR UPDATE OF n SKIP LOCKED)"
        "UPDATE notifications n SET lease_holder = $3, lease_until = $4 FROM picked, cases c "
        "WHERE n.id = picked.id AND c.id = n.case_id RETURNING n.id, n.case_id, c.reference, n.event_seq, n.channel, "
        "n.audience, n.recipient, n.recipient_name, n.template, n.subscription_id, n.attempts, n.created_at, "
        "coalesce(n.payload, '')",
        Params()
            .add(channel_name(channel))
            .add(to_micros(now))
            .add(holder)
            .add(to_micros(lease_until))
            .add(std::int64_t{std::max(1, limit)}));
    if (!rows) return rows.error();
    std::vector<OutboxItem> claimed;
    for (int i = 0; i < rows->size(); ++i) {
      OutboxItem item;
      item.id = rows->integer(i, 0);
      item.case_id = rows->integer(i, 1);
      item.reference = rows->text(i, 2);
      item.event_seq = rows->integer(i, 3);
      item.channel =
          rows->view(i, 4) == "email" ? NotificationDraft::Channel::kEmail : NotificationDraft::Channel::kWebhook;
      item.audience = rows->text(i, 5);
      item.recipient = rows->text(i, 6);
      item.recipient_name = rows->text(i, 7);
      item.template_name = rows->text(i, 8);
      item.subscription_id = rows->integer(i, 9);
      item.attempts = static_cast<int>(rows->integer(i, 10));
      item.created_at = from_micros(rows->integer(i, 11));
      item.payload = rows->text(i, 12);
      claimed.push_back(std::move(item));
    }
    std::sort(claimed.begin(), claimed.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    return claimed;
  });
}

Result<std::optional<Time>> OutboxRecords::next_delivery(NotificationDraft::Channel channel) {
  return pool_.with([&](Connection& db) -> Result<std::optional<Time>> {
    auto rows = db.query("SELECT min(next_attempt_at) FROM notifications WHERE status = 'pending' AND channel = $1",
                         Params().add(channel_name(channel)));
    if (!rows) return rows.error();
    if (rows->empty() || rows->is_null(0, 0)) return std::optional<Time>();
    return std::optional<Time>(from_micros(rows->integer(0, 0)));
  });
}

}  // namespace redress::postgres
