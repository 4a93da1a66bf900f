#include "engine/planner.h"

#include <boost/json.hpp>

#include <date/date.h>
#include <algorithm>

#include "engine/change_builder.h"
#include "engine/hash_chain.h"
#include "engine/plan_steps.h"
#include "engine/pledges.h"
#include "engine/tags.h"

namespace redress {

namespace json = boost::json;

namespace {

// The event data that says how a message arrived by email.
json::object mail_json(const InboundMail& mail) {
  return json::object{{"from", mail.from_address}, {"from_name", mail.from_name}, {"subject", mail.subject},
                       {"message_id", mail.message_id}, {"blob", mail.blob_key}, {"original", mail.original}};
}

std::string text_at(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  return value && value->is_string() ? std::string(value->get_string()) : std::string();
}

// The message `message_id` as held, rebuilt from the case's history: held by a message.held event
// and not decided since by message.accepted or message.rejected. The history is the one source of
// truth, read inside the case's write, so two staff deciding at once cannot both succeed.
Result<Message> find_held_message(const std::vector<Event>& history, std::int64_t message_id) {
  const std::string wanted = message_display_id(message_id);
  std::optional<Message> held;
  for (const auto& event : history) {
    if (event.type != "message.held" && event.type != "message.accepted" && event.type != "message.rejected")
      continue;
    boost::system::error_code error;
    json::value data = json::parse(event.data, error);
    if (error || !data.is_object() || text_at(data.as_object(), "message_id") != wanted) continue;
    if (event.type != "message.held") {
      return Error::refused(wanted + " was already " + (event.type == "message.accepted" ? "accepted" : "rejected"),
                            {});
    }
    const json::object& object = data.as_object();
    const json::value* mail = object.if_contains("mail");
    json::object mail_fields = mail && mail->is_object() ? mail->as_object() : json::object{};
    Message m = Message::make(message_id, event.case_id, Visibility::kInternal, "email:" + text_at(mail_fields, "from"),
              text_at(object, "body"), event.at);
    m.state = MessageState::kHeld;
    m.via = "email";
    m.original = text_at(mail_fields, "original");
    m.mail_blob = text_at(mail_fields, "blob");
    if (const json::value* files = object.if_contains("attachments"); files && files->is_array())
      for (const auto& f : files->as_array())
        if (f.is_object()) {
          const json::object& file = f.as_object();
          const json::value* size = file.if_contains("size");
          m.attachments.push_back(AttachmentRef{text_at(file, "key"), text_at(file, "filename"),
                                                text_at(file, "content_type"),
                                                size && size->is_int64() ? size->as_int64() : 0});
        }
    held = std::move(m);
  }
  if (!held) return Error::not_found("no message " + wanted + " is held on this case");
  return std::move(*held);
}


using T = ActionType;

std::string staff_ref(const std::string& id) { return id; }

json::object offer_json(const Redress& r) {
  json::object o{{"id", redress_display_id(r.id)}, {"kind", to_string(r.kind)}, {"text", r.text}};
  if (r.amount_minor) {
    o["amount"] = format_amount(*r.amount_minor);
    o["currency"] = r.currency;
  }
  if (r.automatic) o["automatic"] = true;
  return o;
}

Error refusal(const Verdict& verdict, const Case& record, const WorkflowSet& workflows, Time now) {
  if (verdict.refusal_kind == RefusalKind::kMissingField) return Error::invalid_field(verdict.field, verdict.reason);
  return Error::refused(verdict.reason, allowed_actions_now(record, workflows, now));
}

Result<Time> resolve_due(const DueSpec& due, Time now, const std::string& field, const Workflow& workflow) {
  if (due.at) {
    if (*due.at <= now) return Error::invalid_field(field, "must be in the future");
    return *due.at;
  }
  if (due.in) {
    if (due.in->total() <= Duration::zero()) return Error::invalid_field(field, "must be a positive duration");
    return workflow.calendar.add(now, *due.in, due.basis.value_or(TimeBasis::kCalendar));
  }
  return Error::invalid_field(field, "is required");
}

// The elements of a letter `field` holds that `text` lacks, as one 422 naming them and the letter
// template to start from; success when none is missing.
Status check_letter(const std::string& field, const std::string& what, const std::string& template_name,
                    const Workflow& workflow, const std::vector<const RequiredElement*>& missing) {
  if (missing.empty()) return Status::success();
  std::vector<FieldError> fields;
  std::string detail = "the " + what + " lacks elements the " + workflow.name + " standard requires:";
  for (const auto* element : missing) {
    fields.push_back(FieldError{field, "missing " + element->key + ": " + element->description});
    detail += " " + element->key;
  }
  detail += " (start from the " + workflow.name + " letter template \"" + template_name + "\", which has them)";
  return Error::invalid(std::move(detail), std::move(fields));
}

// The root cause and product a resolution records (issue 26): each from the workflow's list, and
// required when its [returns] says so. The message names the keys to choose from.
Status check_return_fields(const Workflow& workflow, const ActionRequest& request) {
  std::vector<FieldError> errors;
  auto check = [&](const char* field, const std::string& value, const std::vector<Term>& terms, bool required,
                   const char* list) {
    std::string keys;
    for (const auto& term : terms) keys += (keys.empty() ? "" : ", ") + term.key;
    if (value.empty()) {
      if (required)
        errors.push_back(FieldError{field, "the " + workflow.name + " standard records one for its return: one of " +
                                               keys});
      return;
    }
    if (terms.empty()) {
      errors.push_back(FieldError{field, "the " + workflow.name + " standard lists no " + list});
      return;
    }
    if (std::none_of(terms.begin(), terms.end(), [&](const Term& t) { return t.key == value; }))
      errors.push_back(FieldError{field, "\"" + value + "\" is not one of the " + workflow.name + " standard's " + list +
                                             ": " + keys});
  };
  check("root_cause", request.root_cause, workflow.root_causes, workflow.returns.require_root_cause, "root causes");
  check("product", request.product, workflow.products, workflow.returns.require_product, "products");
  if (errors.empty()) return Status::success();
  std::string detail = errors.front().field + ": " + errors.front().message;
  return Error::invalid(std::move(detail), std::move(errors));
}

Status check_final_response(const Workflow& workflow, const std::string& text, std::optional<Outcome> outcome) {
  const std::string letter =
      "final_response" + (outcome ? "_" + std::string(to_string(*outcome)) : std::string());
  return check_letter("final_response", "final response", letter, workflow, workflow.missing_elements(text));
}

// Severity in its order: low < medium < high < critical.
bool at_least(Severity severity, Severity minimum) { return static_cast<int>(severity) >= static_cast<int>(minimum); }

// The severity triggers: a case at or above a rung's severity is raised to that rung.
void escalate_for_severity(ChangeBuilder& b, const Workflow& workflow, WriteContext& context) {
  const Severity severity = b.record().severity;
  (void)escalate_on(b, workflow, "the case is " + std::string(to_string(severity)) + " severity", "severity", context,
                    [&](const EscalationTrigger& t) {
                      return t.kind == TriggerKind::kSeverity && at_least(severity, t.severity);
                    });
}

// The rule a refusal quotes: the clock's own citation, else its target.
std::string rule_words(const ClockRule& clock) {
  if (!clock.rule.empty()) return clock.rule;
  return "\"" + clock.text + "\" within " + format_duration(clock.target.duration.total()) +
         (clock.target.basis == TimeBasis::kBusiness ? " (business days)" : "");
}

// Whether commitment `c` may move to `due` under its rule (PledgeMove); a pledge moved under its
// exceptional target needs the holding reply that says why and by when.
Status check_move(const PledgeMove& move, const Commitment& c, Time due, const ActionRequest& request,
                  const WorkflowSet& workflows, const Case& record, Time now) {
  if (!move.clock) return Status::success();
  const ClockRule& clock = *move.clock;
  const std::string what = commitment_display_id(c.id) + " is the " + move.workflow + " standard's " + clock.name +
                           " pledge";
  const std::vector<std::string> allowed = allowed_actions_now(record, workflows, now);
  if (move.renegotiation == Renegotiation::kNever)
    return Error::refused(what + "; its due time cannot be moved (renegotiation = \"never\"): " + rule_words(clock),
                          allowed);
  const Workflow* workflow = workflows.find(move.workflow);
  if (move.latest && due > *move.latest) {
    const std::string latest = format_time(*move.latest);
    if (move.renegotiation == Renegotiation::kExceptional)
      return Error::refused(what + "; it may move to its exceptional target at most, " + latest +
                                " (renegotiation = \"exceptional\", exceptional_target " +
                                format_duration(clock.exceptional_target->duration.total()) +
                                (clock.exceptional_target->basis == TimeBasis::kBusiness ? " business days" : "") +
                                "): " + rule_words(clock),
                            allowed);
    return Error::refused(what + "; it may move to " + latest + " at the latest (renegotiation_limit " +
                              format_duration(clock.renegotiation_limit->total()) + " past the time its rule set" +
                              (c.rule_due_at ? ", " + format_time(*c.rule_due_at) : std::string()) +
                              "): " + rule_words(clock),
                          allowed);
  }
  if (move.renegotiation != Renegotiation::kExceptional) return Status::success();
  if (request.holding_reply.empty())
    return Error::invalid_field("holding_reply", "moving " + what + " to its exceptional target needs a holding reply "
                                                 "to the client giving the reasons for the delay and the new deadline "
                                                 "(start from the letter template \"extension\"): " +
                                                     rule_words(clock));
  std::vector<FieldError> fields;
  std::string detail = "the holding reply lacks what " + rule_words(clock) + " requires:";
  for (const auto* element : missing_in_text(clock.holding_reply_elements, request.holding_reply)) {
    fields.push_back(FieldError{"holding_reply", "missing " + element->key + ": " + element->description});
    detail += " " + element->key;
  }
  if (workflow) {
    const std::string date = letter_date(workflow->calendar, due);
    const std::string iso = format_date(workflow->calendar.local_date(due));
    if (request.holding_reply.find(date) == std::string::npos && request.holding_reply.find(iso) == std::string::npos) {
      fields.push_back(FieldError{"holding_reply", "missing deadline: give the new deadline, " + date});
      detail += " deadline";
    }
  }
  if (fields.empty()) return Status::success();
  return Error::invalid(detail + " (start from the letter template \"extension\")", std::move(fields));
}

Redress* find_redress(std::vector<Redress>& list, std::int64_t id) {
  for (auto& r : list)
    if (r.id == id) return &r;
  return nullptr;
}

json::array word_array(const std::vector<std::string>& words) {
  json::array out;
  for (const auto& w : words) out.emplace_back(w);
  return out;
}

// "vip" or "vip, billing".
std::string word_list(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : ", ") + w;
  return out;
}

}  // namespace

