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
// `text` with every byte that is not part of a well-formed UTF-8 sequence (RFC 3629: no overlong
// forms, no surrogates, nothing above U+10FFFF) replaced by U+FFFD.
[[nodiscard]] std::string valid_utf8(std::string_view text);

}  // namespace redress::web
