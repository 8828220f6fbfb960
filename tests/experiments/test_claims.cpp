// Each claim's experiment on tiny data (its plumbing: runs, spreads, charts, JSON), and each
// verdict rule on measures built by hand to pass it, to fail it, and to split it.
#include <gtest/gtest.h>

#include <cmath>

#include "bnlab/core/error.h"
#include "bnlab/experiments/claims.h"
#include "bnlab/plot/line_chart.h"
#include "support/tiny_data.h"

namespace bnlab::experiments {
namespace {

using testing::TinySplits;

Spread s(double mean, double sd = 0.001, int n = 3) { return {mean, sd, mean - sd, mean + sd, n, 0}; }

Budget tiny_budget() { return {3, 0, 32, 3e-3}; }

const Log kQuiet = [](const std::string&) {};

// Collects the progress lines, to check that every run reports.
struct Lines {
  std::vector<std::string> lines;
  Log log() {
    return [this](const std::string& line) { lines.push_back(line); };
  }
};

void expect_renders(const ClaimResult& r, int number, size_t charts) {
  EXPECT_EQ(r.number, number);
  EXPECT_FALSE(r.claim.empty());
  EXPECT_FALSE(r.bn.empty());
  EXPECT_FALSE(r.no_bn.empty());
  EXPECT_FALSE(r.judgement.tests.empty());
  ASSERT_EQ(r.charts.size(), charts);
  for (const NamedChart& c : r.charts) {
    EXPECT_FALSE(c.chart.series.empty()) << c.name;
    EXPECT_GT(plot::render_line_chart(c.chart, plot::ImageFormat::Png).size(), 1000u) << c.name;
  }
  EXPECT_FALSE(r.data.dump().empty());
}

// ---- 1. convergence -------------------------------------------------------------------------------

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
  expect_renders(report_convergence(m), 1, 1);
}

ConvergenceMeasure convergence(double bn_steps, double no_bn_steps, double bn_s, double no_bn_s) {
  ConvergenceMeasure m;
  m.eval_every = 100;
  m.bn_steps = s(bn_steps, 10);
  m.no_bn_steps = s(no_bn_steps, 10);
  m.bn_seconds = s(bn_s, 0.1);
  m.no_bn_seconds = s(no_bn_s, 0.1);
  return m;
}

TEST(ClaimConvergence, VerdictRules) {
  EXPECT_EQ(judge_convergence(convergence(500, 1000, 5, 10)).verdict, Verdict::Supported);
  EXPECT_EQ(judge_convergence(convergence(1000, 500, 10, 5)).verdict, Verdict::NotSupported);
  EXPECT_EQ(judge_convergence(convergence(500, 1000, 12, 10)).verdict, Verdict::Mixed) << "fewer but dearer steps";
  EXPECT_EQ(judge_convergence(convergence(950, 1000, 5, 10)).verdict, Verdict::Mixed)
      << "50 steps are below the evaluation interval";
}

// ---- 2. learning rates ----------------------------------------------------------------------------

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
  expect_renders(report_learning_rates(m), 2, 1);
}

OptimizerGrid grid(const std::string& name, std::vector<std::tuple<double, double, int, double, int>> rows) {
  OptimizerGrid g{name, {}};
  for (auto [lr, bn, bn_div, no_bn, no_bn_div] : rows) g.points.push_back({lr, s(bn), s(no_bn), bn_div, no_bn_div});
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

// ---- 3. regularisation ----------------------------------------------------------------------------

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
  expect_renders(report_regularisation(m), 3, 1);
}

RegularisationMeasure gaps(double bn, double no_bn, double bn_dropout, double no_bn_dropout) {
  RegularisationMeasure m;
  m.bn.gap = s(bn);
  m.no_bn.gap = s(no_bn);
  m.bn_dropout.gap = s(bn_dropout);
  m.no_bn_dropout.gap = s(no_bn_dropout);
  return m;
}

TEST(ClaimRegularisation, VerdictRules) {
  EXPECT_EQ(judge_regularisation(gaps(0.02, 0.05, 0.01, 0.03)).verdict, Verdict::Supported);
  EXPECT_EQ(judge_regularisation(gaps(0.05, 0.02, 0.03, 0.01)).verdict, Verdict::NotSupported);
  EXPECT_EQ(judge_regularisation(gaps(0.02, 0.05, 0.03, 0.03)).verdict, Verdict::Mixed);
  EXPECT_EQ(judge_regularisation(gaps(0.049, 0.05, 0.029, 0.03)).verdict, Verdict::NotSupported)
      << "a tenth of a point is below the minimum effect";
}

// ---- 4. gradient flow -----------------------------------------------------------------------------

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
  expect_renders(report_gradient_flow(m), 4, 2);
}

TEST(ClaimGradientFlow, DeepSpecPutsBatchNormBeforeEachSigmoid) {
  EXPECT_EQ(deep_sigmoid_spec(3, 8, false), "flatten,dense:8:sigmoid,dense:8:sigmoid,dense:10:softmax");
  EXPECT_EQ(deep_sigmoid_spec(2, 8, true), "flatten,dense:8,bn,sigmoid,dense:10:softmax");
}

