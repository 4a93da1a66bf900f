// The console's staff administration (admins): /staff/admin/staff lists everyone and the teams and
// adds a person; /staff/admin/staff/{id} changes their details, resets their password, lists,
// issues and revokes their API tokens, and deactivates a leaver (their open cases handed over to
// a named colleague first) or reactivates them. The rules are web/staff_admin.h's, as the API's.
// A refused form is shown again with what was typed and the reason at each field.
#include <boost/json.hpp>

#include <algorithm>

#include "adapters/security/secrets.h"
#include "web/pages/staff_session.h"
#include "web/staff_admin.h"

namespace redress::web {

namespace json = boost::json;

namespace {

const std::vector<Role> kAdmins{Role::kAdmin};

json::array role_options(Role selected) {
  json::array roles;
  for (Role r : {Role::kAgent, Role::kLead, Role::kManager, Role::kAdmin, Role::kIntake})
    roles.push_back(json::object{{"value", to_string(r)},
                                 {"label", r == Role::kIntake ? std::string("intake (API only)") : std::string(to_string(r))},
                                 {"selected", r == selected}});
  return roles;
}

// {"field": "message"} for the template's errors.
json::object field_errors(const Error& error) {
  json::object errors;
  for (const auto& f : error.fields) errors[f.field] = f.message;
  return errors;
}

Response list_page(PagesContext& pages, const SignedIn& who, http::status status, json::object draft,
                   const Error* error, const std::string& notice = {}) {
  ApiContext& api = pages.api;
  json::object data{{"title", "Staff"}, {"staff", staff_nav(who, "admin")}};
  auto all = api.staff.list_staff();
  if (!all) return message_page(pages, page_status(all.error()), "Staff", all.error().detail);
  json::array people;
  for (const auto& s : *all) people.push_back(staff_json(s));
  data["people"] = std::move(people);
  auto teams = teams_json(api);
  if (!teams) return message_page(pages, page_status(teams.error()), "Staff", teams.error().detail);
  for (auto& t : *teams) {
    auto& team = t.as_object();
    team["has_workflows"] = !team["workflows"].as_array().empty();
  }
  data["teams"] = std::move(*teams);
  Role role = Role::kAgent;
  if (auto* r = draft.if_contains("role"); r && r->is_string())
    if (auto parsed = parse_Role(r->get_string())) role = *parsed;
  data["roles"] = role_options(role);
  data["draft"] = std::move(draft);
  if (error) {
    put_error(data, *error);
    data["errors"] = field_errors(*error);
  }
  if (!notice.empty()) data["notice"] = notice;
  return render_page(pages, status, "staff_admin", std::move(data));
}

struct MemberExtras {
  std::string new_password;
  std::string new_token;
  std::string notice;
};

Response member_page(PagesContext& pages, const SignedIn& who, const std::string& id, http::status status,
                     json::object draft, const Error* error, const MemberExtras& extras = {}) {
  ApiContext& api = pages.api;
  auto person = api.staff.find_staff(id);
  if (!person || person->id != id)
    return message_page(pages, http::status::not_found, "No such person", "There is no staff member " + id + ".",
                        json::object{{"back_url", "/staff/admin/staff"}, {"back_label", "All staff"}});
  json::object data{{"title", person->name + " · Staff"}, {"staff", staff_nav(who, "admin")}};
  data["person"] = staff_json(*person);
  // The form starts from the stored values; a refused form shows what was typed.
  for (const char* key : {"name", "email", "team"})
    if (!draft.contains(key)) draft[key] = key == std::string("name") ? person->name : key == std::string("email") ? person->email : person->team;
  Role role = person->role;
  if (auto* r = draft.if_contains("role"); r && r->is_string())
    if (auto parsed = parse_Role(r->get_string())) role = *parsed;
  data["roles"] = role_options(role);
  // Open cases and the colleagues who could take them.
  std::int64_t open = 0;
  CaseFilter filter;
  filter.owner_id = person->id;
  filter.open_only = true;
  std::string cursor;
  do {
    auto page = api.reads.list_cases(filter, cursor, 200);
    if (!page) break;
    open += static_cast<std::int64_t>(page->cases.size());
    cursor = page->next_cursor;
  } while (!cursor.empty());
  data["open_cases"] = open;
  data["has_open_cases"] = open > 0;
  std::string chosen = draft.contains("hand_over_to") ? std::string(draft["hand_over_to"].as_string()) : "";
  json::array colleagues;
  if (auto all = api.staff.list_staff())
    for (const auto& s : *all)
      if (s.active && s.id != person->id && role_at_least(s.role, Role::kAgent))
        colleagues.push_back(json::object{{"id", s.id},
                                          {"name", s.name},
                                          {"role", to_string(s.role)},
                                          {"team", s.team.empty() ? "no team" : s.team},
                                          {"selected", s.id == chosen}});
  data["colleagues"] = std::move(colleagues);
  data["team_queue_chosen"] = chosen == kTeamQueue;
  json::array tokens;
  if (auto listed = api.staff.list_tokens(person->id))
    for (const auto& t : *listed) {
      json::object row = token_json(t);
      row["created"] = short_time(pages, "", t.created_at);
      if (t.revoked_at) row["revoked"] = short_time(pages, "", *t.revoked_at);
      row["csrf"] = who.session.csrf;
      row["person_id"] = person->id;
      tokens.push_back(std::move(row));
    }
  data["has_tokens"] = !tokens.empty();
  data["tokens"] = std::move(tokens);
  data["draft"] = std::move(draft);
  if (error) {
    put_error(data, *error);
    data["errors"] = field_errors(*error);
  }
  if (!extras.new_password.empty()) data["new_password"] = extras.new_password;
  if (!extras.new_token.empty()) data["new_token"] = extras.new_token;
  if (!extras.notice.empty()) data["notice"] = extras.notice;
  return render_page(pages, status, "staff_member", std::move(data));
}

json::object typed(const Form& form, std::initializer_list<const char*> keys) {
  json::object draft;
  for (const char* key : keys)
    if (form.has(key)) draft[key] = form.get(key);
  return draft;
}

void add_person(PagesContext& pages, Reply reply, const SignedIn& who, const Form& form) {
  ApiContext& api = pages.api;
  json::object draft = typed(form, {"name", "email", "role", "team"});
  json::object body = draft;
  if (!form.get("password").empty()) body["password"] = form.get("password");
  auto made = new_staff_from_json(body);
  if (!made) return reply(list_page(pages, who, page_status(made.error()), std::move(draft), &made.error()));
  auto added = api.staff.add_staff(made->staff);
  if (!added) {
    Error error = added.error();
    if (error.code == ErrorCode::kConflict) error.fields.push_back(FieldError{"email", error.detail});
    return reply(list_page(pages, who, page_status(error), std::move(draft), &error));
  }
  if (made->password)
    if (auto set = reset_staff_password(api, added->id, *made->password); !set)
      return reply(member_page(pages, who, added->id, page_status(set.error()), {}, &set.error()));
  reply(see_other("/staff/admin/staff/" + added->id + "?done=" + form_encode("added")));
}

// Which case went where, grouped by destination, in the order handed over: "CMP-2026-000001 and
// CMP-2026-000002 back to the billing team's queue; CMP-2026-000003 to Grace Adeyemi".
std::string handed_over_words(const std::vector<HandedOver>& handed) {
  std::vector<std::pair<std::string, std::vector<std::string>>> groups;
  for (const auto& h : handed) {
    std::string where = h.owner_id.empty() ? "back to the " + (h.team.empty() ? std::string("unowned") : h.team) +
                                                 " team's queue"
                                           : "to " + h.owner_name;
    auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == where; });
    if (it == groups.end()) it = groups.insert(groups.end(), {where, {}});
    it->second.push_back(h.reference);
  }
  std::string out;
  for (const auto& [where, references] : groups) {
    if (!out.empty()) out += "; ";
    for (std::size_t i = 0; i < references.size(); ++i)
      out += (i == 0 ? "" : i + 1 == references.size() ? " and " : ", ") + references[i];
    out += " " + where;
  }
  return out;
}

