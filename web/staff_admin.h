// Staff administration, shared by the API (web/api_staff.cpp) and the console's staff pages
// (web/pages/staff_admin_pages.cpp): reading a change from JSON or a form, adding a member,
// changing one, and deactivating a leaver, whose open cases are first handed over - to a named
// colleague (one `transfer` per case), or back to each case's team queue where the lifecycle
// allows (`return_to_queue` while received or acknowledged; a case further on goes to its team's
// lead) - with the handover note, through the engine like any other action, before their tokens
// are revoked and their sessions ended (docs/desk.md).
//
// Thread-safe as the API is: any I/O thread; `update_staff_member` answers on an I/O thread.
#pragma once

#include <boost/json/object.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "engine/result.h"
#include "web/api.h"

namespace redress::web {

// What a change to a staff member sets; an unset field stays as it is.
struct StaffChanges {
  std::optional<std::string> name;
  std::optional<std::string> email;
  std::optional<Role> role;
  std::optional<std::string> team;
  std::optional<bool> active;
  // For a deactivation: who takes the leaver's open cases (a staff id or email, or kTeamQueue),
  // and the note each hand-over carries.
  std::string hand_over_to;
  std::string handover_note;
};

// `hand_over_to` that sends a leaver's cases back to their teams' queues rather than to one colleague.
inline constexpr const char* kTeamQueue = "team_queue";

// A PATCH body: {"name", "email", "role", "team", "active", "hand_over_to", "handover_note"}, every
// unknown, mistyped or invalid field named.
[[nodiscard]] Result<StaffChanges> staff_changes_from_json(const boost::json::object& body);
// A POST body: {"name", "email", "role", "team"?, "password"?}; every field checked.
struct NewStaff {
  Staff staff;
  std::optional<std::string> password;
};
[[nodiscard]] Result<NewStaff> new_staff_from_json(const boost::json::object& body);

// A password an administrator sets: 10 to 200 characters. Empty when it is acceptable.
[[nodiscard]] std::string password_problem(const std::string& password);

// Where one of a leaver's cases went.
struct HandedOver {
  std::string reference;
  std::string team;        // the case's team
  std::string owner_id;    // the new owner; empty: back in the team's queue, unowned
  std::string owner_name;
};

// What a change did: the member as stored now, and the cases handed over, in the order handed.
struct StaffUpdate {
  Staff staff;
  std::vector<HandedOver> handed_over;
  std::string handed_to;  // the colleague's id, or kTeamQueue
};

// Changes staff member `id` as `by`. A deactivation of someone who owns open cases needs
// `hand_over_to`: an active agent or above (not the leaver), to whom each case is transferred; or
// kTeamQueue, and then each case still received or acknowledged goes back to its team's queue and
// each one further on to an active lead of its team (else a manager of it): the answer says which
// went where. A case whose team has neither is refused before anything changes (kInvalid naming
// hand_over_to). A refused hand-over stops the deactivation (kConflict naming the case and why;
// the hand-overs made before it stay). An admin cannot deactivate or demote themselves. Calls
// `api.on_staff_changed` after a change. `done` runs on an I/O thread.
void update_staff_member(ApiContext& api, const Actor& by, const std::string& id, StaffChanges changes,
                         std::function<void(Result<StaffUpdate>)> done);

// Sets a new password for `id`: `password`, or a new random one when empty. Returns the password
// set (shown once). argon2id: tens of milliseconds of CPU on the caller's thread.
[[nodiscard]] Result<std::string> reset_staff_password(ApiContext& api, const std::string& id,
                                                       const std::string& password);

[[nodiscard]] boost::json::object staff_json(const Staff& staff);
[[nodiscard]] boost::json::object token_json(const TokenInfo& token);
// The teams: every team a staff member or a workflow names, with its members and leads (leads and
// managers of the team), in name order.
[[nodiscard]] Result<boost::json::array> teams_json(ApiContext& api);

}  // namespace redress::web
