#include "web/bulk.h"

#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <set>

namespace redress::web {

namespace json = boost::json;

const std::vector<ActionType>& bulk_actions() {
  static const std::vector<ActionType> kActions{ActionType::kAssign, ActionType::kTransfer, ActionType::kTag,
                                                ActionType::kUntag, ActionType::kEscalate};
  return kActions;
}

Result<BulkRequest> decode_bulk(const json::object& body) {
  std::vector<FieldError> errors;
  BulkRequest bulk;
  std::optional<ActionType> type;
  std::string names;
  for (ActionType t : bulk_actions()) names += (names.empty() ? "" : ", ") + std::string(to_string(t));
  if (const json::value* action = body.if_contains("action"); !action || !action->is_string()) {
    errors.push_back(FieldError{"action", "is required: one of " + names});
  } else {
    type = parse_ActionType(action->get_string());
    if (!type || std::find(bulk_actions().begin(), bulk_actions().end(), *type) == bulk_actions().end()) {
      errors.push_back(FieldError{"action", "\"" + std::string(action->get_string()) + "\" is not one of " + names});
      type.reset();
    }
  }
  const json::value* cases = body.if_contains("cases");
  if (!cases || !cases->is_array()) {
    errors.push_back(FieldError{"cases", "is required: a list of case references"});
  } else if (cases->get_array().empty() || cases->get_array().size() > kMaxBulkCases) {
    errors.push_back(FieldError{"cases", "must list 1 to " + std::to_string(kMaxBulkCases) + " case references"});
  } else {
    std::set<std::string> seen;
    const json::array& list = cases->get_array();
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string field = "cases[" + std::to_string(i) + "]";
      if (!list[i].is_string() || list[i].get_string().empty() || list[i].get_string().size() > 64) {
        errors.push_back(FieldError{field, "must be a case reference like \"CMP-2026-000042\""});
        continue;
      }
      std::string reference(list[i].get_string());
      if (!seen.insert(reference).second) {
        errors.push_back(FieldError{field, reference + " is listed twice"});
        continue;
      }
      bulk.cases.push_back(std::move(reference));
    }
  }
  const json::value* arguments = body.if_contains("arguments");
  json::object fields;
  if (arguments && !arguments->is_null()) {
    if (!arguments->is_object())
      errors.push_back(FieldError{"arguments", "must be an object: the action's fields"});
    else
      fields = arguments->get_object();
  }
  for (const auto& member : body)
    if (member.key() != "action" && member.key() != "cases" && member.key() != "arguments")
      errors.push_back(FieldError{std::string(member.key()), "is not a known field"});
  if (fields.contains("expected_version"))
    errors.push_back(FieldError{"arguments.expected_version", "is per case; a bulk action acts on each case as it is"});
  if (type) {
    fields.erase("expected_version");
    auto decoded = decode_action_fields(*type, fields);
    if (!decoded) {
      for (const auto& f : decoded.error().fields) errors.push_back(FieldError{"arguments." + f.field, f.message});
      if (decoded.error().fields.empty()) errors.push_back(FieldError{"arguments", decoded.error().detail});
    } else {
      bulk.action = std::move(decoded).value();
    }
  }
  if (!errors.empty()) {
    std::string detail = errors.front().field + ": " + errors.front().message;
    if (errors.size() > 1) detail += " (and " + std::to_string(errors.size() - 1) + " more)";
    return Error::invalid(std::move(detail), std::move(errors));
  }
  return bulk;
}

void run_bulk(Engine& engine, BulkRequest request, const Actor& actor,
              std::function<void(std::vector<BulkOutcome>)> done) {
  struct Pending {
    std::mutex mutex;
    std::vector<BulkOutcome> outcomes;
    std::size_t left = 0;
    std::function<void(std::vector<BulkOutcome>)> done;
  };
  auto pending = std::make_shared<Pending>();
  pending->outcomes.resize(request.cases.size());
  pending->left = request.cases.size();
  pending->done = std::move(done);
  // Every case is submitted before any is waited for: the writer takes them in groups (one
  // commit, one sync for each group), and each is planned ahead on this thread where it can be.
  for (std::size_t i = 0; i < request.cases.size(); ++i) {
    pending->outcomes[i].reference = request.cases[i];
    ActionRequest action = request.action;
    action.reference = request.cases[i];
    action.actor = actor;
    engine.submit(std::move(action), [pending, i](Result<Committed> result) {
      std::function<void(std::vector<BulkOutcome>)> finish;
      std::vector<BulkOutcome> outcomes;
      {
        std::lock_guard lock(pending->mutex);
        if (result)
          pending->outcomes[i].version = result->change.after.version;
        else
          pending->outcomes[i].refusal = result.error();
        if (--pending->left > 0) return;
        finish = std::move(pending->done);
        outcomes = std::move(pending->outcomes);
      }
      finish(std::move(outcomes));
    });
  }
}

}  // namespace redress::web
