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

Response problem(http::status status, std::string_view type, std::string_view title, std::string_view detail,
                 json::object extra) {
  json::object body = std::move(extra);
  body["type"] = "https://redress.dev/problems/" + std::string(type);
  body["title"] = title;
  body["status"] = static_cast<int>(status);
  body["detail"] = detail;
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
    case ErrorCode::kNotFound: type = "not-found"; title = "Not found"; break;
    case ErrorCode::kRefused: {
      type = "action-refused";
      title = "The action is not allowed now";
      json::array allowed;
      for (const auto& a : error.allowed_actions) allowed.emplace_back(a);
      extra["allowed_actions"] = std::move(allowed);
      break;
    }
    case ErrorCode::kStaleVersion: type = "stale-version"; title = "The case has changed since the version given"; break;
    case ErrorCode::kConflict: type = "conflict"; title = "Conflict"; break;
    case ErrorCode::kForbidden: type = "forbidden"; title = "Not allowed for this role"; break;
    case ErrorCode::kUnavailable: type = "unavailable"; title = "The service cannot accept writes now"; break;
    case ErrorCode::kInternal: type = "internal"; title = "Internal error"; break;
  }
  Response res = problem(status_for(error.code), type, title, error.detail, std::move(extra));
  if (error.code == ErrorCode::kUnavailable) res.set(http::field::retry_after, "5");
  return res;
}

}  // namespace redress::web
