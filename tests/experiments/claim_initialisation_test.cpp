// Claim 5, initialisation: its experiment on tiny data (runs, spreads, charts, JSON), and each verdict rule on
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

TEST(ClaimInitialisation, RunsOnTinyData) {
  const TinySplits d;
  InitialisationConfig c{tiny_budget(), 1, {0.1, 1.0, 10.0}};
  Lines lines;
  const InitialisationMeasure m = measure_initialisation(c, d.train, d.valid, lines.log());
  EXPECT_EQ(lines.lines.size(), 18u);
  ASSERT_EQ(m.points.size(), 3u);
  EXPECT_DOUBLE_EQ(m.points[2].scale, 10.0);
  EXPECT_EQ(m.points[2].bn_accuracy.n, 3);
  const ClaimResult r = report_initialisation(m);
  expect_renders(r, 5, 1);
  const nlohmann::json& points = r.data.at("points");
  ASSERT_EQ(points.size(), 3u);
  EXPECT_DOUBLE_EQ(points[2].at("scale").get<double>(), 10.0);
  EXPECT_EQ(points[2].at("bn_val_accuracy").at("n"), 3);
  EXPECT_EQ(points[0].at("no_bn_val_accuracy").at("n"), 3);
}

InitialisationMeasure scales(std::vector<std::pair<double, double>> bn_no_bn) {
  InitialisationMeasure m;
  double scale = 0.01;
  for (auto [bn, no_bn] : bn_no_bn) {
    m.points.push_back({scale, spread_at(bn), spread_at(no_bn)});
    scale *= 10;
  }
  return m;
}

TEST(ClaimInitialisation, VerdictRules) {
  EXPECT_EQ(judge_initialisation(scales({{0.95, 0.50}, {0.97, 0.96}, {0.94, 0.70}})).verdict, Verdict::Supported);
  EXPECT_EQ(judge_initialisation(scales({{0.50, 0.95}, {0.97, 0.96}, {0.70, 0.94}})).verdict, Verdict::NotSupported);
  // Higher everywhere, but spread as widely: the worst is better, the range is not narrower.
  EXPECT_EQ(judge_initialisation(scales({{0.80, 0.70}, {0.99, 0.89}, {0.85, 0.75}})).verdict, Verdict::Mixed);
}

}  // namespace
}  // namespace bnlab::experiments
