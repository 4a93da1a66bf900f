#include "adapters/sqlite/outbox_records.h"

#include <boost/json.hpp>

#include <algorithm>

#include "adapters/sqlite/rows.h"
#include "adapters/sqlite/scheduler_records.h"

namespace redress::sqlite {

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

constexpr const char* kItemColumns =
    "n.id, n.case_id, c.reference, n.event_seq, n.channel, n.audience, n.recipient, n.recipient_name, n.template, "
    "n.subscription_id, n.attempts, n.created_at, n.status, n.next_attempt_at, n.delivered_at, coalesce(n.last_error, "
    "''), "
    "coalesce(n.payload, '')";

NotificationView read_view(const Statement& s) {
  NotificationView v;
  v.item.id = s.integer(0);
  v.item.case_id = s.integer(1);
  v.item.reference = s.text(2);
  v.item.event_seq = s.integer(3);
  v.item.channel = s.text(4) == "email" ? NotificationDraft::Channel::kEmail : NotificationDraft::Channel::kWebhook;
  v.item.audience = s.text(5);
  v.item.recipient = s.text(6);
  v.item.recipient_name = s.text(7);
  v.item.template_name = s.text(8);
  v.item.subscription_id = s.integer(9);
  v.item.attempts = static_cast<int>(s.integer(10));
  v.item.created_at = from_micros(s.integer(11));
  v.state = parse_state(s.text(12));
  v.next_attempt_at = from_micros(s.integer(13));
  if (!s.is_null(14)) v.delivered_at = from_micros(s.integer(14));
  v.last_error = s.text(15);
  v.item.payload = s.text(16);
  return v;
}

Status attach_attempts(Connection& db, std::vector<NotificationView>& views) {
  auto& attempts = db.cached(
      "SELECT at, outcome, status_code, detail FROM notification_attempts WHERE notification_id = ?1 ORDER BY id");
  for (auto& v : views) {
    attempts.bind(1, v.item.id);
    while (attempts.step())
      v.attempts.push_back(DeliveryAttempt{v.item.id, from_micros(attempts.integer(0)), parse_outcome(attempts.text(1)),
                                           static_cast<int>(attempts.integer(2)), attempts.text(3)});
    Status status = attempts.status();
    attempts.reset();
    if (!status) return status;
  }
  return Status::success();
}

// Steps a bound statement over kItemColumns rows, then attaches each one's attempts.
Result<std::vector<NotificationView>> read_views(Connection& db, Statement& s) {
  std::vector<NotificationView> views;
  while (s.step()) views.push_back(read_view(s));
  Status status = s.status();
  s.reset();
  if (!status) return status.error();
  if (auto a = attach_attempts(db, views); !a) return a.error();
  return views;
}

}  // namespace

Result<std::vector<OutboxItem>> OutboxRecords::claim_notifications(NotificationDraft::Channel channel, Time now,
                                                                   const std::string& holder, Time lease_until,
                                                                   int limit) {
  std::vector<OutboxItem> claimed;
  Status written = store_.writer.run_write(
      [&](Connection& db) -> Status {
        claimed.clear();
        // Due, not leased to someone else, and first in line for its recipient.
        auto& claim = db.cached(
            "UPDATE notifications SET lease_holder = ?3, lease_until = ?4 WHERE id IN ("
            " SELECT n.id FROM notifications n WHERE n.status = 'pending' AND n.channel = ?1 AND n.next_attempt_at <= "
            "?2"
            " AND (n.lease_until IS NULL OR n.lease_until <= ?2 OR n.lease_holder = ?3)"
            " AND NOT EXISTS (SELECT 1 FROM notifications p WHERE p.status = 'pending' AND p.recipient = n.recipient"
            "                 AND p.id < n.id)"
            " ORDER BY n.next_attempt_at, n.id LIMIT ?5) RETURNING id");
        claim.bind(1, channel_name(channel))
            .bind(2, to_micros(now))
            .bind(3, holder)
            .bind(4, to_micros(lease_until))
            .bind(5, static_cast<std::int64_t>(std::max(1, limit)));
        std::vector<std::int64_t> ids;
        while (claim.step()) ids.push_back(claim.integer(0));
        Status status = claim.status();
        claim.reset();
        if (!status) return status;
        std::sort(ids.begin(), ids.end());
        static const std::string one = std::string("SELECT ") + kItemColumns +
                                       " FROM notifications n JOIN cases c ON c.id = n.case_id WHERE n.id = ?1";
        auto& read = db.cached(one.c_str());
        for (std::int64_t id : ids) {
          read.bind(1, id);
          if (read.step()) claimed.push_back(read_view(read).item);
          status = read.status();
          read.reset();
          if (!status) return status;
        }
        return Status::success();
      },
      WriteScope::kNoCaseRows);
  if (!written) return written.error();
  return claimed;
}

