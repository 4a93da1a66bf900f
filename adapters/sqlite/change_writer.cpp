#include "adapters/sqlite/change_writer.h"

#include <boost/json.hpp>

#include <algorithm>

#include "adapters/sqlite/inbound_records.h"
#include "adapters/sqlite/rows.h"

namespace redress::sqlite {

namespace {

// Whether `subscription` asks for a web hook on `event`.
bool subscribed(const Subscription& subscription, const Event& event) {
  for (const auto& type : subscription.event_types) {
    if (type == "*" || type == event.type) return true;
    // case.status_changed: any event that moves the lifecycle (its data has differing from and to).
    if (type == "case.status_changed" && event.data.find("\"from\":") != std::string::npos) {
      boost::system::error_code ec;
      auto data = boost::json::parse(event.data, ec);
      if (ec || !data.is_object()) continue;
      const auto* from = data.get_object().if_contains("from");
      const auto* to = data.get_object().if_contains("to");
      if (from && to && *from != *to) return true;
    }
  }
  return false;
}

// Writes a case's one row in a table keyed by case: an UPDATE in place, or an INSERT when the case
// has no row yet. (INSERT OR REPLACE deletes the row and inserts it again: with the foreign key to
// cases it cannot overwrite, and a kilobyte-long clock state then often rebalanced its page twice.)
// `bind` binds both statements' parameters.
template <typename Bind>
Status update_or_insert(Connection& db, const char* update_sql, const char* insert_sql, Bind bind) {
  auto& update = db.cached(update_sql);
  bind(update);
  if (auto s = update.run(); !s) return s;
  if (db.changes() > 0) return Status::success();
  auto& insert = db.cached(insert_sql);
  bind(insert);
  return insert.run();
}

}  // namespace

const std::vector<Subscription>& ChangeWriter::live_subscriptions(Connection& db) {
  if (subscriptions_stale_.exchange(false)) {
    live_subscriptions_.clear();
    auto& list =
        db.cached("SELECT id, url, event_types FROM webhook_subscriptions WHERE disabled_at IS NULL ORDER BY id");
    while (list.step()) {
      Subscription sub;
      sub.id = list.integer(0);
      sub.url = list.text(1);
      boost::system::error_code ec;
      auto types = boost::json::parse(list.text(2), ec);
      if (!ec && types.is_array())
        for (const auto& t : types.get_array())
          if (t.is_string()) sub.event_types.emplace_back(t.get_string());
      live_subscriptions_.push_back(std::move(sub));
    }
    if (!list.status()) subscriptions_stale_ = true;  // try again next time
    list.reset();
  }
  return live_subscriptions_;
}

// Text is bound without copies: everything bound lives in `change` until the statements have run.
Status ChangeWriter::write(Connection& db, const Change& change, const CaseSnapshot* before, SummaryDeltas& summaries) {
  const std::vector<Subscription>& subscriptions = live_subscriptions(db);
  const Case& c = change.after;
  // The inbound email's record first: a second delivery of the same message fails here, before
  // this item has written anything.
  if (change.inbound) {
    InboundReceipt receipt = *change.inbound;
    receipt.case_reference = c.reference;
    auto inserted = insert_inbound_receipt(db, receipt);
    if (!inserted) return inserted.error();
    if (!*inserted) return Error::conflict("this email (" + receipt.message_id + ") was taken already");
  }
  if (change.expected_version < 0) {
    auto& insert = db.cached(kInsertCaseSql);
    bind_case(insert, c);
    if (auto s = insert.run(); !s) return s;
  } else {
    Result<std::int64_t> changed = 0;
    if (before) {
      changed = update_case(db, before->record, c, change.expected_version);
    } else {
      auto& update = db.cached(kUpdateCaseSql);
      bind_case(update, c);
      update.bind(kCaseColumnCount + 1, change.expected_version);
      if (auto s = update.run(); !s) return s;
      changed = db.changes();
    }
    if (!changed) return changed.error();
    if (*changed != 1)
      return Error::stale("case " + c.reference + " changed since version " + std::to_string(change.expected_version));
  }
  if (change.tags_changed) {
    // The tags by case (migration 18), which the case list filters on: the tags the change took off,
    // then those it put on (every stored one when the change was planned on a case not at hand).
    const std::vector<std::string>* old_tags = before ? &before->record.tags : nullptr;
    if (!old_tags) {
      auto& clear = db.cached("DELETE FROM case_tags WHERE case_id = ?1");
      clear.bind(1, c.id);
      if (auto s = clear.run(); !s) return s;
    }
    static const std::vector<std::string> kNone;
    const std::vector<std::string>& was = old_tags ? *old_tags : kNone;
    for (const auto& tag : was) {
      if (std::binary_search(c.tags.begin(), c.tags.end(), tag)) continue;
      auto& drop = db.cached("DELETE FROM case_tags WHERE tag = ?1 AND case_id = ?2");
      drop.bind_static(1, tag).bind(2, c.id);
      if (auto s = drop.run(); !s) return s;
    }
    for (const auto& tag : c.tags) {
      if (std::binary_search(was.begin(), was.end(), tag)) continue;
      auto& add = db.cached("INSERT OR IGNORE INTO case_tags(tag, case_id) VALUES (?1, ?2)");
      add.bind_static(1, tag).bind(2, c.id);
      if (auto s = add.run(); !s) return s;
    }
  }
  auto& event =
      db.cached("INSERT INTO events(case_id, seq, type, at, actor, data, hash, seals) VALUES (?1,?2,?3,?4,?5,?6,?7,?8)");
  for (const auto& e : change.events) {
    event.bind(1, e.case_id)
        .bind(2, e.seq)
        .bind_static(3, e.type)
        .bind(4, to_micros(e.at))
        .bind_static(5, e.actor)
        .bind_static(6, e.data)
        .bind_static(7, e.hash);
    if (e.hash_rule == HashRule::kSealed)  // NULL seals: hash rule 1
      event.bind_static(8, e.seals);
    else
      event.bind_null(8);
    if (auto s = event.run(); !s) return s;
  }
  // Each commitment's row as it was: written earlier in this change, or as the plan saw it.
  const std::vector<const Commitment*> old_commitments = commitments_before(change, before);
  for (std::size_t i = 0; i < change.commitments.size(); ++i)
    if (auto s = write_commitment(db, old_commitments[i], change.commitments[i]); !s) return s;
  for (const auto& r : change.redress) {
    auto& put = db.cached(kUpsertRedressSql);
    bind_redress(put, r);
    if (auto s = put.run(); !s) return s;
  }
  for (const auto& m : change.messages) {
    // A held message is written again when staff decide on it: an upsert, as for commitments.
    auto& put = db.cached(
        "INSERT INTO messages(id, case_id, visibility, author, body, at, state, via, original, mail_blob) "
        "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10) ON CONFLICT(id) DO UPDATE SET visibility = excluded.visibility, "
        "state = excluded.state");
    put.bind(1, m.id)
        .bind(2, m.case_id)
        .bind_static(3, to_string(m.visibility))
        .bind_static(4, m.author)
        .bind_static(5, m.body)
        .bind(6, to_micros(m.at))
        .bind_static(7, to_string(m.state))
        .bind_static(8, m.via)
        .bind_static(9, m.original)
        .bind_static(10, m.mail_blob);
    if (auto s = put.run(); !s) return s;
    for (std::size_t i = 0; i < m.attachments.size(); ++i) {
      const AttachmentRef& a = m.attachments[i];
      auto& file = db.cached(
          "INSERT OR IGNORE INTO message_attachments(message_id, position, blob_key, filename, content_type, size) "
          "VALUES (?1,?2,?3,?4,?5,?6)");
      file.bind(1, m.id)
          .bind(2, static_cast<std::int64_t>(i))
          .bind_static(3, a.key)
          .bind_static(4, a.filename)
          .bind_static(5, a.content_type)
          .bind(6, a.size);
      if (auto s = file.run(); !s) return s;
    }
  }
  if (!change.client_link_hash.empty()) {
    auto& link = db.cached("INSERT INTO client_links(case_id, nonce, token_hash, created_at) VALUES (?1,?2,?3,?4)");
    link.bind(1, c.id)
        .bind(2, change.client_link_nonce)
        .bind(3, change.client_link_hash)
        .bind(4, to_micros(c.updated_at));
    if (auto s = link.run(); !s) return s;
  }
  if (change.clock_state) {
    auto bind = [&](Statement& s) { s.bind(1, c.id).bind_static(2, *change.clock_state); };
    if (auto s = update_or_insert(db, "UPDATE case_clocks SET state = ?2 WHERE case_id = ?1",
                                  "INSERT INTO case_clocks(case_id, state) VALUES (?1, ?2)", bind);
        !s)
      return s;
  }
  if (change.wake == Change::Wake::kSet) {
    auto bind = [&](Statement& s) { s.bind(1, c.id).bind(2, to_micros(change.wake_at)); };
    if (auto s = update_or_insert(db, "UPDATE case_wakes SET wake_at = ?2 WHERE case_id = ?1",
                                  "INSERT INTO case_wakes(case_id, wake_at) VALUES (?1, ?2)", bind);
        !s)
      return s;
  } else if (change.wake == Change::Wake::kClear && change.expected_version >= 0) {
    auto& drop = db.cached("DELETE FROM case_wakes WHERE case_id = ?1");
    drop.bind(1, c.id);
    if (auto s = drop.run(); !s) return s;
  }
  Time at = change.events.empty() ? c.updated_at : change.events.back().at;
  for (const auto& n : change.notifications) {
    // A web hook is owed to each live subscription to the event's type: one outbox row each.
    if (n.channel == NotificationDraft::Channel::kWebhook) {
      if (subscriptions.empty()) continue;
      const Event* event = nullptr;
      for (const auto& e : change.events)
        if (e.seq == n.event_seq) event = &e;
      if (!event) continue;
      for (const auto& sub : subscriptions) {
        if (!subscribed(sub, *event)) continue;
        auto& put = db.cached(
            "INSERT INTO notifications(case_id, event_seq, channel, audience, recipient, recipient_name, template, "
            "next_attempt_at, created_at, subscription_id) VALUES (?1,?2,'webhook','subscribers',?3,?4,?5,?6,?6,?7)");
        put.bind(1, c.id)
            .bind(2, n.event_seq)
            .bind(3, "wh-" + std::to_string(sub.id))
            .bind_static(4, sub.url)
            .bind_static(5, event->type)
            .bind(6, to_micros(event->at))
            .bind(7, sub.id);
        if (auto s = put.run(); !s) return s;
      }
      continue;
    }
    auto& put = db.cached(
        "INSERT INTO notifications(case_id, event_seq, channel, audience, recipient, recipient_name, template, "
        "next_attempt_at, created_at) VALUES (?1,?2,'email',?3,?4,?5,?6,?7,?7)");
    put.bind(1, c.id)
        .bind(2, n.event_seq)
        .bind_static(3, n.audience)
        .bind_static(4, n.recipient)
        .bind_static(5, n.recipient_name)
        .bind_static(6, n.template_name)
        .bind(7, to_micros(at));
    if (auto s = put.run(); !s) return s;
  }
  // Everything is written: the summaries follow the rows, old contributions out, new ones in.
  summaries.change_written(change, before, old_commitments);
  return Status::success();
}

}  // namespace redress::sqlite
