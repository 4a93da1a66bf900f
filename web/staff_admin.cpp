#include "web/staff_admin.h"

#include <boost/json.hpp>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "adapters/security/secrets.h"

namespace redress::web {

namespace json = boost::json;

namespace {


bool plausible_email(const std::string& email) {
  auto at = email.find('@');
  return at != std::string::npos && at > 0 && at + 1 < email.size() && email.size() <= 254 &&
         email.find_first_of(" \t\r\n<>,;\"") == std::string::npos && email.find('@', at + 1) == std::string::npos;
}

// A string field: absent (nullopt), or its value; a wrong type or an over-long one is an error.
std::optional<std::string> string_field(const json::object& body, std::string_view key, std::size_t max,
                                        std::vector<FieldError>& errors) {
  const json::value* v = body.if_contains(key);
  if (!v) return std::nullopt;
  if (!v->is_string()) {
    errors.push_back(FieldError{std::string(key), "must be a string"});
    return std::nullopt;
  }
  std::string text(v->get_string());
  if (text.size() > max) {
    errors.push_back(FieldError{std::string(key), "must be at most " + std::to_string(max) + " bytes"});
    return std::nullopt;
  }
  if (text.find_first_of("\r\n") != std::string::npos && key != "handover_note") {
    errors.push_back(FieldError{std::string(key), "must be one line"});
    return std::nullopt;
  }
  return text;
}

std::string trimmed(std::string text) {
  text.erase(0, text.find_first_not_of(" \t"));
  text.erase(text.find_last_not_of(" \t") + 1);
  return text;
}

void check_name(const std::optional<std::string>& name, std::vector<FieldError>& errors) {
  if (name && trimmed(*name).empty()) errors.push_back(FieldError{"name", "must not be empty"});
}

void check_email(const std::optional<std::string>& email, std::vector<FieldError>& errors) {
  if (email && !plausible_email(*email)) errors.push_back(FieldError{"email", "must be an email address"});
}

std::optional<Role> role_field(const json::object& body, std::vector<FieldError>& errors) {
  const json::value* v = body.if_contains("role");
  if (!v) return std::nullopt;
  auto role = v->is_string() ? parse_Role(v->get_string()) : std::nullopt;
  if (!role) errors.push_back(FieldError{"role", "must be one of agent, lead, manager, admin, intake"});
  return role;
}

// One case of a leaver's and where it goes: to `to` by transfer, or back to its team's queue.
struct HandoverStep {
  std::string reference;
  std::string team;
  std::optional<Staff> to;  // empty: return_to_queue
};

// The deactivation in steps: hand over each open case, then write the member. Each step runs on an
// I/O thread (the engine's callbacks come on the store's thread, which must not wait for a write).
struct Handover : std::enable_shared_from_this<Handover> {
  ApiContext& api;
  Actor by;
  Staff updated;
  std::string handed_to;  // a colleague's id, or kTeamQueue
  std::string note;
  std::vector<HandoverStep> steps;
  std::size_t next = 0;
  std::vector<HandedOver> done_steps;
  std::function<void(Result<StaffUpdate>)> done;

  Handover(ApiContext& context, Actor actor, Staff member, std::function<void(Result<StaffUpdate>)> callback)
      : api(context), by(std::move(actor)), updated(std::move(member)), done(std::move(callback)) {}

  void step() {
    if (next == steps.size()) return finish();
    const HandoverStep& current = steps[next];
    ActionRequest request;
    request.type = current.to ? ActionType::kTransfer : ActionType::kReturnToQueue;
    request.reference = current.reference;
    request.actor = by;
    if (current.to) request.owner = current.to->id;
    request.note = note;
    auto self = shared_from_this();
    api.engine.submit(std::move(request), [self](Result<Committed> result) {
      self->api.defer([self, result = std::move(result)]() mutable {
        const HandoverStep& current = self->steps[self->next];
        const std::string where = current.to ? current.to->name : "the " + current.team + " team's queue";
        if (!result) {
          Error error = result.error();
          return self->done(Error::conflict(
              "the open cases of " + self->updated.name + " could not all be handed over: " + current.reference +
              " could not go to " + where + " (" + error.detail + "); " + std::to_string(self->done_steps.size()) +
              " were handed over before it and " + self->updated.name + " is still active"));
        }
        self->done_steps.push_back(HandedOver{current.reference, current.team, current.to ? current.to->id : "",
                                              current.to ? current.to->name : ""});
        ++self->next;
        self->step();
      });
    });
  }

