#include "adapters/postgres/change_writer.h"

#include <boost/json.hpp>

#include "adapters/postgres/rows.h"
#include "adapters/postgres/session_records.h"
#include "engine/tags.h"

namespace redress::postgres {

namespace {

std::vector<std::string> event_types_of(std::string_view json) {
  std::vector<std::string> types;
  boost::system::error_code ec;
  auto parsed = boost::json::parse(json, ec);
  if (!ec && parsed.is_array())
    for (const auto& t : parsed.get_array())
      if (t.is_string()) types.emplace_back(t.get_string());
  return types;
}

// Whether `subscription` asks for a web hook on `event` (as adapters/sqlite/change_writer.cpp).
bool subscribed(const Subscription& subscription, const Event& event) {
  for (const auto& type : subscription.event_types) {
    if (type == "*" || type == event.type) return true;
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

}  // namespace

Result<const std::vector<Subscription>*> ChangeWriter::live_subscriptions(Connection& db) {
  if (!subscriptions_) {
    auto rows =
        db.query("SELECT id, url, event_types FROM webhook_subscriptions WHERE disabled_at IS NULL ORDER BY id");
    if (!rows) return rows.error();
    std::vector<Subscription> live;
    for (int i = 0; i < rows->size(); ++i) {
      Subscription sub;
      sub.id = rows->integer(i, 0);
      sub.url = rows->text(i, 1);
      sub.event_types = event_types_of(rows->view(i, 2));
      live.push_back(std::move(sub));
    }
    subscriptions_ = std::move(live);
  }
  return &*subscriptions_;
}

Status ChangeWriter::record_inbound(Connection& db, const Change& change) {
  if (!change.inbound) return Status::success();
  InboundReceipt receipt = *change.inbound;
  receipt.case_reference = change.after.reference;
  auto inserted = insert_inbound_receipt(db, receipt);
  if (!inserted) return inserted.error();
  if (!*inserted) return Error::conflict("this email (" + receipt.message_id + ") was taken already");
  return Status::success();
}

Status ChangeWriter::write(Connection& db, const Change& change) {
  // The inbound email's record first: a second delivery of the same message, on any node, fails
  // here before this item has written anything (as adapters/sqlite/change_writer.cpp).
  if (Status s = record_inbound(db, change); !s) return s;
  // One round trip: the case row first, version-checked, then everything that hangs off it. A
  // stale version is found in the answer, after the other rows went in: the caller rolls the
  // item back (WritePipeline treats any failed write as having written).
  Pipeline rows(db);
  auto queued = add(db, rows, change);
  if (!queued) return queued.error();
  auto written = rows.run();
  if (!written) return written.error();
  return check(*written, *queued, change);
}

Status ChangeWriter::check(const std::vector<Rows>& results, const Queued& queued, const Change& change) {
  if (change.expected_version >= 0 && results.at(queued.case_row).affected() != 1)
    return Error::stale("case " + change.after.reference + " changed since version " +
                        std::to_string(change.expected_version));
  return Status::success();
}

Result<ChangeWriter::Queued> ChangeWriter::add(Connection& db, Pipeline& rows, const Change& change,
                                               StaleCheck stale_check) {
  const Case& c = change.after;
  const std::vector<Subscription>* subscriptions = nullptr;
  for (const auto& n : change.notifications)
    if (n.channel == NotificationDraft::Channel::kWebhook) {
      auto live = live_subscriptions(db);
      if (!live) return live.error();
      subscriptions = *live;
      break;
    }

  Queued queued{rows.size()};
  if (change.expected_version < 0) {
    rows.add(insert_case_sql(), case_params(c));
  } else {
    static const std::string kUpdateOrFail =
        "WITH updated AS (" + update_case_sql_text() + " RETURNING 1) SELECT 1 / count(*) FROM updated";
    Params params = case_params(c);
    params.add(change.expected_version);
    rows.add(stale_check == StaleCheck::kAsError ? kUpdateOrFail : update_case_sql_text(), std::move(params));
  }
  if (change.tags_changed) {
    // The tags by case (migration 6), which the case list filters on: the case's, written again.
    rows.add("DELETE FROM case_tags WHERE case_id = $1", Params().add(c.id));
    if (!c.tags.empty())
      rows.add("INSERT INTO case_tags(tag, case_id) SELECT unnest(string_to_array($1, ' ')), $2",
               Params().add(join_words(c.tags)).add(c.id));
  }
  for (const auto& e : change.events)
    rows.add("INSERT INTO events(case_id, seq, type, at, actor, data, hash, seals) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
             Params()
                 .add(e.case_id)
                 .add(e.seq)
                 .add(e.type)
                 .add(to_micros(e.at))
                 .add(e.actor)
                 .add(e.data)
                 .add(e.hash)
                 .add(e.hash_rule == HashRule::kSealed ? std::optional<std::string>(e.seals) : std::nullopt));
  for (const auto& k : change.commitments) rows.add(upsert_commitment_sql(), commitment_params(k));
  for (const auto& r : change.redress) rows.add(upsert_redress_sql(), redress_params(r));
  for (const auto& m : change.messages)
    // A held message is written again when staff decide on it: an upsert.
    rows.add(
        "INSERT INTO messages(id, case_id, visibility, author, body, at, state, via, original, mail_blob) "
        "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) ON CONFLICT (id) DO UPDATE SET visibility = excluded.visibility, "
        "state = excluded.state",
        Params()
            .add(m.id)
            .add(m.case_id)
            .add(to_string(m.visibility))
            .add(m.author)
            .add(m.body)
            .add(to_micros(m.at))
            .add(to_string(m.state))
            .add(m.via)
            .add(m.original)
            .add(m.mail_blob));
  for (const auto& m : change.messages)
    for (std::size_t i = 0; i < m.attachments.size(); ++i) {
      const AttachmentRef& a = m.attachments[i];
      rows.add(
          "INSERT INTO message_attachments(message_id, position, blob_key, filename, content_type, size) "
          "VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT DO NOTHING",
          Params()
              .add(m.id)
              .add(static_cast<std::int64_t>(i))
              .add(a.key)
              .add(a.filename)
              .add(a.content_type)
              .add(a.size));
    }
  if (!change.client_link_hash.empty())
    rows.add(
        "INSERT INTO client_links(case_id, nonce, token_hash, created_at) VALUES ($1,$2,$3,$4)",
        Params().add(c.id).add(change.client_link_nonce).add(change.client_link_hash).add(to_micros(c.updated_at)));
  if (change.clock_state)
    rows.add(
        "INSERT INTO case_clocks(case_id, state) VALUES ($1, $2) ON CONFLICT (case_id) DO UPDATE SET state = "
        "excluded.state",
        Params().add(c.id).add(*change.clock_state));
  if (change.wake == Change::Wake::kSet)
    rows.add(
        "INSERT INTO case_wakes(case_id, wake_at) VALUES ($1, $2) ON CONFLICT (case_id) DO UPDATE SET wake_at = "
        "excluded.wake_at",
        Params().add(c.id).add(to_micros(change.wake_at)));
  else if (change.wake == Change::Wake::kClear && change.expected_version >= 0)
    rows.add("DELETE FROM case_wakes WHERE case_id = $1", Params().add(c.id));
  Time at = change.events.empty() ? c.updated_at : change.events.back().at;
  for (const auto& n : change.notifications) {
    if (n.channel == NotificationDraft::Channel::kWebhook) {
      if (!subscriptions || subscriptions->empty()) continue;
      const Event* event = nullptr;
      for (const auto& e : change.events)
        if (e.seq == n.event_seq) event = &e;
      if (!event) continue;
      for (const auto& sub : *subscriptions) {
        if (!subscribed(sub, *event)) continue;
        rows.add(
            "INSERT INTO notifications(case_id, event_seq, channel, audience, recipient, recipient_name, template, "
            "next_attempt_at, created_at, subscription_id) VALUES ($1,$2,'webhook','subscribers',$3,$4,$5,$6,$6,$7)",
            Params()
                .add(c.id)
                .add(n.event_seq)
                .add("wh-" + std::to_string(sub.id))
                .add(sub.url)
                .add(event->type)
                .add(to_micros(event->at))
                .add(sub.id));
      }
      continue;
    }
    rows.add(
        "INSERT INTO notifications(case_id, event_seq, channel, audience, recipient, recipient_name, template, "
        "next_attempt_at, created_at) VALUES ($1,$2,'email',$3,$4,$5,$6,$7,$7)",
        Params()
            .add(c.id)
            .add(n.event_seq)
            .add(n.audience)
            .add(n.recipient)
            .add(n.recipient_name)
            .add(n.template_name)
            .add(to_micros(at)));
  }
  return queued;
}

}  // namespace redress::postgres
