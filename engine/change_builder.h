// ChangeBuilder: accumulates one Change while a plan runs — events sealed onto the case's chain,
// the projections they change, the notifications they owe — and keeps the case's whole set of
// commitments as the change leaves them, so later steps of the same plan see earlier ones.
// The case's commitments and redress are read in place until the plan first changes one: most
// actions change none, and copying a long-running case's commitments cost 5% of the writer.
//
// Internal to engine/ (planner.cpp, pledges.cpp, plan_steps.cpp). A value; not shared between threads. The
// commitments and redress it is given must outlive it (they are the snapshot being planned on).
#pragma once

#include <boost/json.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "engine/hash_chain.h"
#include "engine/sealing.h"
#include "engine/store.h"
#include "engine/workflow.h"

namespace redress {

namespace json = boost::json;

// Accumulates one Change: appends events to the case's chain and the notifications they owe.
class ChangeBuilder {
 public:
  ChangeBuilder(Case record, const Actor& actor, Time now, std::int64_t expected_version,
                const std::vector<Commitment>& commitments = kNoCommitments,
                const std::vector<Redress>& redress = kNoRedress)
      : actor_(actor.text()), now_(now), base_commitments_(&commitments), base_redress_(&redress) {
    change_.after = std::move(record);
    change_.expected_version = expected_version;
  }

  Case& record() { return change_.after; }
  Time now() const { return now_; }

  // Appends an event and the web hook notification it owes. Returns its sequence number.
  std::int64_t event(std::string type, json::object data, std::string actor = {}) {
    Event e;
    e.case_id = change_.after.id;
    e.seq = change_.after.version + 1;
    e.type = std::move(type);
    e.at = now_;
    e.actor = actor.empty() ? actor_ : std::move(actor);
    if (new_event_rule() == HashRule::kSealed) {
      seal_and_chain(e, std::move(data), change_.after.head_hash, change_.after.reference);
    } else {  // bench/engine's A/B baseline only
      e.data = canonical_json(data);
      e.hash = chain_hash(change_.after.head_hash, change_.after.reference, e);
    }
    change_.after.head_hash = e.hash;
    change_.after.version = e.seq;
    change_.after.updated_at = now_;
    NotificationDraft hook;
    hook.channel = NotificationDraft::Channel::kWebhook;
    hook.audience = "subscribers";
    hook.template_name = e.type;
    hook.event_seq = e.seq;
    change_.notifications.push_back(std::move(hook));
    change_.events.push_back(std::move(e));
    return change_.after.version;
  }

  void email_client(const std::string& template_name) {
    if (change_.after.client.email.empty()) return;
    NotificationDraft n;
    n.audience = "client";
    n.recipient = change_.after.client.email;
    n.recipient_name = change_.after.client.name;
    n.template_name = template_name;
    n.event_seq = change_.after.version;
    change_.notifications.push_back(std::move(n));
  }

  void email_staff(const Staff& staff, const std::string& audience, const std::string& template_name) {
    if (staff.email.empty() || !staff.active) return;
    for (const auto& n : change_.notifications)  // one mail per person per event
      if (n.event_seq == change_.after.version && n.recipient == staff.email) return;
    NotificationDraft n;
    n.audience = audience;
    n.recipient = staff.email;
    n.recipient_name = staff.name;
    n.template_name = template_name;
    n.event_seq = change_.after.version;
    change_.notifications.push_back(std::move(n));
  }

  void put(Commitment c) {
    if (!own_commitments_) own_commitments_ = *base_commitments_;
    auto& commitments = *own_commitments_;
    auto at = std::lower_bound(commitments.begin(), commitments.end(), c.id,
                               [](const Commitment& x, std::int64_t id) { return x.id < id; });
    if (at != commitments.end() && at->id == c.id)
      *at = c;
    else
      commitments.insert(at, c);
    for (auto& existing : change_.commitments)
      if (existing.id == c.id) {
        existing = std::move(c);
        return;
      }
    change_.commitments.push_back(std::move(c));
  }
  // Every commitment of the case as this change leaves it, by id.
  [[nodiscard]] const std::vector<Commitment>& commitments() const {
    return own_commitments_ ? *own_commitments_ : *base_commitments_;
  }
  [[nodiscard]] const std::vector<Redress>& redress() const { return own_redress_ ? *own_redress_ : *base_redress_; }
  [[nodiscard]] const Commitment* find_commitment(std::int64_t id) const {
    for (const auto& c : commitments())
      if (c.id == id) return &c;
    return nullptr;
  }
  [[nodiscard]] const std::vector<Event>& events() const { return change_.events; }
  [[nodiscard]] Change& change() { return change_; }
  [[nodiscard]] const std::string& actor() const { return actor_; }
  void put(Redress r) {
    if (!own_redress_) own_redress_ = *base_redress_;
    auto& redress = *own_redress_;
    auto at = std::lower_bound(redress.begin(), redress.end(), r.id,
                               [](const Redress& x, std::int64_t id) { return x.id < id; });
    if (at != redress.end() && at->id == r.id)
      *at = r;
    else
      redress.insert(at, r);
    for (auto& existing : change_.redress)
      if (existing.id == r.id) {
        existing = std::move(r);
        return;
      }
    change_.redress.push_back(std::move(r));
  }
  void put(Message m) { change_.messages.push_back(std::move(m)); }

  Change finish() && { return std::move(change_); }

 private:
  Change change_;
  std::string actor_;
  Time now_;
  inline static const std::vector<Commitment> kNoCommitments;
  inline static const std::vector<Redress> kNoRedress;
  // The case's commitments and redress by id: the snapshot's, until the first put copies them.
  const std::vector<Commitment>* base_commitments_;
  const std::vector<Redress>* base_redress_;
  std::optional<std::vector<Commitment>> own_commitments_;
  std::optional<std::vector<Redress>> own_redress_;
};

}  // namespace redress
