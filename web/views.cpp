#include "web/views.h"

#include "adapters/i18n/catalogues.h"

#include <boost/json.hpp>

#include "engine/actions.h"

namespace redress::web {

namespace json = boost::json;

namespace {

json::value time_or_null(const std::optional<Time>& t) {
  if (!t) return nullptr;
  return json::value(format_time(*t));
}

json::value owner_json(const std::optional<Staff>& owner, const std::string& owner_id) {
  if (owner_id.empty()) return nullptr;
  json::object o{{"id", owner_id}};
  if (owner) o["name"] = owner->name;
  return o;
}

}  // namespace

std::string status_text(CaseStatus status) {
  // Marked for the catalogues: the status page shows them in the client's language.
  using i18n::translatable;
  switch (status) {
    case CaseStatus::kReceived: return translatable("We have received your complaint");
    case CaseStatus::kAcknowledged: return translatable("We have acknowledged your complaint and it is with our team");
    case CaseStatus::kInvestigating: return translatable("We are investigating your complaint");
    case CaseStatus::kAwaitingClient: return translatable("We are waiting for information from you");
    case CaseStatus::kRedressProposed:
      return translatable("We have proposed a way to put things right: please tell us if you accept");
    case CaseStatus::kResolved: return translatable("Your complaint is resolved");
    case CaseStatus::kClosed: return translatable("Your complaint is closed");
    case CaseStatus::kWithdrawn: return translatable("You withdrew your complaint");
  }
  return "";
}

json::object commitment_json(const Commitment& k, const std::string& case_reference) {
  json::object o{{"id", commitment_display_id(k.id)},
                 {"kind", to_string(k.kind)},
                 {"text", k.text},
                 {"due_at", k.paused() ? json::value(nullptr) : json::value(format_time(k.due_at))},
                 {"owner", k.owner_id.empty() ? json::value(nullptr) : json::value(k.owner_id)},
                 {"client_visible", k.client_visible},
                 {"status", to_string(k.status)},
                 {"created_at", format_time(k.created_at)},
                 {"settled_at", time_or_null(k.settled_at)}};
  if (!k.note.empty()) o["note"] = k.note;
  if (k.replaces_id) o["replaces"] = commitment_display_id(k.replaces_id);
  if (k.replaced_by_id) o["replaced_by"] = commitment_display_id(k.replaced_by_id);
  if (k.redress_id) o["redress_id"] = redress_display_id(k.redress_id);
  if (!case_reference.empty()) o["case"] = case_reference;
  if (!k.pledge_key.empty()) o["pledge"] = k.pledge_key;
  // A pledge's time as its rule set it: a renegotiated pledge kept after it was not met in time.
  if (k.rule_due_at && *k.rule_due_at != Time::max()) o["rule_due_at"] = format_time(*k.rule_due_at);
  if (k.paused()) o["paused"] = true;
  if (k.status == CommitmentStatus::kOpen) {
    o["at_risk"] = k.warnings_fired > 0;
    if (auto w = k.next_warning(); w && *w != Time::max()) o["next_warning_at"] = format_time(*w);
  }
  if (!k.exemption.empty()) o["exemption"] = k.exemption;
  if (k.handled_at) {
    o["handled_at"] = format_time(*k.handled_at);
    o["handled_note"] = k.handled_note;
  }
  return o;
}

json::object notification_json(const NotificationView& v) {
  const char* outcomes[] = {"delivered", "retry", "gone", "failed"};
  json::array attempts;
  for (const auto& a : v.attempts)
    attempts.push_back(json::object{{"at", format_time(a.at)},
                                    {"outcome", outcomes[static_cast<int>(a.outcome)]},
                                    {"status_code", a.status_code},
                                    {"detail", a.detail}});
  bool mail = v.item.channel == NotificationDraft::Channel::kEmail;
  json::object o{{"id", "n-" + std::to_string(v.item.id)},
                 {"case", v.item.reference},
                 {"event_seq", v.item.event_seq},
                 {"channel", mail ? "email" : "webhook"},
                 {"audience", v.item.audience},
                 {"recipient", v.item.recipient},
                 {"template", v.item.template_name},
                 {"state", to_string(v.state)},
                 {"created_at", format_time(v.item.created_at)},
                 {"next_attempt_at", v.state == OutboxState::kPending ? json::value(format_time(v.next_attempt_at))
                                                                      : json::value(nullptr)},
                 {"delivered_at", time_or_null(v.delivered_at)},
                 {"last_error", v.last_error.empty() ? json::value(nullptr) : json::value(v.last_error)},
                 {"attempts", std::move(attempts)}};
  if (!mail) o["subscription"] = "wh-" + std::to_string(v.item.subscription_id);
  return o;
}

json::object redress_json(const Redress& r) {
  json::object o{{"id", redress_display_id(r.id)},
                 {"kind", to_string(r.kind)},
                 {"text", r.text},
                 {"status", to_string(r.status)},
                 {"automatic", r.automatic},
                 {"created_at", format_time(r.created_at)},
                 {"decided_at", time_or_null(r.decided_at)},
                 {"fulfilled_at", time_or_null(r.fulfilled_at)}};
  if (r.amount_minor) {
    o["amount"] = format_amount(*r.amount_minor);
    o["currency"] = r.currency;
  }
  if (r.paid_minor) {
    o["paid"] = format_amount(*r.paid_minor);
    o["paid_currency"] = r.paid_currency;
  }
  return o;
}

json::object message_json(const Message& m, const std::string& case_reference) {
  json::object o{{"id", message_display_id(m.id)},
                 {"visibility", to_string(m.visibility)},
                 {"author", m.author},
                 {"body", m.body},
                 {"at", format_time(m.at)},
                 {"state", to_string(m.state)}};
  if (!m.attachments.empty()) {
    json::array files;
    for (std::size_t i = 0; i < m.attachments.size(); ++i) {
      const AttachmentRef& a = m.attachments[i];
      json::object file{{"filename", a.filename}, {"content_type", a.content_type}, {"size", a.size}};
      if (!case_reference.empty())
        file["download"] = "/v1/cases/" + case_reference + "/messages/" + message_display_id(m.id) + "/attachments/" +
                           std::to_string(i);
      files.push_back(std::move(file));
    }
    o["attachments"] = std::move(files);
  }
  if (!m.via.empty()) o["via"] = m.via;
  // The whole text as received (quotes and signature folded away from body), and the raw mail.
  if (!m.original.empty()) o["original"] = m.original;
  if (!m.mail_blob.empty()) o["has_original_mail"] = true;
  return o;
}

json::object event_json(const Event& e) {
  boost::system::error_code ec;
  json::value data = json::parse(e.data, ec);
  if (ec) data = e.data;
  return json::object{{"seq", e.seq},     {"type", e.type},          {"at", format_time(e.at)},
                      {"actor", e.actor}, {"data", std::move(data)}, {"hash", e.hash}};
}

const std::vector<std::pair<std::string, std::string>>& touchpoint_names() {
  static const std::vector<std::pair<std::string, std::string>> names{
      {"front_desk", "In one of our shops or offices"},
      {"phone_contact", "On the phone"},
      {"sales", "When buying"},
      {"billing", "On a bill or statement"},
      {"delivery", "At delivery"},
      {"support", "When asking for help"},
      {"online", "On our website or app"},
  };
  return names;
}

json::value vulnerability_json(const Case& c) {
  if (!c.vulnerability) return nullptr;
  return json::object{{"driver", to_string(c.vulnerability->driver)},
                      {"note", c.vulnerability->note},
                      {"review_on", format_date(c.vulnerability->review_on)}};
}

json::array string_array(const std::vector<std::string>& words) {
  json::array out;
  for (const auto& w : words) out.emplace_back(w);
  return out;
}

json::object case_summary_json(const Case& c, const std::optional<Staff>& owner) {
  return json::object{{"reference", c.reference},
                      {"status", to_string(c.status)},
                      {"version", c.version},
                      {"subject", c.subject},
                      {"client", json::object{{"name", c.client.name}, {"email", c.client.email}}},
                      {"workflow", c.workflow},
                      {"category", c.category},
                      {"touchpoint", c.touchpoint},
                      {"severity", to_string(c.severity)},
                      {"team", c.team},
                      {"owner", owner_json(owner, c.owner_id)},
                      {"escalation_level", c.escalation_level},
                      {"received_at", format_time(c.received_at)},
                      {"updated_at", format_time(c.updated_at)},
                      {"regulator_reference", c.regulator_reference.empty() ? json::value(nullptr)
                                                                             : json::value(c.regulator_reference)},
                      {"tags", string_array(c.tags)}};
}

json::object standards_json(const CaseSnapshot& snapshot, const Workflow* workflow) {
  const Case& c = snapshot.record;
  json::object out{{"summary_resolution_until", nullptr}, {"holding_reply", nullptr}};
  if (!workflow) return out;
  if (workflow->summary_resolution) {
    try {
      out["summary_resolution_until"] = format_time(*workflow->summary_resolution_until(c.received_at));
    } catch (const CalendarExhausted&) {
      // Outside the years the calendar covers: no window can be given (the refusal says why).
    }
  }
  if (workflow->holding_reply) {
    json::object holding{{"clock", workflow->holding_reply->clock},
                         {"letter", "holding_reply"},
                         {"required", workflow->holding_reply_required(c, snapshot.commitments)},
                         {"sent_at", time_or_null(c.holding_reply_at)},
                         {"due_at", nullptr}};
    // When the pledge it answers falls (or fell) due: the holding reply is owed by then.
    const std::string prefix = workflow->name + "/" + workflow->holding_reply->clock + "#";
    for (const auto& k : snapshot.commitments)
      if (k.kind == CommitmentKind::kPledge && k.pledge_key.rfind(prefix, 0) == 0 && !k.paused() &&
          (k.status == CommitmentStatus::kOpen || k.status == CommitmentStatus::kBroken))
        holding["due_at"] = format_time(k.due_at);
    if (!holding.at("due_at").is_null() || !holding.at("sent_at").is_null()) out["holding_reply"] = std::move(holding);
  }
  return out;
}

json::object case_json(const CaseSnapshot& snapshot, const std::optional<Staff>& owner,
                       const std::vector<std::string>& allowed_actions, const std::vector<Message>& messages,
                       const Workflow* workflow) {
  const Case& c = snapshot.record;
  json::object client{{"name", c.client.name}, {"email", c.client.email}};
  if (!c.client.phone.empty()) client["phone"] = c.client.phone;
  if (!c.client.locale.empty()) client["locale"] = c.client.locale;
  json::array allowed;
  for (const auto& a : allowed_actions) allowed.emplace_back(a);
  json::array commitments, redress, notes;
  for (const auto& k : snapshot.commitments) commitments.push_back(commitment_json(k));
  for (const auto& r : snapshot.redress) redress.push_back(redress_json(r));
  for (const auto& m : messages) notes.push_back(message_json(m, c.reference));
  json::object view{{"reference", c.reference},
                      {"status", to_string(c.status)},
                      {"version", c.version},
                      {"client", std::move(client)},
                      {"channel", to_string(c.channel)},
                      {"category", c.category},
                      {"touchpoint", c.touchpoint},
                      {"subject", c.subject},
                      {"description", c.description},
                      {"remedy_requested", c.remedy_requested},
                      {"severity", to_string(c.severity)},
                      {"workflow", c.workflow},
                      {"team", c.team},
                      {"owner", owner_json(owner, c.owner_id)},
                      {"escalation_level", c.escalation_level},
                      {"escalation_requested_at_level", c.client_escalation_level
                                                            ? json::value(*c.client_escalation_level)
                                                            : json::value(nullptr)},
                      {"clock", to_string(c.clock)},
                      {"outcome", c.outcome ? json::value(to_string(*c.outcome)) : json::value(nullptr)},
                      {"root_cause", c.root_cause.empty() ? json::value(nullptr) : json::value(c.root_cause)},
                      {"product", c.product.empty() ? json::value(nullptr) : json::value(c.product)},
                      {"vulnerability", vulnerability_json(c)},
                      {"rating", c.rating ? json::value(*c.rating) : json::value(nullptr)},
                      {"received_at", format_time(c.received_at)},
                      {"updated_at", format_time(c.updated_at)},
                      {"regulator_reference", c.regulator_reference.empty() ? json::value(nullptr)
                                                                             : json::value(c.regulator_reference)},
                      {"routed_at", time_or_null(c.routed_at)},
                      {"acknowledged_at", time_or_null(c.acknowledged_at)},
                      {"resolved_at", time_or_null(c.resolved_at)},
                      {"ended_at", time_or_null(c.ended_at)},
                      {"allowed_actions", std::move(allowed)},
                      {"commitments", std::move(commitments)},
                      {"redress", std::move(redress)},
                      {"messages", std::move(notes)},
                      {"head_hash", c.head_hash},
                      {"tags", string_array(c.tags)},
                      {"links", string_array(c.links)},
                      {"merged_into", c.merged_into.empty() ? json::value(nullptr) : json::value(c.merged_into)},
                      {"summary_resolution_until", nullptr},
                      {"holding_reply", nullptr}};
  if (workflow)
    for (auto& [key, value] : standards_json(snapshot, workflow)) view[key] = value;
  return view;
}

json::object client_view_json(const CaseSnapshot& snapshot, const std::optional<Staff>& owner, const Workflow* workflow,
                              const std::vector<Message>& messages, const std::vector<std::string>& client_actions) {
  const Case& c = snapshot.record;
  static const CaseStatus kPath[] = {CaseStatus::kReceived, CaseStatus::kAcknowledged, CaseStatus::kInvestigating,
                                     CaseStatus::kResolved, CaseStatus::kClosed};
  int reached = 0;
  switch (c.status) {
    case CaseStatus::kReceived: reached = 0; break;
    case CaseStatus::kAcknowledged: reached = 1; break;
    case CaseStatus::kInvestigating:
    case CaseStatus::kAwaitingClient:
    case CaseStatus::kRedressProposed: reached = 2; break;
    case CaseStatus::kResolved: reached = 3; break;
    case CaseStatus::kClosed: reached = 4; break;
    case CaseStatus::kWithdrawn: reached = -1; break;
  }
  json::array progress;
  for (int i = 0; i < 5; ++i)
    progress.push_back(json::object{{"step", to_string(kPath[i])}, {"done", reached >= i}, {"current", reached == i}});
  json::array commitments, redress, thread, actions;
  for (const auto& k : snapshot.commitments)
    if (k.client_visible && k.status != CommitmentStatus::kRenegotiated && k.status != CommitmentStatus::kCancelled) {
      json::object o{{"id", commitment_display_id(k.id)},
                     {"kind", to_string(k.kind)},
                     {"text", k.text},
                     {"due_at", k.paused() ? json::value(nullptr) : json::value(format_time(k.due_at))},
                     {"status", to_string(k.status)}};
      if (k.paused()) o["paused"] = true;  // the clock waits for the client's answer
      commitments.push_back(std::move(o));
    }
  for (const auto& r : snapshot.redress) redress.push_back(redress_json(r));
  for (const auto& m : messages)
    if (m.visibility == Visibility::kClient)
      thread.push_back(json::object{{"id", message_display_id(m.id)},
                                    {"from", m.author == "client" || m.author.starts_with("email:") ? "you" : "us"},
                                    {"body", m.body},
                                    {"at", format_time(m.at)}});
  for (const auto& a : client_actions) actions.emplace_back(a);
  json::object view{{"reference", c.reference},
                    {"status", to_string(c.status)},
                    {"status_text", status_text(c.status)},
                    {"progress", std::move(progress)},
                    {"subject", c.subject},
                    {"received_at", format_time(c.received_at)},
                    {"owner", owner ? json::value(json::object{{"name", owner->name}}) : json::value(nullptr)},
                    {"commitments", std::move(commitments)},
                    {"messages", std::move(thread)},
                    {"redress", std::move(redress)},
                    {"allowed_actions", std::move(actions)},
                    {"rating", c.rating ? json::value(*c.rating) : json::value(nullptr)},
                    {"outcome", c.outcome ? json::value(to_string(*c.outcome)) : json::value(nullptr)}};
  if (workflow) view["standard"] = json::object{{"title", workflow->title}, {"pledge", workflow->pledge}};
  return view;
}

}  // namespace redress::web
