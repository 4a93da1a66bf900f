// HTTP/1.1 conformance of `redress serve`, through a real socket (docs/security.md, "HTTP/1.1
// conformance"): request framing a proxy in front cannot read differently (RFC 9112 §6.1, §6.3),
// Host, obs-fold, HEAD on every GET route of the OpenAPI document, the per-address connection cap,
// strict JSON text (duplicate keys, NUL bytes, bidirectional controls), and the example config's
// placeholder intake secret.
#include "web/support.h"

using namespace redress::webtest;

namespace conformance_test {

// A request whose body is itself a whole GET of the OpenAPI document: a server that frames the
// first request wrongly answers that smuggled request too.
const std::string kSmuggled = "GET /v1/openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

struct FramingCase {
  std::string name;
  std::string head;  // the request line and header fields, without the blank line
  std::string body;
  int status = 400;
};

std::string length_of(const std::string& body) { return std::to_string(body.size()); }

std::vector<FramingCase> framing_cases() {
  const std::string post = "POST /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  const std::string chunked_body = std::to_string(kSmuggled.size()) + "\r\n" + kSmuggled + "\r\n0\r\n\r\n";
  return {
      {"Transfer-Encoding: identity", post + "Transfer-Encoding: identity\r\n", kSmuggled},
      {"Transfer-Encoding: xchunked", post + "Transfer-Encoding: xchunked\r\n", kSmuggled},
      {"Transfer-Encoding: chunked, identity", post + "Transfer-Encoding: chunked, identity\r\n", kSmuggled},
      {"Transfer-Encoding: chunked, chunked", post + "Transfer-Encoding: chunked, chunked\r\n", kSmuggled},
      {"Transfer-Encoding: identity, then chunked on a second line (not implemented)",
       post + "Transfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n", chunked_body, 501},
      {"Transfer-Encoding: empty", post + "Transfer-Encoding: \r\n", kSmuggled},
      {"Transfer-Encoding: gzip, chunked (not implemented)", post + "Transfer-Encoding: gzip, chunked\r\n",
       chunked_body, 501},
      {"Transfer-Encoding with Content-Length",
       post + "Transfer-Encoding: chunked\r\nContent-Length: " + length_of(chunked_body) + "\r\n", chunked_body},
      {"Content-Length with Transfer-Encoding",
       post + "Content-Length: " + length_of(chunked_body) + "\r\nTransfer-Encoding: chunked\r\n", chunked_body},
      {"Content-Length with Transfer-Encoding: identity", post + "Content-Length: 0\r\nTransfer-Encoding: identity\r\n",
       kSmuggled},
      {"Transfer-Encoding: identity with Content-Length", post + "Transfer-Encoding: identity\r\nContent-Length: 0\r\n",
       kSmuggled},
      {"Transfer-Encoding in HTTP/1.0", "POST /healthz HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n",
       chunked_body},
      {"duplicate Content-Length", post + "Content-Length: 0\r\nContent-Length: 0\r\n", kSmuggled},
      {"conflicting Content-Length", post + "Content-Length: 0\r\nContent-Length: 45\r\n", kSmuggled},
      {"Content-Length: 0, 45", post + "Content-Length: 0, 45\r\n", kSmuggled},
      {"Content-Length: 0, 0", post + "Content-Length: 0, 0\r\n", kSmuggled},
      {"no Host", "GET /healthz HTTP/1.1\r\n", kSmuggled},
      {"two Host lines", "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\n", kSmuggled},
      {"a Host that is not a host", "GET /healthz HTTP/1.1\r\nHost: a/b@evil\r\n", kSmuggled},
      {"obs-fold", "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Folded: one\r\n two\r\n", kSmuggled},
      {"obs-fold with a tab", "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Folded: one\r\n\ttwo\r\n", kSmuggled},
      {"white space before the first field", "GET /healthz HTTP/1.1\r\n Host: 127.0.0.1\r\n", kSmuggled},
  };
}

}  // namespace conformance_test

using namespace conformance_test;

