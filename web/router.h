// Router: maps a request to its route, checks who may call it, decodes its JSON body, and calls
// the handler.
//
// Patterns are paths whose `{name}` segments capture one percent-decoded segment ("/v1/cases/{ref}").
// A captured value never contains '/', a control character, or equals "." or "..": such paths are
// not found. A path that matches with another method is 405 with `Allow`. HEAD is answered
// wherever GET is, by the GET route's handler (the server sends its header without the body). Staff routes require a
// bearer token (401) whose role the route accepts (403). JSON routes require a JSON content type
// (415) and a well-formed object within the depth limit (400, with where it broke).
//
// Handlers may answer later from any thread: they get a shared context and a Reply to call once.
// The route table is built before serving and read-only afterwards; dispatch is thread-safe.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "engine/model.h"
#include "web/http.h"

namespace redress::web {

enum class Access {
  kPublic,      // anyone
  kClientLink,  // a client's private link, checked by the handler (the token is in the path)
  kIntakeHook,  // a configured intake source, checked by the handler (signature)
  kStaff,       // a bearer token with one of the route's roles
};

struct RequestContext {
  Request request;
  std::string request_id;
  std::string client_address;  // the peer, or the client behind a trusted proxy ("203.0.113.9")
  std::string route;           // the matched pattern, for logs and metrics ("/v1/cases/{ref}")
  std::map<std::string, std::string> params;
  std::multimap<std::string, std::string> query;
  std::optional<Staff> staff;  // set for kStaff routes
  boost::json::object body;    // the decoded body, for JSON routes ({} when empty)

  [[nodiscard]] const std::string& param(const std::string& name) const;
  [[nodiscard]] std::optional<std::string> query_value(const std::string& name) const;
  [[nodiscard]] Actor actor() const;  // the staff actor (or intake) behind a kStaff route
};
using ContextPtr = std::shared_ptr<RequestContext>;
using Reply = std::function<void(Response)>;
using Handler = std::function<void(const ContextPtr&, Reply)>;
// Resolves a bearer token to its staff member; kNotFound when unknown or revoked.
using Authenticator = std::function<Result<Staff>(const std::string& token)>;

struct RouteSpec {
  http::verb method = http::verb::get;
  std::string pattern;
  Access access = Access::kPublic;
  std::vector<Role> roles;  // for kStaff
  bool json_body = false;   // decode the body as a JSON object
  Handler handler;
  // kAccepted: a JSON route that also takes multipart/form-data (files); such a body is left to the
  // handler (ctx.body stays {}).
  enum class Multipart { kRefused, kAccepted } multipart = Multipart::kRefused;
};

class Router {
 public:
  explicit Router(Authenticator authenticator, std::size_t max_json_depth = 32)
      : authenticate_(std::move(authenticator)), max_depth_(max_json_depth) {}

  void add(RouteSpec spec);
  [[nodiscard]] const std::vector<RouteSpec>& routes() const { return routes_; }

  // Answers through `reply` exactly once. `route` receives the matched pattern (or a placeholder).
  // `client_address`: who sent it (web/client_address.h), for per-address limits.
  void dispatch(Request request, std::string request_id, std::string client_address, Reply reply,
                std::string& route) const;

 private:
  struct Compiled {
    std::vector<std::string> segments;  // "{name}" marks a capture
  };
  [[nodiscard]] static bool match(const Compiled& route, const std::vector<std::string>& path,
                                  std::map<std::string, std::string>& params);

  Authenticator authenticate_;
  std::size_t max_depth_;
  std::vector<RouteSpec> routes_;
  std::vector<Compiled> compiled_;
};

// Parses a JSON object with a depth limit; the error names the line and column where it broke, or
// the key an object gives twice (its dotted path, "client.name").
[[nodiscard]] Result<boost::json::object> parse_json_object(std::string_view text, std::size_t max_depth);

}  // namespace redress::web
