// Claim 6, small batches: its experiment on tiny data (runs, spreads, charts, JSON), and each verdict rule on
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

TEST(ClaimSmallBatches, RunsOnTinyData) {
  const TinySplits d;
  SmallBatchConfig c{tiny_budget(), {8, 2}, 8, 24};
  Lines lines;
  const SmallBatchMeasure m = measure_small_batches(c, d.train, d.valid, lines.log());
  EXPECT_EQ(lines.lines.size(), 18u);
  ASSERT_EQ(m.points.size(), 2u);
  EXPECT_EQ(m.points[0].batch_size, 2) << "sorted";
  EXPECT_EQ(m.points[0].ln.n, 3);
  EXPECT_EQ(m.points[0].bn_batch_stats.n, 3);
  EXPECT_NEAR(m.points[1].bn_minus_ln.mean, m.points[1].bn.mean - m.points[1].ln.mean, 1e-12);
  const ClaimResult r = report_small_batches(m);
  expect_renders(r, 6, 1);
  EXPECT_EQ(r.data.at("reference_batch"), 8);
  const nlohmann::json& points = r.data.at("points");
  ASSERT_EQ(points.size(), 2u);
  EXPECT_EQ(points[0].at("batch_size"), 2);
  EXPECT_EQ(points[0].at("ln").at("n"), 3);
  EXPECT_EQ(points[0].at("bn_batch_stats").at("n"), 3);
  EXPECT_DOUBLE_EQ(points[1].at("bn_minus_ln").at("mean").get<double>(), m.points[1].bn_minus_ln.mean);
}

BatchPoint batch_point(int batch, double bn_minus_ln, double mismatch) {
  BatchPoint p;
  p.batch_size = batch;
  p.bn_minus_ln = spread_at(bn_minus_ln, 0.005);
  p.bn_mismatch = spread_at(mismatch, 0.005);
  return p;
}

TEST(ClaimSmallBatches, VerdictRules) {
  const SmallBatchMeasure supported{64, {batch_point(2, -0.20, 0.15), batch_point(64, 0.00, 0.00)}};
  const SmallBatchMeasure not_supported{64, {batch_point(2, 0.00, 0.00), batch_point(64, 0.00, 0.01)}};
  const SmallBatchMeasure mixed{64, {batch_point(2, -0.20, 0.00), batch_point(64, 0.00, 0.00)}};
  EXPECT_EQ(judge_small_batches(supported).verdict, Verdict::Supported);
  EXPECT_EQ(judge_small_batches(not_supported).verdict, Verdict::NotSupported);
  EXPECT_EQ(judge_small_batches(mixed).verdict, Verdict::Mixed);
}

TEST(ClaimSmallBatches, ModelSpecsSwapTheNormalisation) {
  EXPECT_EQ(ln_model_spec(), "flatten,ln,dense:256:relu,ln,dense:128:relu,ln,dense:10:softmax");
  EXPECT_EQ(renorm_model_spec(), "flatten,bn:renorm,dense:256:relu,bn:renorm,dense:128:relu,bn:renorm,dense:10:softmax");
}

}  // namespace
}  // namespace bnlab::experiments
