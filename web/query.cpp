#include "web/query.h"

#include <boost/json.hpp>

#include <charconv>

#include "engine/tags.h"

namespace redress::web {

namespace json = boost::json;

Response bad_query(const std::string& name, const std::string& message) {
  return problem(http::status::bad_request, "invalid-query", "A query parameter is not valid", name + ": " + message,
                 json::object{{"fields", json::array{json::object{{"field", "query." + name}, {"message", message}}}}});
}

void QueryReader::refuse(const std::string& name, const std::string& message) {
  if (!refusal_) refusal_ = bad_query(name, message);
}

std::string QueryReader::text(const std::string& name, std::size_t max_length, std::string fallback) {
  auto value = context_.query_value(name);
  if (!value) return fallback;
  if (value->size() > max_length) {
    refuse(name, "must be at most " + std::to_string(max_length) + " characters");
    return fallback;
  }
  return std::move(*value);
}

std::optional<int> QueryReader::whole_number(const std::string& name, int min, int max) {
  auto value = context_.query_value(name);
  if (!value) return std::nullopt;
  int number = 0;
  const char* first = value->data();
  const char* last = first + value->size();
  // Digits alone: from_chars would also take a leading '-', and stops at "12abc" or "12 ".
  bool digits = !value->empty() && value->find_first_not_of("0123456789") == std::string::npos;
  auto [end, ec] = std::from_chars(first, last, number);
  if (!digits || ec != std::errc() || end != last || number < min || number > max) {
    refuse(name, "must be a whole number from " + std::to_string(min) + " to " + std::to_string(max));
    return std::nullopt;
  }
  return number;
}

int QueryReader::whole_number(const std::string& name, int min, int max, int fallback) {
  return whole_number(name, min, max).value_or(fallback);
}

bool QueryReader::flag(const std::string& name, bool fallback) {
  auto value = context_.query_value(name);
  if (!value) return fallback;
  if (*value != "true" && *value != "false") {
    refuse(name, "must be true or false");
    return fallback;
  }
  return *value == "true";
}

std::optional<Time> QueryReader::time(const std::string& name) {
  auto value = context_.query_value(name);
  if (!value) return std::nullopt;
  auto parsed = parse_time(*value);
  if (!parsed) refuse(name, "must be an RFC 3339 time");
  return parsed;
}

std::vector<std::string> QueryReader::tags(const std::string& name) {
  std::vector<std::string> tags;
  auto value = context_.query_value(name);
  if (!value || value->empty()) return tags;
  std::string_view rest = *value;
  while (true) {
    auto comma = rest.find(',');
    std::string_view part = rest.substr(0, comma);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    if (!part.empty()) {
      auto tag = normalize_tag(part);
      if (!tag) {
        refuse(name, "\"" + std::string(part) + "\" is not a tag: it " + tag.error().detail);
        return {};
      }
      insert_sorted(tags, *tag);
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  if (tags.size() > kMaxTagsPerRequest) {
    refuse(name, "names more than " + std::to_string(kMaxTagsPerRequest) + " tags");
    return {};
  }
  return tags;
}

}  // namespace redress::web
