// The batch-size sweep on tiny data (both models at every size, its JSON and CSV), and its two rules.
#include "bnlab/experiments/batch_size_sweep.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "support/experiment_checks.h"
#include "support/one_thread.h"
#include "support/tiny_data.h"

namespace bnlab::experiments {
namespace {

using testing::spread_at;
using testing::TinySplits;

TEST(Sweep, RunsBothModelsAtEverySize) {
  const TinySplits d;
  SweepConfig c;
  c.batch_sizes = {32, 8};
  c.epochs = 2;
  c.target = 0.5;
  c.eval_every_samples = 128;
  c.lr = 3e-3;
  c.noise_batches = 8;
  int lines = 0;
  const SweepResult r = run_batch_size_sweep(c, d.train, d.valid, [&](const std::string&) { ++lines; });
  EXPECT_EQ(lines, 12);
  ASSERT_EQ(r.points.size(), 4u);
  EXPECT_EQ(r.points[0].model, "mlp-bn");
  EXPECT_EQ(r.points[0].batch_size, 8);
  EXPECT_EQ(r.points[3].model, "mlp");
  EXPECT_EQ(r.points[3].batch_size, 32);
  EXPECT_EQ(r.points[0].epochs.size(), 8u) << "an evaluation every 128 samples for 2 epochs of 512";
  EXPECT_DOUBLE_EQ(r.points[0].epochs[0], 0.25);
  EXPECT_GT(r.points[0].noise_at_init.mean, r.points[1].noise_at_init.mean) << "smaller batches, noisier gradients";
  EXPECT_EQ(r.smoother.tests.size(), 2u);
  EXPECT_EQ(r.faster.tests.size(), 4u);
  EXPECT_EQ(r.charts.size(), 4u);
  const nlohmann::json j = sweep_json(c, r);
  EXPECT_EQ(j["points"].size(), 4u);
  const std::string csv = sweep_csv(r);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 5);
}

SweepPoint point(const std::string& model, int batch, double noise, double epochs, double seconds, int reached = 3) {
  SweepPoint p;
  p.model = model;
  p.batch_size = batch;
  p.noise_at_init = spread_at(noise, noise * 0.01);
  p.epochs_to_target = spread_at(epochs, 0.01);
  p.seconds_to_target = spread_at(seconds, 0.01);
  p.final_accuracy = spread_at(0.97);
  p.reached = reached;
  return p;
}

TEST(Sweep, VerdictRules) {
  const std::vector<SweepPoint> usual = {point("mlp-bn", 16, 4.0, 1.0, 10.0), point("mlp-bn", 256, 0.25, 3.0, 5.0),
                                         point("mlp", 16, 2.0, 1.0, 8.0), point("mlp", 256, 0.12, 4.0, 4.0)};
  EXPECT_EQ(judge_smoother(usual).verdict, Verdict::Supported);
  EXPECT_EQ(judge_faster(usual).verdict, Verdict::Mixed) << "more epochs, less time";
  const std::vector<SweepPoint> reversed = {point("mlp-bn", 16, 0.2, 1.0, 4.0), point("mlp-bn", 256, 4.0, 3.0, 10.0),
                                            point("mlp", 16, 0.1, 1.0, 4.0), point("mlp", 256, 2.0, 4.0, 10.0)};
  EXPECT_EQ(judge_smoother(reversed).verdict, Verdict::NotSupported);
  EXPECT_EQ(judge_faster(reversed).verdict, Verdict::NotSupported);
  const std::vector<SweepPoint> faster = {point("mlp-bn", 16, 4.0, 3.0, 10.0), point("mlp-bn", 256, 0.25, 1.0, 5.0),
                                          point("mlp", 16, 2.0, 3.0, 10.0), point("mlp", 256, 0.12, 1.0, 5.0, 2)};
  EXPECT_EQ(judge_faster(faster).verdict, Verdict::Mixed) << "a seed that never got there proves nothing";
}

}  // namespace
}  // namespace bnlab::experiments
