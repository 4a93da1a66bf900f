// The staff console: my cases, the unowned queue, search, and the case page with its actions.
// Every action is a form that posts to /staff/cases/{ref}/act with the action's name and the
// version the page showed, and goes through the engine like an API call (same rules, same
// refusals); a refused or invalid form shows the case again with the error and what was typed.
// A message may carry files (the form is multipart/form-data then; the API's limits); every
// message's files are listed with staff download links.
#include <boost/json.hpp>

#include <date/tz.h>

#include <algorithm>

#include "engine/actions.h"
#include "engine/tags.h"
#include "web/api_internal.h"
#include "web/attachments.h"
#include "web/canned_replies.h"
#include "engine/pledges.h"
#include "web/pages/case_desk.h"
#include "web/pages/privacy_pages.h"
#include "web/pages/staff_session.h"
#include "web/reports.h"
#include "web/views.h"

namespace redress::web {

namespace json = boost::json;

namespace {

const std::vector<Role> kStaffRoles{Role::kAgent, Role::kLead, Role::kManager, Role::kAdmin};

std::string staff_name(const std::map<std::string, Staff>& staff, const std::string& id) {
  auto it = staff.find(id);
  return it == staff.end() ? id : it->second.name;
}

// "staff:u-7" -> "Ana Ruiz"; "client" -> "the client"; "system" -> "Redress".
std::string actor_text(const std::map<std::string, Staff>& staff, const std::string& actor) {
  if (actor.rfind("staff:", 0) == 0) return staff_name(staff, actor.substr(6));
  if (actor == "client") return "the client";
  if (actor == "system") return "Redress (automatic)";
  if (actor.rfind("intake:", 0) == 0) return "intake (" + actor.substr(7) + ")";
  return actor;
}

// "due in 3 h 20 min" / "overdue by 2 d 4 h".
std::string due_text(Time due, Time now) {
  if (due == Time::max()) return "on hold";
  return due >= now ? "in " + duration_text(due - now) : "overdue by " + duration_text(now - due);
}

json::object case_row(PagesContext& pages, const Case& c, const std::map<std::string, Staff>& staff) {
  json::object row{{"reference", c.reference},
                   {"subject", c.subject},
                   {"client", c.client.name},
                   {"status", to_string(c.status)},
                   {"team", c.team},
                   {"level", c.escalation_level},
                   {"received", short_time(pages, c.workflow, c.received_at)},
                   {"url", "/staff/cases/" + c.reference}};
  if (!c.owner_id.empty()) row["owner"] = staff_name(staff, c.owner_id);
  row["is_open"] = is_open(c.status);
  return row;
}

void my_cases(PagesContext& pages, const ContextPtr& ctx, Reply reply, const SignedIn& who) {
  auto list = pages.api.reports.owner_worklist(who.staff.id, 200);
  if (!list) return reply(message_page(pages, page_status(list.error()), "My cases", list.error().detail));
  Time now = pages.api.engine.clock().now();
  auto staff = staff_by_id(pages.api.staff);
  json::array rows;
  int at_risk = 0, broken = 0;
  for (const auto& item : *list) {
    json::object row = case_row(pages, item.record, staff);
    if (item.next_due) {
      row["next_due"] = short_time(pages, item.record.workflow, *item.next_due);
      row["next_due_text"] = due_text(*item.next_due, now);
      row["overdue"] = *item.next_due < now;
    }
    row["at_risk"] = item.at_risk;
    row["broken"] = item.broken;
    row["open_commitments"] = item.open_commitments;
    at_risk += item.at_risk;
    broken += item.broken;
    rows.push_back(std::move(row));
  }
  json::object data{{"title", "My cases"},
                    {"staff", staff_nav(who, "mine")},
                    {"rows", rows},
                    {"has_rows", !rows.empty()},
                    {"count", rows.size()},
                    {"at_risk_count", at_risk},
                    {"broken_count", broken},
                    {"has_at_risk", at_risk > 0},
                    {"has_broken", broken > 0}};
  if (auto done = ctx->query_value("done")) data["notice"] = *done;
  reply(render_page(pages, http::status::ok, "my_cases", std::move(data)));
}

void queue(PagesContext& pages, const ContextPtr& ctx, Reply reply, const SignedIn& who) {
  CaseFilter filter;
  filter.owner_id = "none";
  filter.open_only = true;
  auto page = pages.api.reads.list_cases(filter, ctx->query_value("cursor").value_or(""), 100);
  if (!page) return reply(message_page(pages, http::status::bad_request, "Unowned queue", page.error().detail));
  auto staff = staff_by_id(pages.api.staff);
  Time now = pages.api.engine.clock().now();
  json::array rows;
  for (const auto& c : page->cases) {
    json::object row = case_row(pages, c, staff);
    row["waiting"] = duration_text(now - c.received_at);
    row["version"] = c.version;
    rows.push_back(std::move(row));
  }
  json::object data{
      {"title", "Unowned queue"}, {"staff", staff_nav(who, "queue")}, {"rows", rows}, {"has_rows", !rows.empty()}};
  if (!page->next_cursor.empty()) data["next_url"] = "/staff/queue?cursor=" + form_encode(page->next_cursor);
  if (auto done = ctx->query_value("done")) data["notice"] = *done;
  reply(render_page(pages, http::status::ok, "queue", std::move(data)));
}

void search(PagesContext& pages, const ContextPtr& ctx, Reply reply, const SignedIn& who) {
  CaseFilter filter;
  std::string q = ctx->query_value("q").value_or("");
  std::string status = ctx->query_value("status").value_or("");
  json::object data{{"title", "Search"}, {"staff", staff_nav(who, "search")}, {"q", q}};
  json::array statuses;
  for (auto name : all_names_CaseStatus())
    statuses.push_back(json::object{{"name", name}, {"selected", name == status}});
  data["statuses"] = std::move(statuses);
  if (q.size() > 200) {
    put_error(data, Error::invalid_field("q", "must be at most 200 characters"));
    return reply(render_page(pages, http::status::bad_request, "search", std::move(data)));
  }
  if (!status.empty()) {
    filter.status = parse_CaseStatus(status);
    if (!filter.status) {
      put_error(data, Error::invalid_field("status", "unknown status"));
      return reply(render_page(pages, http::status::bad_request, "search", std::move(data)));
    }
  }
  if (q.empty() && !filter.status) return reply(render_page(pages, http::status::ok, "search", std::move(data)));
  std::string cursor = ctx->query_value("cursor").value_or("");
  auto page =
      q.empty() ? pages.api.reads.list_cases(filter, cursor, 50) : pages.api.search.search_cases(q, filter, cursor, 50);
  if (!page) {
    put_error(data, page.error());
    return reply(render_page(pages, http::status::bad_request, "search", std::move(data)));
  }
  auto staff = staff_by_id(pages.api.staff);
  json::array rows;
  for (const auto& c : page->cases) rows.push_back(case_row(pages, c, staff));
  data["searched"] = true;
  data["has_rows"] = !rows.empty();
  data["rows"] = std::move(rows);
  if (!page->next_cursor.empty())
    data["next_url"] = "/staff/search?q=" + form_encode(q) + "&status=" + form_encode(status) +
                       "&cursor=" + form_encode(page->next_cursor);
  reply(render_page(pages, http::status::ok, "search", std::move(data)));
}

// A short line for the timeline from an event's data: the fields people read.
std::string event_summary(const Event& e, const std::map<std::string, Staff>& staff) {
  auto parsed = json::parse(e.data);
  if (!parsed.is_object()) return {};
  std::string out;
  for (const auto& [key, value] : parsed.get_object()) {
    if (key == "hash" || value.is_object()) continue;
    std::string text;
    if (value.is_array()) {
      // A list of words (tags before and after, offers lapsed) reads as the words; other lists are left out.
      bool words = true;
      for (const auto& item : value.get_array()) words = words && item.is_string();
      if (!words) continue;
      for (const auto& item : value.get_array()) text += (text.empty() ? "" : ", ") + std::string(item.get_string());
      if (text.empty()) continue;
    } else {
      text = value.is_string() ? std::string(value.get_string()) : json::serialize(value);
    }
    if ((key == "owner" || key == "from" || key == "to") && value.is_string()) text = staff_name(staff, text);
    if (text.size() > 160) text = text.substr(0, 157) + "...";
    out += (out.empty() ? "" : " · ") + std::string(key) + ": " + text;
  }
  return out;
}

json::object case_page_data(PagesContext& pages, const CaseView& view, const SignedIn& who, json::object draft,
                            const std::string& letter = {}) {
  ApiContext& api = pages.api;
  const Case& c = view.snapshot.record;
  const Workflow* workflow = api.engine.workflows().find(c.workflow);
  auto staff = staff_by_id(api.staff);
  Time now = api.engine.clock().now();
  auto when = [&](Time t) { return short_time(pages, c.workflow, t); };
  json::object data = case_row(pages, c, staff);
  data["title"] = c.reference + " · " + c.subject;
  data["staff"] = staff_nav(who, "case");
  data["version"] = c.version;
  data["description"] = c.description;
  data["remedy_requested"] = c.remedy_requested;
  data["client_email"] = c.client.email;
  data["client_phone"] = c.client.phone;
  data["category"] = api.engine.workflows().category_name(c.category);
  if (!c.touchpoint.empty()) data["touchpoint"] = api.engine.workflows().touchpoint_name(c.touchpoint);
  data["severity"] = to_string(c.severity);
  data["channel"] = to_string(c.channel);
  data["workflow"] = workflow ? workflow->title : c.workflow;
  data["clock"] = to_string(c.clock);
  if (c.outcome) data["outcome"] = to_string(*c.outcome);
  if (!c.root_cause.empty()) data["root_cause"] = c.root_cause;
  if (!c.product.empty()) data["product"] = c.product;
  if (c.rating) data["rating"] = *c.rating;
  if (workflow && c.escalation_level > 0)
    if (const auto* level = workflow->level(c.escalation_level)) data["level_name"] = level->name;
  if (view.client_link_nonce) data["client_url"] = client_url(api, api.keyring.client_token(*view.client_link_nonce));
  data["is_owner"] = c.owner_id == who.staff.id;

  // What this staff member may do on the case (the lifecycle and the workflow's rights): only those
  // forms are shown.
  const std::vector<ActionType> may_do = api.engine.allowed_actions(c, Actor::staff(who.staff.id, who.staff.role));
  auto may = [&may_do](ActionType type) { return std::find(may_do.begin(), may_do.end(), type) != may_do.end(); };
  json::array commitments;
  for (const auto& k : view.snapshot.commitments) {
    json::object o{
        {"id", commitment_display_id(k.id)},     {"kind", to_string(k.kind)}, {"text", k.text},
        {"status", to_string(k.status)},         {"due", when(k.due_at)},     {"client_visible", k.client_visible},
        {"owner", staff_name(staff, k.owner_id)}};
    bool open = k.status == CommitmentStatus::kOpen;
    o["is_open"] = open;
    o["keepable"] = open && k.kind != CommitmentKind::kPledge &&  // the case's events keep a pledge
                    may(ActionType::kKeepCommitment);
    if (open) o["due_text"] = due_text(k.due_at, now);
    o["overdue"] = open && !k.paused() && k.due_at < now;
    o["at_risk"] = open && k.warnings_fired > 0;
    o["broken"] = k.status == CommitmentStatus::kBroken;
    o["kept"] = k.status == CommitmentStatus::kKept;
    o["unhandled"] = k.status == CommitmentStatus::kBroken && !k.handled_at;
    if (!k.note.empty()) o["note"] = k.note;
    if (k.handled_at) o["handled"] = when(*k.handled_at) + (k.handled_note.empty() ? "" : ": " + k.handled_note);
    if (!k.exemption.empty()) o["exemption"] = k.exemption;
    o["exemptable"] = may(ActionType::kExemptCommitment) && workflow && k.exemption.empty() &&
                      (open || k.status == CommitmentStatus::kBroken) &&
                      compensates(k, *workflow, api.engine.workflows());
    o["due_input"] = k.paused() ? local_input(workflow, now + std::chrono::hours(24)) : local_input(workflow, k.due_at);
    // How far the commitment may move: a pledge as its clock's rule says, a promise freely.
    o["movable"] = open;
    if (const ClockRule* rule = pledge_clock(k, api.engine.workflows())) {
      if (!rule->rule.empty()) o["rule"] = rule->rule;
      switch (rule->renegotiation) {
        case Renegotiation::kNever:
          o["movable"] = false;
          if (open) o["fixed"] = true;
          break;
        case Renegotiation::kExceptional:
          o["exceptional"] = format_duration(rule->exceptional_target->duration.total()) +
                             (rule->exceptional_target->basis == TimeBasis::kBusiness ? " business days" : "");
          break;
        case Renegotiation::kAllowed:
          if (rule->renegotiation_limit)
            o["limit"] = duration_text(rule->renegotiation_limit->total()) + " past " +
                         when(k.rule_due_at.value_or(k.due_at));
          break;
      }
    }
    if (!may(ActionType::kRenegotiateCommitment)) o["movable"] = false;
    if (k.rule_due_at && *k.rule_due_at != Time::max() && k.replaces_id != 0)
      o["rule_due"] = when(*k.rule_due_at);
    commitments.push_back(std::move(o));
  }
  data["has_commitments"] = !commitments.empty();
  data["commitments"] = std::move(commitments);

  json::array redress;
  for (const auto& r : view.snapshot.redress) {
    json::object o{{"id", redress_display_id(r.id)},
                   {"kind", mail::redress_kind_label(r.kind)},
                   {"text", r.text},
                   {"status", to_string(r.status)},
                   {"automatic", r.automatic}};
    if (r.amount_minor) o["amount"] = mail::format_money(*r.amount_minor, r.currency);
    if (r.paid_minor) o["paid"] = mail::format_money(*r.paid_minor, r.paid_currency);
    o["can_fulfil"] = r.status == RedressStatus::kAccepted && may(ActionType::kFulfilRedress);
    o["currency"] = r.currency;
    redress.push_back(std::move(o));
  }
  data["has_redress"] = !redress.empty();
  data["redress"] = std::move(redress);

  json::array messages;
  for (const auto& m : view.messages) {
    json::object o{{"id", message_display_id(m.id)},
                   {"body", m.body},
                   {"internal", m.visibility == Visibility::kInternal && m.state == MessageState::kPosted},
                   {"author", m.author.rfind("email:", 0) == 0 ? m.author.substr(6) : actor_text(staff, m.author)},
                   {"at", when(m.at)},
                   {"held", m.state == MessageState::kHeld},
                   {"rejected", m.state == MessageState::kRejected},
                   {"by_email", m.via == "email"}};
    // The quoted history and signature folded away from the body, one click away.
    if (!m.original.empty()) o["original"] = m.original;
    if (!m.mail_blob.empty()) o["raw_url"] = "/staff/cases/" + c.reference + "/messages/" + message_display_id(m.id) + "/original";
    // Every file, through the staff download route (always a download, never shown inline).
    json::array files;
    for (std::size_t i = 0; i < m.attachments.size(); ++i)
      files.push_back(json::object{{"filename", m.attachments[i].filename},
                                   {"size", size_text(m.attachments[i].size)},
                                   {"url", "/staff/cases/" + c.reference + "/messages/" + message_display_id(m.id) +
                                               "/files/" + std::to_string(i)}});
    o["has_files"] = !files.empty();
    o["files"] = std::move(files);
    messages.push_back(std::move(o));
  }
  data["messages"] = std::move(messages);
  // Mail about this case that bounced: whoever owns it must reach the client another way.
  json::array bounces;
  if (pages.api.inbound_records)
    if (auto records = pages.api.inbound_records->list_inbound(c.reference, 50))
      for (const auto& r : *records)
        if (r.disposition == "bounce")
          bounces.push_back(json::object{{"address", r.bounced_address}, {"detail", r.detail}, {"at", when(r.received_at)}});
  data["has_bounces"] = !bounces.empty();
  data["bounces"] = std::move(bounces);

  json::array timeline;
  if (auto events = api.reads.case_events(c.reference))
    for (auto it = events->rbegin(); it != events->rend(); ++it)
      timeline.push_back(json::object{{"seq", it->seq},
                                      {"type", it->type},
                                      {"at", when(it->at)},
                                      {"actor", actor_text(staff, it->actor)},
                                      {"summary", event_summary(*it, staff)}});
  data["timeline"] = std::move(timeline);
  json::array deliveries;
  if (auto notes = api.outbox.case_notifications(c.reference))
    for (const auto& n : *notes) {
      json::object o{{"id", "n-" + std::to_string(n.item.id)},
                     {"channel", n.item.channel == NotificationDraft::Channel::kEmail ? "email" : "web hook"},
                     {"template", n.item.template_name},
                     {"audience", n.item.audience},
                     {"recipient", n.item.recipient},
                     {"state", to_string(n.state)},
                     {"attempts", n.attempts.size()},
                     {"created", when(n.item.created_at)}};
      if (n.delivered_at) o["delivered"] = when(*n.delivered_at);
      if (!n.last_error.empty()) o["last_error"] = n.last_error;
      deliveries.push_back(std::move(o));
    }
  data["has_deliveries"] = !deliveries.empty();
  data["deliveries"] = std::move(deliveries);

  // Every action this staff member may take now, lifecycle or not (messages, promises, redress).
  json::object can;
  for (ActionType type : may_do) can[to_string(type)] = true;
  data["can"] = std::move(can);
  json::array owners;
  for (const auto& [id, s] : staff)
    if (s.active && s.role != Role::kIntake && id != c.owner_id)
      owners.push_back(json::object{{"id", id}, {"label", s.name + (s.team.empty() ? "" : " (" + s.team + ")")}});
  data["owners"] = std::move(owners);
  json::array outcomes, kinds;
  for (auto name : all_names_Outcome()) outcomes.push_back(json::object{{"name", name}});
  for (auto name : all_names_RedressKind()) kinds.push_back(json::object{{"name", name}});
  data["outcomes"] = std::move(outcomes);
  // The forms that send a letter start from the standard's letter templates (web/letters.h): the
  // letter chosen (?letter=name), else the first final response, with its variable parts shown as
  // "[decision]" for the sender to write.
  if (workflow && api.letters) {
    LetterContext context{&c, view.owner ? view.owner->name : api.settings.organisation, api.settings.organisation,
                          now, std::nullopt, nullptr};
    // Drafted in the client's language where it is shipped (docs/languages.md).
    if (api.languages) context.language = &api.languages->for_tag(c.client.locale);
    std::string chosen = letter;
    const LetterInfo* info = chosen.empty() ? nullptr : api.letters->find(c.workflow, chosen);
    if (!info || info->purpose != LetterPurpose::kFinalResponse) chosen = "final_response_upheld";
    info = api.letters->find(c.workflow, chosen);
    json::array choices;
    for (const auto& l : api.letters->letters(c.workflow)) {
      if (l.purpose != LetterPurpose::kFinalResponse) continue;
      choices.push_back(json::object{{"name", l.name},
                                     {"outcome", to_string(*l.outcome)},
                                     {"url", "/staff/cases/" + c.reference + "?letter=" + l.name + "#resolve-form"},
                                     {"current", l.name == chosen}});
    }
    data["has_final_letters"] = !choices.empty();
    data["final_letters"] = std::move(choices);
    if (info) {
      data["final_letter"] = chosen;
      data["final_letter_text"] = api.letters->draft(*workflow, chosen, context);
      json::array marked;
      for (auto name : all_names_Outcome())
        marked.push_back(json::object{{"name", name}, {"selected", info->outcome && to_string(*info->outcome) == name}});
      data["outcomes"] = std::move(marked);
    }
    if (api.letters->find(c.workflow, "summary_resolution"))
      data["summary_letter_text"] = api.letters->draft(*workflow, "summary_resolution", context);
    if (api.letters->find(c.workflow, "holding_reply"))
      data["holding_letter_text"] = api.letters->draft(*workflow, "holding_reply", context);
  }
  data["redress_kinds"] = std::move(kinds);
  data["default_due"] = local_input(workflow, now + std::chrono::hours(4));
  data["zone"] = workflow ? workflow->calendar.zone_name() : "UTC";
  // What the case's standard asks of it now: a summary resolution window, a holding reply.
  if (workflow) {
    const json::object standard = standards_json(view.snapshot, workflow);
    if (const auto& until = standard.at("summary_resolution_until"); until.is_string()) {
      const auto t = parse_time(until.get_string());
      if (t && now <= *t) {
        data["summary_until"] = when(*t);
        json::array summary_elements;
        for (const auto& e : workflow->summary_resolution->elements)
          summary_elements.push_back(json::object{{"text", e.description}});
        data["summary_elements"] = std::move(summary_elements);
        data["summary_letter"] = workflow->summary_resolution->letter;
      }
    }
    if (const auto& holding = standard.at("holding_reply"); holding.is_object()) {
      json::object h{{"rule", workflow->holding_reply->rule}};
      if (holding.at("required").as_bool()) h["required"] = true;
      if (const auto& due = holding.at("due_at"); due.is_string())
        if (auto t = parse_time(due.get_string())) h["due"] = when(*t);
      if (const auto& sent = holding.at("sent_at"); sent.is_string())
        if (auto t = parse_time(sent.get_string())) h["sent"] = when(*t);
      json::array holding_elements;
      for (const auto& e : workflow->holding_reply->elements)
        holding_elements.push_back(json::object{{"text", e.description}});
      h["elements"] = std::move(holding_elements);
      data["holding_reply"] = std::move(h);
    }
  }
  // What the return needs from a resolution (issue 26): the workflow's root causes and products,
  // each required when its [returns] says so.
  if (workflow) {
    auto options = [&](const std::vector<Term>& terms, const std::string& field) {
      const json::value* chosen = draft.if_contains(field);
      json::array out;
      for (const auto& term : terms)
        out.push_back(json::object{{"key", term.key},
                                   {"name", term.name},
                                   {"selected", chosen && chosen->is_string() && chosen->get_string() == term.key}});
      return out;
    };
    if (!workflow->root_causes.empty())
      data["root_cause_choice"] = json::object{{"options", options(workflow->root_causes, "root_cause")},
                                               {"required", workflow->returns.require_root_cause}};
    if (!workflow->products.empty())
      data["product_choice"] = json::object{{"options", options(workflow->products, "product")},
                                            {"required", workflow->returns.require_product}};
    if (!c.root_cause.empty())
      if (const Term* term = workflow->find_root_cause(c.root_cause)) data["root_cause"] = term->name;
    if (!c.product.empty())
      if (const Term* term = workflow->find_product(c.product)) data["product"] = term->name;
  }
  // The client's vulnerability flag (FCA FG21/1): shown to staff here, never on the client's page.
  if (c.vulnerability)
    data["vulnerability"] = json::object{{"driver", words_of(to_string(c.vulnerability->driver))},
                                         {"note", c.vulnerability->note},
                                         {"review_on", format_date(c.vulnerability->review_on)}};
  {
    json::array drivers;
    for (auto name : all_names_VulnerabilityDriver())
      drivers.push_back(json::object{{"key", name}, {"name", words_of(name)}});
    data["vulnerability_drivers"] = std::move(drivers);
  }
  if (workflow && !workflow->final_response_elements.empty()) {
    json::array elements;
    for (const auto& e : workflow->final_response_elements) elements.push_back(json::object{{"text", e.description}});
    data["required_elements"] = std::move(elements);
  }
  const auto& limits = api.settings.attachments;
  data["files_allowed"] = api.blobs != nullptr && limits.max_files > 0;
  data["max_files"] = limits.max_files;
  data["max_file_size"] = size_text(limits.max_file_bytes);
  // The correction form (PATCH /v1/cases/{ref}'s): for the owner, leads and above, or anyone on an
  // unowned case (or under a workflow whose rights let any agent decide); starts from the case.
  data["can_correct"] = c.owner_id.empty() || c.owner_id == who.staff.id || role_at_least(who.staff.role, Role::kLead) ||
                        (workflow && workflow->decisions == DecisionRights::kAnyAgent);
  for (const auto& [field, stored] : std::initializer_list<std::pair<const char*, const std::string*>>{
           {"name", &c.client.name},
           {"email", &c.client.email},
           {"phone", &c.client.phone},
           {"locale", &c.client.locale},
           {"subject", &c.subject},
           {"description", &c.description}})
    if (!draft.contains(std::string("correct_") + field)) draft[std::string("correct_") + field] = *stored;
  // What the client said on the phone, recorded by whoever may decide: the client's own choices now.
  json::array phone;
  if (data["can_correct"].as_bool()) {
    for (ActionType type : api.engine.allowed_actions(c, Actor::client())) {
      if (type == ActionType::kAcceptRedress || type == ActionType::kRejectRedress) {
        for (const auto& r : view.snapshot.redress) {
          if (r.status != RedressStatus::kProposed) continue;
          std::string offer = redress_display_id(r.id) + " (" + mail::redress_kind_label(r.kind) +
                              (r.amount_minor ? " " + mail::format_money(*r.amount_minor, r.currency) : "") + ")";
          bool accept = type == ActionType::kAcceptRedress;
          phone.push_back(json::object{
              {"value", std::string(to_string(type)) + ":" + redress_display_id(r.id)},
              {"label", (accept ? "Accepts offer " : "Turns down offer ") + offer}});
        }
      } else if (type == ActionType::kWithdraw) {
        phone.push_back(json::object{{"value", "withdraw"}, {"label", "Withdraws the complaint"}});
      } else if (type == ActionType::kRequestEscalation) {
        phone.push_back(json::object{{"value", "request_escalation"}, {"label", "Asks for the complaint to be escalated"}});
      }
    }
  }
  // The re-assessment form (the assess action): severity and category, the current ones chosen.
  json::array severities;
  for (auto name : all_names_Severity())
    severities.push_back(json::object{{"value", name}, {"selected", name == to_string(c.severity)}});
  data["severity_options"] = std::move(severities);
  data["category_options"] = category_options(pages, c.category);
  put_case_desk(pages, c, who, data);  // tags, linked cases, merge (web/pages/case_desk.cpp)
  data["has_phone_options"] = !phone.empty();
  data["phone_options"] = std::move(phone);
  // The canned replies for this case's workflow and team (web/canned_replies.h), to start a message from.
  json::array canned;
  const json::value* chosen_reply = draft.if_contains("canned");
  const std::string chosen_canned =
      chosen_reply && chosen_reply->is_string() ? std::string(chosen_reply->get_string()) : std::string();
  if (api.canned_replies)
    if (auto all = api.canned_replies->list_canned_replies())
      for (const auto& r : *all)
        if (canned_reply_applies(api, r, c))
          canned.push_back(json::object{{"id", canned_reply_display_id(r.id)},
                                        {"title", r.title},
                                        {"selected", chosen_canned == canned_reply_display_id(r.id)}});
  data["has_canned_replies"] = !canned.empty();
  data["canned_replies"] = std::move(canned);
  const json::value* visibility = draft.if_contains("visibility");
  data["message_to_client"] = visibility && visibility->is_string() && visibility->get_string() == "client";
  data["draft"] = std::move(draft);
  return data;
}

void case_page(PagesContext& pages, const ContextPtr& ctx, Reply reply, const SignedIn& who) {
  auto view = pages.api.reads.load_case_view(ctx->param("ref"));
  if (!view)
    return reply(message_page(
        pages, page_status(view.error()), "No such case", view.error().detail,
        json::object{
            {"staff", staff_nav(who, "case")}, {"back_url", "/staff/search"}, {"back_label", "Search cases"}}));
  if (auto refused = restricted_page(pages, *view, who)) return reply(std::move(*refused));
  // "Insert" on a canned reply: the page again, its message form holding the reply rendered for
  // this case, to edit before sending.
  json::object draft;
  std::string notice;
  if (auto canned = ctx->query_value("canned"); canned && pages.api.canned_replies) {
    auto id = parse_canned_reply_id(*canned);
    auto found = id ? pages.api.canned_replies->find_canned_reply(*id)
                    : Result<CannedReply>(Error::not_found("no canned reply " + *canned));
    if (found && canned_reply_applies(pages.api, *found, view->snapshot.record)) {
      auto rendered = render_canned_reply(pages.api, *found, *view);
      if (rendered) {
        draft["canned"] = canned_reply_display_id(found->id);
        draft["body"] = rendered->text;
        draft["visibility"] = "client";
        notice = "The canned reply \"" + found->title + "\" is in the message form below: edit it, then send it.";
      }
    } else {
      notice = "That canned reply is not there any more, or not for this case.";
    }
  }
  json::object data = case_page_data(pages, *view, who, std::move(draft), ctx->query_value("letter").value_or(""));
  put_privacy_data(pages, data, *view, who);
  if (auto done = ctx->query_value("done")) data["notice"] = "Done: " + *done + ".";
  if (!notice.empty()) data["notice"] = notice;
  reply(render_page(pages, http::status::ok, "case", std::move(data)));
}

// The engine's JSON for a case form. Times typed in the case's zone become RFC 3339; one inline
// redress offer becomes the `offers` list.
Result<json::object> action_body(const Form& form, const Workflow* workflow) {
  json::object body = form_json(form, {"expected_version", "level"}, {"client_visible"});
  if (auto it = body.find("due_local"); it != body.end()) {
    std::string text(it->value().as_string());
    body.erase(it);
    auto t = parse_local_input(workflow, text);
    if (!t) return Error::invalid_field("due_local", "must be a date and time like 2026-12-04T17:00");
    body["due_at"] = format_time(*t);
  }
  json::object offer;
  for (auto key : {"kind", "amount", "currency", "text"}) {
    std::string field = std::string("offer_") + key;
    if (auto it = body.find(field); it != body.end()) {
      offer[key] = it->value();
      body.erase(it);
    }
  }
  if (!offer.empty()) body["offers"] = json::array{std::move(offer)};
  // Tags typed as one field, separated by commas or spaces: the action's list.
  if (auto it = body.find("tags"); it != body.end() && it->value().is_string()) {
    std::string text(it->value().as_string());
    std::replace(text.begin(), text.end(), ',', ' ');
    json::array tags;
    for (const auto& word : split_words(text)) tags.emplace_back(word);
    it->value() = std::move(tags);
  }
  return body;
}

void act(PagesContext& pages, const ContextPtr& ctx, Reply reply, const SignedIn& who, const Form& form) {
  const std::string reference = ctx->param("ref");
  auto view = pages.api.reads.load_case_view(reference);
  if (!view) return reply(message_page(pages, page_status(view.error()), "No such case", view.error().detail));
  json::object draft;
  for (const auto& [name, value] : form.fields())
    if (name != "csrf") draft[name] = value;
  auto fail = [&pages, who, reference](const Error& error, json::object draft) {
    auto current = pages.api.reads.load_case_view(reference);
    if (!current) return message_page(pages, page_status(current.error()), "No such case", current.error().detail);
    json::object data = case_page_data(pages, *current, who, std::move(draft));
    put_error(data, error);
    if (error.code == ErrorCode::kStaleVersion)
      data["error"] =
          "The case changed while you were looking at it (someone else acted on it). Here it is as it is now; "
          "what you typed is kept below.";
    return render_page(pages, page_status(error), "case", std::move(data));
  };
  const Workflow* workflow = pages.api.engine.workflows().find(view->snapshot.record.workflow);
  auto body = action_body(form, workflow);
  if (!body) return reply(fail(body.error(), std::move(draft)));
  auto request = decode_action(*body);
  if (!request) return reply(fail(request.error(), std::move(draft)));
  // Files go with a message only; they are stored before the message that names them.
  if (!form.files().empty()) {
    if (request->type != ActionType::kAddMessage)
      return reply(fail(Error::invalid_field("files", "files can be sent with a message only"), std::move(draft)));
    auto files = store_files(pages.api.blobs, pages.api.settings.attachments, form.files());
    if (!files) return reply(fail(files.error(), std::move(draft)));
    request->attachments = std::move(files).value();
  }
  request->reference = reference;
  request->actor = Actor::staff(who.staff.id, who.staff.role);
  std::string action(to_string(request->type));
  std::string back = form.get("back") == "queue" ? "/staff/queue?done=" : "/staff/cases/" + reference + "?done=";
  run_page_action(
      pages, std::move(request).value(),
      [reply = std::move(reply), fail, back, action, draft = std::move(draft)](Result<Committed> result) mutable {
        if (result) return reply(see_other(back + form_encode(action)));
        reply(fail(result.error(), std::move(draft)));
      });
}

// Records what was done about a broken commitment (the API's POST /v1/commitments/{id}/handle).
void handle_breach(PagesContext& pages, const ContextPtr& ctx, Reply reply, const SignedIn& who, const Form& form) {
  const std::string reference = ctx->param("ref");
  auto id = parse_display_id(form.get("commitment_id"), 'k');
  auto back = [&pages, reference, who](const Error& error) {
    auto current = pages.api.reads.load_case_view(reference);
    if (!current) return message_page(pages, page_status(current.error()), "No such case", current.error().detail);
    json::object data = case_page_data(pages, *current, who, {});
    put_error(data, error);
    return render_page(pages, page_status(error), "case", std::move(data));
  };
  if (!id) return reply(back(Error::invalid_field("commitment_id", "must be an id like k-42")));
  auto owner = pages.api.reads.commitment_case(*id);
  if (!owner || *owner != reference) return reply(back(Error::not_found("no such commitment on this case")));
  if (form.get("note").empty()) return reply(back(Error::invalid_field("note", "is required: say what was done")));
  ApiContext& api = pages.api;
  api.engine.handle_breach(
      reference, *id, Actor::staff(who.staff.id, who.staff.role), form.get("note"),
      [&api, reply = std::move(reply), back, reference](Result<Committed> result) mutable {
        api.defer([result = std::move(result), reply = std::move(reply), back, reference]() mutable {
          if (!result) return reply(back(result.error()));
          reply(see_other("/staff/cases/" + reference + "?done=breach_handled"));
        });
      });
}

// Corrects the case's details (the API's PATCH /v1/cases/{ref}): the fields that differ from the
// case as the page showed it, checked against the page's version.
void correct(PagesContext& pages, const ContextPtr& ctx, Reply reply, const SignedIn& who, const Form& form) {
  const std::string reference = ctx->param("ref");
  auto view = pages.api.reads.load_case_view(reference);
  if (!view) return reply(message_page(pages, page_status(view.error()), "No such case", view.error().detail));
  json::object draft;
  for (const auto& [name, value] : form.fields())
    if (name != "csrf") draft["correct_" + name] = value;
  auto fail = [&pages, who, reference](const Error& error, json::object draft) {
    auto current = pages.api.reads.load_case_view(reference);
    if (!current) return message_page(pages, page_status(current.error()), "No such case", current.error().detail);
    json::object data = case_page_data(pages, *current, who, std::move(draft));
    data["correct_open"] = true;
    put_error(data, error);
    if (error.code == ErrorCode::kStaleVersion)
      data["error"] =
          "The case changed while you were looking at it (someone else acted on it). Here it is as it is now; "
          "what you typed is kept below.";
    return render_page(pages, page_status(error), "case", std::move(data));
  };
  const Case& c = view->snapshot.record;
  json::object client, body;
  auto differs = [&form](const char* field, const std::string& stored) {
    return form.has(field) && form.get(field) != stored;
  };
  if (differs("name", c.client.name)) client["name"] = form.get("name");
  if (differs("email", c.client.email)) client["email"] = form.get("email");
  if (differs("phone", c.client.phone)) client["phone"] = form.get("phone");
  if (differs("locale", c.client.locale)) client["locale"] = form.get("locale");
  if (!client.empty()) body["client"] = std::move(client);
  if (differs("subject", c.subject)) body["subject"] = form.get("subject");
  if (differs("description", c.description)) body["description"] = form.get("description");
  auto correction = decode_case_correction(body);
  if (!correction) return reply(fail(correction.error(), std::move(draft)));
  std::optional<std::int64_t> version;
  try {
    version = std::stoll(form.get("expected_version"));
  } catch (const std::exception&) {
    return reply(fail(Error::invalid_field("expected_version", "is missing: reload the page"), std::move(draft)));
  }
  ApiContext& api = pages.api;
  api.engine.correct_case(
      reference, std::move(correction).value(), version, Actor::staff(who.staff.id, who.staff.role),
      [&api, reply = std::move(reply), fail, reference, draft = std::move(draft)](Result<Committed> result) mutable {
        api.defer([result = std::move(result), reply = std::move(reply), fail, reference,
                   draft = std::move(draft)]() mutable {
          if (!result) return reply(fail(result.error(), std::move(draft)));
          reply(see_other("/staff/cases/" + reference + "?done=corrected"));
        });
      });
}

// Records what the client said on the phone: their decision on an offer, a withdrawal or a request
// for escalation, as the client's action (what the client link would have done), then an internal
// note saying who took the call. Only for whoever may decide on the case.
void phone(PagesContext& pages, const ContextPtr& ctx, Reply reply, const SignedIn& who, const Form& form) {
  const std::string reference = ctx->param("ref");
  auto view = pages.api.reads.load_case_view(reference);
  if (!view) return reply(message_page(pages, page_status(view.error()), "No such case", view.error().detail));
  json::object draft{{"phone_said", form.get("said")}, {"phone_reason", form.get("reason")}};
  auto fail = [&pages, who, reference](const Error& error, json::object draft) {
    auto current = pages.api.reads.load_case_view(reference);
    if (!current) return message_page(pages, page_status(current.error()), "No such case", current.error().detail);
    json::object data = case_page_data(pages, *current, who, std::move(draft));
    put_error(data, error);
    return render_page(pages, page_status(error), "case", std::move(data));
  };
  json::object probe = case_page_data(pages, *view, who, {});
  if (!probe["can_correct"].as_bool())
    return reply(fail(Error::forbidden("recording the client's decisions is for the case's owner or a lead or above"),
                      std::move(draft)));
  const std::string said = form.get("said");
  const auto colon = said.find(':');
  auto type = parse_ActionType(said.substr(0, colon));
  if (!type || (*type != ActionType::kAcceptRedress && *type != ActionType::kRejectRedress &&
                *type != ActionType::kWithdraw && *type != ActionType::kRequestEscalation))
    return reply(fail(Error::invalid_field("said", "choose what the client said"), std::move(draft)));
  const std::string reason = form.get("reason");
  if ((*type == ActionType::kWithdraw || *type == ActionType::kRequestEscalation || *type == ActionType::kRejectRedress) &&
      reason.find_first_not_of(" \t\r\n") == std::string::npos)
    return reply(fail(Error::invalid_field("reason", "is required: write down the client's reason"), std::move(draft)));
  ActionRequest request;
  request.type = *type;
  request.reference = reference;
  request.actor = Actor::client();
  request.reason = reason;
  if (*type == ActionType::kAcceptRedress || *type == ActionType::kRejectRedress) {
    auto id = colon == std::string::npos ? std::nullopt : parse_display_id(said.substr(colon + 1), 'r');
    if (!id) return reply(fail(Error::invalid_field("said", "choose the offer"), std::move(draft)));
    request.redress_id = *id;
  }
  try {
    request.expected_version = std::stoll(form.get("expected_version"));
  } catch (const std::exception&) {
    return reply(fail(Error::invalid_field("expected_version", "is missing: reload the page"), std::move(draft)));
  }
  std::string note = "By phone, the client " + std::string(said.substr(0, colon) == "accept_redress"   ? "accepted offer "
                                                           : said.substr(0, colon) == "reject_redress" ? "turned down offer "
                                                           : said == "withdraw" ? "withdrew the complaint"
                                                                                : "asked for the complaint to be escalated") +
                     (colon == std::string::npos ? "" : said.substr(colon + 1)) + "; recorded by " + who.staff.name +
                     "." + (reason.empty() ? "" : " Their words: " + reason);
  run_page_action(pages, std::move(request),
                  [&pages, who, reference, note, fail, reply = std::move(reply),
                   draft = std::move(draft)](Result<Committed> result) mutable {
                    if (!result) return reply(fail(result.error(), std::move(draft)));
                    ActionRequest record;
                    record.type = ActionType::kAddMessage;
                    record.reference = reference;
                    record.actor = Actor::staff(who.staff.id, who.staff.role);
                    record.visibility = Visibility::kInternal;
                    record.body = note;
                    run_page_action(pages, std::move(record), [reply = std::move(reply), reference](Result<Committed>) {
                      reply(see_other("/staff/cases/" + reference + "?done=" + form_encode("the client's call recorded")));
                    });
                  });
}

}  // namespace

void register_console_pages(Router& router, PagesContext& pages) {
  register_sign_in(router, pages);
  auto page = [&](std::string pattern, void (*fn)(PagesContext&, const ContextPtr&, Reply, const SignedIn&)) {
    add_staff_page(router, pages, std::move(pattern), kStaffRoles,
                   [&pages, fn](const ContextPtr& ctx, Reply reply, const SignedIn& who) {
                     fn(pages, ctx, std::move(reply), who);
                   });
  };
  page("/staff", &my_cases);
  page("/staff/queue", &queue);
  page("/staff/search", &search);
  page("/staff/cases/{ref}", &case_page);
  add_staff_page(router, pages, "/staff/cases/{ref}/messages/{id}/original", kStaffRoles,
                 [&pages](const ContextPtr& ctx, Reply reply, const SignedIn&) {
                   reply(original_mail(pages.api, ctx->param("ref"), ctx->param("id")));
                 });
  add_staff_page(router, pages, "/staff/cases/{ref}/messages/{id}/files/{n}", kStaffRoles,
                 [&pages](const ContextPtr& ctx, Reply reply, const SignedIn&) {
                   auto messages = pages.api.reads.case_messages(ctx->param("ref"));
                   if (!messages)
                     return reply(message_page(pages, page_status(messages.error()), "No such case",
                                               messages.error().detail));
                   reply(attachment_of(pages.api, *messages, ctx->param("id"), ctx->param("n"), Visibility::kInternal));
                 });
  add_staff_form(router, pages, "/staff/cases/{ref}/act", kStaffRoles,
                 [&pages](const ContextPtr& ctx, Reply reply, const SignedIn& who, const Form& form) {
                   act(pages, ctx, std::move(reply), who, form);
                 });
  add_staff_form(router, pages, "/staff/cases/{ref}/phone", kStaffRoles,
                 [&pages](const ContextPtr& ctx, Reply reply, const SignedIn& who, const Form& form) {
                   phone(pages, ctx, std::move(reply), who, form);
                 });
  add_staff_form(router, pages, "/staff/cases/{ref}/correct", kStaffRoles,
                 [&pages](const ContextPtr& ctx, Reply reply, const SignedIn& who, const Form& form) {
                   correct(pages, ctx, std::move(reply), who, form);
                 });
  add_staff_form(router, pages, "/staff/cases/{ref}/handle", kStaffRoles,
                 [&pages](const ContextPtr& ctx, Reply reply, const SignedIn& who, const Form& form) {
                   handle_breach(pages, ctx, std::move(reply), who, form);
                 });
}

}  // namespace redress::web
