// Claim 1, faster convergence: its experiment on tiny data (runs, spreads, charts, JSON), and each verdict rule on
// measures built by hand to pass it, to fail it and to split it.
#include <gtest/gtest.h>

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

TEST(ClaimConvergence, RunsOnTinyData) {
  const TinySplits d;
  ConvergenceConfig c{tiny_budget(), 2, 0.5, 8};
  Lines lines;
  const ConvergenceMeasure m = measure_convergence(c, d.train, d.valid, lines.log());
  EXPECT_EQ(lines.lines.size(), 6u) << "one line per run: 2 models x 3 seeds";
  EXPECT_EQ(m.budget_steps, 32);
  EXPECT_EQ(m.bn_steps.n, 3);
  EXPECT_EQ(m.steps.size(), 4u);
  EXPECT_EQ(m.bn_curve.size(), 4u);
  EXPECT_EQ(m.bn_reached, 3) << "50% is easy on the tiny task";
  const ClaimResult r = report_convergence(m);
  expect_renders(r, 1, 1);
  EXPECT_DOUBLE_EQ(r.data.at("target").get<double>(), 0.5);
  EXPECT_EQ(r.data.at("budget_steps"), 32);
  EXPECT_EQ(r.data.at("eval_every"), 8);
  EXPECT_EQ(r.data.at("bn").at("seeds_reached"), 3);
  EXPECT_EQ(r.data.at("bn").at("steps_to_target").at("n"), 3);
  EXPECT_TRUE(r.data.at("no_bn").at("seconds_to_target").at("mean").is_number());
  EXPECT_EQ(r.data.at("no_bn").at("curve").size(), 4u);
  EXPECT_EQ(r.data.at("steps").size(), 4u);
}

ConvergenceMeasure convergence(double bn_steps, double no_bn_steps, double bn_s, double no_bn_s) {
  ConvergenceMeasure m;
  m.eval_every = 100;
  m.bn_steps = spread_at(bn_steps, 10);
  m.no_bn_steps = spread_at(no_bn_steps, 10);
  m.bn_seconds = spread_at(bn_s, 0.1);
  m.no_bn_seconds = spread_at(no_bn_s, 0.1);
  return m;
}

TEST(ClaimConvergence, VerdictRules) {
  EXPECT_EQ(judge_convergence(convergence(500, 1000, 5, 10)).verdict, Verdict::Supported);
  EXPECT_EQ(judge_convergence(convergence(1000, 500, 10, 5)).verdict, Verdict::NotSupported);
  EXPECT_EQ(judge_convergence(convergence(500, 1000, 12, 10)).verdict, Verdict::Mixed) << "fewer but dearer steps";
  EXPECT_EQ(judge_convergence(convergence(950, 1000, 5, 10)).verdict, Verdict::Mixed)
      << "50 steps are below the evaluation interval";
}

}  // namespace
}  // namespace bnlab::experiments
