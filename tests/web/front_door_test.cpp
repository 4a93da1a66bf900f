// Every way in, over real HTTP against the real binary: receipt times given by staff (and refused
// to everyone else), the landing page, the public complaint form and its refusals, and files on
// messages with who may download them.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "web/support.h"

using namespace redress::webtest;

namespace {

// The due times of a case's pledges, in order.
std::vector<std::string> pledge_due_times(const json::value& view) {
  std::vector<std::string> due;
  for (const auto& k : view.at("commitments").as_array())
    if (string_at(k, "kind") == "pledge") due.push_back(string_at(k, "due_at"));
  return due;
}

json::object backdated_case_body(const std::string& received_at, const std::string& reason) {
  json::object body = new_case_body("Phoned about a double charge");
  body["channel"] = "phone";
  body["received_at"] = received_at;
  if (!reason.empty()) body["received_reason"] = reason;
  return body;
}

}  // namespace

TEST_CASE("front door: a call logged two days late counts its pledges from received_at", "[web][receipt]") {
  ServerSetup setup;
  setup.manual_clock = true;
  RedressServer server(setup);
  Client admin(server.port(), server.token("admin"));
  Client agent(server.port(), server.token("agent"));
  REQUIRE(admin.post("/v1/admin/clock", json::value(json::object{{"set", "2031-01-06T10:00:00Z"}})).status == 200);
  // The same complaint taken at once: its pledges are the yardstick.
  json::value at_once = create_case(agent);
  REQUIRE_FALSE(pledge_due_times(at_once).empty());

  REQUIRE(admin.post("/v1/admin/clock", json::value(json::object{{"set", "2031-01-08T10:00:00Z"}})).status == 200);
  HttpResponse logged = agent.post(
      "/v1/cases", json::value(backdated_case_body("2031-01-06T10:00:00Z", "Voicemail heard after the holiday")));
  INFO(logged.describe());
  REQUIRE(logged.status == 201);
  json::value view = logged.json();
  CHECK(string_at(view, "received_at").rfind("2031-01-06T10:00:00", 0) == 0);
  CHECK(string_at(view, "channel") == "phone");
  CHECK(pledge_due_times(view) == pledge_due_times(at_once));

  // The reason is in the creation event, on the chain.
  HttpResponse events = agent.get("/v1/cases/" + string_at(view, "reference") + "/events");
  INFO(events.describe());
  REQUIRE(events.status == 200);
  CHECK(events.body.find("Voicemail heard after the holiday") != std::string::npos);
  CHECK(events.body.find("\"received_at\":\"2031-01-06T10:00:00Z\"") != std::string::npos);
}

TEST_CASE("front door: received_at in the future, beyond the window, without a reason or from intake is refused",
          "[web][receipt][refusals]") {
  ServerSetup setup;
  setup.manual_clock = true;
  setup.config = {"backdate_window = \"P7D\""};
  RedressServer server(setup);
  Client admin(server.port(), server.token("admin"));
  Client agent(server.port(), server.token("agent"));
  Client intake(server.port(), server.token("intake"));
  REQUIRE(admin.post("/v1/admin/clock", json::value(json::object{{"set", "2031-01-20T10:00:00Z"}})).status == 200);

  auto refused = [&](Client& who, const json::object& body) {
    HttpResponse r = who.post("/v1/cases", json::value(body));
    INFO(r.describe());
    CHECK(r.is_problem());
    return r;
  };
  HttpResponse future = refused(agent, backdated_case_body("2031-01-20T10:05:00Z", "clock skew"));
  CHECK(future.status == 422);
  CHECK(future.problem_fields() == std::vector<std::string>{"received_at"});
  HttpResponse too_old = refused(agent, backdated_case_body("2031-01-12T10:00:00Z", "found in a drawer"));
  CHECK(too_old.status == 422);
  CHECK(too_old.problem_fields() == std::vector<std::string>{"received_at"});
  CHECK(too_old.body.find("P7D") != std::string::npos);
  HttpResponse no_reason = refused(agent, backdated_case_body("2031-01-19T10:00:00Z", ""));
  CHECK(no_reason.status == 422);
  CHECK(no_reason.problem_fields() == std::vector<std::string>{"received_reason"});
  HttpResponse not_a_time = refused(agent, backdated_case_body("yesterday", "a letter"));
  CHECK(not_a_time.status == 422);
  CHECK(not_a_time.problem_fields() == std::vector<std::string>{"received_at"});
  HttpResponse from_intake = refused(intake, backdated_case_body("2031-01-19T10:00:00Z", "a letter"));
  CHECK(from_intake.status == 403);

  // Nothing refused was stored; within the window with a reason it is taken.
  HttpResponse list = agent.get("/v1/cases");
  REQUIRE(list.status == 200);
  CHECK(list.json().at("items").as_array().empty());
  HttpResponse taken = agent.post("/v1/cases", json::value(backdated_case_body("2031-01-13T10:00:01Z", "a letter")));
  INFO(taken.describe());
  CHECK(taken.status == 201);
}

TEST_CASE("front door: GET / is the landing page - complain, standards, staff sign-in - and HEAD / too",
          "[web][pages][landing]") {
  RedressServer server;
  Client anonymous(server.port());
  HttpResponse landing = anonymous.get("/");
  INFO(landing.describe());
  REQUIRE(landing.status == 200);
  CHECK(landing.header("content-type").rfind("text/html", 0) == 0);
  CHECK(landing.body.find("href=\"/complain\"") != std::string::npos);
  CHECK(landing.body.find("href=\"/standards\"") != std::string::npos);
  CHECK(landing.body.find("href=\"/staff\"") != std::string::npos);
  CHECK(landing.header("content-security-policy").find("default-src") != std::string::npos);
  // The empty path is not a wildcard: other unknown paths stay 404.
  CHECK(anonymous.get("/nothing-here").status == 404);
  CHECK(anonymous.call("POST", "/", "x=1", {{"Content-Type", "application/x-www-form-urlencoded"}}).status == 405);
}
