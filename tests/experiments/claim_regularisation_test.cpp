// Claim 3, regularisation: its experiment on tiny data (runs, spreads, charts, JSON), and each verdict rule on
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

TEST(ClaimRegularisation, RunsOnTinyData) {
  const TinySplits d;
  RegularisationConfig c{{3, 128, 32, 3e-3}, 3, 0.3};
  Lines lines;
  const RegularisationMeasure m = measure_regularisation(c, d.train, d.valid, lines.log());
  EXPECT_EQ(lines.lines.size(), 12u);
  EXPECT_EQ(m.bn.gap.n, 3);
  EXPECT_EQ(m.bn_dropout.epochs.size(), 3u) << "one evaluation per epoch";
  EXPECT_NEAR(m.no_bn.gap.mean, m.no_bn.train_accuracy.mean - m.no_bn.val_accuracy.mean, 1e-12);
  EXPECT_GT(m.no_bn.train_accuracy.mean, 0.2);
  const ClaimResult r = report_regularisation(m);
  expect_renders(r, 3, 1);
  for (const char* variant : {"bn", "no_bn", "bn_dropout", "no_bn_dropout"}) {
    const nlohmann::json& v = r.data.at(variant);
    EXPECT_EQ(v.at("accuracy_gap").at("n"), 3) << variant;
    EXPECT_TRUE(v.at("loss_gap").at("mean").is_number()) << variant;
    EXPECT_EQ(v.at("epochs").size(), 3u) << variant;
    EXPECT_EQ(v.at("gap_curve").size(), 3u) << variant;
  }
  EXPECT_DOUBLE_EQ(r.data.at("no_bn").at("accuracy_gap").at("mean").get<double>(), m.no_bn.gap.mean);
}

RegularisationMeasure gaps(double bn, double no_bn, double bn_dropout, double no_bn_dropout) {
  RegularisationMeasure m;
  m.bn.gap = spread_at(bn);
  m.no_bn.gap = spread_at(no_bn);
  m.bn_dropout.gap = spread_at(bn_dropout);
  m.no_bn_dropout.gap = spread_at(no_bn_dropout);
  return m;
}

TEST(ClaimRegularisation, VerdictRules) {
  EXPECT_EQ(judge_regularisation(gaps(0.02, 0.05, 0.01, 0.03)).verdict, Verdict::Supported);
  EXPECT_EQ(judge_regularisation(gaps(0.05, 0.02, 0.03, 0.01)).verdict, Verdict::NotSupported);
  EXPECT_EQ(judge_regularisation(gaps(0.02, 0.05, 0.03, 0.03)).verdict, Verdict::Mixed);
  EXPECT_EQ(judge_regularisation(gaps(0.049, 0.05, 0.029, 0.03)).verdict, Verdict::NotSupported)
      << "a tenth of a point is below the minimum effect";
}

}  // namespace
}  // namespace bnlab::experiments
