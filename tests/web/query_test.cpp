// Query parameters through a real socket: every route reads its query string with one strict
// reader (web/query.h), so a malformed number, an unknown enum value or a bad time is refused with
// the same problem+json 400 (invalid-query, naming query.<name>) on a list, a report or the admin
// routes alike, and is never taken in part (`limit=12abc` is not 12).
#include "web/support.h"

using namespace redress::webtest;

namespace {

// The answer is the one refusal of a malformed query parameter, naming `name`.
void check_invalid_query(const HttpResponse& answer, const std::string& target, const std::string& name) {
  INFO(target << " -> " << answer.describe());
  CHECK(answer.status == 400);
  CHECK(answer.is_problem());
  json::value body = answer.json();
  REQUIRE(body.is_object());
  CHECK(string_at(body, "type") == "https://redress.dev/problems/invalid-query");
  CHECK(answer.problem_fields() == std::vector<std::string>{"query." + name});
}

}  // namespace

TEST_CASE("web query: a malformed limit is refused alike on a list route and a report route", "[web][query]") {
  RedressServer server;
  Client lead(server.port(), server.token("lead"));
  const std::vector<std::string> limits{
      "12abc", "-5", "+12", "%2012", "12%20", "1.5", "0x10", "", "99999999999999999999"};
  const std::vector<std::string> routes{"/v1/cases", "/v1/commitments", "/v1/reports/overdue"};
  for (const std::string& limit : limits) {
    for (const std::string& route : routes) {
      std::string target = route + "?limit=" + limit;
      check_invalid_query(lead.get(target), target, "limit");
    }
  }
  // Out of each route's range.
  check_invalid_query(lead.get("/v1/cases?limit=201"), "/v1/cases?limit=201", "limit");
  check_invalid_query(lead.get("/v1/reports/overdue?limit=5001"), "/v1/reports/overdue?limit=5001", "limit");
  // Well-formed, the same values are taken.
  CHECK(lead.get("/v1/cases?limit=12").status == 200);
  CHECK(lead.get("/v1/commitments?limit=12").status == 200);
  HttpResponse report = lead.get("/v1/reports/overdue?limit=12");
  INFO(report.describe());
  REQUIRE(report.status == 200);
  CHECK(report.json().at("limit").as_int64() == 12);
}

TEST_CASE("web query: numbers, enum values, flags and times are refused alike on every route", "[web][query]") {
  RedressServer server;
  Client lead(server.port(), server.token("lead"));
  Client admin(server.port(), server.token("admin"));
  const std::vector<std::pair<std::string, std::string>> malformed{
      {"/v1/reports/owners?days=30days", "days"},
      {"/v1/reports/owners?days=0", "days"},
      {"/v1/cases?escalation_level=2x", "escalation_level"},
      {"/v1/cases?status=nonsense", "status"},
      {"/v1/cases?overdue=yes", "overdue"},
      {"/v1/commitments?status=pending", "status"},
      {"/v1/commitments?kind=vow", "kind"},
      {"/v1/commitments?due_before=tomorrow", "due_before"},
      {"/v1/cases?cursor=not-a-cursor", "cursor"},
  };
  for (const auto& [target, name] : malformed) check_invalid_query(lead.get(target), target, name);
  check_invalid_query(admin.get("/v1/admin/outbox?state=pending"), "/v1/admin/outbox?state=pending", "state");
  // Parameters a route does not read are left alone.
  CHECK(lead.get("/v1/reports/owners?days=30&unknown=1").status == 200);
}