void change_person(PagesContext& pages, const ContextPtr& ctx, Reply reply, const SignedIn& who, const Form& form) {
  ApiContext& api = pages.api;
  const std::string id = ctx->param("id");
  const std::string op = form.get("op");
  Actor by = Actor::staff(who.staff.id, who.staff.role);
  auto refused = [&pages, who, id](json::object draft, const Error& error) {
    return member_page(pages, who, id, page_status(error), std::move(draft), &error);
  };
  if (op == "password") {
    auto set = reset_staff_password(api, id, "");
    if (!set) return reply(refused({}, set.error()));
    return reply(member_page(pages, who, id, http::status::ok, {}, nullptr, MemberExtras{*set, "", ""}));
  }
  if (op == "token") {
    auto person = api.staff.find_staff(id);
    if (!person || !person->active) return reply(refused({}, Error::conflict("only an active person gets a token")));
    std::string label = form.get("label").empty() ? "console" : form.get("label").substr(0, 200);
    std::string token = security::new_token("rdr_");
    if (auto added = api.staff.add_token(person->id, security::token_hash(token), label); !added)
      return reply(refused({}, added.error()));
    return reply(member_page(pages, who, id, http::status::ok, {}, nullptr, MemberExtras{"", token, ""}));
  }
  if (op == "revoke") {
    auto revoked = api.staff.revoke_token(form.get("token"));
    if (!revoked) return reply(refused({}, revoked.error()));
    if (api.on_staff_changed) api.on_staff_changed();
    return reply(see_other("/staff/admin/staff/" + id + "?done=" + form_encode("token revoked")));
  }
  StaffChanges changes;
  json::object draft;
  std::string done;
  if (op == "edit") {
    draft = typed(form, {"name", "email", "role", "team"});
    auto parsed = staff_changes_from_json(draft);
    if (!parsed) return reply(refused(std::move(draft), parsed.error()));
    changes = std::move(*parsed);
    done = "saved";
  } else if (op == "deactivate") {
    draft = typed(form, {"hand_over_to", "handover_note"});
    json::object body{{"active", false}};
    if (!form.get("hand_over_to").empty()) body["hand_over_to"] = form.get("hand_over_to");
    if (!form.get("handover_note").empty()) body["handover_note"] = form.get("handover_note");
    auto parsed = staff_changes_from_json(body);
    if (!parsed) return reply(refused(std::move(draft), parsed.error()));
    changes = std::move(*parsed);
    done = "deactivated";
  } else if (op == "reactivate") {
    changes.active = true;
    done = "reactivated";
  } else {
    return reply(refused({}, Error::invalid_field("op", "is not an operation of this page")));
  }
  update_staff_member(api, by, id, std::move(changes),
                      [&pages, who, id, draft = std::move(draft), done, reply](Result<StaffUpdate> updated) mutable {
                        if (!updated)
                          return reply(member_page(pages, who, id, page_status(updated.error()), std::move(draft),
                                                   &updated.error()));
                        std::string notice = done;
                        if (!updated->handed_over.empty())
                          notice += "; " + std::to_string(updated->handed_over.size()) + " open case" +
                                    (updated->handed_over.size() == 1 ? "" : "s") +
                                    " handed over: " + handed_over_words(updated->handed_over);
                        reply(see_other("/staff/admin/staff/" + id + "?done=" + form_encode(notice)));
                      });
}

}  // namespace