TEST_CASE("web conformance: ambiguous framing is 400, the connection closes, the body is never a request",
          "[web][conformance]") {
  RedressServer server;
  for (const auto& c : framing_cases()) {
    INFO(c.name);
    Connection connection(server.port());
    REQUIRE(connection.is_open());
    connection.send_raw(c.head + "\r\n" + c.body);
    auto answer = connection.read_response(20s);
    REQUIRE(answer);
    INFO(answer->describe());
    CHECK(answer->status == c.status);
    CHECK(answer->is_problem());
    CHECK(lower(answer->header("connection")) == "close");
    // Nothing more: the connection closes, and the smuggled GET is never answered.
    CHECK(connection.wait_closed(10s));
    CHECK(connection.pending().find("HTTP/1.1") == std::string::npos);
  }
  // A bare LF as a line end is refused too.
  {
    Connection connection(server.port());
    connection.send_raw("GET /healthz HTTP/1.1\nHost: 127.0.0.1\n\n");
    auto answer = connection.read_response(20s);
    REQUIRE(answer);
    CHECK(answer->status == 400);
    CHECK(connection.wait_closed(10s));
  }
  // What is well framed is still served: Content-Length, chunked, and HTTP/1.0 without Host.
  Connection connection(server.port());
  const std::string post = "POST /v1/cases HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                           server.token("agent") + "\r\nContent-Type: application/json\r\n";
  const std::string body = json::serialize(new_case_body());
  REQUIRE(connection.send_raw(post + "Content-Length: " + length_of(body) + "\r\n\r\n" + body));
  auto sized = connection.read_response(20s);
  REQUIRE(sized);
  CHECK(sized->status == 201);
  std::ostringstream chunk_size;
  chunk_size << std::hex << body.size();
  REQUIRE(connection.send_raw(post + "Transfer-Encoding: chunked\r\n\r\n" + chunk_size.str() + "\r\n" + body +
                              "\r\n0\r\n\r\n"));
  auto chunked = connection.read_response(20s);
  REQUIRE(chunked);
  CHECK(chunked->status == 201);
  Connection old(server.port());
  old.send_raw("GET /healthz HTTP/1.0\r\n\r\n");
  auto answer = old.read_response(20s);
  REQUIRE(answer);
  CHECK(answer->status == 200);
}

TEST_CASE("web conformance: HEAD answers every GET route of the OpenAPI document like GET, without a body",
          "[web][conformance]") {
  RedressServer server;
  Client agent(server.port(), server.token("agent"));
  json::value created = create_case(agent);
  const std::string reference = string_at(created, "reference");
  const std::string link = link_token(string_at(created, "client_url"));
  // {id}: a message that is not there (HEAD must answer the 404 as GET does).
  const std::map<std::string, std::string> parameters{{"ref", reference}, {"token", link}, {"id", "m-999999"}, {"n", "0"}};

  Client anonymous(server.port());
  HttpResponse document = anonymous.get("/v1/openapi.json");
  REQUIRE(document.status == 200);
  std::vector<std::pair<std::string, std::string>> routes;  // target, role ("" when public)
  const json::value spec = document.json();
  for (const auto& [path, item] : spec.at("paths").as_object()) {
    const json::value* get = item.as_object().if_contains("get");
    if (!get) continue;
    std::string target(path);
    for (const auto& [name, value] : parameters) {
      auto at = target.find("{" + name + "}");
      if (at != std::string::npos) target.replace(at, name.size() + 2, value);
    }
    INFO(path);
    REQUIRE(target.find('{') == std::string::npos);  // a new path parameter needs a value above
    std::string role;
    if (const json::value* roles = get->as_object().if_contains("x-redress-roles"))
      role = std::string(roles->as_array().at(0).as_string());
    routes.emplace_back(target, role);
  }
  REQUIRE(routes.size() >= 10);
  // A few pages, and answers that are not 200.
  for (const std::string& target :
       std::vector<std::string>{"/standards", "/staff/login", "/c/" + link, "/no/such/page", "/v1/cases/X-404"})
    routes.emplace_back(target, target.rfind("/v1/", 0) == 0 ? "agent" : "");
  routes.emplace_back("/v1/cases", "");              // 401 without a token
  routes.emplace_back("/v1/admin/outbox", "agent");  // 403 for the role

  for (const auto& [target, role] : routes) {
    INFO("HEAD " << target << " as " << (role.empty() ? "anyone" : role));
    Headers headers = role.empty() ? Headers{} : bearer(server.token(role));
    Connection connection(server.port());
    // HEAD, then GET /healthz on the same connection: a HEAD answer with body bytes would be read
    // as the start of the second answer.
    REQUIRE(connection.send_raw(build_request("HEAD", target, headers) +
                                build_request("GET", "/healthz", {{"X-Request-Id", "after-head"}})));
    auto head = connection.read_response(20s, Answering::kHead);
    REQUIRE(head);
    auto after = connection.read_response(20s);
    REQUIRE(after);
    CHECK(after->status == 200);
    CHECK(after->header("x-request-id") == "after-head");

    Connection again(server.port());
    REQUIRE(again.send_raw(build_request("GET", target, headers)));
    auto get = again.read_response(20s);
    REQUIRE(get);
    INFO(get->describe());
    CHECK(head->status == get->status);
    CHECK(head->status != 405);
    CHECK(head->header("content-type") == get->header("content-type"));
    CHECK(head->header("cache-control") == get->header("cache-control"));
    CHECK(head->header("etag") == get->header("etag"));
    CHECK(head->header("allow") == get->header("allow"));
    REQUIRE(head->has_header("content-length"));
    // /metrics counts the HEAD itself (new series appear between the two), and /healthz and the
    // reports carry the time they were made, whose fraction of a second has as many digits as it
    // needs (up to 7 bytes more or less).
    std::size_t length = std::stoul(head->header("content-length"));
    if (target == "/metrics") {
      CHECK(length > 0);
    } else if (get->body.find("\"time\":\"") != std::string::npos ||
               get->body.find("\"generated_at\":\"") != std::string::npos) {
      CHECK(length + 8 > get->body.size());
      CHECK(length < get->body.size() + 8);
    } else {
      CHECK(length == get->body.size());
    }
  }
  // A method that is not allowed says HEAD is, and its 405 to a HEAD has no body either.
  Connection connection(server.port());
  REQUIRE(connection.send_raw(build_request("DELETE", "/healthz")));
  auto refused = connection.read_response(20s);
  REQUIRE(refused);
  CHECK(refused->status == 405);
  CHECK(refused->header("allow") == "GET, HEAD");
}