GradientFlowMeasure flows(double seed_bn, double seed_no_bn, double deep_bn, double deep_no_bn) {
  GradientFlowMeasure m;
  m.seed_mlp.bn_attenuation = s(seed_bn, 0.02);
  m.seed_mlp.no_bn_attenuation = s(seed_no_bn, 0.02);
  m.deep_sigmoid.bn_attenuation = s(deep_bn, 0.02);
  m.deep_sigmoid.no_bn_attenuation = s(deep_no_bn, 0.02);
  return m;
}

TEST(ClaimGradientFlow, VerdictRules) {
  EXPECT_EQ(judge_gradient_flow(flows(0.1, -1.0, 0.2, -5.0)).verdict, Verdict::Supported);
  EXPECT_EQ(judge_gradient_flow(flows(0.5, 0.0, 0.3, 0.2)).verdict, Verdict::NotSupported);
  EXPECT_EQ(judge_gradient_flow(flows(0.5, 0.0, 0.3, -5.0)).verdict, Verdict::Mixed);
  EXPECT_EQ(judge_gradient_flow(flows(0.1, 1.5, 0.3, 5.0)).verdict, Verdict::Supported) << "exploding counts too";
}

// ---- 5. initialisation ----------------------------------------------------------------------------

TEST(ClaimInitialisation, RunsOnTinyData) {
  const TinySplits d;
  InitialisationConfig c{tiny_budget(), 1, {0.1, 1.0, 10.0}};
  Lines lines;
  const InitialisationMeasure m = measure_initialisation(c, d.train, d.valid, lines.log());
  EXPECT_EQ(lines.lines.size(), 18u);
  ASSERT_EQ(m.points.size(), 3u);
  EXPECT_DOUBLE_EQ(m.points[2].scale, 10.0);
  EXPECT_EQ(m.points[2].bn_accuracy.n, 3);
  expect_renders(report_initialisation(m), 5, 1);
}

InitialisationMeasure scales(std::vector<std::pair<double, double>> bn_no_bn) {
  InitialisationMeasure m;
  double scale = 0.01;
  for (auto [bn, no_bn] : bn_no_bn) {
    m.points.push_back({scale, s(bn), s(no_bn)});
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

// ---- 6. small batches -----------------------------------------------------------------------------

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
  expect_renders(report_small_batches(m), 6, 1);
}

BatchPoint batch_point(int batch, double bn_minus_ln, double mismatch) {
  BatchPoint p;
  p.batch_size = batch;
  p.bn_minus_ln = s(bn_minus_ln, 0.005);
  p.bn_mismatch = s(mismatch, 0.005);
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

// ---- 7. overhead ----------------------------------------------------------------------------------

TEST(ClaimOverhead, RunsOnTinyData) {
  const TinySplits d;
  OverheadConfig c{tiny_budget(), {4, 16}, 5, 3, 0.03};
  Lines lines;
  const OverheadMeasure m = measure_overhead(c, d.train, lines.log());
  EXPECT_EQ(lines.lines.size(), 6u);
  ASSERT_EQ(m.points.size(), 2u);
  EXPECT_GT(m.points[1].bn_ms.mean, 0.0);
  EXPECT_EQ(m.points[1].no_bn_ms.n, 3);
  expect_renders(report_overhead(m), 7, 1);
}

OverheadMeasure overhead(std::vector<std::pair<double, double>> bn_no_bn) {
  OverheadMeasure m;
  int batch = 16;
  for (auto [bn, no_bn] : bn_no_bn) {
    m.points.push_back({batch, s(bn, 0.01), s(no_bn, 0.01)});
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

// ---- all of them ----------------------------------------------------------------------------------

TEST(Claims, ProtocolsAndSelection) {
  const ClaimsProtocol fast = ClaimsProtocol::fast(), full = ClaimsProtocol::full();
  EXPECT_GE(fast.convergence.budget.seeds, 3);
  EXPECT_EQ(full.small_batches.budget.seeds, 5);
  EXPECT_GT(full.convergence.epochs, fast.convergence.epochs);
  ClaimsProtocol p = fast;
  p.set_seeds(4);
  EXPECT_EQ(p.overhead.budget.seeds, 4);
  EXPECT_EQ(p.regularisation.budget.seeds, 4);
  EXPECT_EQ(protocol_json(full)["small_batches"]["batch_sizes"].size(), 8u);
  const TinySplits d;
  EXPECT_THROW(run_claims(fast, {8}, d.train, d.valid, kQuiet), InputError);
  EXPECT_THROW(run_claims(fast, {0}, d.train, d.valid, kQuiet), InputError);
}

TEST(Claims, RunsTheChosenClaimsInOrder) {
  const TinySplits d;
  ClaimsProtocol p = ClaimsProtocol::fast();
  p.overhead = {tiny_budget(), {4}, 3, 3, 0.03};
  p.gradient_flow = {tiny_budget(), 1, 3, 8, 0.1, 4};
  const std::vector<ClaimResult> r = run_claims(p, {7, 4, 7}, d.train, d.valid, kQuiet);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].number, 4);
  EXPECT_EQ(r[1].number, 7);
  EXPECT_GT(r[1].seconds, 0.0);
}

}  // namespace
}  // namespace bnlab::experiments
