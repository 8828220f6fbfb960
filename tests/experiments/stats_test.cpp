// Spreads over seeds, and the rule that decides whether two differ.
#include "bnlab/experiments/stats.h"

#include <gtest/gtest.h>

#include <cmath>

#include "support/one_thread.h"

namespace bnlab::experiments {
namespace {

TEST(Spread, MeanSampleSdRangeAndMissingValues) {
  const Spread s = spread({1.0, 2.0, NAN, 3.0});
  EXPECT_DOUBLE_EQ(s.mean, 2.0);
  EXPECT_DOUBLE_EQ(s.sd, 1.0);
  EXPECT_DOUBLE_EQ(s.min, 1.0);
  EXPECT_DOUBLE_EQ(s.max, 3.0);
  EXPECT_EQ(s.n, 3);
  EXPECT_EQ(s.missing, 1);
  EXPECT_EQ(format_spread(s, 2), "2.00 ± 1.00");
  const Spread none = spread({NAN});
  EXPECT_EQ(none.n, 0);
  EXPECT_TRUE(std::isnan(none.mean));
  EXPECT_EQ(format_spread(none), "n/a");
}

TEST(Compare, NeedsBothTheMinimumEffectAndTwiceTheStandardError) {
  const Spread a = spread({0.95, 0.96, 0.97}), b = spread({0.90, 0.91, 0.92});
  EXPECT_EQ(compare(a, b, 0.01), Direction::Higher);
  EXPECT_EQ(compare(b, a, 0.01), Direction::Lower);
  EXPECT_EQ(compare(a, b, 0.06), Direction::Same) << "smaller than the minimum effect";
  const Spread noisy_a = spread({0.80, 0.99, 0.98}), noisy_b = spread({0.90, 0.91, 0.92});
  EXPECT_EQ(compare(noisy_a, noisy_b, 0.0), Direction::Same) << "within twice the standard error";
  EXPECT_EQ(compare(spread({}), b, 0.0), Direction::Same) << "nothing measured";
}

}  // namespace
}  // namespace bnlab::experiments
