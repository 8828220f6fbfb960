// Claim 4, gradient flow: its experiment on tiny data (runs, spreads, charts, JSON), and each verdict rule on
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
using testing::TinySplits;

TEST(ClaimGradientFlow, RunsOnTinyData) {
  const TinySplits d;
  GradientFlowConfig c{{3, 0, 32, 3e-3}, 1, 4, 8, 0.1, 4};
  Lines lines;
  const GradientFlowMeasure m = measure_gradient_flow(c, d.train, d.valid, lines.log());
  EXPECT_EQ(lines.lines.size(), 12u);
  EXPECT_EQ(m.seed_mlp.bn_layers.size(), 3u);
  EXPECT_EQ(m.deep_sigmoid.no_bn_layers.size(), 4u);
  EXPECT_EQ(m.deep_sigmoid.steps.size(), 4u) << "16 steps, a record every 4";
  EXPECT_NEAR(m.deep_sigmoid.no_bn_attenuation.mean,
              m.deep_sigmoid.no_bn_layers.front().mean - m.deep_sigmoid.no_bn_layers.back().mean, 1e-9);
  EXPECT_LT(m.deep_sigmoid.no_bn_attenuation.mean, 0.0) << "sigmoids shrink gradients towards the input";
  const ClaimResult r = report_gradient_flow(m);
  expect_renders(r, 4, 2);
  const nlohmann::json& seed = r.data.at("seed_mlp");
  const nlohmann::json& deep = r.data.at("deep_sigmoid");
  EXPECT_TRUE(seed.at("net").is_string());
  EXPECT_EQ(seed.at("bn").at("log10_norm_per_layer").size(), 3u);
  EXPECT_EQ(deep.at("no_bn").at("log10_norm_per_layer").size(), 4u);
  EXPECT_EQ(deep.at("steps").size(), 4u);
  EXPECT_EQ(deep.at("no_bn").at("log10_first").size(), 4u);
  EXPECT_LT(deep.at("no_bn").at("attenuation").at("mean").get<double>(), 0.0);
}

TEST(ClaimGradientFlow, DeepSpecPutsBatchNormBeforeEachSigmoid) {
  EXPECT_EQ(deep_sigmoid_spec(3, 8, false), "flatten,dense:8:sigmoid,dense:8:sigmoid,dense:10:softmax");
  EXPECT_EQ(deep_sigmoid_spec(2, 8, true), "flatten,dense:8,bn,sigmoid,dense:10:softmax");
}

GradientFlowMeasure flows(double seed_bn, double seed_no_bn, double deep_bn, double deep_no_bn) {
  GradientFlowMeasure m;
  m.seed_mlp.bn_attenuation = spread_at(seed_bn, 0.02);
  m.seed_mlp.no_bn_attenuation = spread_at(seed_no_bn, 0.02);
  m.deep_sigmoid.bn_attenuation = spread_at(deep_bn, 0.02);
  m.deep_sigmoid.no_bn_attenuation = spread_at(deep_no_bn, 0.02);
  return m;
}

TEST(ClaimGradientFlow, VerdictRules) {
  EXPECT_EQ(judge_gradient_flow(flows(0.1, -1.0, 0.2, -5.0)).verdict, Verdict::Supported);
  EXPECT_EQ(judge_gradient_flow(flows(0.5, 0.0, 0.3, 0.2)).verdict, Verdict::NotSupported);
  EXPECT_EQ(judge_gradient_flow(flows(0.5, 0.0, 0.3, -5.0)).verdict, Verdict::Mixed);
  EXPECT_EQ(judge_gradient_flow(flows(0.1, 1.5, 0.3, 5.0)).verdict, Verdict::Supported) << "exploding counts too";
}

}  // namespace
}  // namespace bnlab::experiments