Result<std::vector<std::string>> OutboxRecords::store_payloads(
    const std::string& holder, const std::vector<std::pair<std::int64_t, std::string>>& payloads) {
  std::vector<std::string> stored;
  Status written = store_.writer.run_write(
      [&](Connection& db) -> Status {
        stored.assign(payloads.size(), std::string());
        // A payload once stored is never replaced: a resend is the same bytes.
        auto& store = db.cached(
            "UPDATE notifications SET payload = coalesce(payload, ?2) "
            "WHERE id = ?1 AND status = 'pending' AND lease_holder = ?3 RETURNING payload");
        for (std::size_t i = 0; i < payloads.size(); ++i) {
          store.bind(1, payloads[i].first).bind(2, payloads[i].second).bind(3, holder);
          if (store.step()) stored[i] = store.text(0);
          Status status = store.status();
          store.reset();
          if (!status) return status;
        }
        return Status::success();
      },
      WriteScope::kNoCaseRows);
  if (!written) return written.error();
  return stored;
}

Status OutboxRecords::record_deliveries(const std::string& holder, const std::vector<DeliveryRecord>& records) {
  if (records.empty()) return Status::success();
  return store_.writer.run_write(
      [&](Connection& db) -> Status {
        auto& attempt = db.cached(
            "INSERT INTO notification_attempts(notification_id, at, outcome, status_code, detail) VALUES "
            "(?1,?2,?3,?4,?5)");
        auto& move = db.cached(
            "UPDATE notifications SET status = ?2, attempts = attempts + 1, next_attempt_at = ?3, lease_holder = NULL, "
            "lease_until = NULL, last_error = ?4, delivered_at = ?5 "
            "WHERE id = ?1 AND status = 'pending' AND lease_holder = ?6");
        for (const auto& r : records) {
          attempt.bind(1, r.attempt.notification_id)
              .bind(2, to_micros(r.attempt.at))
              .bind(3, outcome_name(r.attempt.outcome))
              .bind(4, r.attempt.status_code)
              .bind(5, r.attempt.detail);
          if (auto s = attempt.run(); !s) return s;
          bool delivered = r.next == OutboxState::kDelivered;
          move.bind(1, r.attempt.notification_id)
              .bind(2, std::string(to_string(r.next)))
              .bind(3, to_micros(r.next == OutboxState::kPending ? r.next_attempt_at : r.attempt.at));
          if (delivered)
            move.bind_null(4);
          else
            move.bind(4, r.attempt.detail);
          if (delivered)
            move.bind(5, to_micros(r.attempt.at));
          else
            move.bind_null(5);
          move.bind(6, holder);
          if (auto s = move.run(); !s) return s;
        }
        return Status::success();
      },
      WriteScope::kNoCaseRows);
}

Result<std::optional<Time>> OutboxRecords::next_delivery(NotificationDraft::Channel channel) {
  return store_.readers.read([&](Connection& db) -> Result<std::optional<Time>> {
    // The first moment a claim can take something: heads of line only, and not before a lease ends.
    auto& s = db.cached(
        "SELECT min(max(n.next_attempt_at, coalesce(n.lease_until, 0))) FROM notifications n "
        "WHERE n.status = 'pending' AND n.channel = ?1 AND NOT EXISTS (SELECT 1 FROM notifications p "
        "WHERE p.status = 'pending' AND p.recipient = n.recipient AND p.id < n.id)");
    s.bind(1, channel_name(channel));
    return step_optional_time(s);
  });
}

