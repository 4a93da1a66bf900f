// Hash rule 2 (engine/sealing.h) and the personal data plans (engine/personal_data.h): sealed
// fields verify while present, a tampered value or seal is caught, a withdrawn field keeps the
// chain whole, rule-1 histories are re-sealed before an erasure, and erasure, restriction, holds,
// redaction and retention do what docs/personal-data.md says.
#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <string>
#include <vector>

#include "engine/change_builder.h"
#include "engine/hash_chain.h"
#include "engine/personal_data.h"
#include "engine/sealing.h"
#include "support.h"

namespace redress::enginetest::personal {

namespace json = boost::json;


Event whole_event(const Case& record, std::int64_t seq, const std::string& previous, const std::string& type,
                  const json::object& data, Time at) {
  Event e;
  e.case_id = record.id;
  e.seq = seq;
  e.type = type;
  e.at = at;
  e.actor = "staff:u-1";
  e.data = canonical_json(data);
  e.hash = chain_hash(previous, record.reference, e);
  return e;
}

StoredCase stored_case(HashRule rule) {
  StoredCase stored;
  Case& c = stored.snapshot.record;
  c.id = 7;
  c.reference = "CMP-2026-000007";
  c.client = Client{"Ana Ruiz", "ana@example.org", "+44 7700 900123", "en-GB"};
  c.subject = "Charged twice";
  c.description = "Card 4111 1111 1111 1111 was charged twice";
  c.workflow = "retail";
  c.received_at = at("2026-01-05T10:00:00Z");
  std::vector<std::pair<std::string, json::object>> history{
      {"case.received",
       json::object{{"client", json::object{{"name", c.client.name}, {"email", c.client.email}, {"phone", c.client.phone}}},
                    {"subject", c.subject},
                    {"description", c.description},
                    {"channel", "web"},
                    {"severity", "medium"}}},
      {"message.client", json::object{{"message_id", "m-3"}, {"visibility", "client"}, {"body", "Here is my receipt"},
                                      {"attachments", json::array{json::object{{"key", "abc"}, {"filename", "receipt-ana.pdf"},
                                                                               {"content_type", "application/pdf"},
                                                                               {"size", 12}}}}}},
      {"case.acknowledged", json::object{{"from", "received"}, {"to", "acknowledged"}, {"note", ""}}},
      {"case.closed", json::object{{"from", "resolved"}, {"to", "closed"}, {"note", "Ana was happy with it"}}},
  };
  if (rule == HashRule::kWhole) {
    std::string previous;
    for (std::size_t i = 0; i < history.size(); ++i) {
      stored.events.push_back(whole_event(c, static_cast<std::int64_t>(i + 1), previous, history[i].first,
                                          history[i].second, c.received_at));
      previous = stored.events.back().hash;
    }
    c.version = static_cast<std::int64_t>(history.size());
    c.head_hash = previous;
  } else {
    ChangeBuilder b(c, Actor::staff("u-1", Role::kAgent), c.received_at, 0);
    for (auto& [type, data] : history) b.event(type, data);
    Change change = std::move(b).finish();
    stored.events = change.events;
    c = change.after;
  }
  c.status = CaseStatus::kClosed;
  c.ended_at = at("2026-02-01T10:00:00Z");
  Message m = Message::make(3, c.id, Visibility::kClient, "client", "Here is my receipt", c.received_at);
  m.attachments.push_back(AttachmentRef{"abc", "receipt-ana.pdf", "application/pdf", 12});
  stored.messages.push_back(m);
  return stored;
}

// The history after a rewrite, as the store would hold it.
std::vector<Event> history_after(const StoredCase& stored, const CaseRewrite& rewrite) {
  std::vector<Event> events = stored.events;
  for (const auto& e : rewrite.replaced) events[static_cast<std::size_t>(e.seq - 1)] = e;
  events.insert(events.end(), rewrite.appended.begin(), rewrite.appended.end());
  return events;
}

// Where the chain breaks first; 0 when whole and ending at `head`.
std::int64_t first_break(const std::string& reference, const std::vector<Event>& events, const std::string& head) {
  std::string previous;
  for (const auto& e : events) {
    if (link_problem(previous, reference, e)) return e.seq;
    previous = e.hash;
  }
  return previous == head ? 0 : -1;
}

bool contains(const std::vector<Event>& events, const std::string& text) {
  for (const auto& e : events)
    if (e.data.find(text) != std::string::npos || e.seals.find(text) != std::string::npos) return true;
  return false;
}

const PrivacyRequest kRequest{Actor::staff("u-9", Role::kAdmin), "Article 17 request of 2026-12-01", 4};

TEST_CASE("sealing: the engine names the personal fields, and only those", "[engine][personal]") {
  json::object data{{"client", json::object{{"name", "Ana"}, {"email", "ana@example.org"}, {"locale", "en-GB"}}},
                    {"subject", "Charged"},
                    {"note", ""},
                    {"from", "received"},
                    {"owner_name", "Sam"},
                    {"offers", json::array{json::object{{"text", "refund"}, {"amount", "10.00"}}}}};
  CHECK(personal_paths("case.received", data) ==
        std::vector<std::string>{"/client/email", "/client/name", "/offers/0/text", "/subject"});
  // "from" is an address only on a held message's decision.
  CHECK(personal_paths("message.accepted", json::object{{"from", "ana@example.org"}}) ==
        std::vector<std::string>{"/from"});
}

TEST_CASE("sealing: a sealed event verifies - a changed value, seal or rule does not", "[engine][personal]") {
  StoredCase stored = stored_case(HashRule::kSealed);
  const std::string& ref = stored.snapshot.record.reference;
  REQUIRE(first_break(ref, stored.events, stored.snapshot.record.head_hash) == 0);
  const Event& received = stored.events[0];
  CHECK(received.hash_rule == HashRule::kSealed);
  CHECK(received.data.find("Ana Ruiz") != std::string::npos);  // readers still read the data as it is
  CHECK(received.seals.find("/client/name") != std::string::npos);
  CHECK(received.seals.find("Ana") == std::string::npos);  // the seals hold salts and digests only

  Event changed = received;
  const auto name = changed.data.find("Ana Ruiz");
  changed.data.replace(name, 8, "Bob Ruiz");
  REQUIRE(link_problem("", ref, changed));
  CHECK(link_problem("", ref, changed)->find("/client/name") != std::string::npos);

  Event unsealed = received;  // a seal removed: the value enters the envelope in clear
  json::object seals = json::parse(unsealed.seals).as_object();
  seals.erase("/client/name");
  unsealed.seals = canonical_json(seals);
  CHECK(link_problem("", ref, unsealed));

  Event demoted = received;  // read as rule 1
  demoted.hash_rule = HashRule::kWhole;
  CHECK(link_problem("", ref, demoted));
}

TEST_CASE("sealing: a seal is the salt and 8 digits of the commitment - a seal with the whole digest verifies too",
          "[engine][personal]") {
  StoredCase stored = stored_case(HashRule::kSealed);
  const std::string& ref = stored.snapshot.record.reference;
  const Event& received = stored.events[0];
  const json::object seals = json::parse(received.seals).as_object();
  const std::string seal(seals.at("/client/name").as_string());
  REQUIRE(seal.size() == 32 + 8);  // 16 bytes of salt in hex, then the check
  std::string salt;
  for (std::size_t i = 0; i < 32; i += 2) salt += static_cast<char>(std::stoi(seal.substr(i, 2), nullptr, 16));
  const std::string digest = sha256_hex(salt + "Ana Ruiz");
  CHECK(digest.substr(0, 8) == seal.substr(32));

  // As written before the check was shortened: salt and the whole digest. It verifies.
  Event whole = received;
  json::object longer = seals;
  longer["/client/name"] = seal.substr(0, 32) + digest;
  whole.seals = canonical_json(longer);
  CHECK(!link_problem("", ref, whole));
  // A wrong digest there names the field.
  longer["/client/name"] = seal.substr(0, 32) + std::string(64, '0');
  whole.seals = canonical_json(longer);
  REQUIRE(link_problem("", ref, whole));
  CHECK(link_problem("", ref, whole)->find("/client/name") != std::string::npos);
  // A withdrawn field keeps the whole digest, computed from its salt and value as they were.
  Event withdrawn = received;
  REQUIRE(withdraw_field(withdrawn, "/client/name", kErasedValue));
  CHECK(json::parse(withdrawn.seals).at("/client/name").as_string() == digest);
  CHECK(!link_problem("", ref, withdrawn));
}

TEST_CASE("sealing: a withdrawn field keeps the hash - nothing may stand in its place", "[engine][personal]") {
  StoredCase stored = stored_case(HashRule::kSealed);
  const std::string& ref = stored.snapshot.record.reference;
  Event e = stored.events[0];
  const std::string hash = e.hash;
  REQUIRE(withdraw_field(e, "/description", kRedactedValue));
  CHECK(e.hash == hash);
  CHECK(!link_problem("", ref, e));
  CHECK(e.data.find("4111 1111") == std::string::npos);
  CHECK(e.data.find("\"description\":\"[redacted]\"") != std::string::npos);
  // The withdrawn value cannot be put back, nor anything else put there.
  Event forged = e;
  forged.data.replace(forged.data.find("[redacted]"), 10, "all is fine");
  CHECK(link_problem("", ref, forged));
  CHECK(withdraw_field(e, "/channel", kRedactedValue).error().code == ErrorCode::kNotFound);
  CHECK(withdraw_all_fields(e, kErasedValue) == 4);  // name, email, phone, subject
  CHECK(e.hash == hash);
  CHECK(!link_problem("", ref, e));
}

TEST_CASE("erasure: every personal field withdrawn, the chain whole, the facts kept", "[engine][personal]") {
  for (HashRule rule : {HashRule::kSealed, HashRule::kWhole}) {
    INFO("hash rule " << static_cast<int>(rule));
    StoredCase stored = stored_case(rule);
    const Case& before = stored.snapshot.record;
    auto rewrite = plan_erasure(stored, kRequest, at("2030-01-01T00:00:00Z"));
    REQUIRE(rewrite);
    auto events = history_after(stored, *rewrite);
    CHECK(first_break(before.reference, events, rewrite->after.head_hash) == 0);
    for (const std::string text : {"Ana Ruiz", "ana@example.org", "7700 900123", "4111 1111", "Charged twice",
                                   "Here is my receipt", "receipt-ana.pdf", "Ana was happy"}) {
      INFO(text);
      CHECK(!contains(events, text));
      CHECK(rewrite->after.client.name.find(text) == std::string::npos);
      CHECK(rewrite->after.description.find(text) == std::string::npos);
      CHECK(rewrite->messages[0].body.find(text) == std::string::npos);
      CHECK(rewrite->messages[0].attachments[0].filename.find(text) == std::string::npos);
    }
    CHECK(rewrite->after.status == CaseStatus::kClosed);
    CHECK(rewrite->after.ended_at == before.ended_at);
    CHECK(rewrite->after.client.email.empty());
    CHECK(rewrite->after.version == before.version + 1);
    CHECK(rewrite->appended.size() == 1);
    CHECK(rewrite->appended[0].type == "case.erased");
    CHECK(rewrite->appended[0].data.find("e-4") != std::string::npos);
    CHECK(rewrite->privacy.state == PrivacyState::kErased);
    CHECK(rewrite->scope == RewriteScope::kWholeCase);
    CHECK(rewrite->released_blobs == std::vector<std::string>{"abc"});
    // Rule-1 histories are re-sealed first, and the event says from which head.
    CHECK(rewrite->rechained_from == (rule == HashRule::kWhole ? before.head_hash : ""));
    CHECK((rewrite->appended[0].data.find("rechained_from") != std::string::npos) == (rule == HashRule::kWhole));
    for (const auto& e : events) CHECK(e.hash_rule == HashRule::kSealed);
  }
}

TEST_CASE("erasure refuses a held case and a broken history - restriction keeps everything", "[engine][personal]") {
  StoredCase stored = stored_case(HashRule::kSealed);
  const Time now = at("2026-06-01T00:00:00Z");
  StoredCase held = stored;
  held.privacy.legal_hold = "Ombudsman referral FOS-1";
  CHECK(plan_erasure(held, kRequest, now).error().code == ErrorCode::kRefused);

  StoredCase tampered = stored;
  tampered.events[1].data = tampered.events[1].data + " ";
  auto refused = plan_erasure(tampered, kRequest, now);
  REQUIRE(!refused);
  CHECK(refused.error().code == ErrorCode::kConflict);
  CHECK(refused.error().detail.find("event 2") != std::string::npos);

  PrivacyRequest no_reason = kRequest;
  no_reason.reason = "  ";
  CHECK(plan_erasure(stored, no_reason, now).error().code == ErrorCode::kInvalid);

  auto restricted = plan_restriction(stored, kRequest, "it is under legal hold: x", now);
  REQUIRE(restricted);
  CHECK(restricted->replaced.empty());
  CHECK(restricted->appended.at(0).type == "case.restricted");
  CHECK(restricted->privacy.state == PrivacyState::kRestricted);
  CHECK(restricted->after.client.name == "Ana Ruiz");
  CHECK(first_break(stored.snapshot.record.reference, history_after(stored, *restricted), restricted->after.head_hash) ==
        0);
}

TEST_CASE("legal holds: managers set and lift them with a reason, as events", "[engine][personal]") {
  StoredCase stored = stored_case(HashRule::kSealed);
  const Time now = at("2026-06-01T00:00:00Z");
  PrivacyRequest agent{Actor::staff("u-2", Role::kLead), "litigation", 0};
  CHECK(plan_legal_hold(stored, HoldChange::kSet, agent, now).error().code == ErrorCode::kForbidden);
  PrivacyRequest manager{Actor::staff("u-3", Role::kManager), "litigation: claim 123", 0};
  auto set = plan_legal_hold(stored, HoldChange::kSet, manager, now);
  REQUIRE(set);
  CHECK(set->privacy.legal_hold == "litigation: claim 123");
  CHECK(set->privacy.hold_by == "staff:u-3");
  CHECK(set->appended.at(0).type == "case.legal_hold_set");
  CHECK(plan_legal_hold(stored, HoldChange::kLift, manager, now).error().code == ErrorCode::kRefused);
  stored.privacy = set->privacy;
  CHECK(plan_legal_hold(stored, HoldChange::kSet, manager, now).error().code == ErrorCode::kRefused);
  auto lifted = plan_legal_hold(stored, HoldChange::kLift, manager, now);
  REQUIRE(lifted);
  CHECK(lifted->privacy.legal_hold.empty());
  CHECK(lifted->appended.at(0).type == "case.legal_hold_lifted");
}

TEST_CASE("redaction: one value out of every event and row that holds it, the chain whole", "[engine][personal]") {
  for (HashRule rule : {HashRule::kSealed, HashRule::kWhole}) {
    StoredCase stored = stored_case(rule);
    const std::string& ref = stored.snapshot.record.reference;
    const Time now = at("2026-06-01T00:00:00Z");
    PrivacyRequest lead{Actor::staff("u-2", Role::kLead), "a card number the client pasted", 0};
    RedactionTarget target;
    target.event_seq = 1;
    target.field = "/description";
    auto rewrite = plan_redaction(stored, target, lead, now);
    REQUIRE(rewrite);
    auto events = history_after(stored, *rewrite);
    CHECK(first_break(ref, events, rewrite->after.head_hash) == 0);
    CHECK(!contains(events, "4111 1111"));
    CHECK(rewrite->after.description == kRedactedValue);
    CHECK(rewrite->after.client.name == "Ana Ruiz");  // nothing else
    CHECK(contains(events, "Ana Ruiz"));
    CHECK(rewrite->appended.at(0).type == "case.redacted");
    CHECK(rewrite->scrub == std::vector<std::string>{stored.snapshot.record.description});

    RedactionTarget unknown;
    unknown.event_seq = 1;
    unknown.field = "/channel";
    auto refused = plan_redaction(stored, unknown, lead, now);
    REQUIRE(!refused);
    CHECK(refused.error().code == ErrorCode::kNotFound);
    CHECK(refused.error().detail.find("/description") != std::string::npos);  // it lists what may be redacted
    PrivacyRequest agent{Actor::staff("u-4", Role::kAgent), "x", 0};
    CHECK(plan_redaction(stored, target, agent, now).error().code == ErrorCode::kForbidden);

    RedactionTarget message;
    message.message_id = 3;
    auto body = plan_redaction(stored, message, lead, now);
    REQUIRE(body);
    CHECK(body->messages.at(0).body == kRedactedValue);
    CHECK(!contains(history_after(stored, *body), "Here is my receipt"));
  }
}

TEST_CASE("retention: months from receipt or closure - holds and periods keep a case", "[engine][personal]") {
  Workflow fca;
  fca.name = "fca";
  fca.retention = Retention{36, RetentionFrom::kReceipt};
  Case c;
  c.received_at = at("2026-01-31T09:30:00Z");
  REQUIRE(retention_ends(c, fca));
  CHECK(*retention_ends(c, fca) == at("2029-01-31T09:30:00Z"));
  Workflow utility = fca;
  utility.retention = Retention{1, RetentionFrom::kClosure};
  CHECK(!retention_ends(c, utility));  // open: the period has not begun
  c.ended_at = at("2026-01-31T12:00:00Z");
  CHECK(*retention_ends(c, utility) == at("2026-02-28T12:00:00Z"));  // the month's last day

  CasePrivacy open;
  CHECK(reason_to_keep(c, open, &fca, at("2028-12-01T00:00:00Z")).value().find("until 2029-01-31") !=
        std::string::npos);
  CHECK(!reason_to_keep(c, open, &fca, at("2029-02-01T00:00:00Z")));
  CasePrivacy held;
  held.legal_hold = "litigation";
  CHECK(reason_to_keep(c, held, &fca, at("2040-01-01T00:00:00Z")).value().find("legal hold") != std::string::npos);
  Workflow none;
  CHECK(!reason_to_keep(c, open, &none, at("2026-02-01T00:00:00Z")));
}

}  // namespace redress::enginetest::personal
