#include "adapters/postgres/outbox_records.h"

#include <boost/json.hpp>

#include <algorithm>

namespace redress::postgres {

namespace {

const char* channel_name(NotificationDraft::Channel channel) {
  return channel == NotificationDraft::Channel::kEmail ? "email" : "webhook";
}

const char* outcome_name(DeliveryOutcome outcome) {
  switch (outcome) {
    case DeliveryOutcome::kDelivered: return "delivered";
    case DeliveryOutcome::kRetry: return "retry";
    case DeliveryOutcome::kGone: return "gone";
    case DeliveryOutcome::kPermanentFailure: return "failed";
  }
  return "retry";
}

DeliveryOutcome parse_outcome(std::string_view text) {
  if (text == "delivered") return DeliveryOutcome::kDelivered;
  if (text == "gone") return DeliveryOutcome::kGone;
  if (text == "failed") return DeliveryOutcome::kPermanentFailure;
  return DeliveryOutcome::kRetry;
}

OutboxState parse_state(std::string_view text) {
  if (text == "delivered") return OutboxState::kDelivered;
  if (text == "dead") return OutboxState::kDead;
  return OutboxState::kPending;
}

// The columns read_view reads, as on SQLite (adapters/sqlite/outbox_records.cpp).
constexpr const char* kItemColumns =
    "n.id, n.case_id, c.reference, n.event_seq, n.channel, n.audience, n.recipient, n.recipient_name, n.template, "
    "n.subscription_id, n.attempts, n.created_at, n.status, n.next_attempt_at, n.delivered_at, "
    "coalesce(n.last_error, ''), coalesce(n.payload, '')";

NotificationView read_view(const Rows& s, int row) {
  NotificationView v;
  v.item.id = s.integer(row, 0);
  v.item.case_id = s.integer(row, 1);
  v.item.reference = s.text(row, 2);
  v.item.event_seq = s.integer(row, 3);
  v.item.channel =
      s.view(row, 4) == "email" ? NotificationDraft::Channel::kEmail : NotificationDraft::Channel::kWebhook;
  v.item.audience = s.text(row, 5);
  v.item.recipient = s.text(row, 6);
  v.item.recipient_name = s.text(row, 7);
  v.item.template_name = s.text(row, 8);
  v.item.subscription_id = s.integer(row, 9);
  v.item.attempts = static_cast<int>(s.integer(row, 10));
  v.item.created_at = from_micros(s.integer(row, 11));
  v.state = parse_state(s.view(row, 12));
  v.next_attempt_at = from_micros(s.integer(row, 13));
  if (!s.is_null(row, 14)) v.delivered_at = from_micros(s.integer(row, 14));
  v.last_error = s.text(row, 15);
  v.item.payload = s.text(row, 16);
  return v;
}

// The views of `rows` with their attempts, read in one more statement.
Result<std::vector<NotificationView>> read_views(Connection& db, const Rows& rows) {
  std::vector<NotificationView> views;
  for (int i = 0; i < rows.size(); ++i) views.push_back(read_view(rows, i));
  if (views.empty()) return views;
  std::string ids = "{";
  for (std::size_t i = 0; i < views.size(); ++i) ids += (i ? "," : "") + std::to_string(views[i].item.id);
  ids += "}";
  auto attempts = db.query(
      "SELECT notification_id, at, outcome, status_code, detail FROM notification_attempts "
      "WHERE notification_id = ANY($1::bigint[]) ORDER BY notification_id, id",
      Params().add(ids));
  if (!attempts) return attempts.error();
  std::size_t next = 0;
  // views are in id order for case_notifications and dead_notifications (ORDER BY n.id).
  for (int i = 0; i < attempts->size(); ++i) {
    std::int64_t id = attempts->integer(i, 0);
    while (next < views.size() && views[next].item.id < id) ++next;
    if (next == views.size() || views[next].item.id != id) continue;
    views[next].attempts.push_back(DeliveryAttempt{id, from_micros(attempts->integer(i, 1)),
                                                   parse_outcome(attempts->view(i, 2)),
                                                   static_cast<int>(attempts->integer(i, 3)), attempts->text(i, 4)});
  }
  return views;
}

constexpr const char* kSubscriptionColumns =
    "id, url, event_types, description, secret_sealed, created_at, disabled_at, coalesce(disabled_reason, '')";

Subscription read_subscription(const Rows& s, int row) {
  Subscription sub;
  sub.id = s.integer(row, 0);
  sub.url = s.text(row, 1);
  boost::system::error_code ec;
  auto types = boost::json::parse(s.view(row, 2), ec);
  if (!ec && types.is_array())
    for (const auto& t : types.get_array())
      if (t.is_string()) sub.event_types.emplace_back(t.get_string());
  sub.description = s.text(row, 3);
  sub.secret_sealed = s.text(row, 4);
  sub.created_at = from_micros(s.integer(row, 5));
  if (!s.is_null(row, 6)) sub.disabled_at = from_micros(s.integer(row, 6));
  sub.disabled_reason = s.text(row, 7);
  return sub;
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
    // The first moment a claim can take something: heads of line only, and not before a lease ends.
    auto rows = db.query(
        "SELECT min(greatest(n.next_attempt_at, coalesce(n.lease_until, 0))) FROM notifications n "
        "WHERE n.status = 'pending' AND n.channel = $1 AND NOT EXISTS (SELECT 1 FROM notifications p "
        "WHERE p.status = 'pending' AND p.recipient = n.recipient AND p.id < n.id)",
        Params().add(channel_name(channel)));
    if (!rows) return rows.error();
    if (rows->empty() || rows->is_null(0, 0)) return std::optional<Time>();
    return std::optional<Time>(from_micros(rows->integer(0, 0)));
  });
}

