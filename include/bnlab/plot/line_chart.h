#pragma once
// Line charts: training curves, one line per series, drawn like matplotlib's plt.plot with a
// title, axis labels, nice ticks, a light grid and a legend placed where it hides the fewest
// points (matplotlib's loc="best").
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "bnlab/plot/output.h"

namespace bnlab::plot {

enum class Dash { Solid, Dashed };

struct Series {
  std::string label;          // empty: no row in the legend (e.g. the second edge of a band)
  std::vector<double> x, y;   // same length; a non-finite y breaks the line there
  std::optional<Rgb> colour;  // default: matplotlib's tab10 colour for the series' position
  Dash dash = Dash::Solid;
  bool markers = false;  // a dot at every point
};

struct LineChart {
  std::string title, xlabel, ylabel;
  std::vector<Series> series;
};

// Default size 1000x600. Throws std::invalid_argument if a series' x and y differ in length.
void render_line_chart(const LineChart& chart, const std::filesystem::path& out, Size size = {});
std::string render_line_chart(const LineChart& chart, ImageFormat format, Size size = {});

}  // namespace bnlab::plot