Result<std::vector<NotificationView>> OutboxRecords::case_notifications(const std::string& reference) {
  return store_.readers.read([&](Connection& db) -> Result<std::vector<NotificationView>> {
    static const std::string sql =
        std::string("SELECT ") + kItemColumns +
        " FROM notifications n JOIN cases c ON c.id = n.case_id WHERE c.reference = ?1 ORDER BY n.id";
    auto& s = db.cached(sql.c_str());
    s.bind(1, reference);
    return read_views(db, s);
  });
}

Result<std::vector<NotificationView>> OutboxRecords::dead_notifications(int limit) {
  return store_.readers.read([&](Connection& db) -> Result<std::vector<NotificationView>> {
    static const std::string sql = std::string("SELECT ") + kItemColumns +
                                   " FROM notifications n JOIN cases c ON c.id = n.case_id WHERE n.status = 'dead' "
                                   "ORDER BY n.id LIMIT ?1";
    auto& s = db.cached(sql.c_str());
    s.bind(1, static_cast<std::int64_t>(std::clamp(limit, 1, 10000)));
    return read_views(db, s);
  });
}

Result<std::int64_t> OutboxRecords::retry_notifications(std::optional<std::int64_t> id, Time now) {
  std::int64_t moved = 0;
  Status written = store_.writer.run_write(
      [&](Connection& db) -> Status {
        auto& retry = db.cached(
            "UPDATE notifications SET status = 'pending', next_attempt_at = ?1, lease_holder = NULL, lease_until = "
            "NULL "
            "WHERE status = 'dead' AND (?2 IS NULL OR id = ?2)");
        retry.bind(1, to_micros(now)).bind(2, id);
        if (auto s = retry.run(); !s) return s;
        moved = db.changes();
        return Status::success();
      },
      WriteScope::kNoCaseRows);
  if (!written) return written.error();
  if (id && moved == 0) return Error::not_found("no dead notification n-" + std::to_string(*id));
  return moved;
}

Result<Subscription> OutboxRecords::add_subscription(const Subscription& subscription) {
  Subscription added = subscription;
  added.created_at = store_.clock.now();
  boost::json::array types;
  for (const auto& t : subscription.event_types) types.emplace_back(t);
  std::string types_json = boost::json::serialize(types);
  Status status = store_.writer.run_write([&](Connection& db) -> Status {
    store_.writer.subscriptions_changed();  // on the writer, before the next change fans out
    auto& insert = db.cached(
        "INSERT INTO webhook_subscriptions(url, event_types, description, secret_sealed, created_at) "
        "VALUES (?1,?2,?3,?4,?5) RETURNING id");
    insert.bind(1, added.url)
        .bind(2, types_json)
        .bind(3, added.description)
        .bind(4, added.secret_sealed)
        .bind(5, to_micros(added.created_at));
    if (!insert.step()) return insert.status().ok() ? Status(Error::internal("no id returned")) : insert.status();
    added.id = insert.integer(0);
    insert.reset();
    return Status::success();
  });
  if (!status) return status.error();
  return added;
}

Result<std::vector<Subscription>> OutboxRecords::list_subscriptions() {
  return store_.readers.read([&](Connection& db) -> Result<std::vector<Subscription>> {
    auto& list = db.cached(
        "SELECT id, url, event_types, description, secret_sealed, created_at, disabled_at, "
        "coalesce(disabled_reason, '') FROM webhook_subscriptions ORDER BY id");
    std::vector<Subscription> all;
    while (list.step()) all.push_back(read_subscription(list));
    if (!list.status()) return list.status().error();
    return all;
  });
}

