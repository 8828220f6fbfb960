#pragma once
// "Nice" axis ticks: multiples of 1, 2 or 5 times a power of ten, as matplotlib's default
// locator picks them.
#include <string>
#include <vector>

namespace bnlab::plot {

struct AxisScale {
  double lo = 0, hi = 1;      // the view limits (the input, widened only if it was empty)
  double step = 0.1;          // distance between ticks: {1, 2, 5} x 10^k
  std::vector<double> ticks;  // every multiple of step inside [lo, hi], ascending
};

// The smallest nice step that puts at most `max_ticks` ticks inside [lo, hi]. With
// integer_step the step is at least 1 (epoch axes). lo == hi is widened around the value.
AxisScale nice_scale(double lo, double hi, int max_ticks, bool integer_step = false);

// `value` with as many decimals as `step` needs: (0.94, 0.02) -> "0.94", (10, 5) -> "10".
std::string format_tick(double value, double step);

}  // namespace bnlab::plot
