// The console's canned replies (admins): /staff/admin/canned-replies lists them and adds one;
// /staff/admin/canned-replies/{id} changes or deletes one. The rules are web/canned_replies.h's,
// as the API's. A refused form is shown again with what was canned_typed and the reason at each field.
// Staff insert a reply from the case page's message form (web/pages/console.cpp).
#include <boost/json.hpp>

#include <optional>
#include <set>

#include "web/canned_replies.h"
#include "web/pages/staff_session.h"

namespace redress::web {

namespace json = boost::json;

namespace {

const std::vector<Role> kCannedAdmins{Role::kAdmin};

json::object canned_field_errors(const Error& error) {
  json::object errors;
  for (const auto& f : error.fields) errors[f.field] = f.message;
  return errors;
}

// The workflows and teams a reply may be for, with the chosen one selected ("" is every one).
json::array canned_workflow_choices(ApiContext& api, const std::string& chosen) {
  json::array out{json::object{{"value", ""}, {"label", "Every workflow"}, {"selected", chosen.empty()}}};
  for (const auto& w : api.engine.workflows().all())
    out.push_back(json::object{{"value", w.name}, {"label", w.title}, {"selected", w.name == chosen}});
  return out;
}

std::string canned_draft_text(const json::object& draft, std::string_view key) {
  const json::value* v = draft.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

json::object canned_reply_row(const CannedReply& r) {
  json::object row = canned_reply_json(r);
  row["for_workflow"] = r.workflow.empty() ? std::string("every workflow") : r.workflow;
  row["for_team"] = r.team.empty() ? std::string("every team") : r.team;
  return row;
}

json::object canned_form_values(const json::object& draft, json::object errors, ApiContext& api) {
  json::array teams;
  std::set<std::string> seen;
  for (const auto& w : api.engine.workflows().all())
    if (!w.team.empty() && seen.insert(w.team).second) teams.emplace_back(w.team);
  if (auto all = api.staff.list_staff())
    for (const auto& s : *all)
      if (!s.team.empty() && seen.insert(s.team).second) teams.emplace_back(s.team);
  return json::object{{"draft", draft},
                      {"errors", std::move(errors)},
                      {"workflows", canned_workflow_choices(api, canned_draft_text(draft, "workflow"))},
                      {"team_names", std::move(teams)},
                      {"placeholder_help",
                       "{{client.name}}, {{case.reference}}, {{case.subject}}, {{owner.name}}, {{team}}, "
                       "{{final_response_due}}, {{status_url}}, "
                       "{{#commitments_open}}{{text}} by {{due_local}}{{/commitments_open}}"},
                      {"variables", [] {
                         json::array names;
                         for (const auto& v : canned_reply_variables()) names.emplace_back(v);
                         return names;
                       }()}};
}

Response canned_list_page(PagesContext& pages, const SignedIn& who, http::status status, json::object draft,
                   const Error* error, const std::string& notice = {}) {
  ApiContext& api = pages.api;
  json::object data{{"title", "Canned replies"}, {"staff", staff_nav(who, "canned")}};
  auto all = api.canned_replies ? api.canned_replies->list_canned_replies()
                                : Result<std::vector<CannedReply>>(Error::unavailable("no canned replies here"));
  if (!all) return message_page(pages, page_status(all.error()), "Canned replies", all.error().detail);
  json::array rows;
  for (const auto& r : *all) rows.push_back(canned_reply_row(r));
  data["has_replies"] = !rows.empty();
  data["replies"] = std::move(rows);
  data["form"] = canned_form_values(draft, error ? canned_field_errors(*error) : json::object{}, api);
  if (error) put_error(data, *error);
  if (!notice.empty()) data["notice"] = notice;
  return render_page(pages, status, "canned_replies", std::move(data));
}

Response canned_reply_page(PagesContext& pages, const SignedIn& who, const std::string& id_text, http::status status,
                    std::optional<json::object> draft, const Error* error, const std::string& notice = {}) {
  ApiContext& api = pages.api;
  auto id = parse_canned_reply_id(id_text);
  auto found = id && api.canned_replies ? api.canned_replies->find_canned_reply(*id)
                                        : Result<CannedReply>(Error::not_found("no canned reply " + id_text));
  if (!found)
    return message_page(pages, http::status::not_found, "No such canned reply",
                        "There is no canned reply " + id_text + ".",
                        json::object{{"back_url", "/staff/admin/canned-replies"}, {"back_label", "Canned replies"}});
  json::object start{{"title", found->title}, {"body", found->body}, {"workflow", found->workflow},
                     {"team", found->team}};
  json::object data{{"title", found->title + " · Canned replies"}, {"staff", staff_nav(who, "canned")}};
  data["reply"] = canned_reply_row(*found);
  data["form"] = canned_form_values(draft ? *draft : start, error ? canned_field_errors(*error) : json::object{}, api);
  if (error) put_error(data, *error);
  if (!notice.empty()) data["notice"] = notice;
  return render_page(pages, status, "canned_reply", std::move(data));
}

json::object canned_typed(const Form& form) {
  json::object out;
  for (const char* key : {"title", "body", "workflow", "team"}) out[key] = form.get(key);
  return out;
}

}  // namespace

void register_canned_reply_pages(Router& router, PagesContext& pages) {
  add_staff_page(router, pages, "/staff/admin/canned-replies", kCannedAdmins,
                 [&pages](const ContextPtr& ctx, Reply reply, const SignedIn& who) {
                   std::string notice;
                   if (auto done = ctx->query_value("done")) notice = "Done: " + *done + ".";
                   reply(canned_list_page(pages, who, http::status::ok, {}, nullptr, notice));
                 });
  add_staff_form(router, pages, "/staff/admin/canned-replies", kCannedAdmins,
                 [&pages](const ContextPtr&, Reply reply, const SignedIn& who, const Form& form) {
                   ApiContext& api = pages.api;
                   json::object draft = canned_typed(form);
                   auto made = canned_reply_from_json(api, draft, nullptr);
                   if (!made) return reply(canned_list_page(pages, who, page_status(made.error()), draft, &made.error()));
                   made->created_by = who.staff.id;
                   auto added = api.canned_replies ? api.canned_replies->add_canned_reply(*made)
                                                   : Result<CannedReply>(Error::unavailable("no canned replies here"));
                   if (!added) return reply(canned_list_page(pages, who, page_status(added.error()), draft, &added.error()));
                   reply(see_other("/staff/admin/canned-replies?done=" +
                                   form_encode("added " + canned_reply_display_id(added->id))));
                 });
  add_staff_page(router, pages, "/staff/admin/canned-replies/{id}", kCannedAdmins,
                 [&pages](const ContextPtr& ctx, Reply reply, const SignedIn& who) {
                   std::string notice;
                   if (auto done = ctx->query_value("done")) notice = "Done: " + *done + ".";
                   reply(canned_reply_page(pages, who, ctx->param("id"), http::status::ok, std::nullopt, nullptr, notice));
                 });
  add_staff_form(
      router, pages, "/staff/admin/canned-replies/{id}", kCannedAdmins,
      [&pages](const ContextPtr& ctx, Reply reply, const SignedIn& who, const Form& form) {
        ApiContext& api = pages.api;
        const std::string id_text = ctx->param("id");
        auto id = parse_canned_reply_id(id_text);
        auto found = id && api.canned_replies ? api.canned_replies->find_canned_reply(*id)
                                              : Result<CannedReply>(Error::not_found("no canned reply " + id_text));
        if (!found) return reply(canned_reply_page(pages, who, id_text, http::status::not_found, std::nullopt, nullptr));
        if (form.get("op") == "delete") {
          if (auto s = api.canned_replies->delete_canned_reply(found->id); !s)
            return reply(canned_reply_page(pages, who, id_text, page_status(s.error()), std::nullopt, &s.error()));
          return reply(see_other("/staff/admin/canned-replies?done=" +
                                 form_encode("deleted " + canned_reply_display_id(found->id) + " (" + found->title +
                                             ")")));
        }
        json::object draft = canned_typed(form);
        auto changed = canned_reply_from_json(api, draft, &*found);
        if (!changed) return reply(canned_reply_page(pages, who, id_text, page_status(changed.error()), draft, &changed.error()));
        changed->updated_by = who.staff.id;
        auto stored = api.canned_replies->update_canned_reply(*changed);
        if (!stored) return reply(canned_reply_page(pages, who, id_text, page_status(stored.error()), draft, &stored.error()));
        reply(see_other("/staff/admin/canned-replies/" + canned_reply_display_id(found->id) + "?done=saved"));
      });
}

}  // namespace redress::web
