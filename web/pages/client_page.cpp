// The client's status page: /c/{token}. Everything shown is what the client may see (client-visible
// commitments and messages, the offers made to them, the owner's name); never an internal note,
// never another case. Forms post back under the same private path and redirect (post/redirect/get);
// a refused or invalid post shows the page again with the error and what the client typed. A reply
// may carry files (multipart/form-data, the API's limits); each message's files are links to the
// client download route.
#include <boost/json.hpp>

#include <algorithm>

#include "adapters/security/secrets.h"
#include "engine/actions.h"
#include "web/attachments.h"
#include "web/pages/page_support.h"
#include "web/views.h"

namespace redress::web {

namespace json = boost::json;
using verb = http::verb;

namespace {

using i18n::translatable;

// The thanks after a form, in the client's language.
std::string notice_for(const std::string& done, const i18n::Language& language) {
  const char* notice = nullptr;
  if (done == "reply") notice = translatable("Thank you: your message is with us.");
  if (done == "accept")
    notice = translatable("Thank you: you accepted our offer. We will put it into effect and keep you informed.");
  if (done == "reject")
    notice = translatable("You turned our offer down. Your case goes back to our team, who will be in touch.");
  if (done == "withdraw") notice = translatable("Your complaint is withdrawn. You can still read this page.");
  if (done == "survey") notice = translatable("Thank you for rating our service.");
  if (done == "reopen") notice = translatable("Your complaint is open again; our team will be in touch.");
  if (done == "escalate")
    notice = translatable(
        "Thank you: we have passed your request to a more senior member of our team, who will be in touch.");
  return notice ? language.translate(notice) : std::string();
}

const char* step_label(int step) {
  static const char* kLabels[] = {translatable("Received"), translatable("Acknowledged"),
                                  translatable("Being investigated"), translatable("Resolved"),
                                  translatable("Closed")};
  return kLabels[step];
}

int step_reached(CaseStatus status) {
  switch (status) {
    case CaseStatus::kReceived: return 0;
    case CaseStatus::kAcknowledged: return 1;
    case CaseStatus::kInvestigating:
    case CaseStatus::kAwaitingClient:
    case CaseStatus::kRedressProposed: return 2;
    case CaseStatus::kResolved: return 3;
    case CaseStatus::kClosed: return 4;
    case CaseStatus::kWithdrawn: return -1;
  }
  return 0;
}

// The page's values. `draft` holds what the client typed into a form that was refused.
json::object client_page_data(PagesContext& pages, const CaseSnapshot& snapshot, const std::string& token,
                              json::object draft, const PageLanguage& page_language) {
  ApiContext& api = pages.api;
  const Case& c = snapshot.record;
  const i18n::Language& language = *page_language.language;
  auto format = time_formatter(pages, c.workflow, &language);
  std::string base = "/c/" + token;
  json::object data;
  data["title"] = language.translate(translatable("Your complaint")) + " " + c.reference;
  data["body_class"] = "client";
  put_language(data, pages, page_language, base);
  data["reference"] = c.reference;
  data["subject"] = c.subject;
  data["status_label"] = mail::status_label(c.status, &language);
  data["status_text"] = language.translate(status_text(c.status));
  data["received_local"] = format(c.received_at);
  data["base"] = base;
  int reached = step_reached(c.status);
  json::array progress;
  for (int i = 0; i < 5; ++i)
    progress.push_back(json::object{
        {"label", language.translate(step_label(i))}, {"done", reached >= i}, {"current", reached == i}});
  data["progress"] = std::move(progress);
  data["withdrawn"] = c.status == CaseStatus::kWithdrawn;
  // A merge (issue 27): the case that carries on, or the client's cases merged into this one.
  json::object merge = client_merge_json(api, c);
  if (!merge["merged_into"].is_null()) data["merged_into"] = merge["merged_into"];
  data["has_merged_cases"] = !merge["merged_cases"].as_array().empty();
  data["merged_cases"] = merge["merged_cases"];
  if (auto owner = api.staff.find_staff(c.owner_id); owner) data["owner_name"] = owner->name;
  // The standard's own words are the organisation's, translated by its catalogue where it has them.
  if (const Workflow* workflow = api.engine.workflows().find(c.workflow))
    data["standard"] = json::object{{"title", language.translate(workflow->title)},
                                    {"pledge", language.translate(workflow->pledge)}};

  json::array commitments;
  for (const auto& k : snapshot.commitments) {
    if (!k.client_visible || k.status == CommitmentStatus::kRenegotiated || k.status == CommitmentStatus::kCancelled)
      continue;
    // A pledge's text is its workflow's (translated); a promise is what a person wrote.
    json::object o{{"text", k.kind == CommitmentKind::kPledge ? language.translate(k.text) : k.text},
                   {"status", to_string(k.status)}};
    o["due_local"] = k.paused() ? mail::paused_label(&language) : format(k.due_at);
    if (!k.paused()) o["due_at"] = format_time(k.due_at);
    o[k.status == CommitmentStatus::kKept ? "kept" : k.status == CommitmentStatus::kBroken ? "broken" : "open"] = true;
    if (k.settled_at) o["settled_local"] = format(*k.settled_at);
    commitments.push_back(std::move(o));
  }
  data["has_commitments"] = !commitments.empty();
  data["commitments"] = std::move(commitments);

  auto messages = api.reads.case_messages(c.reference);
  json::array thread;
  if (messages)
    for (const auto& m : *messages) {
      if (m.visibility != Visibility::kClient) continue;
      bool from_client = m.author == "client";
      json::object o{{"body", m.body},
                     {"from_client", from_client},
                     {"from_us", !from_client},
                     {"at_local", format(m.at)},
                     {"at", format_time(m.at)}};
      // Each file through the client download route (always a download, never shown inline).
      json::array files;
      for (std::size_t i = 0; i < m.attachments.size(); ++i)
        files.push_back(json::object{{"filename", m.attachments[i].filename},
                                     {"size", size_text(m.attachments[i].size)},
                                     {"url", "/v1/client/" + token + "/messages/" + message_display_id(m.id) +
                                                 "/attachments/" + std::to_string(i)}});
      o["has_files"] = !files.empty();
      o["files"] = std::move(files);
      thread.push_back(std::move(o));
    }
  data["messages"] = std::move(thread);

  auto actions = client_actions(api, c);
  auto may = [&](std::string_view name) { return std::find(actions.begin(), actions.end(), name) != actions.end(); };
  json::array offers;
  for (const auto& r : snapshot.redress) {
    json::object o{{"id", redress_display_id(r.id)},
                   {"kind_label", mail::redress_kind_label(r.kind, &language)},
                   {"text", r.text},
                   {"status", to_string(r.status)}};
    if (r.amount_minor) o["amount"] = mail::format_money(*r.amount_minor, r.currency);
    bool open = r.status == RedressStatus::kProposed && may("accept_redress");
    o["decide"] = open;
    o["accept_url"] = base + "/redress/" + redress_display_id(r.id) + "/accept";
    o["reject_url"] = base + "/redress/" + redress_display_id(r.id) + "/reject";
    o[std::string("is_") + std::string(to_string(r.status))] = true;
    offers.push_back(std::move(o));
  }
  data["has_offers"] = !offers.empty();
  data["offers"] = std::move(offers);
  data["can_reply"] = may("reply");
  const auto& limits = api.settings.attachments;
  data["files_allowed"] = api.blobs != nullptr && limits.max_files > 0;
  data["max_files"] = limits.max_files;
  data["max_file_size"] = size_text(limits.max_file_bytes);
  data["can_withdraw"] = may("withdraw");
  data["can_rate"] = may("survey") && !c.rating;
  data["can_reopen"] = may("reopen");
  data["can_escalate"] = may("escalate");
  // Asked at this level already: the form is gone until the case moves up.
  data["escalation_asked"] = c.client_escalation_level && *c.client_escalation_level == c.escalation_level &&
                             is_open(c.status);
  if (c.rating) data["rating"] = *c.rating;
  json::array stars;
  for (int i = 1; i <= 5; ++i) {
    json::object star{{"value", i}};
    if (auto it = draft.find("rating");
        it != draft.end() && it->value().is_string() && it->value().get_string() == std::to_string(i))
      star["checked"] = true;
    stars.push_back(std::move(star));
  }
  data["stars"] = std::move(stars);
  // The RATER questions, each 1-5 (issue 26): what each dimension means to the client.
  static const std::pair<const char*, const char*> kQuestions[] = {
      {"reliability", translatable("Reliability: we did what we said we would, when we said we would")},
      {"assurance",
       translatable("Assurance: you could trust the people who dealt with you to know what they were doing")},
      {"tangibles", translatable("Tangibles: our letters, messages and this page were clear and easy to use")},
      {"empathy", translatable("Empathy: we understood your situation and treated you as a person")},
      {"responsiveness", translatable("Responsiveness: we answered you promptly")},
  };
  json::array questions;
  for (const auto& [key, label] : kQuestions) {
    json::array choices;
    for (int i = 1; i <= 5; ++i) {
      json::object choice{{"value", i}, {"name", key}};
      if (auto it = draft.find(key);
          it != draft.end() && it->value().is_string() && it->value().get_string() == std::to_string(i))
        choice["checked"] = true;
      choices.push_back(std::move(choice));
    }
    questions.push_back(
        json::object{{"key", key}, {"label", language.translate(label)}, {"choices", std::move(choices)}});
  }
  data["rater_questions"] = std::move(questions);
  data["draft"] = std::move(draft);
  return data;
}

// The page that says a link opens nothing, in the language the request asks for.
Response no_such_link(PagesContext& pages, const ContextPtr& ctx, http::status status) {
  const PageLanguage language = client_language(pages, *ctx);
  json::object data{{"body_class", "client"}};
  const auto target = ctx->request.target();
  const std::string path(target.data(), std::min(target.size(), target.find('?')));
  put_language(data, pages, language, path);
  const i18n::Language& words = *language.language;
  return in_language(
      message_page(pages, status, words.translate(translatable("This link does not open a complaint")),
                   words.translate(translatable("The link may be mistyped, or it was replaced by a newer one. The "
                                                "latest email we sent you has the current link.")),
                   std::move(data)),
      pages, language);
}

void show(PagesContext& pages, const ContextPtr& ctx, Reply reply) {
  const std::string& token = ctx->param("token");
  auto snapshot = client_link_case(pages.api, token);
  if (!snapshot) return reply(no_such_link(pages, ctx, http::status::not_found));
  const PageLanguage language = client_language(pages, *ctx, snapshot->record.client.locale);
  json::object data = client_page_data(pages, *snapshot, token, {}, language);
  if (auto done = ctx->query_value("done")) data["notice"] = notice_for(*done, *language.language);
  reply(in_language(render_page(pages, http::status::ok, "client", std::move(data)), pages, language));
}

// A client form post: decode, act as the client, redirect to the page; on failure show the page
// with the error and the typed values.
void act(PagesContext& pages, const ContextPtr& ctx, Reply reply, ActionType type, std::string done) {
  const std::string token = ctx->param("token");
  auto snapshot = client_link_case(pages.api, token);
  if (!snapshot) return reply(no_such_link(pages, ctx, http::status::not_found));
  const PageLanguage language = client_language(pages, *ctx, snapshot->record.client.locale);
  auto fail = [&pages, token, language](const CaseSnapshot& current, const Error& error, json::object draft) {
    json::object data = client_page_data(pages, current, token, std::move(draft), language);
    put_error(data, error);
    return in_language(render_page(pages, page_status(error), "client", std::move(data)), pages, language);
  };
  if (!same_origin_post(ctx->request, pages.api.base_url))
    return reply(fail(*snapshot, Error::forbidden("this form was sent from another site"), {}));
  auto form = Form::parse(ctx->request);
  if (!form) return reply(fail(*snapshot, form.error(), {}));
  json::object draft;
  for (const auto& [name, value] : form->fields()) draft[name] = value;
  json::object body =
      form_json(*form, {"rating", "reliability", "assurance", "tangibles", "empathy", "responsiveness"});
  // The survey's RATER answers go in `rater` (all five, or none: a part-answered form is refused).
  if (type == ActionType::kSubmitSurvey) {
    json::object rater;
    for (auto dimension : rater_dimensions())
      if (auto it = body.find(dimension); it != body.end()) {
        rater[dimension] = it->value();
        body.erase(it);
      }
    if (!rater.empty()) body["rater"] = std::move(rater);
  }
  if (type == ActionType::kAddMessage) body["visibility"] = "client";
  if (type == ActionType::kAcceptRedress || type == ActionType::kRejectRedress) {
    auto id = parse_display_id(ctx->param("id"), 'r');
    bool ours = false;
    for (const auto& r : snapshot->redress) ours = ours || (id && r.id == *id);
    if (!ours) return reply(fail(*snapshot, Error::not_found("no such offer on this complaint"), std::move(draft)));
    body["redress_id"] = redress_display_id(*id);
  }
  auto request = decode_action_fields(type, body);
  if (!request) return reply(fail(*snapshot, request.error(), std::move(draft)));
  // Files go with a reply only; they are stored before the message that names them.
  if (!form->files().empty()) {
    if (type != ActionType::kAddMessage)
      return reply(
          fail(*snapshot, Error::invalid_field("files", "files can be sent with a message only"), std::move(draft)));
    auto files = store_files(pages.api.blobs, pages.api.settings.attachments, form->files());
    if (!files) return reply(fail(*snapshot, files.error(), std::move(draft)));
    request->attachments = std::move(files).value();
  }
  request->reference = snapshot->record.reference;
  request->actor = Actor::client();
  run_page_action(
      pages, std::move(request).value(),
      [&pages, reply = std::move(reply), ctx, token, done, draft = std::move(draft),
       fail](Result<Committed> result) mutable {
        if (result) return reply(see_other("/c/" + token + "?done=" + done));
        auto current = client_link_case(pages.api, token);
        if (!current) return reply(no_such_link(pages, ctx, http::status::not_found));
        reply(fail(*current, result.error(), std::move(draft)));
      });
}

}  // namespace

void register_client_pages(Router& router, PagesContext& pages) {
  auto get = [&](std::string pattern, Handler handler) {
    router.add(RouteSpec{verb::get, std::move(pattern), Access::kClientLink, {}, false, std::move(handler)});
  };
  auto post = [&](std::string pattern, ActionType type, std::string done) {
    router.add(RouteSpec{
        verb::post,
        std::move(pattern),
        Access::kClientLink,
        {},
        false,
        [&pages, type, done](const ContextPtr& ctx, Reply reply) { act(pages, ctx, std::move(reply), type, done); }});
  };
  get("/c/{token}", [&pages](const ContextPtr& ctx, Reply reply) { show(pages, ctx, std::move(reply)); });
  post("/c/{token}/reply", ActionType::kAddMessage, "reply");
  post("/c/{token}/redress/{id}/accept", ActionType::kAcceptRedress, "accept");
  post("/c/{token}/redress/{id}/reject", ActionType::kRejectRedress, "reject");
  post("/c/{token}/withdraw", ActionType::kWithdraw, "withdraw");
  post("/c/{token}/survey", ActionType::kSubmitSurvey, "survey");
  post("/c/{token}/reopen", ActionType::kReopen, "reopen");
  post("/c/{token}/escalate", ActionType::kRequestEscalation, "escalate");
}

}  // namespace redress::web
