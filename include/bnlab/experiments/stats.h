#pragma once
// Summaries over seeds, and the one rule that decides whether two of them differ.
#include <string>
#include <vector>

namespace bnlab::experiments {

// Mean and sample standard deviation (n - 1) of one quantity over seeds; NaN values are skipped
// and counted in `missing`.
struct Spread {
  double mean = 0.0, sd = 0.0, min = 0.0, max = 0.0;
  int n = 0, missing = 0;
};

Spread spread(const std::vector<double>& values);

// "0.9712 ± 0.0011" with the given number of decimals.
std::string format_spread(const Spread& s, int decimals = 4);

// The standard error of the difference of two means, sqrt(sd_a^2 / n_a + sd_b^2 / n_b); both n > 0.
double standard_error(const Spread& a, const Spread& b);

enum class Direction { Lower, Same, Higher };

// Whether a is higher or lower than b, or neither: a difference counts only when it exceeds both
// min_effect and twice its standard error, 2 * sqrt(sd_a^2 / n_a + sd_b^2 / n_b).
Direction compare(const Spread& a, const Spread& b, double min_effect);

}  // namespace bnlab::experiments
