// The v1 API's staff administration (admins): staff, their tokens, the teams. The rules are in
// web/staff_admin.h, shared with the console. See web/api_internal.h.
#include <boost/json.hpp>

#include "adapters/security/secrets.h"
#include "web/api_internal.h"
#include "web/staff_admin.h"

namespace redress::web {

namespace json = boost::json;

namespace {

Response staff_created(const Staff& staff, const std::optional<std::string>& password) {
  json::object out = staff_json(staff);
  out["password_set"] = password.has_value();
  Response response = json_response(http::status::created, out);
  response.set(http::field::location, "/v1/staff/" + staff.id);
  return response;
}

}  // namespace

void list_staff(ApiContext& api, const ContextPtr&, Reply reply) {
  auto all = api.staff.list_staff();
  if (!all) return reply(problem_from(all.error()));
  json::array items;
  for (const auto& s : *all) items.push_back(staff_json(s));
  reply(json_response(http::status::ok, json::object{{"items", std::move(items)}}));
}

void add_staff_member(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  auto made = new_staff_from_json(ctx->body);
  if (!made) return reply(problem_from(made.error()));
  auto added = api.staff.add_staff(made->staff);
  if (!added) return reply(problem_from(added.error()));
  if (made->password) {
    auto set = reset_staff_password(api, added->id, *made->password);
    if (!set) return reply(problem_from(set.error()));
  }
  reply(staff_created(*added, made->password));
}

void get_staff_member(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  auto found = api.staff.find_staff(ctx->param("id"));
  if (!found || found->id != ctx->param("id")) return reply(not_found("no staff member " + ctx->param("id")));
  reply(json_response(http::status::ok, staff_json(*found)));
}

void change_staff_member(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  auto changes = staff_changes_from_json(ctx->body);
  if (!changes) return reply(problem_from(changes.error()));
  update_staff_member(api, ctx->actor(), ctx->param("id"), std::move(*changes),
                      [reply](Result<StaffUpdate> updated) {
                        if (!updated) return reply(problem_from(updated.error()));
                        json::object out = staff_json(updated->staff);
                        if (!updated->handed_over.empty()) {
                          // Which case went where: to a colleague, back to its team's queue, or
                          // (from the queue's hand-over, once under investigation) to its team's lead.
                          json::array references, where;
                          for (const auto& h : updated->handed_over) {
                            references.emplace_back(h.reference);
                            json::object one{{"reference", h.reference}, {"team", h.team}};
                            if (h.owner_id.empty()) {
                              one["to"] = kTeamQueue;
                              one["owner"] = nullptr;
                            } else {
                              one["to"] = h.owner_id;
                              one["owner"] = json::object{{"id", h.owner_id}, {"name", h.owner_name}};
                            }
                            where.push_back(std::move(one));
                          }
                          out["handed_over"] = json::object{
                              {"to", updated->handed_to}, {"cases", std::move(references)}, {"where", std::move(where)}};
                        }
                        reply(json_response(http::status::ok, out));
                      });
}

void reset_password(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  const json::object& body = ctx->body;
  for (const auto& member : body)
    if (member.key() != "password")
      return reply(problem_from(Error::invalid_field(std::string(member.key()), "is not a known field")));
  std::string password;
  if (const json::value* p = body.if_contains("password")) {
    if (!p->is_string()) return reply(problem_from(Error::invalid_field("password", "must be a string")));
    password = std::string(p->get_string());
    if (password.empty()) return reply(problem_from(Error::invalid_field("password", "must not be empty")));
  }
  auto set = reset_staff_password(api, ctx->param("id"), password);
  if (!set) return reply(problem_from(set.error()));
  json::object out{{"id", ctx->param("id")}};
  if (password.empty()) out["password"] = *set;  // chosen here: shown once
  reply(json_response(http::status::ok, out));
}

void list_staff_tokens(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  auto found = api.staff.find_staff(ctx->param("id"));
  if (!found || found->id != ctx->param("id")) return reply(not_found("no staff member " + ctx->param("id")));
  auto tokens = api.staff.list_tokens(found->id);
  if (!tokens) return reply(problem_from(tokens.error()));
  json::array items;
  for (const auto& t : *tokens) items.push_back(token_json(t));
  reply(json_response(http::status::ok, json::object{{"items", std::move(items)}}));
}

void issue_staff_token(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  const json::object& body = ctx->body;
  for (const auto& member : body)
    if (member.key() != "label")
      return reply(problem_from(Error::invalid_field(std::string(member.key()), "is not a known field")));
  std::string label = "api";
  if (const json::value* l = body.if_contains("label")) {
    if (!l->is_string() || l->get_string().empty() || l->get_string().size() > 200)
      return reply(problem_from(Error::invalid_field("label", "must be a string of 1 to 200 characters")));
    label = std::string(l->get_string());
  }
  auto found = api.staff.find_staff(ctx->param("id"));
  if (!found || found->id != ctx->param("id")) return reply(not_found("no staff member " + ctx->param("id")));
  if (!found->active)
    return reply(problem_from(Error::conflict(found->name + " is not active: reactivate them before issuing a token")));
  std::string token = security::new_token("rdr_");
  std::string hash = security::token_hash(token);
  if (auto added = api.staff.add_token(found->id, hash, label); !added) return reply(problem_from(added.error()));
  TokenInfo info{"t-" + hash.substr(0, 16), found->id, label, api.engine.clock().now(), std::nullopt};
  json::object out = token_json(info);
  out["token"] = token;  // shown once; only its hash is stored
  reply(json_response(http::status::created, out));
}

void revoke_token(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  auto revoked = api.staff.revoke_token(ctx->param("id"));
  if (!revoked) return reply(problem_from(revoked.error()));
  if (api.on_staff_changed) api.on_staff_changed();
  reply(json_response(http::status::ok, token_json(*revoked)));
}

void list_teams(ApiContext& api, const ContextPtr&, Reply reply) {
  auto teams = teams_json(api);
  if (!teams) return reply(problem_from(teams.error()));
  reply(json_response(http::status::ok, json::object{{"items", std::move(*teams)}}));
}

}  // namespace redress::web
