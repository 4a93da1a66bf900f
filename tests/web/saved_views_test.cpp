// The saved views' API (GET/POST /v1/views, DELETE /v1/views/{id}) through the real server over a
// real socket, on SQLite and on PostgreSQL: views listed, saved and deleted; one shared with a team,
// which a teammate lists but cannot delete; a filter the case list would refuse, a name used twice
// and bad bodies answered with problem+json naming the field, with nothing saved or lost.
#include "tests/web/support.h"
#include "support/postgres.h"

namespace redress::webtest::saved_views {

// A new staff member over the API with a token; returns {id, token}.
std::pair<std::string, std::string> hire_for_views(Client& admin, const std::string& name, const std::string& role,
                                                   const std::string& team) {
  json::object body{{"name", name}, {"email", lower(name) + "@views.example"}, {"role", role}};
  if (!team.empty()) body["team"] = team;
  auto added = admin.post("/v1/staff", json::value(body));
  INFO(added.describe());
  REQUIRE(added.status == 201);
  const std::string id = string_at(added.json(), "id");
  auto token = admin.post("/v1/staff/" + id + "/tokens", json::value(json::object{{"label", "views"}}));
  INFO(token.describe());
  REQUIRE(token.status == 201);
  return {id, string_at(token.json(), "token")};
}

// The caller's views as "name|filter|team|mine", in the order listed.
std::vector<std::string> views_of(Client& client) {
  auto listed = client.get("/v1/views");
  INFO(listed.describe());
  REQUIRE(listed.status == 200);
  std::vector<std::string> out;
  const json::value body = listed.json();
  for (const auto& v : body.at("items").as_array()) {
    const json::value& team = v.at("team");
    out.push_back(string_at(v, "name") + "|" + string_at(v, "filter") + "|" +
                  (team.is_null() ? std::string("-") : std::string(team.as_string())) + "|" +
                  (v.at("mine").as_bool() ? "mine" : "theirs"));
  }
  return out;
}

HttpResponse save(Client& client, json::object body) { return client.post("/v1/views", json::value(std::move(body))); }

// A refusal as problem+json naming `field`; its message there.
std::string refusal_of(const HttpResponse& answer, int status, const std::string& field) {
  INFO(answer.describe());
  CHECK(answer.status == status);
  CHECK(answer.is_problem());
  if (field.empty()) return {};
  const json::value body = answer.json();
  std::string message;
  for (const auto& f : body.at("fields").as_array())
    if (string_at(f, "field") == field) message = string_at(f, "message");
  CHECK_FALSE(message.empty());
  return message;
}

void saved_views_over_the_api(const std::string& database_url) {
  ServerSetup setup;
  setup.database_url = database_url;
  RedressServer server(setup);
  Client admin(server.port(), server.token("admin"));
  const auto [nia_id, nia_token] = hire_for_views(admin, "Nia", "agent", "billing-desk");
  const auto [oli_id, oli_token] = hire_for_views(admin, "Oli", "lead", "billing-desk");
  const auto [pat_id, pat_token] = hire_for_views(admin, "Pat", "agent", "retail-desk");
  const auto [quinn_id, quinn_token] = hire_for_views(admin, "Quinn", "agent", "");
  Client nia(server.port(), nia_token);
  Client oli(server.port(), oli_token);
  Client pat(server.port(), pat_token);
  Client quinn(server.port(), quinn_token);

  // Saved: the filter as the case list's parser writes it back (tags lowercased, a fixed order).
  auto mine = save(nia, {{"name", "VIPs under investigation"}, {"filter", "tag=VIP&status=investigating"}});
  INFO(mine.describe());
  REQUIRE(mine.status == 201);
  const json::value view = mine.json();
  const std::string view_id = string_at(view, "id");
  CHECK(view_id.rfind("v-", 0) == 0);
  CHECK(mine.header("location") == "/v1/views/" + view_id);
  CHECK(string_at(view, "name") == "VIPs under investigation");
  CHECK(string_at(view, "filter") == "status=investigating&tag=vip");
  CHECK(view.at("team").is_null());
  CHECK(string_at(view, "owner") == nia_id);
  CHECK(view.at("mine").as_bool());
  CHECK(string_at(view, "console_url") == "/staff/cases?status=investigating&tag=vip");
  CHECK(string_at(view, "created_at").size() >= 20);
  // Shared with her team; "owner=me" stays "me", so it is each teammate's own cases.
  auto shared = save(nia, {{"name", "Desk: mine, overdue"}, {"filter", "owner=me&overdue=true"}, {"share_with_team", true}});
  INFO(shared.describe());
  REQUIRE(shared.status == 201);
  const std::string shared_id = string_at(shared.json(), "id");
  CHECK(shared.json().at("team").as_string() == "billing-desk");
  const std::vector<std::string> nia_views{"Desk: mine, overdue|owner=me&overdue=true|billing-desk|mine",
                                           "VIPs under investigation|status=investigating&tag=vip|-|mine"};
  CHECK(views_of(nia) == nia_views);

  // A teammate lists the shared one (not hers), cannot delete it; another team sees neither.
  CHECK(views_of(oli) == std::vector<std::string>{"Desk: mine, overdue|owner=me&overdue=true|billing-desk|theirs"});
  CHECK(views_of(pat).empty());
  refusal_of(oli.call("DELETE", "/v1/views/" + shared_id), 404, "");
  refusal_of(pat.call("DELETE", "/v1/views/" + view_id), 404, "");
  CHECK(views_of(nia) == nia_views);

  // A name is the person's once: 409 for her, nothing changed; a colleague may use it.
  refusal_of(save(nia, {{"name", "VIPs under investigation"}, {"filter", "status=closed"}}), 409, "");
  auto same_name = save(oli, {{"name", "VIPs under investigation"}, {"filter", ""}});
  INFO(same_name.describe());
  CHECK(same_name.status == 201);
  CHECK(string_at(same_name.json(), "console_url") == "/staff/cases");

  // A filter the case list would refuse is named, with what was wrong, and nothing is saved.
  CHECK(refusal_of(save(nia, {{"name", "Lost"}, {"filter", "status=lost&tag=vip"}}), 422, "filter")
            .find("status: \"lost\" is not a case status") != std::string::npos);
  CHECK(refusal_of(save(nia, {{"name", "Lost"}, {"filter", "from=yesterday"}}), 422, "filter")
            .find("from: must be a date like 2026-03-01") != std::string::npos);
  CHECK(refusal_of(save(nia, {{"name", "Lost"}, {"filter", "tag=a%20b%21"}}), 422, "filter").find("tag:") !=
        std::string::npos);
  CHECK(refusal_of(save(nia, {{"name", "Lost"}, {"filter", "colour=red"}}), 422, "filter")
            .find("\"colour\" is not a filter of the case list") != std::string::npos);
  CHECK(refusal_of(save(nia, {{"name", "Lost"}, {"filter", "status=received&status=closed"}}), 422, "filter")
            .find("\"status\" is given twice") != std::string::npos);
  CHECK(refusal_of(save(nia, {{"name", "Lost"}, {"filter", "/staff/cases?status=received"}}), 422, "filter")
            .find("is not a filter of the case list") != std::string::npos);
  // Bad bodies: every field named at once.
  auto both = save(nia, {{"filter", "level=high"}, {"share_with_team", "yes"}, {"colour", "red"}});
  refusal_of(both, 422, "name");
  refusal_of(both, 422, "filter");
  refusal_of(both, 422, "share_with_team");
  refusal_of(both, 422, "colour");
  refusal_of(save(nia, {{"name", "   "}, {"filter", "status=received"}}), 422, "name");
  refusal_of(save(nia, {{"name", "Two\nlines"}, {"filter", "status=received"}}), 422, "name");
  refusal_of(save(nia, {{"name", std::string(81, 'x')}, {"filter", "status=received"}}), 422, "name");
  refusal_of(save(nia, {{"name", "No filter"}}), 422, "filter");
  refusal_of(save(nia, {{"name", "Number"}, {"filter", 7}}), 422, "filter");
  refusal_of(save(quinn, {{"name", "Teamless"}, {"filter", ""}, {"share_with_team", true}}), 422, "share_with_team");
  refusal_of(nia.post("/v1/views", std::string("{\"name\": \"Cut off")), 400, "");
  CHECK(views_of(nia) == nia_views);
  CHECK(views_of(quinn).empty());

  // Deleted by its owner: 204, then gone (a second delete is 404, as is an id that is not one).
  auto deleted = nia.call("DELETE", "/v1/views/" + view_id);
  INFO(deleted.describe());
  CHECK(deleted.status == 204);
  CHECK(views_of(nia) == std::vector<std::string>{nia_views[0]});
  refusal_of(nia.call("DELETE", "/v1/views/" + view_id), 404, "");
  refusal_of(nia.call("DELETE", "/v1/views/not-a-view"), 404, "");
  // The number alone names it too.
  auto by_number = nia.call("DELETE", "/v1/views/" + shared_id.substr(2));
  CHECK(by_number.status == 204);
  CHECK(views_of(nia).empty());
  CHECK(views_of(oli) == std::vector<std::string>{"VIPs under investigation||-|mine"});

  // The console's case list roles: intake is refused.
  Client intake(server.port(), server.token("intake"));
  refusal_of(intake.get("/v1/views"), 403, "");
}

TEST_CASE("views: saved, listed, shared with the team and deleted over the API, bad filters and names refused (SQLite)",
          "[web][views]") {
  saved_views_over_the_api("");
}

TEST_CASE("views: saved, listed, shared with the team and deleted over the API, bad filters and names refused "
          "(PostgreSQL)",
          "[web][views][postgres]") {
  saved_views_over_the_api(testing::PostgresServer::shared().fresh_database());
}

}  // namespace redress::webtest::saved_views
