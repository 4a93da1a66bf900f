// The v1 API's saved views (issue 27): the case-list filters staff save under a name, as the
// console's case list does (web/pages/case_list.cpp), in the same store (ports/saved_views.h),
// each filter checked by the same strict parser (web/pages/case_filter.h) before it is saved.
// Each person lists their own views and those shared with their team; only a view's owner
// deletes it. See web/api_internal.h.
#include <boost/json.hpp>

#include <charconv>
#include <optional>
#include <string_view>
#include <set>

#include "engine/time.h"
#include "web/api_internal.h"
#include "web/pages/case_filter.h"

namespace redress::web {

namespace json = boost::json;

namespace saved_views_api {

// A view's name: one line of at most this many characters, as the console allows.
constexpr std::size_t kMaxViewName = 80;

Response views_unavailable() {
  return problem_from(Error::unavailable("saved views are not available on this server"));
}

std::string view_display_id(std::int64_t id) { return "v-" + std::to_string(id); }

// "v-12" or "12"; nullopt for anything else.
std::optional<std::int64_t> parse_view_id(std::string_view text) {
  if (text.rfind("v-", 0) == 0) text.remove_prefix(2);
  std::int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || id <= 0) return std::nullopt;
  return id;
}

json::object view_json(const SavedView& view, const std::string& caller) {
  return json::object{{"id", view_display_id(view.id)},
                      {"name", view.name},
                      {"filter", view.filter},
                      {"team", view.team.empty() ? json::value(nullptr) : json::value(view.team)},
                      {"owner", view.staff_id},
                      {"created_at", format_time(view.created_at)},
                      {"mine", view.staff_id == caller},
                      {"console_url", "/staff/cases" + (view.filter.empty() ? std::string() : "?" + view.filter)}};
}

std::string trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return std::string(text);
}

// The view a POST body asks for, owned by `who`; kInvalid naming every field that is not valid.
Result<SavedView> view_from_json(ApiContext& api, const json::object& body, const Staff& who) {
  std::vector<FieldError> errors;
  static const std::set<std::string_view> known{"name", "filter", "share_with_team"};
  for (const auto& member : body)
    if (!known.contains(member.key())) errors.push_back(FieldError{std::string(member.key()), "is not a known field"});
  SavedView view;
  view.staff_id = who.id;
  const json::value* name = body.if_contains("name");
  if (!name) {
    errors.push_back(FieldError{"name", "is required: what the view is called in the case list"});
  } else if (!name->is_string()) {
    errors.push_back(FieldError{"name", "must be a string"});
  } else {
    view.name = trimmed(name->get_string());
    if (view.name.empty() || view.name.size() > kMaxViewName)
      errors.push_back(FieldError{"name", "must be 1 to " + std::to_string(kMaxViewName) + " characters"});
    else if (view.name.find_first_of("\r\n") != std::string::npos)
      errors.push_back(FieldError{"name", "must be one line"});
  }
  const json::value* filter = body.if_contains("filter");
  if (!filter) {
    errors.push_back(FieldError{"filter", "is required: the case list's query string, like "
                                          "\"status=investigating&tag=vip\" (\"\" for every case)"});
  } else if (!filter->is_string()) {
    errors.push_back(FieldError{"filter", "must be a string: the case list's query string"});
  } else {
    auto checked = checked_view_filter(api.engine.workflows(), filter->get_string(), who.id);
    if (checked)
      view.filter = std::move(checked).value();
    else
      for (const auto& f : checked.error().fields) errors.push_back(f);
  }
  if (const json::value* share = body.if_contains("share_with_team")) {
    if (!share->is_bool())
      errors.push_back(FieldError{"share_with_team", "must be true or false"});
    else if (share->get_bool() && who.team.empty())
      errors.push_back(FieldError{"share_with_team", "you are in no team to share it with"});
    else if (share->get_bool())
      view.team = who.team;
  }
  if (!errors.empty()) return Error::invalid("the view is not valid", std::move(errors));
  return view;
}

}  // namespace saved_views_api

void list_saved_views(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  using namespace saved_views_api;
  if (!api.saved_views) return reply(views_unavailable());
  const Staff& who = *ctx->staff;
  auto views = api.saved_views->list_views(who.id, who.team);
  if (!views) return reply(problem_from(views.error()));
  json::array items;
  for (const auto& v : *views) items.push_back(view_json(v, who.id));
  reply(json_response(http::status::ok, json::object{{"items", std::move(items)}}));
}

void add_saved_view(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  using namespace saved_views_api;
  if (!api.saved_views) return reply(views_unavailable());
  const Staff& who = *ctx->staff;
  auto view = view_from_json(api, ctx->body, who);
  if (!view) return reply(problem_from(view.error()));
  auto saved = api.saved_views->save_view(*view);
  if (!saved) return reply(problem_from(saved.error()));
  Response response = json_response(http::status::created, view_json(*saved, who.id));
  response.set(http::field::location, "/v1/views/" + view_display_id(saved->id));
  reply(std::move(response));
}

void delete_saved_view(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  using namespace saved_views_api;
  if (!api.saved_views) return reply(views_unavailable());
  // Another person's view, shared or not, is answered as one that does not exist.
  auto id = parse_view_id(ctx->param("id"));
  if (!id) return reply(not_found("no saved view " + ctx->param("id") + " of yours"));
  if (auto s = api.saved_views->delete_view(*id, ctx->staff->id); !s) return reply(problem_from(s.error()));
  reply(Response{http::status::no_content, 11});
}

}  // namespace redress::web
