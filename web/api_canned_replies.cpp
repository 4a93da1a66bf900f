// The v1 API's canned replies: admins write them, staff list them and have one rendered for a case
// before editing it into a message (web/canned_replies.h). See web/api_internal.h.
#include <boost/json.hpp>

#include "web/api_internal.h"
#include "web/canned_replies.h"

namespace redress::web {

namespace json = boost::json;

namespace {

Response canned_unavailable() {
  return problem_from(Error::unavailable("canned replies are not available on this server"));
}

// The reply the route's {id} names; kNotFound for a malformed or unknown id.
Result<CannedReply> named_canned_reply(ApiContext& api, const std::string& text) {
  auto id = parse_canned_reply_id(text);
  if (!id) return Error::not_found("no canned reply " + text);
  return api.canned_replies->find_canned_reply(*id);
}

json::object rendered_canned_json(const CannedReply& reply, const RenderedReply& rendered) {
  return json::object{{"id", canned_reply_display_id(reply.id)},
                      {"title", reply.title},
                      {"text", rendered.text},
                      {"html", rendered.html}};
}

}  // namespace

void list_canned_replies(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  if (!api.canned_replies) return reply(canned_unavailable());
  QueryReader query(*ctx);
  std::string workflow = query.text("workflow", 64);
  std::string team = query.text("team", 100);
  if (query.refusal()) return reply(*query.refusal());
  auto all = api.canned_replies->list_canned_replies();
  if (!all) return reply(problem_from(all.error()));
  json::array items;
  for (const auto& r : *all) {
    // A filter keeps the replies for that workflow (team) and those for every workflow (team).
    if (!workflow.empty() && !r.workflow.empty() && r.workflow != workflow) continue;
    if (!team.empty() && !r.team.empty() && r.team != team) continue;
    items.push_back(canned_reply_json(r));
  }
  reply(json_response(http::status::ok, json::object{{"items", std::move(items)}}));
}

void add_canned_reply(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  if (!api.canned_replies) return reply(canned_unavailable());
  auto made = canned_reply_from_json(api, ctx->body, nullptr);
  if (!made) return reply(problem_from(made.error()));
  made->created_by = ctx->actor().id;
  auto added = api.canned_replies->add_canned_reply(*made);
  if (!added) return reply(problem_from(added.error()));
  Response response = json_response(http::status::created, canned_reply_json(*added));
  response.set(http::field::location, "/v1/canned-replies/" + canned_reply_display_id(added->id));
  reply(std::move(response));
}

void get_canned_reply(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  if (!api.canned_replies) return reply(canned_unavailable());
  auto found = named_canned_reply(api, ctx->param("id"));
  if (!found) return reply(problem_from(found.error()));
  reply(json_response(http::status::ok, canned_reply_json(*found)));
}

void change_canned_reply(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  if (!api.canned_replies) return reply(canned_unavailable());
  auto found = named_canned_reply(api, ctx->param("id"));
  if (!found) return reply(problem_from(found.error()));
  auto changed = canned_reply_from_json(api, ctx->body, &*found);
  if (!changed) return reply(problem_from(changed.error()));
  changed->updated_by = ctx->actor().id;
  auto stored = api.canned_replies->update_canned_reply(*changed);
  if (!stored) return reply(problem_from(stored.error()));
  reply(json_response(http::status::ok, canned_reply_json(*stored)));
}

void delete_canned_reply(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  if (!api.canned_replies) return reply(canned_unavailable());
  auto id = parse_canned_reply_id(ctx->param("id"));
  if (!id) return reply(not_found("no canned reply " + ctx->param("id")));
  if (auto s = api.canned_replies->delete_canned_reply(*id); !s) return reply(problem_from(s.error()));
  reply(Response{http::status::no_content, 11});
}

void case_canned_replies(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  if (!api.canned_replies) return reply(canned_unavailable());
  auto view = api.reads.load_case_view(ctx->param("ref"));
  if (!view) return reply(problem_from(view.error()));
  auto all = api.canned_replies->list_canned_replies();
  if (!all) return reply(problem_from(all.error()));
  json::array items;
  for (const auto& r : *all) {
    if (!canned_reply_applies(api, r, view->snapshot.record)) continue;
    auto rendered = render_canned_reply(api, r, *view);
    if (!rendered) return reply(problem_from(rendered.error()));
    items.push_back(rendered_canned_json(r, *rendered));
  }
  reply(json_response(http::status::ok, json::object{{"items", std::move(items)}}));
}

void case_canned_reply(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  if (!api.canned_replies) return reply(canned_unavailable());
  auto view = api.reads.load_case_view(ctx->param("ref"));
  if (!view) return reply(problem_from(view.error()));
  auto found = named_canned_reply(api, ctx->param("id"));
  if (!found) return reply(problem_from(found.error()));
  if (!canned_reply_applies(api, *found, view->snapshot.record))
    return reply(not_found("the canned reply " + canned_reply_display_id(found->id) + " is not for case " +
                           view->snapshot.record.reference + " (it is for " +
                           (found->workflow.empty() ? std::string("every workflow") : "workflow " + found->workflow) +
                           ", " + (found->team.empty() ? std::string("every team") : "team " + found->team) + ")"));
  auto rendered = render_canned_reply(api, *found, *view);
  if (!rendered) return reply(problem_from(rendered.error()));
  reply(json_response(http::status::ok, rendered_canned_json(*found, *rendered)));
}

}  // namespace redress::web
