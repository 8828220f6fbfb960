#include "bnlab/plot/ticks.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

namespace bnlab::plot {

namespace {

// Ticks k * step for every integer k with lo <= k * step <= hi (a hair of slack for rounding).
std::vector<double> multiples_inside(double lo, double hi, double step) {
  const double slack = step * 1e-9;
  const double first = std::ceil((lo - slack) / step);
  const double last = std::floor((hi + slack) / step);
  std::vector<double> ticks;
  for (double k = first; k <= last; k += 1) {
    const double value = k * step;
    ticks.push_back(std::abs(value) < slack ? 0.0 : value);
  }
  return ticks;
}

}  // namespace

AxisScale nice_scale(double lo, double hi, int max_ticks, bool integer_step) {
  if (!std::isfinite(lo) || !std::isfinite(hi))
    throw std::invalid_argument("nice_scale: axis limits must be finite");
  if (hi < lo) std::swap(lo, hi);
  if (hi - lo <= 1e-12 * std::max(1.0, std::abs(lo))) {
    const double half = lo == 0 ? 0.5 : std::abs(lo) * 0.05;
    lo -= half;
    hi += half;
  }
  max_ticks = std::max(max_ticks, 2);

  AxisScale scale;
  scale.lo = lo;
  scale.hi = hi;
  double magnitude = std::pow(10.0, std::floor(std::log10((hi - lo) / max_ticks)) - 1);
  for (;; magnitude *= 10) {
    for (double mantissa : {1.0, 2.0, 5.0}) {
      const double step = mantissa * magnitude;
      if (integer_step && step < 1) continue;
      const double count = std::floor(hi / step) - std::ceil(lo / step) + 1;
      if (count <= max_ticks) {
        scale.step = step;
        scale.ticks = multiples_inside(lo, hi, step);
        return scale;
      }
    }
  }
}

std::string format_tick(double value, double step) {
  const int decimals = std::max(0, static_cast<int>(std::ceil(-std::log10(step) - 1e-9)));
  if (std::abs(value) < step * 1e-6) value = 0;
  return fmt::format("{:.{}f}", value, decimals);
}

}  // namespace bnlab::plot
