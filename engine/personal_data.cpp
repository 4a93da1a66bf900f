#include "engine/personal_data.h"

#include <boost/json.hpp>

#include <algorithm>
#include <set>

#include "engine/actions.h"
#include "engine/change_builder.h"
#include "engine/sealing.h"

namespace redress {

namespace json = boost::json;

namespace {

// Verification before a rewrite never re-seals; the rewrites that withdraw fields need rule 2.
enum class Reseal { kWhenNeeded, kNever };

struct History {
  std::vector<Event> events;
  std::vector<bool> changed;   // by index: re-sealed or re-hashed
  std::string head;            // the head hash afterwards
  std::string rechained_from;  // the head before re-sealing; "" when nothing was
};

// The case's history verified link by link (a rewrite never builds on a broken chain), and, when
// asked and needed, its rule-1 events re-sealed under rule 2 and the chain hashed again.
Result<History> verified_history(const StoredCase& stored, Reseal reseal) {
  const Case& record = stored.snapshot.record;
  History history{stored.events, std::vector<bool>(stored.events.size(), false), {}, {}};
  auto broken = [&record](std::int64_t seq, const std::string& problem) {
    return Error::conflict("the history of case " + record.reference + " does not verify at event " +
                           std::to_string(seq) + " (" + problem +
                           "); nothing was changed. Run `redress audit verify` and restore the case from a backup");
  };
  std::string previous;
  std::int64_t expected = 1;
  bool whole = false;
  for (const Event& e : history.events) {
    if (e.seq != expected) return broken(expected, "an event is missing or out of order");
    if (auto problem = link_problem(previous, record.reference, e)) return broken(e.seq, *problem);
    whole = whole || e.hash_rule == HashRule::kWhole;
    previous = e.hash;
    ++expected;
  }
  if (expected - 1 != record.version || previous != record.head_hash)
    return broken(expected, "the history does not end at the case's version and head hash");
  if (whole && reseal == Reseal::kWhenNeeded) {
    history.rechained_from = previous;
    previous.clear();
    for (std::size_t i = 0; i < history.events.size(); ++i) {
      Event& e = history.events[i];
      if (e.hash_rule == HashRule::kWhole) reseal_whole_event(e);
      e.hash = chain_hash(previous, record.reference, e);
      previous = e.hash;
      history.changed[i] = true;
    }
  }
  history.head = previous;
  return history;
}

// The events to write back: those the history changed or `touched` says were rewritten.
std::vector<Event> changed_events(const History& history, const std::vector<bool>& touched) {
  std::vector<Event> out;
  for (std::size_t i = 0; i < history.events.size(); ++i)
    if (history.changed[i] || touched[i]) out.push_back(history.events[i]);
  return out;
}

// The whole history after `rewrite` checked again: a plan never hands the store a broken chain.
Status check_rewrite(const StoredCase& stored, const CaseRewrite& rewrite) {
  std::vector<Event> events = stored.events;
  for (const Event& e : rewrite.replaced)
    for (Event& old : events)
      if (old.seq == e.seq) old = e;
  events.insert(events.end(), rewrite.appended.begin(), rewrite.appended.end());
  std::string previous;
  for (const Event& e : events) {
    if (auto problem = link_problem(previous, rewrite.after.reference, e))
      return Error::internal("a personal data rewrite of " + rewrite.after.reference + " broke event " +
                             std::to_string(e.seq) + ": " + *problem);
    previous = e.hash;
  }
  if (previous != rewrite.after.head_hash || static_cast<std::int64_t>(events.size()) != rewrite.after.version)
    return Error::internal("a personal data rewrite of " + rewrite.after.reference + " left the head out of step");
  return Status::success();
}

// Appends `type` with `data` to the case as `history` leaves it, into `rewrite`.
void append_event(CaseRewrite& rewrite, const StoredCase& stored, const History& history, Case record,
                  const Actor& actor, Time now, const std::string& type, json::object data) {
  record.head_hash = history.head;
  ChangeBuilder builder(std::move(record), actor, now, stored.snapshot.record.version);
  builder.event(type, std::move(data));
  Change change = std::move(builder).finish();  // its web hook drafts are not written: privacy events notify nobody
  rewrite.after = std::move(change.after);
  rewrite.appended = std::move(change.events);
  rewrite.expected_version = stored.snapshot.record.version;
}

void overwrite(std::string& text, std::string_view marker) {
  if (!text.empty()) text = std::string(marker);
}

bool is_staff_at_least(const Actor& actor, Role role) {
  return (actor.kind == Actor::Kind::kStaff && role_at_least(actor.role, role)) || actor.kind == Actor::Kind::kSystem;
}

Status need_reason(const PrivacyRequest& request) {
  if (request.reason.find_first_not_of(" \t\r\n") == std::string::npos)
    return Error::invalid_field("reason", "is required: say why");
  if (request.reason.size() > 2000) return Error::invalid_field("reason", "must be at most 2000 characters");
  return Status::success();
}

std::string date_of(Time t) { return format_date(std::chrono::year_month_day(std::chrono::floor<std::chrono::days>(t))); }

}  // namespace

std::string_view to_string(PrivacyState state) {
  switch (state) {
    case PrivacyState::kOpen: return "open";
    case PrivacyState::kRestricted: return "restricted";
    case PrivacyState::kErased: return "erased";
  }
  return "open";
}

std::optional<PrivacyState> parse_PrivacyState(std::string_view text) {
  if (text == "open") return PrivacyState::kOpen;
  if (text == "restricted") return PrivacyState::kRestricted;
  if (text == "erased") return PrivacyState::kErased;
  return std::nullopt;
}

std::string erasure_display_id(std::int64_t id) { return "e-" + std::to_string(id); }

std::optional<Time> retention_ends(const Case& record, const Workflow& workflow) {
  if (!workflow.retention) return std::nullopt;
  std::optional<Time> from =
      workflow.retention->from == RetentionFrom::kReceipt ? std::optional<Time>(record.received_at) : record.ended_at;
  if (!from) return std::nullopt;
  // Calendar months on the UTC date, the time of day kept (the 31st into a shorter month: its last day).
  const auto day = std::chrono::floor<std::chrono::days>(*from);
  const auto time_of_day = *from - day;
  std::chrono::year_month_day ymd{day};
  ymd += std::chrono::months(workflow.retention->months);
  if (!ymd.ok()) ymd = std::chrono::year_month_day_last(ymd.year(), std::chrono::month_day_last(ymd.month()));
  return Time(std::chrono::sys_days(ymd)) + time_of_day;
}

std::optional<std::string> reason_to_keep(const Case& record, const CasePrivacy& privacy, const Workflow* workflow,
                                          Time now) {
  if (!privacy.legal_hold.empty()) return "it is under legal hold: " + privacy.legal_hold;
  if (workflow == nullptr || !workflow->retention) return std::nullopt;
  auto ends = retention_ends(record, *workflow);
  if (!ends)
    return "the " + workflow->name + " standard keeps cases for " + std::to_string(workflow->retention->months) +
           " months after closure, and it is not closed";
  if (now < *ends) return "the " + workflow->name + " standard keeps it until " + date_of(*ends);
  return std::nullopt;
}

Result<CaseRewrite> plan_erasure(const StoredCase& stored, const PrivacyRequest& request, Time now) {
  const Case& before = stored.snapshot.record;
  if (stored.privacy.state == PrivacyState::kErased)
    return Error::refused("case " + before.reference + " is erased already", {});
  if (!stored.privacy.legal_hold.empty())
    return Error::refused("case " + before.reference + " is under legal hold: " + stored.privacy.legal_hold, {});
  if (auto s = need_reason(request); !s) return s.error();
  auto history = verified_history(stored, Reseal::kWhenNeeded);
  if (!history) return history.error();

  CaseRewrite rewrite;
  std::vector<bool> touched(history->events.size(), false);
  int withdrawn = 0;
  for (std::size_t i = 0; i < history->events.size(); ++i) {
    const int n = withdraw_all_fields(history->events[i], kErasedValue);
    withdrawn += n;
    touched[i] = n > 0;
  }
  rewrite.replaced = changed_events(*history, touched);

  Case record = before;
  overwrite(record.client.name, kErasedValue);
  record.client.email.clear();  // no mail is ever sent to an erased case
  record.client.phone.clear();
  overwrite(record.subject, kErasedValue);
  overwrite(record.description, kErasedValue);
  overwrite(record.remedy_requested, kErasedValue);
  if (record.vulnerability) overwrite(record.vulnerability->note, kErasedValue);  // the driver stays: a statistic

  json::object data{{"erasure_id", erasure_display_id(request.erasure_id)},
                    {"reason", request.reason},
                    {"fields_erased", withdrawn}};
  if (!history->rechained_from.empty()) data["rechained_from"] = history->rechained_from;
  append_event(rewrite, stored, *history, std::move(record), request.actor, now, "case.erased", std::move(data));

  std::set<std::string> released;
  for (Message m : stored.messages) {
    overwrite(m.body, kErasedValue);
    if (m.author.starts_with("email:")) m.author = "email:" + std::string(kErasedValue);
    m.original.clear();
    if (!m.mail_blob.empty()) released.insert(m.mail_blob);
    m.mail_blob.clear();
    for (auto& file : m.attachments) {
      released.insert(file.key);
      overwrite(file.filename, kErasedValue);
    }
    rewrite.messages.push_back(std::move(m));
  }
  for (Commitment c : stored.snapshot.commitments) {
    if (c.kind != CommitmentKind::kPledge) overwrite(c.text, kErasedValue);  // a pledge's text is the standard's
    overwrite(c.note, kErasedValue);
    overwrite(c.handled_note, kErasedValue);
    overwrite(c.exemption, kErasedValue);
    rewrite.commitments.push_back(std::move(c));
  }
  for (Redress r : stored.snapshot.redress) {
    overwrite(r.text, kErasedValue);
    rewrite.redress.push_back(std::move(r));
  }
  rewrite.released_blobs.assign(released.begin(), released.end());
  rewrite.privacy = stored.privacy;
  rewrite.privacy.state = PrivacyState::kErased;
  rewrite.privacy.erased_at = now;
  rewrite.privacy.erasure_id = request.erasure_id;
  rewrite.scope = RewriteScope::kWholeCase;
  rewrite.rechained_from = history->rechained_from;
  if (auto s = check_rewrite(stored, rewrite); !s) return s.error();
  return rewrite;
}

Result<CaseRewrite> plan_restriction(const StoredCase& stored, const PrivacyRequest& request, const std::string& why,
                                     Time now) {
  const Case& before = stored.snapshot.record;
  if (stored.privacy.state == PrivacyState::kErased)
    return Error::refused("case " + before.reference + " is erased already", {});
  if (stored.privacy.state == PrivacyState::kRestricted)
    return Error::refused("case " + before.reference + " is restricted already", {});
  if (auto s = need_reason(request); !s) return s.error();
  auto history = verified_history(stored, Reseal::kNever);
  if (!history) return history.error();
  CaseRewrite rewrite;
  append_event(rewrite, stored, *history, before, request.actor, now, "case.restricted",
               json::object{{"erasure_id", erasure_display_id(request.erasure_id)},
                            {"reason", request.reason},
                            {"note", "kept because " + why}});
  rewrite.privacy = stored.privacy;
  rewrite.privacy.state = PrivacyState::kRestricted;
  rewrite.privacy.restricted_at = now;
  rewrite.privacy.erasure_id = request.erasure_id;
  if (auto s = check_rewrite(stored, rewrite); !s) return s.error();
  return rewrite;
}

Result<CaseRewrite> plan_legal_hold(const StoredCase& stored, HoldChange change, const PrivacyRequest& request,
                                    Time now) {
  const Case& before = stored.snapshot.record;
  if (!is_staff_at_least(request.actor, Role::kManager))
    return Error::forbidden("legal holds are set and lifted by managers and admins");
  if (auto s = need_reason(request); !s) return s.error();
  if (stored.privacy.state == PrivacyState::kErased)
    return Error::refused("case " + before.reference + " is erased: there is nothing left to hold", {});
  const bool held = !stored.privacy.legal_hold.empty();
  if (change == HoldChange::kSet && held)
    return Error::refused("case " + before.reference + " is under legal hold already: " + stored.privacy.legal_hold,
                          {"lift_legal_hold"});
  if (change == HoldChange::kLift && !held)
    return Error::refused("case " + before.reference + " is not under legal hold", {"set_legal_hold"});
  auto history = verified_history(stored, Reseal::kNever);
  if (!history) return history.error();
  CaseRewrite rewrite;
  rewrite.privacy = stored.privacy;
  if (change == HoldChange::kSet) {
    append_event(rewrite, stored, *history, before, request.actor, now, "case.legal_hold_set",
                 json::object{{"reason", request.reason}});
    rewrite.privacy.legal_hold = request.reason;
    rewrite.privacy.hold_by = request.actor.text();
    rewrite.privacy.hold_at = now;
  } else {
    append_event(rewrite, stored, *history, before, request.actor, now, "case.legal_hold_lifted",
                 json::object{{"reason", request.reason},
                              {"held_since", stored.privacy.hold_at ? json::value(format_time(*stored.privacy.hold_at))
                                                                    : json::value(nullptr)}});
    rewrite.privacy.legal_hold.clear();
    rewrite.privacy.hold_by.clear();
    rewrite.privacy.hold_at.reset();
  }
  if (auto s = check_rewrite(stored, rewrite); !s) return s.error();
  return rewrite;
}

Result<CaseRewrite> plan_redaction(const StoredCase& stored, const RedactionTarget& target,
                                   const PrivacyRequest& request, Time now) {
  const Case& before = stored.snapshot.record;
  if (!is_staff_at_least(request.actor, Role::kLead)) return Error::forbidden("redaction needs the lead role or above");
  if (auto s = need_reason(request); !s) return s.error();
  if (stored.privacy.state == PrivacyState::kErased)
    return Error::refused("case " + before.reference + " is erased: there is nothing left to redact", {});
  if ((target.event_seq > 0) == (target.message_id > 0))
    return Error::invalid_field("event", "give exactly one of event (a sequence number) or message (\"m-12\")");
  auto history = verified_history(stored, Reseal::kWhenNeeded);
  if (!history) return history.error();

  // The value to redact.
  std::string value;
  std::string described;
  const Message* message = nullptr;
  if (target.message_id > 0) {
    for (const auto& m : stored.messages)
      if (m.id == target.message_id) message = &m;
    if (message == nullptr)
      return Error::not_found("case " + before.reference + " has no message " + message_display_id(target.message_id));
    if (!target.field.empty() && target.field != "body" && target.field != "/body")
      return Error::invalid_field("field", "a message's redactable field is its body");
    value = message->body;
    described = message_display_id(message->id);
  } else {
    if (target.event_seq > static_cast<std::int64_t>(history->events.size()))
      return Error::not_found("case " + before.reference + " has no event " + std::to_string(target.event_seq));
    const Event& event = history->events[static_cast<std::size_t>(target.event_seq - 1)];
    std::string names;
    bool found = false, withdrawn = false;
    for (const auto& field : sealed_fields(event)) {
      names += (names.empty() ? "" : ", ") + field.path;
      if (field.path == target.field) {
        found = true;
        withdrawn = field.withdrawn;
      }
    }
    if (!found)
      return Error::not_found("event " + std::to_string(event.seq) + " (" + event.type + ") has no personal field \"" +
                              target.field + "\"" + (names.empty() ? "" : "; its personal fields are " + names));
    if (withdrawn) return Error::refused("field " + target.field + " of event " + std::to_string(event.seq) +
                                             " is redacted or erased already", {});
    boost::system::error_code ec;
    json::value data = json::parse(event.data, ec);
    const json::value* at = ec ? nullptr : data.find_pointer(target.field, ec);
    if (at == nullptr || !at->is_string()) return Error::internal("event " + std::to_string(event.seq) + " lost " + target.field);
    value = std::string(at->get_string());
    described = "event " + std::to_string(event.seq);
  }
  if (value.empty() || value == kRedactedValue || value == kErasedValue)
    return Error::refused("there is nothing to redact in " + described + ": the value is empty or withdrawn", {});

  // Every sealed field holding the value, in every event; for a message, its event's whole mail too.
  const std::string message_ref = message ? message_display_id(message->id) : std::string();
  std::vector<bool> touched(history->events.size(), false);
  int redacted = 0;
  for (std::size_t i = 0; i < history->events.size(); ++i) {
    Event& e = history->events[i];
    boost::system::error_code ec;
    json::value data = json::parse(e.data, ec);
    if (ec || !data.is_object()) continue;
    const json::value* id = data.get_object().if_contains("message_id");
    const bool own_message = message && id && id->is_string() && id->get_string() == message_ref;
    for (const auto& field : sealed_fields(e)) {
      if (field.withdrawn) continue;
      const json::value* at = data.find_pointer(field.path, ec);
      const bool same = at && at->is_string() && at->get_string() == value;
      const bool mail_of_message = own_message && field.path.starts_with("/mail/original");
      if (!same && !mail_of_message) continue;
      if (withdraw_field(e, field.path, kRedactedValue)) {
        touched[i] = true;
        ++redacted;
      }
    }
  }
  CaseRewrite rewrite;
  rewrite.replaced = changed_events(*history, touched);
  Case record = before;
  for (std::string* text : {&record.client.name, &record.client.email, &record.client.phone, &record.subject,
                            &record.description, &record.remedy_requested})
    if (*text == value) *text = std::string(kRedactedValue);
  if (record.vulnerability && record.vulnerability->note == value) record.vulnerability->note = kRedactedValue;
  if (record.client.email == kRedactedValue) record.client.email.clear();  // never mail a redacted address
  for (Message m : stored.messages) {
    bool changed = false;
    if (m.body == value || (message && m.id == message->id)) {
      m.body = std::string(kRedactedValue);
      changed = true;
    }
    if (changed && (!m.original.empty() || !m.mail_blob.empty())) {
      // The mail as received holds the value too: its text and the raw message go with it.
      if (!m.mail_blob.empty()) rewrite.released_blobs.push_back(m.mail_blob);
      if (!m.original.empty()) rewrite.scrub.push_back(m.original);
      m.original.clear();
      m.mail_blob.clear();
    }
    if (changed) rewrite.messages.push_back(std::move(m));
  }
  for (Commitment c : stored.snapshot.commitments) {
    bool changed = false;
    for (std::string* text : {&c.text, &c.note, &c.handled_note, &c.exemption})
      if (*text == value) {
        *text = std::string(kRedactedValue);
        changed = true;
      }
    if (changed) rewrite.commitments.push_back(std::move(c));
  }
  for (Redress r : stored.snapshot.redress)
    if (r.text == value) {
      r.text = std::string(kRedactedValue);
      rewrite.redress.push_back(std::move(r));
    }
  rewrite.scrub.push_back(value);
  json::object data{{"target", described}, {"reason", request.reason}, {"fields_redacted", redacted}};
  if (!target.field.empty() && !message) data["field"] = target.field;
  if (!history->rechained_from.empty()) data["rechained_from"] = history->rechained_from;
  append_event(rewrite, stored, *history, std::move(record), request.actor, now, "case.redacted", std::move(data));
  rewrite.privacy = stored.privacy;
  rewrite.rechained_from = history->rechained_from;
  if (auto s = check_rewrite(stored, rewrite); !s) return s.error();
  return rewrite;
}

}  // namespace redress