LifecycleState lifecycle_state(const Case& record) {
  return LifecycleState{record.status, record.clock, !record.owner_id.empty()};
}

LifecycleFacts case_facts(const Case& record, const Workflow* workflow, Time now) {
  LifecycleFacts facts;
  facts.has_pending_offers = record.pending_offers > 0;
  facts.has_unfulfilled_redress = record.unfulfilled_redress > 0;
  Duration window = workflow ? workflow->reopen_window : Duration::zero();
  facts.within_reopen_window = record.resolved_at && now < *record.resolved_at + window;
  int top = workflow ? workflow->max_escalation_level() : 0;
  facts.below_top_level = record.escalation_level < top;
  facts.above_owner_level = record.escalation_level > 0;
  facts.takes_escalation_requests = workflow && !workflow->levels_naming(TriggerKind::kClientRequest).empty();
  facts.escalation_requested_here = record.client_escalation_level == record.escalation_level;
  return facts;
}

std::vector<std::string> allowed_actions_now(const Case& record, const WorkflowSet& workflows, Time now) {
  const Workflow* workflow = workflows.empty() ? nullptr : &workflow_of(record, workflows);
  return allowed_action_names(lifecycle_state(record), case_facts(record, workflow, now));
}

Time case_facts_change_at(const Case& record, const WorkflowSet& workflows, Time now) {
  // Only within_reopen_window reads the time; every other fact is the record's alone.
  if (!record.resolved_at || workflows.empty()) return Time::max();
  Time window_end = *record.resolved_at + workflow_of(record, workflows).reopen_window;
  return now < window_end ? window_end : Time::max();
}

Status authorize(const Actor& actor, ActionType type, const Case& record, const Workflow* workflow) {
  switch (actor.kind) {
    case Actor::Kind::kSystem: return Status::success();
    case Actor::Kind::kIntake:
      // The mail intake may hold a message for staff and record a bounce; nothing else.
      if (type == T::kHoldMessage || type == T::kRecordBounce) return Status::success();
      return Error::forbidden("intake sources may only create cases");
    case Actor::Kind::kClient:
      switch (type) {
        case T::kAddMessage:
        case T::kAcceptRedress:
        case T::kRejectRedress:
        case T::kSubmitSurvey:
        case T::kWithdraw:
        case T::kReopen:
        case T::kRequestEscalation: return Status::success();
        default: return Error::forbidden(std::string("a client may not ") + std::string(to_string(type)));
      }
    case Actor::Kind::kStaff:
      if (actor.role == Role::kIntake) return Error::forbidden("intake tokens may only create cases");
      if (type == T::kSubmitSurvey) return Error::forbidden("the survey is the client's to answer");
      if (type == T::kRequestEscalation)
        return Error::forbidden("a request for escalation is the client's; staff escalate with the escalate action");
      if (type == T::kHoldMessage || type == T::kRecordBounce)
        return Error::forbidden(std::string(to_string(type)) + " is the mail intake's own");
      if ((type == T::kAssign || type == T::kDeescalate || type == T::kExemptCommitment) &&
          !role_at_least(actor.role, Role::kLead))
        return Error::forbidden(std::string(to_string(type)) + " needs the lead role or above");
      if (type == T::kTransfer && record.owner_id != actor.id && !role_at_least(actor.role, Role::kLead))
        return Error::forbidden("only the owner, or a lead or above, may transfer a case");
      if (type == T::kReturnToQueue && record.owner_id != actor.id && !role_at_least(actor.role, Role::kLead))
        return Error::forbidden("only the owner, or a lead or above, may return a case to its team's queue");
      // Rights on a colleague's case (the workflow's [rights] decisions).
      if (!record.owner_id.empty() && record.owner_id != actor.id && !role_at_least(actor.role, Role::kLead) &&
          (workflow == nullptr || workflow->decisions == DecisionRights::kOwnerAndLeads) && type != T::kAddMessage &&
          type != T::kAcceptMessage && type != T::kRejectMessage && type != T::kTag && type != T::kUntag &&
          type != T::kTake)  // the lifecycle answers a take of an owned case (409: it has an owner)
        return Error::forbidden(std::string(to_string(type)) + " is for the case's owner (" + record.owner_id +
                                ") or a lead or above; other agents may add notes and messages" +
                                (workflow ? " (workflow " + workflow->name + ", [rights] decisions = \"owner_and_leads\")"
                                          : std::string()));
      return Status::success();
  }
  return Error::forbidden("unknown actor");
}

