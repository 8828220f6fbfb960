// Claim 7, training overhead: its experiment on tiny data (runs, spreads, charts, JSON), and each verdict rule on
// measures built by hand to pass it, to fail it and to split it.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "bnlab/experiments/claims.h"
#include "support/experiment_checks.h"
#include "support/one_thread.h"
#include "support/tiny_data.h"

namespace bnlab::experiments {
namespace {

using testing::expect_renders;
using testing::Lines;
using testing::spread_at;
using testing::tiny_budget;
using testing::TinySplits;

TEST(ClaimOverhead, RunsOnTinyData) {
  const TinySplits d;
  OverheadConfig c{tiny_budget(), {4, 16}, 5, 3, 0.03};
  Lines lines;
  const OverheadMeasure m = measure_overhead(c, d.train, lines.log());
  EXPECT_EQ(lines.lines.size(), 6u);
  ASSERT_EQ(m.points.size(), 2u);
  EXPECT_GT(m.points[1].bn_ms.mean, 0.0);
  EXPECT_EQ(m.points[1].no_bn_ms.n, 3);
  const ClaimResult r = report_overhead(m);
  expect_renders(r, 7, 1);
  EXPECT_DOUBLE_EQ(r.data.at("min_effect").get<double>(), 0.03);
  const nlohmann::json& points = r.data.at("points");
  ASSERT_EQ(points.size(), 2u);
  EXPECT_EQ(points[0].at("batch_size"), 4);
  EXPECT_GT(points[1].at("bn_ms_per_step").at("mean").get<double>(), 0.0);
  EXPECT_EQ(points[1].at("no_bn_ms_per_step").at("n"), 3);
}

OverheadMeasure overhead(std::vector<std::pair<double, double>> bn_no_bn) {
  OverheadMeasure m;
  int batch = 16;
  for (auto [bn, no_bn] : bn_no_bn) {
    m.points.push_back({batch, spread_at(bn, 0.01), spread_at(no_bn, 0.01)});
    batch *= 4;
  }
  return m;
}

TEST(ClaimOverhead, VerdictRules) {
  EXPECT_EQ(judge_overhead(overhead({{1.3, 1.0}, {2.6, 2.0}})).verdict, Verdict::Supported);
  EXPECT_EQ(judge_overhead(overhead({{1.01, 1.0}, {1.9, 2.0}})).verdict, Verdict::NotSupported)
      << "1% is below the 3% minimum";
  EXPECT_EQ(judge_overhead(overhead({{1.3, 1.0}, {2.0, 2.0}})).verdict, Verdict::Mixed);
}

}  // namespace
}  // namespace bnlab::experiments
