// Claim 8, the landscape: its experiment on tiny data (runs, curves, charts, JSON), and its verdict rule
// on measures built by hand to pass, fail and split.
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

TEST(ClaimLandscape, RunsOnTinyData) {
  const TinySplits d;
  LandscapeConfig c;
  c.nets.seeds = 2;
  c.nets.steps = 12;
  c.nets.record_every = 4;
  c.nets.ioffe_batch = c.nets.mlp_batch = 16;
  c.lr_multiples = {0.5, 2.0};
  Lines lines;
  const LandscapeMeasure m = measure_landscape(c, d.train, d.valid, lines.log());
  EXPECT_EQ(lines.lines.size(), 8u) << "2 nets x 2 models x 2 seeds";
  for (const NetLandscape* n : {&m.ioffe, &m.mlp})
    for (const ArmLandscape* a : {&n->bn, &n->no_bn}) {
      ASSERT_EQ(a->steps.size(), 4u) << n->net;
      EXPECT_EQ(a->beta_curve.size(), 4u);
      for (size_t i = 0; i < 4; ++i) EXPECT_LE(a->loss_low[i], a->loss_high[i]);
      EXPECT_EQ(a->beta.n, 2);
      EXPECT_EQ(a->variation.n, 2);
    }
  const ClaimResult r = report_landscape(m);
  expect_renders(r, 8, 4);
  EXPECT_EQ(r.judgement.tests.size(), 6u);
  EXPECT_EQ(r.data.at("mlp").at("bn").at("beta_curve").size(), 4u);
  EXPECT_TRUE(r.data.at("ioffe").at("no_bn").at("log10_loss_variation").at("mean").is_number());
}

// Both nets alike, log10 of each measure with BN and without.
LandscapeMeasure landscapes(double bn, double no_bn) {
  LandscapeMeasure m;
  for (NetLandscape* n : {&m.ioffe, &m.mlp})
    for (Spread* s : {&n->bn.variation, &n->bn.predictiveness, &n->bn.beta}) *s = spread_at(bn, 0.02);
  for (NetLandscape* n : {&m.ioffe, &m.mlp})
    for (Spread* s : {&n->no_bn.variation, &n->no_bn.predictiveness, &n->no_bn.beta}) *s = spread_at(no_bn, 0.02);
  return m;
}

TEST(ClaimLandscape, VerdictRule) {
  EXPECT_EQ(judge_landscape(landscapes(-1.0, 0.0)).verdict, Verdict::Supported);
  EXPECT_EQ(judge_landscape(landscapes(0.0, -1.0)).verdict, Verdict::NotSupported);
  EXPECT_EQ(judge_landscape(landscapes(0.0, 0.05)).verdict, Verdict::NotSupported) << "within 0.1 decades";
  LandscapeMeasure split = landscapes(-1.0, 0.0);
  split.mlp.bn.beta = spread_at(0.5, 0.02);
  EXPECT_EQ(judge_landscape(split).verdict, Verdict::Mixed);
}

}  // namespace
}  // namespace bnlab::experiments
