// Charts drawn on the server as inline SVG: no script, no image requests, readable without CSS.
// Every label is escaped; each chart carries a <title> and an aria-label for screen readers, and
// the same figures are in a table beside it. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace redress::web {

struct ChartSeries {
  std::string label;
  std::vector<std::int64_t> values;  // one per x label
};

// A line chart of `series` over `x_labels` (e.g. 12 week starts), with gridlines and a legend.
[[nodiscard]] std::string line_chart_svg(const std::string& title, const std::vector<std::string>& x_labels,
                                         const std::vector<ChartSeries>& series);

// The colour a line chart gives series `index` (for a legend drawn outside the SVG).
[[nodiscard]] const char* series_colour(std::size_t index);

}  // namespace redress::web