Result<Change> plan_correction(const CaseSnapshot& current, const CaseCorrection& correction,
                               std::optional<std::int64_t> expected_version, const Actor& actor,
                               const WorkflowSet& workflows, Time now) {
  const Case& before = current.record;
  if (expected_version && *expected_version != before.version)
    return Error::stale("the case is at version " + std::to_string(before.version) + ", not " +
                        std::to_string(*expected_version));
  if (actor.kind != Actor::Kind::kStaff || actor.role == Role::kIntake)
    return Error::forbidden("only staff (agent and above) correct a case's details");
  const Workflow* workflow = workflows.empty() ? nullptr : &workflow_of(before, workflows);
  if (!before.owner_id.empty() && before.owner_id != actor.id && !role_at_least(actor.role, Role::kLead) &&
      (workflow == nullptr || workflow->decisions == DecisionRights::kOwnerAndLeads))
    return Error::forbidden("correcting the case's details is for its owner (" + before.owner_id +
                            ") or a lead or above; other agents may add notes and messages");
  ChangeBuilder b(before, actor, now, before.version, current.commitments, current.redress);
  Case& after = b.record();
  bool changed = false;
  auto correct = [&](const char* field, const std::optional<std::string>& value, std::string& stored) {
    if (!value || *value == stored) return;
    b.event("case.corrected", json::object{{"field", field}, {"before", stored}, {"after", *value}});
    stored = *value;
    changed = true;
  };
  correct("client.name", correction.client_name, after.client.name);
  correct("client.email", correction.client_email, after.client.email);
  correct("client.phone", correction.client_phone, after.client.phone);
  correct("client.locale", correction.client_locale, after.client.locale);
  correct("subject", correction.subject, after.subject);
  correct("description", correction.description, after.description);
  if (!changed) return Error::invalid("nothing to correct: every field given is already the case's");
  return std::move(b).finish();
}

Result<Change> plan_counterpart(const CaseSnapshot& other, const ActionRequest& request, const WorkflowSet& workflows,
                                Time now) {
  const Case& before = other.record;
  const std::string& first = request.reference;
  if (request.actor.kind != Actor::Kind::kStaff || request.actor.role == Role::kIntake)
    return Error::forbidden("only staff relate cases to each other");
  auto refused = [&](std::string why) { return Error::refused(std::move(why), allowed_actions_now(before, workflows, now)); };
  ChangeBuilder b(before, request.actor, now, before.version, other.commitments, other.redress);
  Case& after = b.record();
  switch (request.type) {
    case T::kMerge:
      // The case that carries on: open (or resolved, and so still answerable), never a duplicate itself.
      if (!before.merged_into.empty())
        return refused(before.reference + " was itself merged into " + before.merged_into + "; merge into that case");
      if (is_ended(before.status))
        return refused(before.reference + " is " + std::string(to_string(before.status)) +
                       "; a duplicate is merged into a case that is still being handled");
      insert_sorted(after.links, first);
      b.event("case.duplicate_merged", json::object{{"duplicate", first}, {"note", request.note}});
      break;
    case T::kLink:
      if (!insert_sorted(after.links, first)) return refused(before.reference + " is already linked to " + first);
      if (after.links.size() > kMaxLinksPerCase)
        return refused(before.reference + " has " + std::to_string(before.links.size()) +
                       " linked cases already, the most a case may have");
      b.event("case.linked", json::object{{"case", first}, {"note", request.note}});
      break;
    case T::kUnlink:
      if (before.merged_into == first)
        return refused(before.reference + " was merged into " + first + "; a merge stays linked");
      (void)erase_sorted(after.links, first);
      b.event("case.unlinked", json::object{{"case", first}, {"note", request.note}});
      break;
    default: return Error::internal(std::string(to_string(request.type)) + " changes one case only");
  }
  return std::move(b).finish();
}

std::vector<ActionType> actions_open_to(const Case& record, const Actor& actor, const WorkflowSet& workflows,
                                        Time now) {
  const Workflow* workflow = workflows.empty() ? nullptr : &workflow_of(record, workflows);
  LifecycleState state = lifecycle_state(record);
  LifecycleFacts facts = case_facts(record, workflow, now);
  LifecycleFacts as_client = facts;
  as_client.message_from_client = true;
  as_client.message_internal = false;
  std::vector<ActionType> open;
  for (ActionType type : allowed_actions(state, facts, ActionScope::kAll)) {
    if (!authorize(actor, type, record, workflow)) continue;
    if (type == T::kAddMessage && actor.kind == Actor::Kind::kClient && !decide(state, type, as_client).accepted)
      continue;
    open.push_back(type);
  }
  return open;
}

namespace {
Result<Change> plan_creation_on_calendars(const NewCase& request, const Actor& actor, const WorkflowSet& workflows,
                                          Time now, WriteContext& context);
Result<Change> plan_action_on_calendars(const CaseSnapshot& current, const ActionRequest& request,
                                        const WorkflowSet& workflows, Time now, WriteContext& context);

// A message's files as its event records them (only when it has any, so a plain message's data is unchanged).
void put_attachments(json::object& data, const std::vector<AttachmentRef>& attachments) {
  if (attachments.empty()) return;
  json::array files;
  for (const auto& a : attachments)
    files.push_back(
        json::object{{"key", a.key}, {"filename", a.filename}, {"content_type", a.content_type}, {"size", a.size}});
  data["attachments"] = std::move(files);
}

}  // namespace

Result<Change> plan_creation(const NewCase& request, const Actor& actor, const WorkflowSet& workflows, Time now,
                             WriteContext& context) {
  return within_calendars(workflows,
                          [&] { return plan_creation_on_calendars(request, actor, workflows, now, context); });
}

Result<Change> plan_action(const CaseSnapshot& current, const ActionRequest& request, const WorkflowSet& workflows,
                           Time now, WriteContext& context) {
  return within_calendars(workflows,
                          [&] { return plan_action_on_calendars(current, request, workflows, now, context); });
}

