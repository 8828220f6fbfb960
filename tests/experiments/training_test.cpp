// The training run every experiment is made of: its schedule, what it watches, divergence, the
// weight scaling, and the measurements that must leave the model as it was.
#include <gtest/gtest.h>

#include <cmath>

#include "bnlab/core/error.h"
#include "bnlab/experiments/training.h"
#include "bnlab/layers/batchnorm.h"
#include "bnlab/layers/dense.h"
#include "support/one_thread.h"
#include "support/tiny_data.h"

namespace bnlab::experiments {
namespace {

using testing::TinySplits;

TrainSpec tiny_spec(const std::string& model) {
  TrainSpec s;
  s.model = model;
  s.batch_size = 32;
  s.steps = 40;
  s.eval_every = 16;
  return s;
}

TEST(Training, EvaluatesOnScheduleAndAfterTheLastStep) {
  const TinySplits d;
  TrainSpec s = tiny_spec("mlp-bn");
  s.eval_train = true;
  const RunTrace t = train_new_model(s, d.train, d.valid);
  EXPECT_EQ(t.steps, 40);
  EXPECT_FALSE(t.diverged);
  ASSERT_EQ(t.evaluations.size(), 3u);
  EXPECT_EQ(t.evaluations[0].step, 16);
  EXPECT_EQ(t.evaluations[1].step, 32);
  EXPECT_EQ(t.last().step, 40);
  EXPECT_DOUBLE_EQ(t.evaluations[0].epoch, 1.0) << "512 images are 16 steps of 32";
  EXPECT_GT(t.last().val_accuracy, 0.5) << "the tiny task is learnable";
  EXPECT_FALSE(std::isnan(t.last().train_accuracy));
  EXPECT_LE(t.evaluations[0].seconds, t.last().seconds);
  EXPECT_GE(t.best_val_accuracy(), t.last().val_accuracy);
  ASSERT_TRUE(t.first_reaching(0.0).has_value());
  EXPECT_EQ(t.first_reaching(0.0)->step, 16);
  EXPECT_FALSE(t.first_reaching(1.01).has_value());
}

TEST(Training, RecordsOneGradientNormPerDenseLayer) {
  const TinySplits d;
  TrainSpec s = tiny_spec("mlp");
  s.grad_norm_every = 10;
  const RunTrace t = train_new_model(s, d.train, d.valid);
  ASSERT_EQ(t.grad_norms.size(), 4u);
  EXPECT_EQ(t.grad_norms[0].step, 10);
  EXPECT_EQ(t.grad_norms[3].step, 40);
  ASSERT_EQ(t.grad_norms[0].per_layer.size(), 3u);
  for (double n : t.grad_norms[0].per_layer) EXPECT_GT(n, 0.0);
}

TEST(Training, InitScaleMultipliesEveryDenseWeight) {
  const TinySplits d;
  TrainSpec s = tiny_spec("mlp-bn");
  Sequential plain = build_model(s, d.train);
  s.init_scale = 10.0;
  Sequential scaled = build_model(s, d.train);
  int dense = 0;
  for (size_t i = 0; i < plain.layers().size(); ++i) {
    const auto* a = dynamic_cast<const Dense*>(plain.layers()[i].get());
    const auto* b = dynamic_cast<const Dense*>(scaled.layers()[i].get());
    if (!a) continue;
    ++dense;
    for (int64_t k = 0; k < a->weight.numel(); k += 7) EXPECT_FLOAT_EQ(b->weight[k], 10.0f * a->weight[k]);
  }
  EXPECT_EQ(dense, 3);
}

TEST(Training, InitNormalDrawsDenseWeightsWithTheGivenSpread) {
  const TinySplits d;
  TrainSpec s = tiny_spec("flatten,dense:400:sigmoid,dense:10:softmax");
  s.init_normal_sd = 0.05;
  Sequential model = build_model(s, d.train);
  const auto& dense = dynamic_cast<const Dense&>(model.layer(1));
  double sum = 0, sq = 0;
  for (int64_t i = 0; i < dense.weight.numel(); ++i) {
    sum += dense.weight[i];
    sq += double(dense.weight[i]) * dense.weight[i];
  }
  const double n = double(dense.weight.numel());  // 6400
  EXPECT_NEAR(sum / n, 0.0, 0.003);
  EXPECT_NEAR(std::sqrt(sq / n), 0.05, 0.002);
  for (int64_t i = 0; i < dense.bias.numel(); ++i) EXPECT_EQ(dense.bias[i], 0.0f);
  Sequential again = build_model(s, d.train);
  EXPECT_EQ(dynamic_cast<const Dense&>(again.layer(1)).weight[17], dense.weight[17]) << "the same seed, the same weights";
}

TEST(Training, ANonFiniteLossEndsTheRunAsDiverged) {
  const TinySplits d;
  TrainSpec s = tiny_spec("mlp");
  s.optimizer = "sgd";
  s.lr = 1e30;
  s.steps = 200;
  const RunTrace t = train_new_model(s, d.train, d.valid);
  EXPECT_TRUE(t.diverged);
  EXPECT_LT(t.steps, 200);
  EXPECT_EQ(t.last().step, t.steps);
}

TEST(Training, UnknownOptimizerIsAnInputError) {
  const TinySplits d;
  TrainSpec s = tiny_spec("mlp");
  s.optimizer = "rmsprop";
  EXPECT_THROW(build_model(s, d.train), InputError);
}

TEST(Measurements, BatchStatisticsEvaluationLeavesTheMovingStatisticsAlone) {
  const TinySplits d;
  TrainSpec s = tiny_spec("mlp-bn");
  Sequential model = build_model(s, d.train);
  run_training(model, s, d.train, d.valid);
  const auto& bn = dynamic_cast<const BatchNormalization&>(*model.layers()[1]);
  const Tensor mean = bn.running_mean;
  const int64_t tracked = bn.num_batches_tracked;
  const Metrics m = evaluate_with_batch_statistics(model, d.valid, 8);
  EXPECT_EQ(m.samples, 200);
  EXPECT_GT(m.accuracy, 0.3);
  EXPECT_EQ(bn.num_batches_tracked, tracked);
  for (int64_t i = 0; i < mean.numel(); ++i) ASSERT_EQ(bn.running_mean[i], mean[i]);
  EXPECT_EQ(evaluate_with_batch_statistics(model, d.valid, 64).samples, 192) << "the incomplete last batch is left out";
}

TEST(Measurements, WithoutBatchNormTheBatchStatisticsEvaluationIsTheUsualOne) {
  const TinySplits d;
  TrainSpec s = tiny_spec("mlp");
  Sequential model = build_model(s, d.train);
  run_training(model, s, d.train, d.valid);
  EXPECT_DOUBLE_EQ(evaluate_with_batch_statistics(model, d.valid, 50).accuracy, model.evaluate(d.valid, 50).accuracy);
}

TEST(Measurements, GradientNoiseFallsWithTheBatchSizeAndChangesNothing) {
  const TinySplits d;
  TrainSpec s = tiny_spec("mlp-bn");
  Sequential model = build_model(s, d.train);
  const auto& bn = dynamic_cast<const BatchNormalization&>(*model.layers()[1]);
  const GradientNoise small = gradient_noise(model, d.train, 4, 16, 1);
  const GradientNoise large = gradient_noise(model, d.train, 32, 16, 1);
  EXPECT_GT(small.variance, 2.0 * large.variance) << "about 1/B: eight times smaller at 8 times the batch";
  EXPECT_GT(large.signal, 0.0);
  EXPECT_EQ(bn.num_batches_tracked, 0);
  const GradientNoise again = gradient_noise(model, d.train, 32, 16, 1);
  EXPECT_DOUBLE_EQ(again.variance, large.variance) << "the weights and moving statistics are unchanged";
  EXPECT_THROW(gradient_noise(model, d.train, 256, 4, 1), InputError);
}

TEST(Measurements, StepsForEpochsCountsThePartialLastBatch) {
  const TinySplits d;
  EXPECT_EQ(steps_for_epochs(d.train, 32, 1.0), 16);
  EXPECT_EQ(steps_for_epochs(d.train, 100, 1.0), 6);
  EXPECT_EQ(steps_for_epochs(d.train, 32, 2.5), 40);
}

}  // namespace
}  // namespace bnlab::experiments
