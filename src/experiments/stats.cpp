#include "bnlab/experiments/stats.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace bnlab::experiments {

Spread spread(const std::vector<double>& values) {
  Spread s;
  double sum = 0.0;
  for (double v : values) {
    if (std::isnan(v)) {
      ++s.missing;
      continue;
    }
    s.min = s.n ? std::min(s.min, v) : v;
    s.max = s.n ? std::max(s.max, v) : v;
    sum += v;
    ++s.n;
  }
  if (s.n == 0) {
    s.mean = s.sd = s.min = s.max = NAN;
    return s;
  }
  s.mean = sum / s.n;
  double sq = 0.0;
  for (double v : values)
    if (!std::isnan(v)) sq += (v - s.mean) * (v - s.mean);
  s.sd = s.n > 1 ? std::sqrt(sq / (s.n - 1)) : 0.0;
  return s;
}

std::string format_spread(const Spread& s, int decimals) {
  if (s.n == 0) return "n/a";
  return fmt::format("{:.{}f} ± {:.{}f}", s.mean, decimals, s.sd, decimals);
}

double standard_error(const Spread& a, const Spread& b) {
  return std::sqrt(a.sd * a.sd / a.n + b.sd * b.sd / b.n);
}

Direction compare(const Spread& a, const Spread& b, double min_effect) {
  if (a.n == 0 || b.n == 0) return Direction::Same;
  const double diff = a.mean - b.mean;
  const double se = standard_error(a, b);
  if (std::fabs(diff) <= std::max(min_effect, 2.0 * se)) return Direction::Same;
  return diff > 0 ? Direction::Higher : Direction::Lower;
}

}  // namespace bnlab::experiments