namespace {

Result<Change> plan_creation_on_calendars(const NewCase& request, const Actor& actor, const WorkflowSet& workflows,
                                          Time now, WriteContext& context) {
  if (workflows.empty()) return Error::internal("no workflows are loaded");
  const Workflow* workflow = nullptr;
  if (!request.workflow.empty()) {
    workflow = workflows.find(request.workflow);
    if (!workflow) return Error::invalid_field("workflow", "unknown workflow \"" + request.workflow + "\"");
  } else {
    workflow = &workflows.route(request.category, request.channel);
  }
  // A receipt time before now is staff's to give (a call, letter or visit logged later), with a reason.
  if (request.received_at) {
    if (actor.kind != Actor::Kind::kStaff || !role_at_least(actor.role, Role::kAgent))
      return Error::forbidden("only staff (agent and above) may give received_at");
    if (*request.received_at > now) return Error::invalid_field("received_at", "must not be in the future");
    if (*request.received_at < now && request.received_reason.empty())
      return Error::invalid_field("received_reason", "is required when received_at is earlier than now");
  }
  const Time received_at = request.received_at.value_or(now);
  Case record;
  record.id = context.next_id(WriteContext::IdKind::kCase);
  auto year = static_cast<int>(date::year_month_day(std::chrono::floor<date::days>(now)).year());
  record.reference = context.next_reference(year);
  record.client = request.client;
  record.channel = request.channel;
  record.category = request.category;
  record.touchpoint = request.touchpoint;
  record.subject = request.subject;
  record.description = request.description;
  record.remedy_requested = request.remedy_requested;
  record.severity = request.severity;
  record.workflow = workflow->name;
  record.team = workflow->team;
  record.status = CaseStatus::kReceived;
  record.clock = ClockState::kRunning;
  record.received_at = received_at;
  record.updated_at = now;
  record.regulator_reference = request.regulator_reference;
  if (request.routed_at) {
    // Routed by the regulator before it reached us (or as it did): never in the future.
    if (*request.routed_at > now) return Error::invalid_field("routed_at", "must not be in the future");
    record.routed_at = request.routed_at;
  }

  ChangeBuilder b(record, actor, now, -1);
  json::object client{{"name", request.client.name}, {"email", request.client.email}};
  if (!request.client.phone.empty()) client["phone"] = request.client.phone;
  if (!request.client.locale.empty()) client["locale"] = request.client.locale;
  json::object received{{"client", client},
                        {"channel", to_string(request.channel)},
                        {"category", request.category},
                        {"touchpoint", request.touchpoint},
                        {"subject", request.subject},
                        {"description", request.description},
                        {"remedy_requested", request.remedy_requested},
                        {"severity", to_string(request.severity)},
                        {"workflow", workflow->name},
                        {"team", workflow->team}};
  // Backdated: the clocks start from received_at (engine/clocks.h), and the reason is on record.
  if (received_at < now) {
    received["received_at"] = format_time(received_at);
    received["received_reason"] = request.received_reason;
  }
  // Routed by a regulator's portal: its reference, and when it routed the complaint to us.
  if (!request.regulator_reference.empty()) received["regulator_reference"] = request.regulator_reference;
  if (request.routed_at) received["routed_at"] = format_time(*request.routed_at);
  b.event("case.received", std::move(received));
  // Files sent with the complaint: a message from the client that carries them.
  if (!request.attachments.empty()) {
    Message m = Message::make(context.next_id(WriteContext::IdKind::kMessage), record.id, Visibility::kClient,
                              Actor::client().text(), "Files sent with the complaint", now);
    m.attachments = request.attachments;
    json::object data{{"message_id", message_display_id(m.id)}, {"visibility", "client"}, {"body", m.body}};
    put_attachments(data, m.attachments);
    b.put(std::move(m));
    b.event("message.client", std::move(data), Actor::client().text());
  }
  if (workflow->auto_acknowledge) {
    b.record().status = CaseStatus::kAcknowledged;
    b.record().acknowledged_at = now;
    b.event("case.acknowledged", json::object{{"from", "received"}, {"to", "acknowledged"}, {"automatic", true}},
            Actor::system().text());
    b.email_client("client.acknowledged");
  } else {
    b.email_client("client.received");
  }
  escalate_for_severity(b, *workflow, context);
  fold_clocks(b, nullptr, workflows, context);
  set_wake(b, nullptr, workflows, WakeWrite::kWhenMoved);
  Change change = std::move(b).finish();
  change.client_link_nonce = request.client_link_nonce;
  change.client_link_hash = request.client_link_hash;
  return change;
}

Result<Change> plan_action_on_calendars(const CaseSnapshot& current, const ActionRequest& request,
                                        const WorkflowSet& workflows, Time now, WriteContext& context) {
  const Case& before = current.record;
  if (request.expected_version && *request.expected_version != before.version)
    return Error::stale("the case is at version " + std::to_string(before.version) + ", not " +
                        std::to_string(*request.expected_version));
  if (workflows.empty()) return Error::internal("no workflows are loaded");
  const Workflow& workflow = workflow_of(before, workflows);
  if (auto status = authorize(request.actor, request.type, before, &workflow); !status) return status.error();

  LifecycleFacts facts = case_facts(before, &workflow, now);
  facts.action_has_offers = !request.offers.empty();
  facts.action_has_note = !request.note.empty();
  facts.message_from_client = request.actor.kind == Actor::Kind::kClient;
  facts.message_internal = request.visibility == Visibility::kInternal && request.actor.kind != Actor::Kind::kClient;
  Verdict verdict = decide(lifecycle_state(before), request.type, facts);
  if (!verdict.accepted) return refusal(verdict, before, workflows, now);

  ChangeBuilder b(before, request.actor, now, before.version, current.commitments, current.redress);
  Case& after = b.record();
  after.status = verdict.next.status;
  after.clock = verdict.next.clock;
  const std::string from = std::string(to_string(before.status));
  const std::string to = std::string(to_string(after.status));
  auto transition = [&](json::object data) {
    data["from"] = from;
    data["to"] = to;
    return data;
  };
  std::vector<Redress> redress = current.redress;
  const std::vector<Commitment>& commitments = current.commitments;  // as committed; changes go through b.put

  switch (request.type) {
    case T::kAcknowledge:
      after.acknowledged_at = now;
      b.event("case.acknowledged", transition({{"note", request.note}}));
      b.email_client("client.acknowledged");
      break;

    case T::kTake:
    case T::kAssign:
    case T::kTransfer: {
      std::optional<Staff> target;
      if (request.type == T::kTake) {
        if (request.actor.kind != Actor::Kind::kStaff) return Error::forbidden("only staff can take a case");
        target = context.find_staff(request.actor.id);
      } else {
        target = context.find_staff(request.owner);
      }
      if (!target) return Error::invalid_field("owner", "no staff member \"" + request.owner + "\"");
      if (!target->active) return Error::invalid_field("owner", target->name + " is not active");
      if (target->role == Role::kIntake) return Error::invalid_field("owner", "an intake account cannot own a case");
      if (target->id == before.owner_id) return Error::invalid_field("owner", target->name + " already owns the case");
      after.owner_id = target->id;
      after.team = target->team.empty() ? after.team : target->team;
      b.event("case.owner_changed", json::object{{"via", to_string(request.type)},
                                                 {"owner", target->id},
                                                 {"owner_name", target->name},
                                                 {"previous_owner", staff_ref(before.owner_id)},
                                                 {"note", request.note}});
      follow_owner(b);
      if (request.type != T::kTake) b.email_staff(*target, "assignee", "staff.assigned");
      b.email_client("client.owner_changed");
      break;
    }

    case T::kReturnToQueue: {
      // Back to the team's queue: unowned, waiting for someone of the team to take it.
      after.owner_id.clear();
      if (after.team.empty()) after.team = workflow.team;
      b.event("case.owner_changed", json::object{{"via", to_string(request.type)},
                                                 {"owner", nullptr},
                                                 {"owner_name", nullptr},
                                                 {"previous_owner", staff_ref(before.owner_id)},
                                                 {"team", after.team},
                                                 {"note", request.note}});
      follow_owner(b);
      b.email_client("client.owner_changed");
      break;
    }

    case T::kStart: b.event("case.investigation_started", transition({{"note", request.note}})); break;

    case T::kRequestInfo: {
      json::object data = transition({});
      if (!request.body.empty()) {
        Message m = Message::make(context.next_id(WriteContext::IdKind::kMessage),
                  before.id,
                  Visibility::kClient,
                  request.actor.text(),
                  request.body,
                  now);
        data["message_id"] = message_display_id(m.id);
        data["body"] = request.body;
        b.put(std::move(m));
      }
      b.event("case.info_requested", std::move(data));
      b.email_client("client.info_requested");
      break;
    }

    case T::kClientReplied: b.event("case.client_replied", transition({{"note", request.note}})); break;

    case T::kProposeRedress: {
      if (auto s = check_final_response(workflow, request.final_response, request.outcome); !s) return s.error();
      if (auto s = check_return_fields(workflow, request); !s) return s.error();
      for (const auto& offer : request.offers) {
        Redress r;
        r.id = context.next_id(WriteContext::IdKind::kRedress);
        r.case_id = before.id;
        r.kind = offer.kind;
        r.amount_minor = offer.amount_minor;
        r.currency = offer.currency;
        r.text = offer.text;
        r.created_at = now;
        redress.push_back(r);
        b.put(r);
        ++after.pending_offers;
      }
      json::array offers;
      for (const auto& r : redress)
        if (r.status == RedressStatus::kProposed) offers.push_back(offer_json(r));
      after.outcome = request.outcome;
      after.root_cause = request.root_cause;
      after.product = request.product;
      json::object proposed{{"outcome", to_string(*request.outcome)},
                            {"final_response", request.final_response},
                            {"offers", std::move(offers)}};
      if (!request.letter.empty()) proposed["letter"] = request.letter;
      if (!request.root_cause.empty()) proposed["root_cause"] = request.root_cause;
      if (!request.product.empty()) proposed["product"] = request.product;
      b.event("redress.proposed", transition(std::move(proposed)));
      b.email_client("client.redress_proposed");
      break;
    }

    case T::kAcceptRedress:
    case T::kRejectRedress: {
      if (request.redress_id) {
        Redress* named = find_redress(redress, request.redress_id);
        if (!named || named->status != RedressStatus::kProposed)
          return Error::not_found("no pending redress offer " + redress_display_id(request.redress_id) +
                                  " on this case");
      }
      bool accept = request.type == T::kAcceptRedress;
      json::array ids;
      std::vector<Redress*> decided;
      for (auto& r : redress) {
        if (r.status != RedressStatus::kProposed) continue;
        r.status = accept ? RedressStatus::kAccepted : RedressStatus::kRejected;
        r.decided_at = now;
        ids.push_back(json::value(redress_display_id(r.id)));
        decided.push_back(&r);
        b.put(r);
      }
      after.pending_offers = 0;
      if (accept) {
        after.resolved_at = now;
        b.event(
            "redress.accepted",
            transition({{"redress", ids},
                        {"outcome", after.outcome ? json::value(to_string(*after.outcome)) : json::value(nullptr)}}));
        for (Redress* r : decided) {
          // Delivering accepted redress is a commitment of its own (SPEC: Commitment.redress).
          bool deliverable = r->kind != RedressKind::kApology && r->kind != RedressKind::kExplanation;
          if (!deliverable) {
            r->status = RedressStatus::kFulfilled;
            r->fulfilled_at = now;
            b.put(*r);
            continue;
          }
          ++after.unfulfilled_redress;
          Commitment c;
          c.id = context.next_id(WriteContext::IdKind::kCommitment);
          c.case_id = before.id;
          c.kind = CommitmentKind::kRedress;
          c.text = "Deliver " + std::string(to_string(r->kind)) +
                   (r->amount_minor ? " of " + format_amount(*r->amount_minor) + " " + r->currency : std::string()) +
                   (r->text.empty() ? std::string() : ": " + r->text);
          c.due_at = now + workflow.redress_due;
          c.owner_id = after.owner_id;
          c.client_visible = true;
          c.created_at = now;
          c.redress_id = r->id;
          b.event("commitment.made", json::object{{"commitment_id", commitment_display_id(c.id)},
                                                  {"kind", "redress"},
                                                  {"text", c.text},
                                                  {"due_at", format_time(c.due_at)},
                                                  {"owner", c.owner_id},
                                                  {"client_visible", true},
                                                  {"redress_id", redress_display_id(r->id)}});
          b.put(std::move(c));
        }
        json::object resolved{{"outcome", after.outcome ? json::value(to_string(*after.outcome)) : json::value(nullptr)},
                              {"via", "accept_redress"},
                              {"from", from},
                              {"to", to}};
        // What the proposal recorded for the return, on the resolution itself (returns read it there).
        if (!after.root_cause.empty()) resolved["root_cause"] = after.root_cause;
        if (!after.product.empty()) resolved["product"] = after.product;
        b.event("case.resolved", std::move(resolved));
        b.email_client("client.redress_accepted");
      } else {
        b.event("redress.rejected", transition({{"redress", ids}, {"reason", request.reason}}));
        // To the rung the ladder names for a rejection (redress_rejected), never lower.
        (void)escalate_on(b, workflow, "the client rejected the redress offered", "redress_rejected", context,
                          [](const EscalationTrigger& t) { return t.kind == TriggerKind::kRedressRejected; });
        if (auto owner = context.find_staff(after.owner_id)) b.email_staff(*owner, "owner", "staff.redress_rejected");
      }
      break;
    }

    case T::kResolve: {
      const bool summary = !request.summary_resolution.empty();
      if (summary) {
        // FCA DISP 1.5: only until close of business on the third business day after receipt.
        if (!workflow.summary_resolution)
          return Error::invalid_field("summary_resolution", "the " + workflow.name +
                                                                " standard has no summary resolution: send a final "
                                                                "response");
        const Time until = *workflow.summary_resolution_until(before.received_at);
        if (now > until)
          return Error::refused("the summary resolution window closed at " + format_time(until) + " (" +
                                    workflow.summary_resolution->letter +
                                    ": close of business on the third business day after receipt, DISP 1.5); "
                                    "resolve with a final response (letter template \"final_response_" +
                                    std::string(to_string(*request.outcome)) + "\")",
                                allowed_actions_now(before, workflows, now));
        if (auto s = check_letter("summary_resolution", workflow.summary_resolution->letter, "summary_resolution",
                                  workflow, workflow.missing_summary_elements(request.summary_resolution));
            !s)
          return s.error();
      } else if (auto s = check_final_response(workflow, request.final_response, request.outcome); !s) {
        return s.error();
      }
      // The letter first, then what the return needs (both are refusals that write nothing).
      if (auto s = check_return_fields(workflow, request); !s) return s.error();
      json::array lapsed;
      for (auto& r : redress) {
        if (r.status != RedressStatus::kProposed) continue;
        r.status = RedressStatus::kRejected;  // resolved without the client's acceptance
        r.decided_at = now;
        lapsed.push_back(json::value(redress_display_id(r.id)));
        b.put(r);
      }
      after.pending_offers = 0;
      after.outcome = request.outcome;
      after.root_cause = request.root_cause;
      after.product = request.product;
      after.resolved_at = now;
      json::object resolved{{"outcome", to_string(*request.outcome)},
                            {"lapsed_offers", std::move(lapsed)},
                            {"via", "resolve"}};
      if (!request.root_cause.empty()) resolved["root_cause"] = request.root_cause;
      if (!request.product.empty()) resolved["product"] = request.product;
      if (summary)
        resolved["summary_resolution"] = request.summary_resolution;
      else
        resolved["final_response"] = request.final_response;
      if (!request.letter.empty()) resolved["letter"] = request.letter;
      b.event("case.resolved", transition(std::move(resolved)));
      b.email_client(summary ? "client.summary_resolution" : "client.final_response");
      break;
    }

    case T::kReopen:
      after.resolved_at.reset();
      after.outcome.reset();
      after.root_cause.clear();
      after.product.clear();
      b.event("case.reopened", transition({{"reason", request.reason}}));
      b.email_client("client.reopened");
      if (auto owner = context.find_staff(after.owner_id)) b.email_staff(*owner, "owner", "staff.reopened");
      break;

    case T::kClose:
      after.ended_at = now;
      b.event("case.closed",
              transition({{"note", request.note}, {"automatic", request.actor.kind == Actor::Kind::kSystem}}));
      b.email_client("client.closed");
      break;

    case T::kWithdraw: {
      after.ended_at = now;
      after.pending_offers = 0;
      // The clocks cancel the open pledges (fold_clocks below); promises stay to be kept.
      b.event("case.withdrawn", transition({{"reason", request.reason}}));
      break;
    }

    case T::kEscalate: {
      int target = request.level.value_or(before.escalation_level + 1);
      if (target <= before.escalation_level)
        return Error::invalid_field("level",
                                    "must be above the current level " + std::to_string(before.escalation_level));
      if (target > workflow.max_escalation_level())
        return Error::invalid_field("level", "the " + workflow.name + " ladder has " +
                                                 std::to_string(workflow.max_escalation_level()) + " levels");
      raise_level(b, workflow, target, request.reason, "manual", context);
      break;
    }

    case T::kDeescalate: {
      int from_level = before.escalation_level;
      after.escalation_level = from_level - 1;
      b.event(
          "case.deescalated",
          json::object{{"from_level", from_level}, {"to_level", after.escalation_level}, {"reason", request.reason}});
      break;
    }

    case T::kAssess: {
      json::object data;
      if (request.severity) {
        data["severity"] = to_string(*request.severity);
        data["previous_severity"] = to_string(before.severity);
        after.severity = *request.severity;
      }
      std::string target_workflow = request.workflow;
      if (!request.category.empty()) {
        data["category"] = request.category;
        data["previous_category"] = before.category;
        after.category = request.category;
        if (target_workflow.empty()) target_workflow = workflows.route(request.category, before.channel).name;
      }
      if (!target_workflow.empty() && target_workflow != before.workflow) {
        const Workflow* next = workflows.find(target_workflow);
        if (!next) return Error::invalid_field("workflow", "unknown workflow \"" + target_workflow + "\"");
        after.workflow = next->name;
        if (after.owner_id.empty()) after.team = next->team;
        data["workflow"] = next->name;
        data["previous_workflow"] = before.workflow;
      }
      data["note"] = request.note;
      b.event("case.assessed", std::move(data));
      // Assessed at or above a severity the ladder names: raised to that rung (the workflow the
      // assessment leaves the case in decides).
      if (request.severity) escalate_for_severity(b, workflow_of(after, workflows), context);
      break;
    }

    case T::kAddMessage: {
      Visibility visibility = request.actor.kind == Actor::Kind::kClient ? Visibility::kClient : request.visibility;
      const bool holding_reply = request.message_kind == "holding_reply" && request.actor.kind != Actor::Kind::kClient;
      if (holding_reply) {
        // A holding reply the standard requires (FCA DISP 1.6.2R(2)) carries its elements.
        if (!workflow.holding_reply)
          return Error::invalid_field("kind", "the " + workflow.name + " standard asks for no holding reply");
        if (auto s = check_letter("body", "holding reply", "holding_reply", workflow,
                                  workflow.missing_holding_reply_elements(request.body));
            !s)
          return s.error();
        after.holding_reply_at = now;
      }
      Message m = Message::make(context.next_id(WriteContext::IdKind::kMessage),
                before.id,
                visibility,
                request.actor.text(),
                request.body,
                now);
      m.attachments = request.attachments;
      json::object data{
          {"message_id", message_display_id(m.id)}, {"visibility", to_string(visibility)}, {"body", request.body}};
      put_attachments(data, m.attachments);
      if (request.mail.present()) {
        m.via = "email";
        m.original = request.mail.original;
        m.mail_blob = request.mail.blob_key;
        data["via"] = "email";
        data["mail"] = mail_json(request.mail);
      }
      if (holding_reply) data["kind"] = "holding_reply";
      if (!request.letter.empty()) data["letter"] = request.letter;
      b.put(std::move(m));
      if (request.actor.kind == Actor::Kind::kClient) {
        b.event("message.client", std::move(data));
        if (before.status != after.status)
          b.event("case.client_replied", json::object{{"from", from}, {"to", to}, {"automatic", true}},
                  Actor::system().text());
        if (auto owner = context.find_staff(after.owner_id)) b.email_staff(*owner, "owner", "staff.client_message");
      } else if (visibility == Visibility::kClient) {
        b.event("message.client", std::move(data));
        b.email_client("client.message");
      } else {
        b.event("message.internal", std::move(data));
      }
      break;
    }

    case T::kHoldMessage: {
      if (!request.mail.present()) return Error::invalid_field("mail", "hold_message needs the mail it holds");
      Message m = Message::make(context.next_id(WriteContext::IdKind::kMessage),
                before.id,
                Visibility::kInternal,
                "email:" + request.mail.from_address,
                request.body,
                now);
      m.state = MessageState::kHeld;
      m.via = "email";
      m.original = request.mail.original;
      m.mail_blob = request.mail.blob_key;
      m.attachments = request.attachments;
      json::object data{{"message_id", message_display_id(m.id)},
                        {"body", request.body},
                        {"reason", request.mail.hold_reason},
                        {"mail", mail_json(request.mail)}};
      put_attachments(data, m.attachments);
      b.put(std::move(m));
      b.event("message.held", std::move(data));
      if (auto owner = context.find_staff(after.owner_id)) b.email_staff(*owner, "owner", "staff.message_held");
      break;
    }

    case T::kAcceptMessage:
    case T::kRejectMessage: {
      auto held = find_held_message(context.case_history(before.id), request.message_id);
      if (!held) return held.error();
      Message m = std::move(held).value();
      const bool accepted = request.type == T::kAcceptMessage;
      m.state = accepted ? MessageState::kAccepted : MessageState::kRejected;
      // An accepted message becomes the client's: they see it in their thread, as if they had sent it.
      if (accepted) m.visibility = Visibility::kClient;
      json::object data{{"message_id", message_display_id(m.id)}, {"from", m.author.substr(6)}};
      if (accepted)
        data["note"] = request.note;
      else
        data["reason"] = request.reason;
      b.put(std::move(m));
      b.event(accepted ? "message.accepted" : "message.rejected", std::move(data));
      if (accepted && before.status != after.status)
        b.event("case.client_replied", json::object{{"from", from}, {"to", to}, {"automatic", true}},
                Actor::system().text());
      break;
    }

    case T::kFlagVulnerable: {
      if (!request.vulnerability) return Error::invalid_field("driver", "is required");
      const Vulnerability& flag = *request.vulnerability;
      if (flag.review_on <= workflow.calendar.local_date(now))
        return Error::invalid_field("review_on", "must be a date after today (" +
                                                     format_date(workflow.calendar.local_date(now)) + ")");
      after.vulnerability = flag;
      // Staff only: the event is never on the client's page and nothing is mailed about it.
      b.event("client.vulnerability_flagged", json::object{{"driver", to_string(flag.driver)},
                                                           {"note", flag.note},
                                                           {"review_on", format_date(flag.review_on)},
                                                           {"changed", before.vulnerability.has_value()}});
      break;
    }

    case T::kClearVulnerable:
      if (!before.vulnerability)
        return Error::refused("the client is not flagged as vulnerable", allowed_actions_now(before, workflows, now));
      after.vulnerability.reset();
      b.event("client.vulnerability_cleared", json::object{{"note", request.note}});
      break;

    case T::kRecordBounce:
      if (request.bounce.address.empty()) return Error::invalid_field("bounce.address", "is required");
      b.event("mail.bounced", json::object{{"address", request.bounce.address},
                                           {"status", request.bounce.status},
                                           {"diagnostic", request.bounce.diagnostic},
                                           {"permanent", request.bounce.permanent},
                                           {"notification", request.bounce.notification_id
                                                                ? "n-" + std::to_string(request.bounce.notification_id)
                                                                : std::string()}});
      break;

    case T::kMakeCommitment: {
      auto due = resolve_due(request.due, now, request.due.in ? "due_in" : "due_at", workflow);
      if (!due) return due.error();
      Commitment c;
      c.id = context.next_id(WriteContext::IdKind::kCommitment);
      c.case_id = before.id;
      c.kind = CommitmentKind::kPromise;
      c.text = request.text;
      c.due_at = *due;
      c.owner_id = request.actor.kind == Actor::Kind::kStaff ? request.actor.id : after.owner_id;
      c.client_visible = request.client_visible;
      c.created_at = now;
      b.event("commitment.made", json::object{{"commitment_id", commitment_display_id(c.id)},
                                              {"kind", "promise"},
                                              {"text", c.text},
                                              {"due_at", format_time(c.due_at)},
                                              {"owner", c.owner_id},
                                              {"client_visible", c.client_visible}});
      if (c.client_visible) b.email_client("client.commitment_made");
      b.put(std::move(c));
      break;
    }

    case T::kKeepCommitment:
    case T::kRenegotiateCommitment: {
      auto it = std::find_if(commitments.begin(), commitments.end(),
                             [&](const Commitment& c) { return c.id == request.commitment_id; });
      if (it == commitments.end())
        return Error::not_found("no commitment " + commitment_display_id(request.commitment_id) + " on this case");
      Commitment c = *it;
      if (c.status != CommitmentStatus::kOpen)
        return Error::refused(
            "commitment " + commitment_display_id(c.id) + " is " + std::string(to_string(c.status)) + ", not open",
            allowed_actions_now(before, workflows, now));
      if (request.type == T::kKeepCommitment) {
        if (now >= c.due_at)
          return Error::refused("commitment " + commitment_display_id(c.id) + " was due at " + format_time(c.due_at) +
                                    "; past its due time it is broken and can no longer be kept",
                                allowed_actions_now(before, workflows, now));
        if (c.kind == CommitmentKind::kPledge)
          return Error::refused("commitment " + commitment_display_id(c.id) +
                                    " is a pledge of the workflow's clocks; the case's events keep it",
                                allowed_actions_now(before, workflows, now));
        c.status = CommitmentStatus::kKept;
        c.settled_at = now;
        c.note = request.note;
        b.event("commitment.kept",
                json::object{{"commitment_id", commitment_display_id(c.id)}, {"note", request.note}});
        b.put(std::move(c));
        break;
      }
      if (now >= c.due_at)
        return Error::refused("commitment " + commitment_display_id(c.id) + " was due at " + format_time(c.due_at) +
                                  "; a promise can only be renegotiated before it is due",
                              allowed_actions_now(before, workflows, now));
      auto due = resolve_due(request.due, now, request.due.in ? "due_in" : "due_at", workflow);
      if (!due) return due.error();
      // A pledge moves only as its clock's rule allows (ClockRule::renegotiation).
      const PledgeMove move = pledge_move(current, c, workflows, context);
      if (auto s = check_move(move, c, *due, request, workflows, before, now); !s) return s.error();
      if (move.renegotiation == Renegotiation::kExceptional && move.clock) {
        // The holding reply goes to the client before the pledge moves.
        Message m = Message::make(context.next_id(WriteContext::IdKind::kMessage), before.id, Visibility::kClient,
                                  request.actor.text(), request.holding_reply, now);
        b.event("message.client", json::object{{"message_id", message_display_id(m.id)},
                                                {"visibility", "client"},
                                                {"body", request.holding_reply},
                                                {"kind", "holding_reply"},
                                                {"letter", request.letter.empty() ? json::value(nullptr)
                                                                                  : json::value(request.letter)},
                                                {"commitment_id", commitment_display_id(c.id)}});
        b.put(std::move(m));
        b.email_client("client.message");
        after.holding_reply_at = now;
      }
      Commitment successor = c;
      successor.id = context.next_id(WriteContext::IdKind::kCommitment);
      successor.due_at = *due;
      successor.rule_due_at = move.clock ? move.rule_due_at : c.rule_due_at;
      successor.created_at = now;
      successor.replaces_id = c.id;
      successor.warning_times.clear();  // the warnings were fractions of the old term
      successor.warnings_fired = 0;
      successor.note.clear();
      c.status = CommitmentStatus::kRenegotiated;
      c.settled_at = now;
      c.note = request.reason;
      c.replaced_by_id = successor.id;
      json::object renegotiated{{"commitment_id", commitment_display_id(c.id)},
                                {"successor_id", commitment_display_id(successor.id)},
                                {"previous_due_at", format_time(c.due_at)},
                                {"due_at", format_time(successor.due_at)},
                                {"reason", request.reason}};
      if (move.clock) renegotiated["rule"] = std::string(to_string(move.renegotiation));
      if (successor.rule_due_at) renegotiated["rule_due_at"] = format_time(*successor.rule_due_at);
      b.event("commitment.renegotiated", std::move(renegotiated));
      if (successor.client_visible) b.email_client("client.commitment_renegotiated");
      b.put(std::move(c));
      b.put(std::move(successor));
      break;
    }

    case T::kOfferRedress: {
      const RedressOffer& offer = request.offers.front();
      Redress r;
      r.id = context.next_id(WriteContext::IdKind::kRedress);
      r.case_id = before.id;
      r.kind = offer.kind;
      r.amount_minor = offer.amount_minor;
      r.currency = offer.currency;
      r.text = offer.text;
      r.created_at = now;
      ++after.pending_offers;
      b.event("redress.offered", offer_json(r));
      b.put(std::move(r));
      break;
    }

    case T::kFulfilRedress: {
      Redress* r = find_redress(redress, request.redress_id);
      if (!r || r->status != RedressStatus::kAccepted)
        return Error::not_found("no accepted, unfulfilled redress " + redress_display_id(request.redress_id) +
                                " on this case");
      r->status = RedressStatus::kFulfilled;
      r->fulfilled_at = now;
      // What was paid: the amount offered unless the fulfilment says otherwise.
      if (request.paid_minor) {
        r->paid_minor = request.paid_minor;
        r->paid_currency = request.paid_currency;
      } else if (r->amount_minor) {
        r->paid_minor = r->amount_minor;
        r->paid_currency = r->currency;
      }
      if (after.unfulfilled_redress > 0) --after.unfulfilled_redress;
      json::object fulfilled{{"redress_id", redress_display_id(r->id)}, {"note", request.note}, {"kind", to_string(r->kind)}};
      if (r->paid_minor) {
        fulfilled["paid"] = format_amount(*r->paid_minor);
        fulfilled["currency"] = r->paid_currency;
      }
      b.event("redress.fulfilled", std::move(fulfilled));
      b.put(*r);
      for (const auto& committed : commitments) {
        if (committed.redress_id != r->id || committed.status != CommitmentStatus::kOpen) continue;
        Commitment c = committed;
        c.status = CommitmentStatus::kKept;
        c.settled_at = now;
        c.note = "redress delivered";
        b.event("commitment.kept", json::object{{"commitment_id", commitment_display_id(c.id)}, {"note", c.note}});
        b.put(c);
      }
      break;
    }

    case T::kExemptCommitment: {
      // An exemption the standard recognises (energy: the Guaranteed Standards' exemptions), with
      // its reason: the commitment's breach, and any further sum for lateness, owe nothing from now.
      auto it = std::find_if(commitments.begin(), commitments.end(),
                             [&](const Commitment& k) { return k.id == request.commitment_id; });
      if (it == commitments.end())
        return Error::not_found("no commitment " + commitment_display_id(request.commitment_id) + " on this case");
      Commitment c = *it;
      if (!compensates(c, workflow, workflows))
        return Error::refused("commitment " + commitment_display_id(c.id) +
                                  " owes no automatic compensation, so there is nothing to exempt",
                              allowed_actions_now(before, workflows, now));
      if (!c.exemption.empty())
        return Error::refused("commitment " + commitment_display_id(c.id) + " is exempt already: " + c.exemption,
                              allowed_actions_now(before, workflows, now));
      if (c.status != CommitmentStatus::kOpen && c.status != CommitmentStatus::kBroken)
        return Error::refused("commitment " + commitment_display_id(c.id) + " is " + std::string(to_string(c.status)),
                              allowed_actions_now(before, workflows, now));
      c.exemption = request.reason;
      b.event("commitment.exempted", json::object{{"commitment_id", commitment_display_id(c.id)},
                                                  {"reason", request.reason},
                                                  {"status", to_string(c.status)}});
      b.put(std::move(c));
      break;
    }

    case T::kRequestEscalation: {
      // One rung at a time: to the lowest rung above the case whose triggers name client_request.
      const int from_level = before.escalation_level;
      int target = from_level;
      for (int level : workflow.levels_naming(TriggerKind::kClientRequest))
        if (level > from_level) {
          target = level;
          break;
        }
      after.client_escalation_level = from_level;
      b.event("case.escalation_requested",
              json::object{{"reason", request.reason}, {"from_level", from_level}, {"to_level", target}});
      if (target > from_level) {
        raise_level(b, workflow, target, "the client asked for escalation: " + request.reason, "client_request",
                    context);
      } else if (from_level > 0 && from_level <= workflow.max_escalation_level()) {
        // Already as high as the client's requests go: the people of this rung hear the request.
        for (const auto& person : [&] {
               const auto& rung = workflow.escalation[static_cast<std::size_t>(from_level - 1)];
               auto people = context.staff_with_roles(rung.roles, rung.teams);
               for (const auto& email : rung.staff)
                 if (auto named = context.find_staff(email)) people.push_back(*named);
               return people;
             }())
          b.email_staff(person, "escalation", "staff.escalation_requested");
      }
      if (auto owner = context.find_staff(after.owner_id)) b.email_staff(*owner, "owner", "staff.escalation_requested");
      break;
    }

    case T::kTag:
    case T::kUntag: {
      const bool add = request.type == T::kTag;
      if (request.tags.empty()) return Error::invalid_field("tags", "is required: a list of tags like [\"vip\"]");
      std::vector<std::string> changed;
      for (const auto& tag : request.tags)
        if (add ? insert_sorted(after.tags, tag) : erase_sorted(after.tags, tag)) changed.push_back(tag);
      if (changed.empty())
        return Error::refused(add ? "the case is already tagged " + word_list(request.tags)
                                  : "the case is not tagged " + word_list(request.tags),
                              allowed_actions_now(before, workflows, now));
      if (after.tags.size() > kMaxTagsPerCase)
        return Error::refused("a case carries at most " + std::to_string(kMaxTagsPerCase) + " tags; this one has " +
                                  std::to_string(before.tags.size()),
                              allowed_actions_now(before, workflows, now));
      b.event(add ? "case.tagged" : "case.untagged", json::object{{add ? "added" : "removed", word_array(changed)},
                                                                  {"before", word_array(before.tags)},
                                                                  {"after", word_array(after.tags)}});
      b.change().tags_changed = true;
      break;
    }

    case T::kMerge: {
      const std::string& into = request.other_case;
      if (into.empty()) return Error::invalid_field("into", "is required: the reference of the case that carries on");
      if (into == before.reference) return Error::invalid_field("into", "a case cannot be merged into itself");
      // Offers the client has not answered lapse, as at a resolution; promises made on the
      // duplicate are cancelled with the reason (the clocks cancel its pledges as it closes).
      json::array lapsed, cancelled;
      for (auto& r : redress) {
        if (r.status != RedressStatus::kProposed) continue;
        r.status = RedressStatus::kRejected;
        r.decided_at = now;
        lapsed.push_back(json::value(redress_display_id(r.id)));
        b.put(r);
      }
      const std::string reason = "the case was merged into " + into;
      std::vector<Commitment> promises;
      for (const auto& k : commitments)
        if (k.kind == CommitmentKind::kPromise && k.status == CommitmentStatus::kOpen) promises.push_back(k);
      for (auto& k : promises) cancelled.push_back(json::value(commitment_display_id(k.id)));
      after.pending_offers = 0;
      after.ended_at = now;
      after.merged_into = into;
      insert_sorted(after.links, into);
      b.event("case.merged", json::object{{"into", into},
                                          {"note", request.note},
                                          {"lapsed_offers", std::move(lapsed)},
                                          {"cancelled_promises", std::move(cancelled)}});
      for (auto& k : promises) {
        k.status = CommitmentStatus::kCancelled;
        k.settled_at = now;
        k.note = reason;
        b.event("commitment.cancelled", json::object{{"commitment_id", commitment_display_id(k.id)}, {"reason", reason}});
        b.put(std::move(k));
      }
      b.event("case.closed", transition({{"via", "merge"}, {"into", into}, {"note", request.note}, {"automatic", false}}));
      // The duplicate's client hears where their complaint went; the other case's client (who may
      // be someone else) is not told of a stranger's complaint.
      b.email_client("client.merged");
      break;
    }

    case T::kLink: {
      const std::string& other = request.other_case;
      if (other.empty()) return Error::invalid_field("case", "is required: the reference of the related case");
      if (other == before.reference) return Error::invalid_field("case", "a case cannot be linked to itself");
      if (!insert_sorted(after.links, other))
        return Error::refused("the case is already linked to " + other, allowed_actions_now(before, workflows, now));
      if (after.links.size() > kMaxLinksPerCase)
        return Error::refused("a case has at most " + std::to_string(kMaxLinksPerCase) + " linked cases",
                              allowed_actions_now(before, workflows, now));
      b.event("case.linked", json::object{{"case", other}, {"note", request.note}});
      break;
    }

    case T::kUnlink: {
      const std::string& other = request.other_case;
      if (other.empty()) return Error::invalid_field("case", "is required: the reference of the linked case");
      if (before.merged_into == other)
        return Error::refused("the case was merged into " + other + "; a merge stays linked",
                              allowed_actions_now(before, workflows, now));
      if (!erase_sorted(after.links, other))
        return Error::refused("the case is not linked to " + other, allowed_actions_now(before, workflows, now));
      b.event("case.unlinked", json::object{{"case", other}, {"note", request.note}});
      break;
    }

    case T::kSubmitSurvey:
    {
      after.rating = request.rating;
      // The owner and team the case is with as the client answers: the survey's results are theirs
      // (the board's RATER tables), whoever holds the case later.
      json::object answers{{"rating", *request.rating}, {"overall", *request.rating}, {"comment", request.comment},
                           {"owner", before.owner_id},   {"team", before.team}};
      if (request.rater) {
        json::object rater;
        for (std::size_t i = 0; i < rater_dimensions().size(); ++i)
          rater[rater_dimensions()[i]] = rater_score(*request.rater, i);
        answers["rater"] = std::move(rater);
      }
      b.event("survey.submitted", std::move(answers));
    }
      break;
  }
  fold_clocks(b, &current, workflows, context);
  set_wake(b, &current, workflows, WakeWrite::kWhenMoved);
  return std::move(b).finish();
}

}  // namespace

}  // namespace redress
