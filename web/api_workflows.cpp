// GET /v1/workflows (public): the published workflows as integrators and forms need them — each
// one's categories, touchpoints, products, root causes, letters and return buckets, with display
// names (docs/measuring.md).
#include <boost/json.hpp>

#include "web/api_internal.h"
#include "web/views.h"

namespace redress::web {

namespace json = boost::json;

namespace {

json::array terms_json(const std::vector<Term>& terms) {
  json::array out;
  for (const auto& term : terms) out.push_back(json::object{{"key", term.key}, {"name", term.name}});
  return out;
}

std::string bucket_target_text(const ClockTarget& target) {
  return format_duration(target.duration.total()) + (target.basis == TimeBasis::kBusiness ? " business" : " calendar");
}

std::string letter_name(const LetterInfo& letter) {
  switch (letter.purpose) {
    case LetterPurpose::kAcknowledgement: return "Acknowledgement";
    case LetterPurpose::kFinalResponse:
      return "Final response (" + (letter.outcome ? words_of(to_string(*letter.outcome)) : std::string("any")) + ")";
    case LetterPurpose::kSummaryResolution: return "Summary resolution";
    case LetterPurpose::kHoldingReply: return "Holding reply";
    case LetterPurpose::kExtension: return "Extension (holding reply with the new deadline)";
    case LetterPurpose::kOther: break;
  }
  return words_of(letter.name);
}

}  // namespace

json::object workflow_catalogue_json(const Workflow& w, const LetterTemplates* letters) {
  json::array categories, touchpoints, letter_list, buckets;
  for (const auto& c : w.categories) categories.push_back(json::object{{"key", c}, {"name", words_of(c)}});
  for (const auto& [key, name] : touchpoint_names()) touchpoints.push_back(json::object{{"key", key}, {"name", name}});
  if (letters)
    for (const auto& letter : letters->letters(w.name)) {
      json::object o{{"key", letter.name}, {"name", letter_name(letter)}, {"purpose", to_string(letter.purpose)}};
      if (letter.outcome) o["outcome"] = to_string(*letter.outcome);
      letter_list.push_back(std::move(o));
    }
  for (const auto& bucket : w.returns.buckets) {
    json::object o{{"key", bucket.key}, {"name", bucket.name}, {"within", nullptr}};
    if (bucket.within) o["within"] = bucket_target_text(*bucket.within);
    buckets.push_back(std::move(o));
  }
  return json::object{{"id", w.name},
                      {"name", w.title},
                      {"description", w.description},
                      {"pledge", w.pledge},
                      {"default", w.is_default},
                      {"time_zone", w.calendar.zone_name()},
                      {"categories", std::move(categories)},
                      {"touchpoints", std::move(touchpoints)},
                      {"products", terms_json(w.products)},
                      {"root_causes", terms_json(w.root_causes)},
                      {"letters", std::move(letter_list)},
                      {"returns", json::object{{"require_root_cause", w.returns.require_root_cause},
                                               {"require_product", w.returns.require_product},
                                               {"buckets", std::move(buckets)}}}};
}

void list_workflows(ApiContext& api, const ContextPtr&, Reply reply) {
  json::array items;
  for (const auto& w : api.engine.workflows().all()) items.push_back(workflow_catalogue_json(w, api.letters.get()));
  Response response = json_response(http::status::ok, json::object{{"items", std::move(items)}});
  response.set(http::field::cache_control, "public, max-age=60");
  reply(std::move(response));
}

}  // namespace redress::web
