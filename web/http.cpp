#include "web/http.h"

#include <boost/json.hpp>

namespace redress::web {

namespace json = boost::json;

Response json_response(http::status status, const json::value& body) {
  Response res{status, 11};
  res.set(http::field::content_type, "application/json");
  res.body() = json::serialize(body);
  res.prepare_payload();
  return res;
}

std::string valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    unsigned char c = byte(i);
    std::size_t length = c < 0x80                   ? 1
                         : (c >= 0xC2 && c <= 0xDF) ? 2
                         : (c >= 0xE0 && c <= 0xEF) ? 3
                         : (c >= 0xF0 && c <= 0xF4) ? 4
                                                    : 0;
    bool ok = length != 0 && i + length <= text.size();
    for (std::size_t k = 1; ok && k < length; ++k) ok = (byte(i + k) & 0xC0) == 0x80;
    if (ok && length == 3) {
      unsigned char d = byte(i + 1);
      ok = !(c == 0xE0 && d < 0xA0) && !(c == 0xED && d > 0x9F);
    }
    if (ok && length == 4) {
      unsigned char d = byte(i + 1);
      ok = !(c == 0xF0 && d < 0x90) && !(c == 0xF4 && d > 0x8F);
    }
    if (ok) {
      out.append(text.substr(i, length));
      i += length;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

namespace {

// Applies valid_utf8 to every string inside `value` (the field messages of a problem may quote input).
void make_valid_utf8(json::value& value) {
  if (value.is_string()) {
    json::string& text = value.get_string();
    std::string clean = valid_utf8(text);
    if (clean.size() != text.size()) text = clean;
  } else if (value.is_array()) {
    for (auto& item : value.get_array()) make_valid_utf8(item);
  } else if (value.is_object()) {
    for (auto& member : value.get_object()) make_valid_utf8(member.value());
  }
}

}  // namespace

Response problem(http::status status, std::string_view type, std::string_view title, std::string_view detail,
                 json::object extra) {
  json::object body = std::move(extra);
  for (auto& member : body) make_valid_utf8(member.value());
  body["type"] = "https://redress.dev/problems/" + std::string(type);
  body["title"] = valid_utf8(title);
  body["status"] = static_cast<int>(status);
  body["detail"] = valid_utf8(detail);
  Response res{status, 11};
  res.set(http::field::content_type, "application/problem+json");
  res.body() = json::serialize(body);
  res.prepare_payload();
  return res;
}

http::status status_for(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalid: return http::status::unprocessable_entity;
    case ErrorCode::kNotFound: return http::status::not_found;
    case ErrorCode::kRefused: return http::status::conflict;
    case ErrorCode::kStaleVersion: return http::status::precondition_failed;
    case ErrorCode::kConflict: return http::status::conflict;
    case ErrorCode::kForbidden: return http::status::forbidden;
    case ErrorCode::kUnavailable: return http::status::service_unavailable;
    case ErrorCode::kInternal: return http::status::internal_server_error;
    case ErrorCode::kCalendarExhausted: return http::status::service_unavailable;
  }
  return http::status::internal_server_error;
}

Response problem_from(const Error& error) {
  json::object extra;
  std::string_view type, title;
  switch (error.code) {
    case ErrorCode::kInvalid:
      type = "validation";
      title = "The request is not valid";
      if (!error.fields.empty()) {
        json::array fields;
        for (const auto& f : error.fields) fields.push_back(json::object{{"field", f.field}, {"message", f.message}});
        extra["fields"] = std::move(fields);
      }
      break;
    case ErrorCode::kNotFound:
      type = "not-found";
      title = "Not found";
      break;
    case ErrorCode::kRefused: {
      type = "action-refused";
      title = "The action is not allowed now";
      json::array allowed;
      for (const auto& a : error.allowed_actions) allowed.emplace_back(a);
      extra["allowed_actions"] = std::move(allowed);
      break;
    }
    case ErrorCode::kStaleVersion:
      type = "stale-version";
      title = "The case has changed since the version given";
      break;
    case ErrorCode::kConflict:
      type = "conflict";
      title = "Conflict";
      break;
    case ErrorCode::kForbidden:
      type = "forbidden";
      title = "Not allowed for this role";
      break;
    case ErrorCode::kUnavailable:
      type = "unavailable";
      title = "The service cannot accept writes now";
      break;
    case ErrorCode::kInternal:
      type = "internal";
      title = "Internal error";
      break;
    case ErrorCode::kCalendarExhausted:
      type = "calendar-exhausted";
      title = "A service standard's business calendar has run out";
      break;
  }
  Response res = problem(status_for(error.code), type, title, error.detail, std::move(extra));
  if (error.code == ErrorCode::kUnavailable) res.set(http::field::retry_after, "5");
  return res;
}

}  // namespace redress::web
