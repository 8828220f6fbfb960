// Claim 0, internal covariate shift: its experiment on tiny data (runs, curves, charts, JSON), the
// nets' specs, and each of its three verdict rules on measures built by hand to pass, fail and split.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

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

PathNets tiny_nets() {
  PathNets n;
  n.seeds = 2;
  n.steps = 20;
  n.record_every = 5;
  n.ioffe_batch = 16;
  n.mlp_batch = 16;
  return n;
}

TEST(ClaimCovariateShift, RunsOnTinyData) {
  const TinySplits d;
  CovariateShiftConfig c;
  c.nets = tiny_nets();
  c.units = 2;
  c.probe_size = 100;
  Lines lines;
  const CovariateShiftMeasure m = measure_covariate_shift(c, d.train, d.valid, lines.log());
  EXPECT_EQ(lines.lines.size(), 12u) << "2 nets x 3 models x 2 seeds";
  for (const NetShift* n : {&m.ioffe, &m.mlp})
    for (const ArmShift* a : {&n->no_bn, &n->bn, &n->noisy}) {
      EXPECT_EQ(a->steps.size(), 5u) << n->net << " " << a->label;
      EXPECT_EQ(a->accuracy.size(), 5u);
      EXPECT_EQ(a->cosine.size(), 5u);
      ASSERT_EQ(a->units.size(), 2u);
      EXPECT_EQ(a->units[0].size(), 5u);
      EXPECT_EQ(a->drift.n, 2);
      EXPECT_EQ(a->ics_cosine.n, 2);
      EXPECT_LE(a->ics_cosine.max, 1.0 + 1e-9);
    }
  const std::vector<ClaimResult> rows = report_covariate_shift(m);
  ASSERT_EQ(rows.size(), 3u);
  expect_renders(rows[0], 0, 4);
  expect_renders(rows[1], 0, 2);
  expect_renders(rows[2], 0, 1);
  const nlohmann::json& ioffe = rows[0].data.at("ioffe");
  EXPECT_EQ(ioffe.at("steps").size(), 5u);
  EXPECT_EQ(ioffe.at("noisy_bn").at("seed1_unit_percentiles").size(), 2u);
  EXPECT_EQ(ioffe.at("bn").at("seed1_unit_percentiles")[0].at("p50").size(), 5u);
  EXPECT_TRUE(ioffe.at("no_bn").at("log10_drift").at("mean").is_number());
  EXPECT_TRUE(rows[0].data.at("mlp").at("bn").at("ics_cosine").at("mean").is_number());
}

TEST(ClaimCovariateShift, SpecsPutBatchNormAndNoiseWhereThePapersDo) {
  EXPECT_EQ(ioffe_spec(Normalisation::None),
            "flatten,dense:100,sigmoid,dense:100,sigmoid,dense:100,sigmoid,dense:10:softmax");
  EXPECT_EQ(ioffe_spec(Normalisation::NoisyBN, {0.5f, 3.0f}),
            "flatten,dense:100,bn:torch,noise:shift=0.5:scale=3,sigmoid,dense:100,bn:torch,noise:shift=0.5:scale=3,sigmoid,"
            "dense:100,bn:torch,noise:shift=0.5:scale=3,sigmoid,dense:10:softmax");
  EXPECT_EQ(notebook_mlp_spec(Normalisation::BN), "flatten,bn,dense:256,relu,bn,dense:128,relu,bn,dense:10:softmax");
  EXPECT_EQ(notebook_mlp_spec(Normalisation::None), "flatten,dense:256,relu,dense:128,relu,dense:10:softmax");
}

// Both nets alike: BN's and no BN's drift (log10), cosine, distance (log10) and accuracies.
CovariateShiftMeasure shifts(double bn_drift, double no_bn_drift, double bn_cos, double no_bn_cos, double bn_dist,
                             double no_bn_dist, double noisy_acc, double bn_acc, double no_bn_acc) {
  CovariateShiftMeasure m;
  for (NetShift* n : {&m.ioffe, &m.mlp}) {
    n->bn.drift = spread_at(bn_drift, 0.02);
    n->no_bn.drift = spread_at(no_bn_drift, 0.02);
    n->bn.ics_cosine = spread_at(bn_cos, 0.005);
    n->no_bn.ics_cosine = spread_at(no_bn_cos, 0.005);
    n->bn.ics_distance = spread_at(bn_dist, 0.02);
    n->no_bn.ics_distance = spread_at(no_bn_dist, 0.02);
    n->noisy.final_accuracy = spread_at(noisy_acc);
    n->bn.final_accuracy = spread_at(bn_acc);
    n->no_bn.final_accuracy = spread_at(no_bn_acc);
  }
  return m;
}

TEST(ClaimCovariateShift, StabilityRule) {
  EXPECT_EQ(judge_stability(shifts(-1.0, 0.0, 0, 0, 0, 0, 0, 0, 0)).verdict, Verdict::Supported);
  EXPECT_EQ(judge_stability(shifts(0.0, -0.5, 0, 0, 0, 0, 0, 0, 0)).verdict, Verdict::NotSupported);
  EXPECT_EQ(judge_stability(shifts(0.0, 0.05, 0, 0, 0, 0, 0, 0, 0)).verdict, Verdict::NotSupported)
      << "less than 0.1 decades counts as no difference";
  CovariateShiftMeasure split = shifts(-1.0, 0.0, 0, 0, 0, 0, 0, 0, 0);
  split.mlp.bn.drift = spread_at(0.5, 0.02);
  EXPECT_EQ(judge_stability(split).verdict, Verdict::Mixed);
}

TEST(ClaimCovariateShift, GradientRule) {
  EXPECT_EQ(judge_gradient_shift(shifts(0, 0, 0.99, 0.9, -2.0, -1.0, 0, 0, 0)).verdict, Verdict::Supported);
  EXPECT_EQ(judge_gradient_shift(shifts(0, 0, 0.8, 0.95, 0.0, -1.0, 0, 0, 0)).verdict, Verdict::NotSupported);
  EXPECT_EQ(judge_gradient_shift(shifts(0, 0, 0.99, 0.9, 0.0, -1.0, 0, 0, 0)).verdict, Verdict::Mixed)
      << "a closer direction but a larger distance";
}

TEST(ClaimCovariateShift, NoisyBatchNormRule) {
  EXPECT_EQ(judge_noisy_bn(shifts(0, 0, 0, 0, 0, 0, 0.97, 0.975, 0.93)).verdict, Verdict::Supported);
  EXPECT_EQ(judge_noisy_bn(shifts(0, 0, 0, 0, 0, 0, 0.90, 0.975, 0.93)).verdict, Verdict::NotSupported)
      << "noisy BN below both";
  EXPECT_EQ(judge_noisy_bn(shifts(0, 0, 0, 0, 0, 0, 0.95, 0.975, 0.93)).verdict, Verdict::Mixed)
      << "above no BN but 2.5 points below BN";
}

}  // namespace
}  // namespace bnlab::experiments