Result<std::vector<std::string>> OutboxRecords::store_payloads(
    const std::string& holder, const std::vector<std::pair<std::int64_t, std::string>>& payloads) {
  return pool_.with([&](Connection& db) -> Result<std::vector<std::string>> {
    std::vector<std::string> stored(payloads.size());
    if (payloads.empty()) return stored;
    // A payload once stored is never replaced: a resend is the same bytes. One round trip.
    Pipeline pipeline(db);
    for (const auto& [id, payload] : payloads)
      pipeline.add(
          "UPDATE notifications SET payload = coalesce(payload, $2) "
          "WHERE id = $1 AND status = 'pending' AND lease_holder = $3 RETURNING payload",
          Params().add(id).add(payload).add(holder));
    auto transaction = Transaction::begin(db);
    if (!transaction) return transaction.error();
    auto results = pipeline.run();
    if (!results) return results.error();
    for (std::size_t i = 0; i < payloads.size(); ++i)
      if (!(*results)[i].empty()) stored[i] = (*results)[i].text(0, 0);
    if (auto s = transaction->commit(); !s) return s.error();
    return stored;
  });
}

Status OutboxRecords::record_deliveries(const std::string& holder, const std::vector<DeliveryRecord>& records) {
  if (records.empty()) return Status::success();
  return pool_.with([&](Connection& db) -> Status {
    Pipeline pipeline(db);
    for (const auto& r : records) {
      pipeline.add(
          "INSERT INTO notification_attempts(notification_id, at, outcome, status_code, detail) VALUES "
          "($1,$2,$3,$4,$5)",
          Params()
              .add(r.attempt.notification_id)
              .add(to_micros(r.attempt.at))
              .add(outcome_name(r.attempt.outcome))
              .add(std::int64_t{r.attempt.status_code})
              .add(r.attempt.detail));
      bool delivered = r.next == OutboxState::kDelivered;
      pipeline.add(
          "UPDATE notifications SET status = $2, attempts = attempts + 1, next_attempt_at = $3, lease_holder = NULL, "
          "lease_until = NULL, last_error = $4, delivered_at = $5 "
          "WHERE id = $1 AND status = 'pending' AND lease_holder = $6",
          Params()
              .add(r.attempt.notification_id)
              .add(std::string(to_string(r.next)))
              .add(to_micros(r.next == OutboxState::kPending ? r.next_attempt_at : r.attempt.at))
              .add(delivered ? std::nullopt : std::optional<std::string>(r.attempt.detail))
              .add(delivered ? std::optional<std::int64_t>(to_micros(r.attempt.at)) : std::nullopt)
              .add(holder));
    }
    auto transaction = Transaction::begin(db);
    if (!transaction) return transaction.error();
    auto results = pipeline.run();
    if (!results) return results.error();
    return transaction->commit();
  });
}

