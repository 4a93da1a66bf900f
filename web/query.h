// Query parameters: the one strict reader every route's query string goes through.
//
// A route reads each parameter it knows with the reader's typed getters: whole numbers within a
// range, true/false, RFC 3339 times, enum names, bounded text. A malformed value (`limit=12abc`,
// `status=nonsense`, `overdue=yes`) is never taken in part or ignored: the reader keeps the first
// refusal, and the route answers it as one problem+json 400, `invalid-query`, naming the parameter
// (`query.limit`) in `fields`. Parameters a route does not read are ignored. A reader belongs to
// one request on one thread.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/time.h"
#include "web/http.h"
#include "web/router.h"

namespace redress::web {

// The problem+json 400 for a query parameter that is not valid.
[[nodiscard]] Response bad_query(const std::string& name, const std::string& message);

class QueryReader {
 public:
  explicit QueryReader(const RequestContext& context) : context_(context) {}

  // Bounded text; `fallback` when absent.
  [[nodiscard]] std::string text(const std::string& name, std::size_t max_length, std::string fallback = {});
  // A whole number in [min, max] written in decimal digits alone; `fallback` when absent.
  [[nodiscard]] int whole_number(const std::string& name, int min, int max, int fallback);
  [[nodiscard]] std::optional<int> whole_number(const std::string& name, int min, int max);
  // "true" or "false"; `fallback` when absent.
  [[nodiscard]] bool flag(const std::string& name, bool fallback);
  // An RFC 3339 time; nullopt when absent.
  [[nodiscard]] std::optional<Time> time(const std::string& name);
  // One of an enum's names, by its parse_<Enum> function; nullopt when absent. `what` names what
  // is accepted: "a case status" refuses `status=x` with "\"x\" is not a case status".
  template <typename Enum>
  [[nodiscard]] std::optional<Enum> choice(const std::string& name, std::optional<Enum> (*parse)(std::string_view),
                                           const std::string& what) {
    auto value = context_.query_value(name);
    if (!value) return std::nullopt;
    auto parsed = parse(*value);
    if (!parsed) refuse(name, "\"" + *value + "\" is not " + what);
    return parsed;
  }
  // Tags (engine/tags.h), comma-separated ("vip,billing"), each lowercased; empty when absent.
  [[nodiscard]] std::vector<std::string> tags(const std::string& name);
  // The page size every list takes: 1 to `max`, `fallback` when absent.
  [[nodiscard]] int limit(int max, int fallback) { return whole_number("limit", 1, max, fallback); }

  // The first refusal as its answer; nullopt while every parameter read was valid.
  [[nodiscard]] const std::optional<Response>& refusal() const { return refusal_; }

 private:
  const RequestContext& context_;
  std::optional<Response> refusal_;

  void refuse(const std::string& name, const std::string& message);
};

}  // namespace redress::web
