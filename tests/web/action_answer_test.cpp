// An action's answer through a real socket: the case as the action left it is made from the view
// the action was planned on and its Change (web/api_internal.h, view_after), not read back. Each
// answer must equal, byte for byte once parsed, what a read of the case right after shows: the
// staff view after /actions (owner passed on, commitments started and kept, offers, messages),
// and the client's view after the client's own actions. The view cache is off, so that each read
// is made from the database, not from the rendering the answer left in the cache.
#include "web/support.h"

using namespace redress::webtest;

TEST_CASE("web api: an action's answer is the case exactly as a read right after it shows it", "[web][actions]") {
  ServerSetup setup;
  setup.config = {"view_cache_mib = 0"};
  RedressServer server(setup);
  Client agent(server.port(), server.token("agent"));
  Client client(server.port());
  json::value created = create_case(agent);
  const std::string ref = string_at(created, "reference");
  const std::string link = link_token(string_at(created, "client_url"));
  REQUIRE(!link.empty());

  auto staff_acts = [&](json::object action) {
    std::string name = string_at(json::value(action), "action");
    HttpResponse answer = agent.post("/v1/cases/" + ref + "/actions", json::value(std::move(action)));
    INFO(name << ": " << answer.describe());
    REQUIRE(answer.status == 200);
    HttpResponse read = agent.get("/v1/cases/" + ref);
    REQUIRE(read.status == 200);
    CHECK(answer.json() == read.json());
    CHECK(answer.header("etag") == read.header("etag"));
    return answer.json();
  };
  auto client_acts = [&](const std::string& path, json::object body, int status) {
    HttpResponse answer = client.post("/v1/client/" + link + path, json::value(std::move(body)));
    INFO(path << ": " << answer.describe());
    REQUIRE(answer.status == status);
    HttpResponse read = client.get("/v1/client/" + link);
    REQUIRE(read.status == 200);
    CHECK(answer.json() == read.json());
  };

  staff_acts({{"action", "acknowledge"}});
  json::value taken = staff_acts({{"action", "take"}, {"note", "Mine."}});  // the owner comes from the change
  CHECK(string_at(taken.at("owner"), "id") == server.staff_id("agent"));
  REQUIRE(agent
              .post("/v1/cases/" + ref + "/messages",
                    json::value(json::object{{"visibility", "internal"}, {"body", "Duplicate capture."}}))
              .status == 201);
  staff_acts({{"action", "start"}});
  staff_acts({{"action", "request_info"}, {"body", "Which card was charged?"}});
  client_acts("/messages", {{"body", "The Visa ending 4242."}}, 201);
  json::value now = agent.get("/v1/cases/" + ref).json();
  if (string_at(now, "status") == "awaiting_client") staff_acts({{"action", "client_replied"}});
  json::value proposed = staff_acts(
      {{"action", "propose_redress"},
       {"outcome", "upheld"},
       {"final_response", final_response_text()},
       {"offers", json::array{json::object{
                      {"kind", "refund"}, {"amount", "42.50"}, {"currency", "GBP"}, {"text", "The second charge"}}}}});
  std::string offer;
  for (const auto& r : proposed.at("redress").as_array())
    if (string_at(r, "kind") == "refund") offer = string_at(r, "id");
  REQUIRE(!offer.empty());
  client_acts("/redress/" + offer + "/accept", {}, 200);
}