void register_staff_admin_pages(Router& router, PagesContext& pages) {
  add_staff_page(router, pages, "/staff/admin/staff", kAdmins,
                 [&pages](const ContextPtr& ctx, Reply reply, const SignedIn& who) {
                   reply(list_page(pages, who, http::status::ok, {}, nullptr, ctx->query_value("done").value_or("")));
                 });
  add_staff_form(router, pages, "/staff/admin/staff", kAdmins,
                 [&pages](const ContextPtr&, Reply reply, const SignedIn& who, const Form& form) {
                   add_person(pages, std::move(reply), who, form);
                 });
  add_staff_page(router, pages, "/staff/admin/staff/{id}", kAdmins,
                 [&pages](const ContextPtr& ctx, Reply reply, const SignedIn& who) {
                   MemberExtras extras;
                   if (auto done = ctx->query_value("done")) extras.notice = "Done: " + *done + ".";
                   reply(member_page(pages, who, ctx->param("id"), http::status::ok, {}, nullptr, extras));
                 });
  add_staff_form(router, pages, "/staff/admin/staff/{id}", kAdmins,
                 [&pages](const ContextPtr& ctx, Reply reply, const SignedIn& who, const Form& form) {
                   change_person(pages, ctx, std::move(reply), who, form);
                 });
}

}  // namespace redress::web