TEST_CASE("web conformance: one address cannot hold every connection - others are still served", "[web][conformance]") {
  ServerSetup setup;
  setup.config = {"max_connections = 50", "max_connections_per_address = 8", "read_timeout_seconds = 30"};
  RedressServer server(setup);
  // 60 half-open connections from 127.0.0.1: half a header each, never finished.
  std::vector<std::unique_ptr<Connection>> held;
  for (int i = 0; i < 60; ++i) {
    auto c = std::make_unique<Connection>(server.port());
    if (c->is_open()) c->send_raw("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half: ");
    held.push_back(std::move(c));
  }
  // Those over the cap are closed without an answer (refused outright counts too); the 8 within it
  // stay open (the read timeout is 30 s).
  std::vector<bool> gone(held.size(), false);
  int closed = 0;
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (closed < 60 - 8 && std::chrono::steady_clock::now() < deadline)
    for (std::size_t i = 0; i < held.size(); ++i)
      if (!gone[i] && (!held[i]->is_open() || held[i]->wait_closed(10ms))) {
        gone[i] = true;
        ++closed;
        CHECK(held[i]->pending().empty());
      }
  CHECK(closed == 60 - 8);
  for (std::size_t i = 0; i < held.size(); ++i)
    if (!gone[i]) CHECK_FALSE(held[i]->wait_closed(100ms));
  // Another address is served at once.
  Connection other(server.port(), "127.0.0.2");
  REQUIRE(other.is_open());
  auto health = other.request("GET", "/healthz", {}, {}, 5s);
  REQUIRE(health);
  CHECK(health->status == 200);
  // So is the same address once its connections are gone (the close is noticed asynchronously).
  held.clear();
  CHECK(healthz_served_soon(server.port()));
}