Result<std::vector<NotificationView>> OutboxRecords::case_notifications(const std::string& reference) {
  return pool_.with([&](Connection& db) -> Result<std::vector<NotificationView>> {
    auto transaction = Transaction::begin(db, Isolation::kRepeatableRead);
    if (!transaction) return transaction.error();
    auto rows = db.query(std::string("SELECT ") + kItemColumns +
                             " FROM notifications n JOIN cases c ON c.id = n.case_id WHERE c.reference = $1 "
                             "ORDER BY n.id",
                         Params().add(reference));
    if (!rows) return rows.error();
    return read_views(db, *rows);
  });
}

Result<std::vector<NotificationView>> OutboxRecords::dead_notifications(int limit) {
  return pool_.with([&](Connection& db) -> Result<std::vector<NotificationView>> {
    auto transaction = Transaction::begin(db, Isolation::kRepeatableRead);
    if (!transaction) return transaction.error();
    auto rows = db.query(std::string("SELECT ") + kItemColumns +
                             " FROM notifications n JOIN cases c ON c.id = n.case_id WHERE n.status = 'dead' "
                             "ORDER BY n.id LIMIT $1",
                         Params().add(std::int64_t{std::clamp(limit, 1, 10000)}));
    if (!rows) return rows.error();
    return read_views(db, *rows);
  });
}

Result<std::int64_t> OutboxRecords::retry_notifications(std::optional<std::int64_t> id, Time now) {
  return pool_.with([&](Connection& db) -> Result<std::int64_t> {
    auto moved = db.query(
        "UPDATE notifications SET status = 'pending', next_attempt_at = $1, lease_holder = NULL, lease_until = NULL "
        "WHERE status = 'dead' AND ($2::bigint IS NULL OR id = $2)",
        Params().add(to_micros(now)).add(id));
    if (!moved) return moved.error();
    if (id && moved->affected() == 0) return Error::not_found("no dead notification n-" + std::to_string(*id));
    return moved->affected();
  });
}

Result<Subscription> OutboxRecords::add_subscription(const Subscription& subscription) {
  Subscription added = subscription;
  added.created_at = clock_.now();
  boost::json::array types;
  for (const auto& t : subscription.event_types) types.emplace_back(t);
  return pool_.with([&](Connection& db) -> Result<Subscription> {
    auto rows = db.query(
        "INSERT INTO webhook_subscriptions(url, event_types, description, secret_sealed, created_at) "
        "VALUES ($1,$2,$3,$4,$5) RETURNING id",
        Params()
            .add(added.url)
            .add(boost::json::serialize(types))
            .add(added.description)
            .add(added.secret_sealed)
            .add(to_micros(added.created_at)));
    if (!rows) return rows.error();
    added.id = rows->integer(0, 0);
    return added;
  });
}

Result<std::vector<Subscription>> OutboxRecords::list_subscriptions() {
  return pool_.with([&](Connection& db) -> Result<std::vector<Subscription>> {
    auto rows = db.query(std::string("SELECT ") + kSubscriptionColumns + " FROM webhook_subscriptions ORDER BY id");
    if (!rows) return rows.error();
    std::vector<Subscription> all;
    for (int i = 0; i < rows->size(); ++i) all.push_back(read_subscription(*rows, i));
    return all;
  });
}

