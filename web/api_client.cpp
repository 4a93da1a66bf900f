// The v1 API's client links: staff make and revoke a case's private link; the client reads the
// case through it and acts on it (reply, accept or reject an offer, survey, withdraw, reopen, ask
// for escalation).
// See web/api_internal.h.
#include <boost/json.hpp>

#include "adapters/security/secrets.h"
#include "web/api_internal.h"
#include "web/attachments.h"
#include "web/views.h"

namespace redress::web {

namespace json = boost::json;

namespace {

Response client_view(ApiContext& api, const CaseView& view, http::status status) {
  json::object body =
      client_view_json(view.snapshot, view.owner, api.engine.workflows().find(view.snapshot.record.workflow),
                       view.messages, client_actions(api, view.snapshot.record));
  for (auto& [key, value] : client_merge_json(api, view.snapshot.record)) body[key] = value;
  return json_response(status, body);
}

// The client's view of the case a link opens, as stored: its snapshot, messages and owner.
Result<CaseView> client_link_view(ApiContext& api, const std::string& token) {
  auto snapshot = client_link_case(api, token);
  if (!snapshot) return snapshot.error();
  auto messages = api.reads.case_messages(snapshot->record.reference);
  CaseView view;
  view.owner = staff_or_none(api.staff, snapshot->record.owner_id);
  view.snapshot = std::move(snapshot).value();
  if (messages) view.messages = std::move(messages).value();
  return view;
}

}  // namespace

Result<CaseSnapshot> client_link_case(ApiContext& api, const std::string& token) {
  if (token.size() < 20 || token.size() > 100 || token.rfind("cl_", 0) != 0)
    return Error::not_found("unknown or revoked link");
  return api.client_links.load_case_by_client_link(security::token_hash(token));
}

std::vector<std::string> client_actions(ApiContext& api, const Case& record) {
  std::vector<std::string> names;
  for (ActionType type : api.engine.allowed_actions(record, Actor::client())) {
    switch (type) {
      case ActionType::kAddMessage: names.emplace_back("reply"); break;
      case ActionType::kSubmitSurvey: names.emplace_back("survey"); break;
      case ActionType::kRequestEscalation: names.emplace_back("escalate"); break;
      default: names.emplace_back(to_string(type));
    }
  }
  return names;
}

std::string client_url(const ApiContext& api, const std::string& token) { return api.base_url + "/c/" + token; }

json::object client_merge_json(ApiContext& api, const Case& record) {
  auto lower = [](std::string text) {
    for (char& c : text)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return text;
  };
  // Another case is the client's when it has the same address; nothing of anyone else's is shown.
  auto theirs = [&](const Case& other) {
    return !record.client.email.empty() && lower(other.client.email) == lower(record.client.email);
  };
  json::value into = nullptr;
  if (!record.merged_into.empty()) {
    json::object o{{"reference", record.merged_into}};
    if (auto survivor = api.reads.load_case(record.merged_into); survivor && theirs(survivor->record)) {
      o["status"] = to_string(survivor->record.status);
      if (auto nonce = api.client_links.client_link_nonce(record.merged_into))
        o["client_url"] = client_url(api, api.keyring.client_token(*nonce));
    }
    into = std::move(o);
  }
  json::array merged;
  for (const auto& reference : record.links) {
    if (reference == record.merged_into) continue;
    auto other = api.reads.load_case(reference);
    if (other && other->record.merged_into == record.reference && theirs(other->record)) merged.emplace_back(reference);
  }
  return json::object{{"merged_into", std::move(into)}, {"merged_cases", std::move(merged)}};
}

void create_client_link(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  auto link = api.keyring.new_client_link();
  if (auto s = api.client_links.replace_client_link(ctx->param("ref"), link.nonce, link.hash); !s)
    return reply(problem_from(s.error()));
  reply(json_response(http::status::created, json::object{{"client_url", client_url(api, link.token)}}));
}

void revoke_client_link(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  if (auto s = api.client_links.replace_client_link(ctx->param("ref"), "", ""); !s)
    return reply(problem_from(s.error()));
  reply(Response{http::status::no_content, 11});
}

// An action of the client's on the case their link opens; the answer is their view of the case as
// the action left it, made from the view it was planned on and its Change.
void client_action(ApiContext& api, const ContextPtr& ctx, Reply reply, ActionType type) {
  auto before = client_link_view(api, ctx->param("token"));
  if (!before) return reply(problem_from(before.error()));
  std::vector<AttachmentRef> attachments;
  if (type == ActionType::kAddMessage) {
    auto files = take_form_files(api.blobs, api.settings.attachments, *ctx);
    if (!files) return reply(problem_from(files.error()));
    attachments = std::move(files).value();
  }
  json::object body = ctx->body;
  if (type == ActionType::kAddMessage) body["visibility"] = "client";
  if (type == ActionType::kAcceptRedress || type == ActionType::kRejectRedress) {
    auto id = parse_display_id(ctx->param("id"), 'r');
    bool ours = false;
    for (const auto& r : before->snapshot.redress) ours = ours || (id && r.id == *id);
    if (!ours) return reply(not_found("no such offer on this case"));
    body["redress_id"] = *id;
  }
  ctx->body = std::move(body);
  auto request = decode_action_fields(type, ctx->body);
  if (!request) return reply(problem_from(request.error()));
  request->reference = before->snapshot.record.reference;
  request->actor = Actor::client();
  request->attachments = std::move(attachments);
  http::status status = type == ActionType::kAddMessage ? http::status::created : http::status::ok;
  run_action(api, std::move(request).value(), std::move(reply),
             [&api, status, before = std::move(before).value()](const Committed& committed) {
               if (auto after = view_after(api, before, committed.change)) return client_view(api, *after, status);
               // Another change came between the read and the plan: the case as it is now.
               auto now = api.reads.load_case_view(committed.change.after.reference);
               if (!now) return problem_from(now.error());
               return client_view(api, *now, status);
             });
}

void client_message_attachment(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  auto snapshot = client_link_case(api, ctx->param("token"));
  if (!snapshot) return reply(problem_from(snapshot.error()));
  auto messages = api.reads.case_messages(snapshot->record.reference);
  if (!messages) return reply(problem_from(messages.error()));
  reply(attachment_of(api, *messages, ctx->param("id"), ctx->param("n"), Visibility::kClient));
}

void client_case(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  auto view = client_link_view(api, ctx->param("token"));
  if (!view) return reply(problem_from(view.error()));
  reply(client_view(api, *view, http::status::ok));
}

}  // namespace redress::web
