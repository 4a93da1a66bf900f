#include "web/pages/charts.h"

#include <algorithm>
#include <cstdio>

#include "adapters/templating/mustache.h"

namespace redress::web {

namespace {

// Eight colours that stay apart for the common colour-vision deficiencies (Okabe-Ito, darkened
// where needed for contrast on white).
constexpr const char* kColours[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                    "#8a6d00", "#56B4E9", "#000000", "#999999"};

// An SVG coordinate: one decimal is finer than a pixel.
std::string coordinate(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f", value);
  return buffer;
}

// A "nice" upper bound for the y axis: 1, 2 or 5 times a power of ten, at least `max`.
std::int64_t nice_ceiling(std::int64_t max) {
  if (max <= 5) return 5;
  std::int64_t step = 1;
  while (step * 10 < max) step *= 10;
  for (std::int64_t m : {1, 2, 5, 10})
    if (step * m >= max) return step * m;
  return step * 10;
}

}  // namespace

const char* series_colour(std::size_t index) { return kColours[index % (sizeof kColours / sizeof kColours[0])]; }

std::string line_chart_svg(const std::string& title, const std::vector<std::string>& x_labels,
                           const std::vector<ChartSeries>& series) {
  using templating::html_escape;
  const double width = 640, height = 260, left = 44, right = 24, top = 16, bottom = 46;
  const double plot_w = width - left - right, plot_h = height - top - bottom;
  std::int64_t max = 0;
  for (const auto& s : series)
    for (auto v : s.values) max = std::max(max, v);
  std::int64_t ceiling = nice_ceiling(max);
  std::size_t n = x_labels.size();
  auto x = [&](std::size_t i) {
    return left + (n <= 1 ? plot_w / 2 : plot_w * static_cast<double>(i) / static_cast<double>(n - 1));
  };
  auto y = [&](std::int64_t v) {
    return top + plot_h - plot_h * static_cast<double>(v) / static_cast<double>(ceiling);
  };

  std::string out = "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + coordinate(width) +
                    " " + coordinate(height) + "\" role=\"img\" aria-label=\"" + html_escape(title) + "\"><title>" +
                    html_escape(title) + "</title>";
  for (int g = 0; g <= 4; ++g) {
    std::int64_t v = ceiling * g / 4;
    out += "<line x1=\"" + coordinate(left) + "\" x2=\"" + coordinate(width - right) + "\" y1=\"" + coordinate(y(v)) +
           "\" y2=\"" + coordinate(y(v)) + "\" stroke=\"#d0d4da\" stroke-width=\"1\"/>";
    out += "<text x=\"" + coordinate(left - 6) + "\" y=\"" + coordinate(y(v) + 4) + "\" text-anchor=\"end\">" +
           std::to_string(v) + "</text>";
  }
  for (std::size_t i = 0; i < n; ++i)
    if (n <= 8 || i % 2 == 0 || i == n - 1)
      out += "<text x=\"" + coordinate(x(i)) + "\" y=\"" + coordinate(height - bottom + 16) +
             "\" text-anchor=\"middle\">" + html_escape(x_labels[i]) + "</text>";
  for (std::size_t s = 0; s < series.size(); ++s) {
    const auto& values = series[s].values;
    std::string points;
    for (std::size_t i = 0; i < values.size() && i < n; ++i)
      points += coordinate(x(i)) + "," + coordinate(y(values[i])) + " ";
    out += "<polyline fill=\"none\" stroke=\"" + std::string(series_colour(s)) + "\" stroke-width=\"2.5\" points=\"" +
           points + "\"><title>" + html_escape(series[s].label) + "</title></polyline>";
    for (std::size_t i = 0; i < values.size() && i < n; ++i)
      out += "<circle cx=\"" + coordinate(x(i)) + "\" cy=\"" + coordinate(y(values[i])) + "\" r=\"3\" fill=\"" +
             series_colour(s) + "\"><title>" +
             html_escape(series[s].label + ", week of " + x_labels[i] + ": " + std::to_string(values[i])) +
             "</title></circle>";
  }
  // The legend, under the axis labels.
  double lx = left;
  for (std::size_t s = 0; s < series.size(); ++s) {
    out += "<rect x=\"" + coordinate(lx) + "\" y=\"" + coordinate(height - 18) +
           "\" width=\"10\" height=\"10\" fill=\"" + series_colour(s) + "\"/>";
    out += "<text x=\"" + coordinate(lx + 14) + "\" y=\"" + coordinate(height - 9) + "\">" +
           html_escape(series[s].label) + "</text>";
    lx += 24 + 7 * static_cast<double>(std::min<std::size_t>(series[s].label.size(), 18));
  }
  out += "</svg>";
  return out;
}

}  // namespace redress::web
