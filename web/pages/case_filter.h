// The case list's filter (issue 27): the console's /staff/cases query string, a saved view's
// filter, and the API's saved views (GET/POST /v1/views) are all read by this one strict parser,
// so no door can save a filter the list would refuse or read differently.
//
// A value that is not valid is named, never ignored. Pure functions; thread-safe.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "engine/result.h"
#include "engine/workflow.h"
#include "ports/case_reader.h"

namespace redress::web {

// The filter's parameters, in the order the canonical query string lists them.
inline constexpr const char* kCaseFilterParameters[] = {"q",     "status",  "owner", "team", "workflow",
                                                        "level", "overdue", "tag",   "from", "to"};

struct CaseListFilter {
  CaseFilter filter;
  std::string q;
  std::map<std::string, std::string> given;  // each parameter given, as given (trimmed)
};

// A parameter's value by name; nullopt when it was not given.
using FilterLookup = std::function<std::optional<std::string>(const std::string&)>;

// Reads the filter's parameters through `value`: "owner=me" is `staff_id`; dates are whole days in
// the default standard's zone. kInvalid naming each parameter that is not valid (its field is the
// parameter's name). Parameters it does not know are left to the caller.
[[nodiscard]] Result<CaseListFilter> read_case_list_filter(const WorkflowSet& workflows, const FilterLookup& value,
                                                           const std::string& staff_id);

// The filter as the query string it is saved and linked as: the given parameters in a fixed order.
[[nodiscard]] std::string canonical_filter_query(const CaseListFilter& filter);

// The parameters of a query string ("a=1&b=2"), decoded; the first of a repeated name wins.
[[nodiscard]] std::map<std::string, std::string> parse_filter_query(std::string_view text);

// A saved view's filter: `query` (without the leading "?") read by read_case_list_filter, every
// parameter one the list filters by. Its canonical query string, or kInvalid naming the field
// `field` with what was wrong ("status: \"lost\" is not a case status").
[[nodiscard]] Result<std::string> checked_view_filter(const WorkflowSet& workflows, std::string_view query,
                                                      const std::string& staff_id,
                                                      const std::string& field = "filter");

}  // namespace redress::web