Result<Subscription> OutboxRecords::find_subscription(std::int64_t id) {
  return store_.readers.read([&](Connection& db) -> Result<Subscription> {
    auto& s = db.cached(
        "SELECT id, url, event_types, description, secret_sealed, created_at, disabled_at, coalesce(disabled_reason, "
        "'') "
        "FROM webhook_subscriptions WHERE id = ?1");
    s.bind(1, id);
    if (!s.step()) {
      Status status = s.status();
      s.reset();
      if (!status) return status.error();
      return Error::not_found("no web hook subscription wh-" + std::to_string(id));
    }
    Subscription sub = read_subscription(s);
    s.reset();
    return sub;
  });
}

Status OutboxRecords::delete_subscription(std::int64_t id) {
  return store_.writer.run_write([&](Connection& db) -> Status {
    store_.writer.subscriptions_changed();  // on the writer, before the next change fans out
    auto& remove = db.cached("DELETE FROM webhook_subscriptions WHERE id = ?1");
    remove.bind(1, id);
    if (auto s = remove.run(); !s) return s;
    if (db.changes() == 0) return Error::not_found("no web hook subscription wh-" + std::to_string(id));
    return Status::success();
  });
}

Status OutboxRecords::disable_subscription(std::int64_t id, const std::string& reason, Time now) {
  return store_.writer.run_write([&](Connection& db) -> Status {
    store_.writer.subscriptions_changed();
    auto& s = db.cached(
        "UPDATE webhook_subscriptions SET disabled_at = ?2, disabled_reason = ?3 WHERE id = ?1 AND disabled_at IS "
        "NULL");
    s.bind(1, id).bind(2, to_micros(now)).bind(3, reason);
    return s.run();
  });
}

Result<bool> OutboxRecords::digest_owed(const std::string& day, const std::string& recipient, Time now) {
  return owed_digest(day, recipient, now, nullptr);
}

Result<bool> OutboxRecords::digest_owed_fenced(const std::string& day, const std::string& recipient, Time now,
                                               const LeaseFence& fence) {
  return owed_digest(day, recipient, now, &fence);
}

Result<bool> OutboxRecords::owed_digest(const std::string& day, const std::string& recipient, Time now,
                                        const LeaseFence* fence) {
  bool owed = false;
  Status written = store_.writer.run_write(
      [&](Connection& db) -> Status {
        // Under a lease: the check and the record in one transaction of the one writer.
        if (fence)
          if (Status held = fence_holds(db, *fence, now); !held) return held;
        auto& add = db.cached(
            "INSERT OR IGNORE INTO digests(day, recipient, status, updated_at) VALUES (?1, ?2, 'pending', ?3)");
        add.bind(1, day).bind(2, recipient).bind(3, to_micros(now));
        if (auto s = add.run(); !s) return s;
        auto& status = db.cached("SELECT status FROM digests WHERE day = ?1 AND recipient = ?2");
        status.bind(1, day).bind(2, recipient);
        owed = status.step() && status.text(0) == "pending";
        Status result = status.status();
        status.reset();
        return result;
      },
      WriteScope::kNoCaseRows);
  if (!written) return written.error();
  return owed;
}

Status OutboxRecords::record_digest(const std::string& day, const std::string& recipient, DigestState state,
                                    const std::string& detail, Time now) {
  return store_.writer.run_write(
      [&](Connection& db) -> Status {
        auto& s = db.cached(
            // A digest once sent stays sent: a stalled node's late failure never makes it owed again.
            "UPDATE digests SET status = CASE WHEN status = 'sent' THEN 'sent' ELSE ?3 END, attempts = attempts + 1, "
            "updated_at = ?4, detail = ?5 WHERE day = ?1 AND recipient = ?2");
        s.bind(1, day)
            .bind(2, recipient)
            .bind(3, state == DigestState::kSent ? "sent" : "pending")
            .bind(4, to_micros(now))
            .bind(5, detail);
        return s.run();
      },
      WriteScope::kNoCaseRows);
}

}  // namespace redress::sqlite
