#include "web/intake.h"

#include <boost/json.hpp>

#include "web/text_rules.h"

namespace redress::web {

namespace json = boost::json;

namespace {

// Sets `target` (a dotted path, "client.name") in `object`.
void set_path(json::object& object, const std::string& target, json::value value) {
  auto dot = target.find('.');
  if (dot == std::string::npos) {
    object[target] = std::move(value);
    return;
  }
  json::value& child = object[target.substr(0, dot)];
  if (!child.is_object()) child = json::object();
  set_path(child.get_object(), target.substr(dot + 1), std::move(value));
}

}  // namespace

Result<NewCase> map_intake_payload(const IntakeSource& source, const json::value& payload) {
  json::object fields;
  std::vector<FieldError> errors;
  for (const auto& [target, pointer] : source.mapping) {
    boost::system::error_code ec;
    const json::value* value = payload.find_pointer(pointer, ec);
    if (!value || value->is_null()) continue;
    if (!value->is_string()) {
      errors.push_back(FieldError{"payload" + pointer, "must be a string (mapped to " + target + ")"});
      continue;
    }
    set_path(fields, target, *value);
  }
  if (!errors.empty()) return Error::invalid("the payload does not map onto a case", std::move(errors));
  if (!fields.contains("channel")) fields["channel"] = source.channel;
  if (!fields.contains("category") && !source.category.empty()) fields["category"] = source.category;
  if (!fields.contains("workflow") && !source.workflow.empty()) fields["workflow"] = source.workflow;
  if (auto faults = text_faults(fields); !faults.empty())
    return Error::invalid("a mapped text carries a character it may not", std::move(faults));
  return decode_new_case(fields);
}

}  // namespace redress::web