  void finish() {
    auto stored = api.staff.update_staff(updated);
    if (!stored) return done(stored.error());
    if (api.on_staff_changed) api.on_staff_changed();
    done(StaffUpdate{*stored, done_steps, handed_to});
  }
};

// Every open case `owner_id` owns.
Result<std::vector<Case>> open_cases_of(ApiContext& api, const std::string& owner_id) {
  std::vector<Case> cases;
  CaseFilter filter;
  filter.owner_id = owner_id;
  filter.open_only = true;
  std::string cursor;
  do {
    auto page = api.reads.list_cases(filter, cursor, 200);
    if (!page) return page.error();
    for (auto& c : page->cases) cases.push_back(std::move(c));
    cursor = page->next_cursor;
  } while (!cursor.empty());
  return cases;
}

// Who takes a team's cases that can no longer wait unowned: an active lead of the team, else an
// active manager of it (the first by id), never the leaver.
std::optional<Staff> team_lead(const std::vector<Staff>& everyone, const std::string& team, const std::string& leaver) {
  for (Role wanted : {Role::kLead, Role::kManager})
    for (const auto& s : everyone)
      if (s.active && s.id != leaver && s.team == team && s.role == wanted) return s;
  return std::nullopt;
}

}  // namespace

Result<StaffChanges> staff_changes_from_json(const json::object& body) {
  std::vector<FieldError> errors;
  StaffChanges changes;
  static const std::set<std::string_view> known{"name",   "email",        "role",         "team",
                                                "active", "hand_over_to", "handover_note"};
  for (const auto& member : body)
    if (!known.count(member.key())) errors.push_back(FieldError{std::string(member.key()), "is not a known field"});
  changes.name = string_field(body, "name", 200, errors);
  changes.email = string_field(body, "email", 254, errors);
  changes.team = string_field(body, "team", 100, errors);
  changes.role = role_field(body, errors);
  if (const json::value* active = body.if_contains("active")) {
    if (!active->is_bool())
      errors.push_back(FieldError{"active", "must be true or false"});
    else
      changes.active = active->get_bool();
  }
  changes.hand_over_to = string_field(body, "hand_over_to", 254, errors).value_or("");
  changes.handover_note = string_field(body, "handover_note", 4000, errors).value_or("");
  check_name(changes.name, errors);
  check_email(changes.email, errors);
  if (!changes.hand_over_to.empty() && changes.active != false)
    errors.push_back(FieldError{"hand_over_to", "is only for a deactivation (\"active\": false)"});
  if (!errors.empty()) return Error::invalid("the change to the staff member is not valid", std::move(errors));
  if (changes.name) changes.name = trimmed(*changes.name);
  return changes;
}

Result<NewStaff> new_staff_from_json(const json::object& body) {
  std::vector<FieldError> errors;
  static const std::set<std::string_view> known{"name", "email", "role", "team", "password"};
  for (const auto& member : body)
    if (!known.count(member.key())) errors.push_back(FieldError{std::string(member.key()), "is not a known field"});
  NewStaff made;
  auto name = string_field(body, "name", 200, errors);
  auto email = string_field(body, "email", 254, errors);
  auto team = string_field(body, "team", 100, errors);
  auto role = role_field(body, errors);
  if (!name && !body.contains("name")) errors.push_back(FieldError{"name", "is required"});
  if (!email && !body.contains("email")) errors.push_back(FieldError{"email", "is required"});
  if (!role && !body.contains("role")) errors.push_back(FieldError{"role", "is required: agent, lead, manager, admin or intake"});
  check_name(name, errors);
  check_email(email, errors);
  if (const json::value* password = body.if_contains("password")) {
    if (!password->is_string()) {
      errors.push_back(FieldError{"password", "must be a string"});
    } else {
      std::string text(password->get_string());
      if (auto problem = password_problem(text); !problem.empty())
        errors.push_back(FieldError{"password", problem});
      else
        made.password = std::move(text);
    }
  }
  if (!errors.empty()) return Error::invalid("the staff member is not valid", std::move(errors));
  made.staff.name = trimmed(*name);
  made.staff.email = *email;
  made.staff.role = *role;
  made.staff.team = team.value_or("");
  made.staff.active = true;
  return made;
}

std::string password_problem(const std::string& password) {
  if (password.size() < 10) return "must be at least 10 characters";
  if (password.size() > 200) return "must be at most 200 characters";
  if (password.find_first_of("\r\n") != std::string::npos) return "must be one line";
  return {};
}

void update_staff_member(ApiContext& api, const Actor& by, const std::string& id, StaffChanges changes,
                         std::function<void(Result<StaffUpdate>)> done) {
  auto found = api.staff.find_staff(id);
  if (!found || found->id != id) return done(Error::not_found("no staff member " + id));
  Staff updated = *found;
  if (changes.name) updated.name = *changes.name;
  if (changes.email) updated.email = *changes.email;
  if (changes.role) updated.role = *changes.role;
  if (changes.team) updated.team = *changes.team;
  if (changes.active) updated.active = *changes.active;
  if (by.id == id && (!updated.active || updated.role != Role::kAdmin))
    return done(Error::forbidden("an administrator cannot deactivate or demote themselves; ask another admin"));
  const bool leaving = found->active && !updated.active;
  auto handover = std::make_shared<Handover>(api, by, updated, std::move(done));
  if (!leaving) return handover->finish();
  auto open = open_cases_of(api, id);
  if (!open) return handover->done(open.error());
  if (!open->empty()) {
    const std::size_t count = open->size();
    const std::string cases = std::to_string(count) + " open case" + (count == 1 ? "" : "s");
    if (changes.hand_over_to.empty())
      return handover->done(Error::invalid_field(
          "hand_over_to", "is required: " + found->name + " owns " + cases + "; name the colleague who takes them over, "
                          "or \"" + kTeamQueue + "\" to give them back to their teams' queues"));
    if (changes.hand_over_to == kTeamQueue) {
      auto everyone = api.staff.list_staff();
      if (!everyone) return handover->done(everyone.error());
      std::string leaderless;
      for (const auto& c : *open) {
        HandoverStep step{c.reference, c.team, std::nullopt};
        if (step.team.empty())
          if (const Workflow* workflow = api.engine.workflows().find(c.workflow)) step.team = workflow->team;
        // Only a case that may still wait unowned goes back to the queue; the others to the team's lead.
        if (c.status != CaseStatus::kReceived && c.status != CaseStatus::kAcknowledged) {
          step.to = team_lead(*everyone, step.team, id);
          if (!step.to) {
            leaderless += (leaderless.empty() ? "" : ", ") + c.reference + " (" + std::string(to_string(c.status)) +
                          ", team " + (step.team.empty() ? "none" : step.team) + ")";
            continue;
          }
        }
        handover->steps.push_back(std::move(step));
      }
      if (!leaderless.empty())
        return handover->done(Error::invalid_field(
            "hand_over_to", "the team queue cannot take every case of " + found->name + ": " + leaderless +
                                " can no longer wait unowned and no active lead or manager of its team can take it; "
                                "name a colleague instead"));
      handover->handed_to = kTeamQueue;
      handover->note = trimmed(changes.handover_note).empty()
                           ? found->name + " has left; the case goes back to the team."
                           : changes.handover_note;
    } else {
      auto colleague = api.staff.find_staff(changes.hand_over_to);
      if (!colleague)
        return handover->done(Error::invalid_field("hand_over_to", "no staff member " + changes.hand_over_to));
      if (colleague->id == id || !colleague->active || !role_at_least(colleague->role, Role::kAgent))
        return handover->done(Error::invalid_field(
            "hand_over_to", colleague->name + " cannot take the cases over: name an active colleague (agent or above)"));
      for (const auto& c : *open) handover->steps.push_back(HandoverStep{c.reference, c.team, *colleague});
      handover->handed_to = colleague->id;
      handover->note = trimmed(changes.handover_note).empty()
                           ? found->name + " has left; " + colleague->name + " takes this case over."
                           : changes.handover_note;
    }
  }
  handover->step();
}

Result<std::string> reset_staff_password(ApiContext& api, const std::string& id, const std::string& password) {
  auto found = api.staff.find_staff(id);
  if (!found || found->id != id) return Error::not_found("no staff member " + id);
  std::string chosen = password.empty() ? security::new_token("").substr(0, 20) : password;
  if (auto problem = password_problem(chosen); !problem.empty()) return Error::invalid_field("password", problem);
  auto hash = security::hash_password(chosen);
  if (!hash) return hash.error();
  if (auto set = api.staff.set_password_hash(id, *hash); !set) return set.error();
  return chosen;
}

json::object staff_json(const Staff& staff) {
  return json::object{{"id", staff.id},     {"name", staff.name},     {"email", staff.email},
                      {"role", to_string(staff.role)}, {"team", staff.team}, {"active", staff.active}};
}

json::object token_json(const TokenInfo& token) {
  json::object o{{"id", token.id},
                 {"staff_id", token.staff_id},
                 {"label", token.label},
                 {"created_at", format_time(token.created_at)},
                 {"active", !token.revoked_at.has_value()}};
  o["revoked_at"] = token.revoked_at ? json::value(format_time(*token.revoked_at)) : json::value(nullptr);
  return o;
}

Result<json::array> teams_json(ApiContext& api) {
  auto all = api.staff.list_staff();
  if (!all) return all.error();
  std::map<std::string, std::pair<json::array, json::array>> teams;  // members, leads
  std::map<std::string, std::vector<std::string>> workflows;
  for (const auto& w : api.engine.workflows().all()) workflows[w.team].push_back(w.name);
  for (const auto& [team, names] : workflows) teams[team];
  for (const auto& s : *all) {
    if (s.team.empty() || s.role == Role::kIntake) continue;
    json::object member{{"id", s.id}, {"name", s.name}, {"role", to_string(s.role)}, {"active", s.active}};
    auto& [members, leads] = teams[s.team];
    if (s.active && role_at_least(s.role, Role::kLead)) leads.push_back(member);
    members.push_back(std::move(member));
  }
  json::array out;
  for (auto& [team, lists] : teams) {
    json::array queues;
    for (const auto& name : workflows[team]) queues.emplace_back(name);
    out.push_back(json::object{{"team", team},
                               {"workflows", std::move(queues)},
                               {"members", std::move(lists.first)},
                               {"leads", std::move(lists.second)}});
  }
  return out;
}

}  // namespace redress::web
