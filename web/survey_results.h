// SurveyResults: the RATER survey's answers (ReportStore::survey_by_group) added up for one group —
// an owner, a team, a workflow, a touchpoint: how many answered, the overall average, each RATER
// dimension's average over the answers that rated it, and the weakest dimension. Shared by the
// owners' report (API and CSV), the board, the touchpoint pages and the public standards page, so
// that each shows the same numbers. A plain value; the functions are pure and thread-safe.
#pragma once

#include <boost/json/value.hpp>

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ports/report_store.h"

namespace redress::web {

struct SurveyResults {
  std::int64_t responses = 0;  // every answer (before RATER too)
  std::int64_t overall_total = 0;
  std::int64_t rated = 0;  // answers with the five RATER scores
  std::array<std::int64_t, 5> totals{};  // per dimension, in rater_dimensions() order

  void add(const SurveySums& sums);
  [[nodiscard]] std::optional<double> overall() const;                   // nullopt without answers
  [[nodiscard]] std::optional<double> dimension(std::size_t index) const;  // nullopt without RATER answers
  // The dimension with the lowest average (the first of equals); nullopt without RATER answers.
  [[nodiscard]] std::optional<std::size_t> weakest() const;
};

// The results of each value of `group` (each owner, each workflow, …) among `groups`.
[[nodiscard]] std::map<std::string, SurveyResults> survey_results_by(const std::vector<SurveyGroupSums>& groups,
                                                                     SurveyGroup group);

// "3.5", or "-" without a value.
[[nodiscard]] std::string average_text(std::optional<double> value);
// {"responses", "overall", "rater": {dimension: average}, "weakest"}, nulls where there is nothing.
[[nodiscard]] boost::json::value survey_json(const SurveyResults& results);

}  // namespace redress::web
