#include "web/survey_results.h"

#include <boost/json.hpp>

#include <cstdio>

namespace redress::web {

void SurveyResults::add(const SurveySums& sums) {
  responses += sums.responses;
  overall_total += sums.overall;
  rated += sums.rated;
  for (std::size_t i = 0; i < totals.size(); ++i) totals[i] += sums.scores[i];
}

std::map<std::string, SurveyResults> survey_results_by(const std::vector<SurveyGroupSums>& groups, SurveyGroup group) {
  std::map<std::string, SurveyResults> out;
  for (const auto& g : groups)
    if (g.group == group) out[g.value].add(g.sums);
  return out;
}

std::optional<double> SurveyResults::overall() const {
  if (responses == 0) return std::nullopt;
  return static_cast<double>(overall_total) / static_cast<double>(responses);
}

std::optional<double> SurveyResults::dimension(std::size_t index) const {
  if (rated == 0 || index >= totals.size()) return std::nullopt;
  return static_cast<double>(totals[index]) / static_cast<double>(rated);
}

std::optional<std::size_t> SurveyResults::weakest() const {
  if (rated == 0) return std::nullopt;
  std::size_t weakest = 0;
  for (std::size_t i = 0; i < totals.size(); ++i)
    if (totals[i] < totals[weakest]) weakest = i;
  return weakest;
}

std::string average_text(std::optional<double> value) {
  if (!value) return "-";
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%.1f", *value);
  return buffer;
}

boost::json::value survey_json(const SurveyResults& results) {
  namespace json = boost::json;
  auto number = [](std::optional<double> v) -> json::value {
    if (!v) return nullptr;
    return json::value(static_cast<double>(static_cast<std::int64_t>(*v * 100 + 0.5)) / 100);
  };
  json::value rater = nullptr;
  if (results.rated > 0) {
    json::object dimensions;
    for (std::size_t i = 0; i < rater_dimensions().size(); ++i)
      dimensions[rater_dimensions()[i]] = number(results.dimension(i));
    rater = std::move(dimensions);
  }
  const auto weakest = results.weakest();
  return json::object{{"responses", results.responses},
                      {"rated", results.rated},
                      {"overall", number(results.overall())},
                      {"rater", std::move(rater)},
                      {"weakest", weakest ? json::value(rater_dimensions()[*weakest]) : json::value(nullptr)}};
}

}  // namespace redress::web