Result<Subscription> OutboxRecords::find_subscription(std::int64_t id) {
  return pool_.with([&](Connection& db) -> Result<Subscription> {
    auto rows = db.query(std::string("SELECT ") + kSubscriptionColumns + " FROM webhook_subscriptions WHERE id = $1",
                         Params().add(id));
    if (!rows) return rows.error();
    if (rows->empty()) return Error::not_found("no web hook subscription wh-" + std::to_string(id));
    return read_subscription(*rows, 0);
  });
}

Status OutboxRecords::delete_subscription(std::int64_t id) {
  return pool_.with([&](Connection& db) -> Status {
    auto removed = db.query("DELETE FROM webhook_subscriptions WHERE id = $1", Params().add(id));
    if (!removed) return removed.error();
    if (removed->affected() == 0) return Error::not_found("no web hook subscription wh-" + std::to_string(id));
    return Status::success();
  });
}

Status OutboxRecords::disable_subscription(std::int64_t id, const std::string& reason, Time now) {
  return pool_.with([&](Connection& db) -> Status {
    return status_of(db.query(
        "UPDATE webhook_subscriptions SET disabled_at = $2, disabled_reason = $3 WHERE id = $1 AND disabled_at IS NULL",
        Params().add(id).add(to_micros(now)).add(reason)));
  });
}

Result<bool> OutboxRecords::digest_owed(const std::string& day, const std::string& recipient, Time now) {
  return pool_.with([&](Connection& db) -> Result<bool> {
    // One statement: the row is made if missing, and its status read either way.
    auto rows = db.query(
        "WITH made AS (INSERT INTO digests(day, recipient, status, updated_at) VALUES ($1, $2, 'pending', $3) "
        "ON CONFLICT DO NOTHING RETURNING status) "
        "SELECT status FROM made UNION ALL SELECT status FROM digests WHERE day = $1 AND recipient = $2",
        Params().add(day).add(recipient).add(to_micros(now)));
    if (!rows) return rows.error();
    return !rows->empty() && rows->view(0, 0) == "pending";
  });
}

Result<bool> OutboxRecords::digest_owed_fenced(const std::string& day, const std::string& recipient, Time now,
                                               const LeaseFence& fence) {
  return pool_.with([&](Connection& db) -> Result<bool> {
    // One statement: the lease row read FOR SHARE (a takeover waits for it), the digest's row made
    // only while the lease is this attempt's, and its status read.
    auto rows = db.query(
        "WITH fence AS (SELECT 1 FROM leases WHERE name = $4 AND holder = $5 AND attempt = $6 AND expires_at > $3 "
        "FOR SHARE), "
        "made AS (INSERT INTO digests(day, recipient, status, updated_at) SELECT $1, $2, 'pending', $3 FROM fence "
        "ON CONFLICT DO NOTHING RETURNING status) "
        "SELECT EXISTS (SELECT 1 FROM fence), (SELECT status FROM made UNION ALL SELECT status FROM digests "
        "WHERE day = $1 AND recipient = $2 LIMIT 1)",
        Params().add(day).add(recipient).add(to_micros(now)).add(fence.name).add(fence.holder).add(fence.attempt));
    if (!rows) return rows.error();
    if (rows->empty() || !rows->boolean(0, 0))
      return Error::conflict("the lease " + fence.name + " is no longer held by " + fence.holder +
                             " under attempt " + std::to_string(fence.attempt) + ": another holder took it over");
    return !rows->is_null(0, 1) && rows->view(0, 1) == "pending";
  });
}

Status OutboxRecords::record_digest(const std::string& day, const std::string& recipient, bool sent,
                                    const std::string& detail, Time now) {
  return pool_.with([&](Connection& db) -> Status {
    return status_of(
        // A digest once sent stays sent: a stalled node's late failure never makes it owed again.
        db.query("UPDATE digests SET status = CASE WHEN status = 'sent' THEN 'sent' ELSE $3 END, "
                 "attempts = attempts + 1, updated_at = $4, detail = $5 WHERE day = $1 AND recipient = $2",
                 Params().add(day).add(recipient).add(sent ? "sent" : "pending").add(to_micros(now)).add(detail)));
  });
}

}  // namespace redress::postgres
