// The console's case list (issue 27): every case, filtered by status, owner, team, workflow,
// escalation level, overdue, tags and when it was received (and optionally words, as the search
// finds them); the filters a person saves under a name (their own, or shared with their team);
// and a bulk bar that applies one action (assign, transfer, tag, untag, escalate) to the cases
// ticked, answered per case through web/bulk.h.
//
// The filter is the page's query string, read by one strict parser (a bad value is a 400 naming
// it); a saved view stores that query string, checked by the same parser before it is saved.
#include <boost/json.hpp>

#include <algorithm>
#include <map>
#include <functional>
#include <set>

#include "engine/tags.h"
#include "web/api_internal.h"
#include "web/bulk.h"
#include "web/pages/case_filter.h"
#include "web/pages/staff_session.h"
#include "web/reports.h"
#include "web/views.h"

namespace redress::web {

namespace json = boost::json;

namespace case_list_detail {

const std::vector<Role> kListRoles{Role::kAgent, Role::kLead, Role::kManager, Role::kAdmin};

// The filter is read by the one strict parser the API's saved views use too (web/pages/case_filter.h).
using Lookup = FilterLookup;
using ListFilter = CaseListFilter;

Result<ListFilter> read_filter(PagesContext& pages, const Lookup& value, const SignedIn& who) {
  return read_case_list_filter(pages.api.engine.workflows(), value, who.staff.id);
}

std::string canonical_query(const ListFilter& filter) { return canonical_filter_query(filter); }

std::map<std::string, std::string> parse_query(std::string_view text) { return parse_filter_query(text); }

json::array options(const std::vector<std::pair<std::string, std::string>>& values, const std::string& selected) {
  json::array out;
  for (const auto& [value, label] : values)
    out.push_back(json::object{{"value", value}, {"label", label}, {"selected", value == selected}});
  return out;
}

// The page's values: the filter form, the saved views, the cases found and the bulk bar. A filter
// that does not parse shows the form with the error and no cases.
json::object list_data(PagesContext& pages, const ListFilter* filter, const Lookup& value, const SignedIn& who,
                       const std::string& cursor, std::optional<Error>& failed) {
  ApiContext& api = pages.api;
  auto staff = staff_by_id(api.staff);
  json::object data{{"title", "Cases"}, {"staff", staff_nav(who, "cases")}};
  auto given = [&](const char* name) { return value(name).value_or(""); };
  data["q"] = given("q");
  data["tag"] = given("tag");
  data["from"] = given("from");
  data["to"] = given("to");
  data["overdue"] = given("overdue") == "true" || given("overdue") == "on";
  std::vector<std::pair<std::string, std::string>> statuses{{"", "any"}};
  for (auto name : all_names_CaseStatus()) statuses.emplace_back(std::string(name), std::string(name));
  data["statuses"] = options(statuses, given("status"));
  std::vector<std::pair<std::string, std::string>> owners{{"", "anyone"}, {"me", "me"}, {"none", "nobody (unowned)"}};
  std::set<std::string> teams;
  std::vector<std::pair<std::string, std::string>> assignees;
  for (const auto& [id, person] : staff) {
    if (!person.team.empty()) teams.insert(person.team);
    if (!person.active || person.role == Role::kIntake) continue;
    owners.emplace_back(id, person.name);
    assignees.emplace_back(id, person.name + " (" + std::string(to_string(person.role)) + ")");
  }
  data["owners"] = options(owners, given("owner"));
  data["assignees"] = options(assignees, "");
  std::vector<std::pair<std::string, std::string>> workflows{{"", "any"}};
  for (const auto& w : api.engine.workflows().all()) {
    workflows.emplace_back(w.name, w.title);
    if (!w.team.empty()) teams.insert(w.team);
  }
  data["workflows"] = options(workflows, given("workflow"));
  std::vector<std::pair<std::string, std::string>> team_options{{"", "any"}};
  for (const auto& t : teams) team_options.emplace_back(t, t);
  data["teams"] = options(team_options, given("team"));
  std::vector<std::pair<std::string, std::string>> levels{{"", "any"}};
  for (int level = 0; level <= 3; ++level) levels.emplace_back(std::to_string(level), std::to_string(level));
  data["levels"] = options(levels, given("level"));
  json::array actions;
  for (ActionType type : bulk_actions()) actions.push_back(json::object{{"value", to_string(type)}});
  data["bulk_actions"] = std::move(actions);

  // The views: the person's own (deletable) and their team's shared ones.
  auto views = api.saved_views ? api.saved_views->list_views(who.staff.id, who.staff.team)
                               : Result<std::vector<SavedView>>(std::vector<SavedView>{});
  json::array view_rows;
  if (views)
    for (const auto& v : *views)
      view_rows.push_back(json::object{{"id", v.id},
                                       {"name", v.name},
                                       {"url", "/staff/cases" + (v.filter.empty() ? std::string() : "?" + v.filter)},
                                       {"own", v.staff_id == who.staff.id},
                                       {"shared", !v.team.empty()},
                                       {"team", v.team},
                                       {"by", staff.contains(v.staff_id) ? staff.at(v.staff_id).name : v.staff_id}});
  data["has_views"] = !view_rows.empty();
  data["views"] = std::move(view_rows);
  data["can_share"] = !who.staff.team.empty();
  data["my_team"] = who.staff.team;

  if (!filter) return data;
  const std::string query = canonical_query(*filter);
  data["filter_query"] = query;
  data["filtered"] = !query.empty();
  auto page = filter->q.empty() ? api.reads.list_cases(filter->filter, cursor, 100)
                                : api.search.search_cases(filter->q, filter->filter, cursor, 100);
  if (!page) {
    failed = page.error();
    return data;
  }
  json::array rows;
  for (const auto& c : page->cases) {
    json::object row{{"reference", c.reference},
                     {"subject", c.subject},
                     {"client", c.client.name},
                     {"status", to_string(c.status)},
                     {"team", c.team},
                     {"level", c.escalation_level},
                     {"received", short_time(pages, c.workflow, c.received_at)},
                     {"url", "/staff/cases/" + c.reference},
                     {"tags", string_array(c.tags)}};
    if (!c.merged_into.empty()) row["merged_into"] = c.merged_into;
    if (!c.owner_id.empty())
      row["owner"] = staff.contains(c.owner_id) ? staff.at(c.owner_id).name : c.owner_id;
    rows.push_back(std::move(row));
  }
  data["has_rows"] = !rows.empty();
  data["count"] = rows.size();
  data["rows"] = std::move(rows);
  if (!page->next_cursor.empty())
    data["next_url"] = "/staff/cases?" + query + (query.empty() ? "" : "&") + "cursor=" + form_encode(page->next_cursor);
  return data;
}

void show_list(PagesContext& pages, const ContextPtr& ctx, Reply reply, const SignedIn& who) {
  Lookup value = [&ctx](const std::string& name) { return ctx->query_value(name); };
  auto filter = read_filter(pages, value, who);
  std::optional<Error> failed;
  json::object data = list_data(pages, filter ? &*filter : nullptr, value, who,
                                ctx->query_value("cursor").value_or(""), failed);
  if (auto done = ctx->query_value("done")) data["notice"] = *done;
  if (!filter) failed = filter.error();
  if (failed) {
    put_error(data, *failed);
    return reply(render_page(pages, http::status::bad_request, "cases", std::move(data)));
  }
  reply(render_page(pages, http::status::ok, "cases", std::move(data)));
}

// The list again after a form, with the filter `back` names, an error or the bulk answer.
Response list_again(PagesContext& pages, const SignedIn& who, const std::string& back, http::status status,
                    const std::optional<Error>& error, json::object extra = {}) {
  auto params = parse_query(back);
  Lookup value = [params](const std::string& name) -> std::optional<std::string> {
    auto it = params.find(name);
    if (it == params.end()) return std::nullopt;
    return it->second;
  };
  auto filter = read_filter(pages, value, who);
  std::optional<Error> failed;
  json::object data = list_data(pages, filter ? &*filter : nullptr, value, who, "", failed);
  for (auto& [key, v] : extra) data[key] = v;
  if (error) put_error(data, *error);
  return render_page(pages, status, "cases", std::move(data));
}

// The bulk bar: one action on the cases ticked, each answered (done, or refused with the reason).
void bulk(PagesContext& pages, const ContextPtr&, Reply reply, const SignedIn& who, const Form& form) {
  const std::string back = form.get("back");
  json::array cases;
  for (auto [it, end] = form.fields().equal_range("cases"); it != end; ++it) cases.emplace_back(it->second);
  const std::string action = form.get("action");
  json::object arguments;
  if (action == "assign" || action == "transfer") {
    if (!form.get("owner").empty()) arguments["owner"] = form.get("owner");
    if (!form.get("note").empty()) arguments["note"] = form.get("note");
  } else if (action == "tag" || action == "untag") {
    std::string text = form.get("tags");
    std::replace(text.begin(), text.end(), ',', ' ');
    json::array tags;
    for (const auto& word : split_words(text)) tags.emplace_back(word);
    arguments["tags"] = std::move(tags);
  } else if (action == "escalate") {
    if (!form.get("note").empty()) arguments["reason"] = form.get("note");
  }
  if (cases.empty())
    return reply(list_again(pages, who, back, http::status::unprocessable_entity,
                            Error::invalid_field("cases", "tick at least one case")));
  auto request = decode_bulk(json::object{{"action", action}, {"cases", std::move(cases)}, {"arguments", arguments}});
  if (!request) {
    // The form's own names: the reason or note is one field, the owner and tags theirs.
    Error error = request.error();
    for (auto& f : error.fields) {
      if (f.field == "arguments.reason") f.field = "note";
      if (f.field.rfind("arguments.", 0) == 0) f.field = f.field.substr(10);
    }
    return reply(list_again(pages, who, back, http::status::unprocessable_entity, error));
  }
  ApiContext& api = pages.api;
  run_bulk(api.engine, std::move(request).value(), Actor::staff(who.staff.id, who.staff.role),
           [&pages, &api, who, back, action, reply = std::move(reply)](std::vector<BulkOutcome> outcomes) mutable {
             api.defer([&pages, who, back, action, reply = std::move(reply), outcomes = std::move(outcomes)]() mutable {
               json::array refused;
               std::size_t done = 0;
               for (const auto& o : outcomes) {
                 if (!o.refusal) {
                   ++done;
                   continue;
                 }
                 refused.push_back(json::object{{"reference", o.reference},
                                                {"url", "/staff/cases/" + o.reference},
                                                {"reason", o.refusal->detail}});
               }
               json::object extra{{"bulk_done", true},
                                  {"bulk_refused", refused},
                                  {"has_bulk_refused", !refused.empty()},
                                  {"notice", action + ": done on " + std::to_string(done) + " of " +
                                                 std::to_string(outcomes.size()) + " cases" +
                                                 (refused.empty() ? "." : "; " + std::to_string(refused.size()) +
                                                                              " refused (below, with the reasons).")}};
               reply(list_again(pages, who, back, http::status::ok, std::nullopt, std::move(extra)));
             });
           });
}

// Saves the filter (a query string, checked by the list's parser) under a name.
void save_view(PagesContext& pages, const ContextPtr&, Reply reply, const SignedIn& who, const Form& form) {
  const std::string back = form.get("filter");
  std::string name = form.get("name");
  while (!name.empty() && name.back() == ' ') name.pop_back();
  while (!name.empty() && name.front() == ' ') name.erase(name.begin());
  auto params = parse_query(back);
  Lookup value = [&params](const std::string& n) -> std::optional<std::string> {
    auto it = params.find(n);
    if (it == params.end()) return std::nullopt;
    return it->second;
  };
  auto filter = read_filter(pages, value, who);
  if (!filter) return reply(list_again(pages, who, back, http::status::unprocessable_entity, filter.error()));
  if (name.empty() || name.size() > 80)
    return reply(list_again(pages, who, back, http::status::unprocessable_entity,
                            Error::invalid_field("name", "give the view a name of 1 to 80 characters")));
  if (!pages.api.saved_views)
    return reply(list_again(pages, who, back, http::status::service_unavailable,
                            Error::unavailable("saved views are not available on this server")));
  SavedView view;
  view.staff_id = who.staff.id;
  view.name = name;
  view.team = form.get("share") == "team" ? who.staff.team : std::string();
  view.filter = canonical_query(*filter);
  auto saved = pages.api.saved_views->save_view(view);
  if (!saved) return reply(list_again(pages, who, back, page_status(saved.error()), saved.error()));
  reply(see_other("/staff/cases" + (view.filter.empty() ? std::string("?") : "?" + view.filter + "&") +
                  "done=" + form_encode("view \"" + name + "\" saved")));
}

void delete_view(PagesContext& pages, const ContextPtr& ctx, Reply reply, const SignedIn& who, const Form&) {
  const std::string& id = ctx->param("id");
  std::int64_t number = 0;
  if (id.empty() || id.size() > 18 || id.find_first_not_of("0123456789") != std::string::npos)
    return reply(list_again(pages, who, "", http::status::not_found, Error::not_found("no such saved view")));
  number = std::stoll(id);
  if (!pages.api.saved_views)
    return reply(list_again(pages, who, "", http::status::service_unavailable,
                            Error::unavailable("saved views are not available on this server")));
  if (Status s = pages.api.saved_views->delete_view(number, who.staff.id); !s)
    return reply(list_again(pages, who, "", page_status(s.error()), s.error()));
  reply(see_other("/staff/cases?done=" + form_encode("view deleted")));
}

}  // namespace case_list_detail

void register_case_list_pages(Router& router, PagesContext& pages) {
  using namespace case_list_detail;
  add_staff_page(router, pages, "/staff/cases", kListRoles, [&pages](const ContextPtr& ctx, Reply reply, const SignedIn& who) {
    show_list(pages, ctx, std::move(reply), who);
  });
  add_staff_form(router, pages, "/staff/cases/bulk", kListRoles,
                 [&pages](const ContextPtr& ctx, Reply reply, const SignedIn& who, const Form& form) {
                   bulk(pages, ctx, std::move(reply), who, form);
                 });
  add_staff_form(router, pages, "/staff/views", kListRoles,
                 [&pages](const ContextPtr& ctx, Reply reply, const SignedIn& who, const Form& form) {
                   save_view(pages, ctx, std::move(reply), who, form);
                 });
  add_staff_form(router, pages, "/staff/views/{id}/delete", kListRoles,
                 [&pages](const ContextPtr& ctx, Reply reply, const SignedIn& who, const Form& form) {
                   delete_view(pages, ctx, std::move(reply), who, form);
                 });
}

}  // namespace redress::web
