// The v1 API's desk routes (issue 27): bulk actions on many cases, and the count of cases by tag.
// Tags, merges and links themselves are actions (POST /v1/cases/{ref}/actions, web/api_cases.cpp).
// See web/api_internal.h.
#include <boost/json.hpp>

#include "web/api_internal.h"
#include "web/bulk.h"

namespace redress::web {

namespace json = boost::json;

namespace {

json::object bulk_outcome_json(const BulkOutcome& outcome) {
  if (!outcome.refusal)
    return json::object{{"reference", outcome.reference}, {"status", 200}, {"outcome", "done"},
                        {"version", outcome.version}};
  Response refused = problem_from(*outcome.refusal);
  return json::object{{"reference", outcome.reference},
                      {"status", static_cast<int>(refused.result_int())},
                      {"outcome", "refused"},
                      {"problem", json::parse(refused.body())}};
}

}  // namespace

void bulk_cases(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  auto request = decode_bulk(ctx->body);
  if (!request) return reply(problem_from(request.error()));
  const std::string action(to_string(request->action.type));
  run_bulk(api.engine, std::move(request).value(), ctx->actor(),
           [&api, reply = std::move(reply), action](std::vector<BulkOutcome> outcomes) mutable {
             api.defer([reply = std::move(reply), action, outcomes = std::move(outcomes)]() mutable {
               json::array results;
               std::int64_t done = 0;
               for (const auto& outcome : outcomes) {
                 done += outcome.refusal ? 0 : 1;
                 results.push_back(bulk_outcome_json(outcome));
               }
               const auto refused = static_cast<std::int64_t>(outcomes.size()) - done;
               reply(json_response(http::status::ok, json::object{{"action", action},
                                                                  {"done", done},
                                                                  {"refused", refused},
                                                                  {"results", std::move(results)}}));
             });
           });
}

void tags_report(ApiContext& api, const ContextPtr&, Reply reply) {
  auto counts = api.reads.count_cases_by_tag();
  if (!counts) return reply(problem_from(counts.error()));
  json::array items;
  for (const auto& c : *counts)
    items.push_back(json::object{{"tag", c.tag}, {"cases", c.cases}, {"open_cases", c.open_cases}});
  reply(json_response(http::status::ok, json::object{{"items", std::move(items)}}));
}

}  // namespace redress::web
