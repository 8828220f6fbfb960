// Claim 2, higher learning rates: its experiment on tiny data (runs, spreads, charts, JSON), and each verdict rule on
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

TEST(ClaimLearningRates, RunsOnTinyData) {
  const TinySplits d;
  LearningRateConfig c;
  c.budget = tiny_budget();
  c.epochs = 1;
  c.sgd_rates = {0.01, 1e30};
  c.adam_rates = {1e-3};
  c.usable_accuracy = 0.3;
  Lines lines;
  const LearningRateMeasure m = measure_learning_rates(c, d.train, d.valid, lines.log());
  EXPECT_EQ(lines.lines.size(), 18u);
  ASSERT_EQ(m.grids.size(), 2u);
  ASSERT_EQ(m.grids[0].points.size(), 2u);
  EXPECT_EQ(m.grids[0].points[1].bn_diverged + m.grids[0].points[1].no_bn_diverged, 6) << "lr 1e30 diverges";
  EXPECT_EQ(m.grids[0].points[0].no_bn_diverged, 0);
  EXPECT_DOUBLE_EQ(highest_usable_rate(m.grids[0], false, 0.0), 0.01) << "a diverged rate never counts";
  const ClaimResult r = report_learning_rates(m);
  expect_renders(r, 2, 1);
  EXPECT_DOUBLE_EQ(r.data.at("usable_accuracy").get<double>(), 0.3);
  const nlohmann::json& grids = r.data.at("grids");
  ASSERT_EQ(grids.size(), 2u);
  EXPECT_EQ(grids[0].at("optimizer"), "sgd");
  EXPECT_EQ(grids[1].at("optimizer"), "adam");
  ASSERT_EQ(grids[0].at("points").size(), 2u);
  const nlohmann::json& diverging = grids[0].at("points")[1];
  EXPECT_DOUBLE_EQ(diverging.at("lr").get<double>(), 1e30);
  EXPECT_EQ(diverging.at("bn_seeds_diverged").get<int>() + diverging.at("no_bn_seeds_diverged").get<int>(), 6);
  EXPECT_EQ(grids[0].at("points")[0].at("no_bn_best_val_accuracy").at("n"), 3);
}

OptimizerGrid grid(const std::string& name, std::vector<std::tuple<double, double, int, double, int>> rows) {
  OptimizerGrid g{name, {}};
  for (auto [lr, bn, bn_div, no_bn, no_bn_div] : rows)
    g.points.push_back({lr, spread_at(bn), spread_at(no_bn), bn_div, no_bn_div});
  return g;
}

TEST(ClaimLearningRates, VerdictRules) {
  const OptimizerGrid bn_higher = grid("sgd", {{0.1, 0.97, 0, 0.96, 0}, {1.0, 0.95, 0, 0.20, 0}});
  const OptimizerGrid no_bn_diverges = grid("adam", {{0.01, 0.97, 0, 0.95, 0}, {0.1, 0.93, 0, 0.95, 1}});
  const OptimizerGrid same = grid("adam", {{0.01, 0.97, 0, 0.95, 0}, {0.1, 0.93, 0, 0.92, 0}});
  const OptimizerGrid none = grid("sgd", {{0.1, 0.5, 0, 0.5, 0}});
  EXPECT_DOUBLE_EQ(highest_usable_rate(bn_higher, true, 0.9), 1.0);
  EXPECT_DOUBLE_EQ(highest_usable_rate(bn_higher, false, 0.9), 0.1);
  EXPECT_DOUBLE_EQ(highest_usable_rate(no_bn_diverges, false, 0.9), 0.01);
  EXPECT_TRUE(std::isnan(highest_usable_rate(none, true, 0.9)));
  EXPECT_EQ(judge_learning_rates({0.9, {bn_higher, no_bn_diverges}}).verdict, Verdict::Supported);
  EXPECT_EQ(judge_learning_rates({0.9, {same, none}}).verdict, Verdict::NotSupported);
  EXPECT_EQ(judge_learning_rates({0.9, {bn_higher, same}}).verdict, Verdict::Mixed);
}

}  // namespace
}  // namespace bnlab::experiments
