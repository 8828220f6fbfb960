// Axis ticks: nice steps for accuracy and epoch axes, inside the range, and their labels' decimals.
#include "bnlab/plot/ticks.h"

#include <gtest/gtest.h>

namespace bnlab::plot {
namespace {

TEST(NiceScale, AccuracyAxisGetsStepsOfTwoHundredths) {
  const AxisScale s = nice_scale(0.895, 1.005, 8);
  EXPECT_DOUBLE_EQ(s.step, 0.02);
  ASSERT_EQ(s.ticks.size(), 6u);
  EXPECT_NEAR(s.ticks.front(), 0.90, 1e-12);
  EXPECT_NEAR(s.ticks.back(), 1.00, 1e-12);
  EXPECT_EQ(format_tick(s.ticks[2], s.step), "0.94");
}

TEST(NiceScale, EpochAxisUsesWholeSteps) {
  const AxisScale thirty = nice_scale(-0.45, 31.45, 11, true);
  EXPECT_DOUBLE_EQ(thirty.step, 5);
  EXPECT_EQ(thirty.ticks, (std::vector<double>{0, 5, 10, 15, 20, 25, 30}));
  const AxisScale one = nice_scale(1, 1, 11, true);
  EXPECT_GE(one.step, 1);
  EXPECT_LT(one.lo, 1);
  EXPECT_GT(one.hi, 1);
  EXPECT_EQ(one.ticks, (std::vector<double>{1}));
}

TEST(NiceScale, TicksStayInsideAndRespectTheLimit) {
  for (auto [lo, hi] : {std::pair{0.0, 255.0}, {0.03, 0.31}, {-3.2, 7.9}, {1e-4, 3e-4}, {100.0, 100000.0}})
    for (int max_ticks : {3, 5, 8, 12}) {
      const AxisScale s = nice_scale(lo, hi, max_ticks);
      EXPECT_LE(s.ticks.size(), static_cast<size_t>(max_ticks)) << lo << " " << hi;
      EXPECT_GE(s.ticks.size(), 2u) << lo << " " << hi << " " << max_ticks;
      for (double t : s.ticks) {
        EXPECT_GE(t, lo - 1e-12);
        EXPECT_LE(t, hi + 1e-12);
      }
    }
}

TEST(FormatTick, DecimalsFollowTheStep) {
  EXPECT_EQ(format_tick(10, 5), "10");
  EXPECT_EQ(format_tick(0.5, 0.1), "0.5");
  EXPECT_EQ(format_tick(1, 0.2), "1.0");
  EXPECT_EQ(format_tick(-1e-17, 0.05), "0.00");
}

}  // namespace
}  // namespace bnlab::plot
