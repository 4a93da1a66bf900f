// Bulk actions (issue 27): one action on many cases at once - assign, transfer, tag, untag or
// escalate - answered per case. The API's POST /v1/cases/bulk and the console's bulk bar both go
// through here, and each case's action through the Engine like any other (same rules, same
// refusals, one event each): all are submitted at once, so the store's writer commits them in a
// few groups rather than one commit each, and one case's refusal never stops the others.
//
// decode_bulk is pure; run_bulk may be called from any thread and calls `done` once, on a store
// thread, when every case is answered. Thread-safe.
#pragma once

#include <boost/json/object.hpp>

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "engine/actions.h"
#include "engine/engine.h"

namespace redress::web {

// At most this many cases in one bulk request.
inline constexpr std::size_t kMaxBulkCases = 1000;

struct BulkRequest {
  ActionRequest action;            // the action and its fields; reference and actor set per case
  std::vector<std::string> cases;  // references, in the order given, no repeats
};

// {"action": "assign"|"transfer"|"tag"|"untag"|"escalate", "cases": [refs], "arguments": {...}}:
// the arguments are the action's fields (as for POST /v1/cases/{ref}/actions, without
// expected_version). Every missing, mistyped or unknown field is named ("arguments.owner").
[[nodiscard]] Result<BulkRequest> decode_bulk(const boost::json::object& body);

// The names of the actions a bulk request may carry.
[[nodiscard]] const std::vector<ActionType>& bulk_actions();

struct BulkOutcome {
  std::string reference;
  std::optional<Error> refusal;  // why this case was not changed; none when it was
  std::int64_t version = 0;      // the case's version after the action, when it was changed
};

// Submits the action on every case as `actor` and calls `done` with each case's outcome, in the
// order of `request.cases`.
void run_bulk(Engine& engine, BulkRequest request, const Actor& actor,
              std::function<void(std::vector<BulkOutcome>)> done);

}  // namespace redress::web