TEST_CASE("web conformance: duplicate JSON keys, NUL bytes and bidirectional overrides are refused by name",
          "[web][conformance]") {
  RedressServer server;
  Client agent(server.port(), server.token("agent"));
  auto with = [](const std::string& key, const std::string& value) {
    json::object body = new_case_body();
    if (key == "client.name")
      body["client"].as_object()["name"] = value;
    else
      body[key] = value;
    return json::value(body);
  };
  // Duplicate keys, at the top and inside.
  std::string text = json::serialize(new_case_body());
  HttpResponse top = agent.post("/v1/cases", text.substr(0, text.size() - 1) + ",\"subject\":\"Another\"}");
  INFO(top.describe());
  CHECK(top.status == 400);
  CHECK(top.is_problem());
  CHECK(top.problem_fields() == std::vector<std::string>{"subject"});
  std::string nested = text;
  nested.replace(nested.find("\"name\""), 6, "\"name\":\"Eve\",\"name\"");
  HttpResponse inner = agent.post("/v1/cases", nested);
  INFO(inner.describe());
  CHECK(inner.status == 400);
  CHECK(inner.problem_fields() == std::vector<std::string>{"client.name"});

  // NUL bytes: refused in every text, long ones too.
  for (const std::string field : {"subject", "description", "client.name"}) {
    HttpResponse r = agent.post("/v1/cases", with(field, std::string("before\0after", 12)));
    INFO(field << ": " << r.describe());
    CHECK(r.status == 422);
    CHECK(r.problem_fields() == std::vector<std::string>{field});
  }
  // Overrides (U+202E, U+202D) anywhere; embeddings and isolates only in free texts.
  const std::string rlo = "\xE2\x80\xAE", lro = "\xE2\x80\xAD", rli = "\xE2\x81\xA7", rle = "\xE2\x80\xAB";
  for (const auto& [field, control] : std::vector<std::pair<std::string, std::string>>{{"subject", rlo},
                                                                                       {"subject", rli},
                                                                                       {"client.name", rlo},
                                                                                       {"client.name", rle},
                                                                                       {"touchpoint", lro},
                                                                                       {"description", rlo},
                                                                                       {"description", lro}}) {
    HttpResponse r = agent.post("/v1/cases", with(field, "gpj." + control + "exe.txt"));
    INFO(field << ": " << r.describe());
    CHECK(r.status == 422);
    CHECK(r.problem_fields() == std::vector<std::string>{field});
  }
  HttpResponse isolate = agent.post(
      "/v1/cases",
      with("description", "The shop " + rli + "\xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D" + "\xE2\x81\xA9 charged me twice."));
  INFO(isolate.describe());
  CHECK(isolate.status == 201);
  // Through an intake hook's mapping too.
  Client hook(server.port());
  std::string payload =
      json::serialize(json::object{{"customer", json::object{{"name", "Ana Ruiz"}, {"email", "ana@example.org"}}},
                                   {"title", "Refund " + rlo + "fdp.exe"},
                                   {"message", "Charged twice."}});
  std::int64_t now = unix_now();
  HttpResponse signed_hook =
      hook.post(std::string("/hooks/intake/") + kIntakeSource, payload,
                {{"webhook-id", "msg_bidi"},
                 {"webhook-timestamp", std::to_string(now)},
                 {"webhook-signature", standard_webhooks_signature(server.intake_secret(), "msg_bidi", now, payload)}});
  INFO(signed_hook.describe());
  CHECK(signed_hook.status == 422);
  CHECK(signed_hook.problem_fields() == std::vector<std::string>{"subject"});
}

TEST_CASE("web conformance: the example config's placeholder intake secret stops the server at start-up",
          "[web][conformance]") {
  TempDir scratch;
  const std::string example = std::string(REDRESS_SOURCE_DIR) + "/examples/redress.toml";
  RunResult run = run_redress(
      {"serve", "--config", example, "--data-dir", (scratch.path() / "data").string(), "--listen", "127.0.0.1:0"},
      scratch.path());
  INFO(run.output);
  CHECK(run.status != 0);
  CHECK(run.output.find("intake.web-form.secret is the example's placeholder") != std::string::npos);
  CHECK(run.output.find("openssl rand -base64 32") != std::string::npos);
  CHECK(run.output.find("listening on") == std::string::npos);
  // With a real secret in its place, the same file is read (migrate reads the whole file too).
  std::string text = read_text(example);
  auto at = text.find("whsec_REPLACE-ME-with-your-own-secret");
  REQUIRE(at != std::string::npos);
  text.replace(at, std::string("whsec_REPLACE-ME-with-your-own-secret").size(), new_whsec());
  write_text(scratch.path() / "redress.toml", text);
  auto check = run_redress({"migrate", "--config", (scratch.path() / "redress.toml").string(), "--data-dir",
                            (scratch.path() / "data").string()},
                           scratch.path());
  INFO(check.output);
  CHECK(check.status == 0);
}
