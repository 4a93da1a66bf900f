// Shared HTTP vocabulary of the web layer: request and response types, JSON and problem+json
// responses (RFC 9457), and the mapping from engine errors to HTTP statuses. Pure functions.
#pragma once

#include <boost/beast/http.hpp>
#include <boost/json/value.hpp>

#include <string>
#include <string_view>

#include "engine/result.h"

namespace redress::web {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

[[nodiscard]] Response json_response(http::status status, const boost::json::value& body);
// A problem+json answer. `type` is a short slug, published as https://redress.dev/problems/<type>.
[[nodiscard]] Response problem(http::status status, std::string_view type, std::string_view title,
                               std::string_view detail, boost::json::object extra = {});
[[nodiscard]] Response problem_from(const Error& error);
[[nodiscard]] http::status status_for(ErrorCode code);

}  // namespace redress::web
