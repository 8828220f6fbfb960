// The BatchNormalization layer: both conventions' moving statistics, the cumulative average,
// inference with the folded formula, the one-sample error, its gradients, Batch Renormalization
// (bn:renorm) and PyTorch's results.
#include "bnlab/layers/batchnorm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "bnlab/core/error.h"
#include "support/batch_stats.h"
#include "support/gradcheck.h"
#include "support/torch_fixture.h"

namespace bnlab {
namespace {

using testing::as_vector;
using testing::batch_stats;
using testing::built_check;
using testing::check_layer_gradients;
using testing::expect_close;
using testing::Fixture;
using testing::TorchFixtures;
using testing::GradCheckOptions;
using testing::kAtol;
using testing::kRtol;
using testing::random_tensor;
using testing::Stats;

std::vector<Tensor> batches(int count, int N, int C) {
  Rng rng(7);
  std::vector<Tensor> out;
  for (int i = 0; i < count; ++i) out.push_back(random_tensor(Shape{N, C}, rng, 10.0f + i, 14.0f + 2 * i));
  return out;
}

TEST(BatchNorm, TrainOutputIsNormalisedWithBiasedBatchVariance) {
  BatchNormalization bn;
  Rng rng(1);
  bn.build(Shape{3}, rng);
  const Tensor x = batches(1, 16, 3)[0];
  Tensor y;
  bn.forward(x, y, Mode::Train);
  const Stats s = batch_stats(x);
  for (int n = 0; n < 16; ++n)
    for (int c = 0; c < 3; ++c)
      EXPECT_NEAR(y[n * 3 + c], (x[n * 3 + c] - s.mean[c]) / std::sqrt(s.var[c] + 1e-3), 1e-5);
}

TEST(BatchNorm, KerasMovingStatisticsKeepTheOldValueByMomentum) {
  BatchNormalization bn;  // momentum 0.99, eps 1e-3, biased moving variance
  Rng rng(1);
  bn.build(Shape{4}, rng);
  std::vector<double> mm(4, 0.0), mv(4, 1.0);
  Tensor y;
  for (const Tensor& x : batches(5, 8, 4)) {
    bn.forward(x, y, Mode::Train);
    const Stats s = batch_stats(x);
    for (int c = 0; c < 4; ++c) {
      mm[c] = mm[c] * 0.99 + s.mean[c] * 0.01;
      mv[c] = mv[c] * 0.99 + s.var[c] * 0.01;
    }
  }
  for (int c = 0; c < 4; ++c) {
    EXPECT_NEAR(bn.running_mean[c], mm[c], 1e-5 * std::fabs(mm[c]));
    EXPECT_NEAR(bn.running_var[c], mv[c], 1e-5 * std::fabs(mv[c]));
  }
  EXPECT_EQ(bn.num_batches_tracked, 5);
}

TEST(BatchNorm, TorchRunningStatisticsWeightTheNewBatchAndUseUnbiasedVariance) {
  BatchNormalization bn(BatchNormOptions::torch());
  Rng rng(1);
  bn.build(Shape{4}, rng);
  std::vector<double> rm(4, 0.0), rv(4, 1.0);
  Tensor y;
  for (const Tensor& x : batches(5, 8, 4)) {
    bn.forward(x, y, Mode::Train);
    const Stats s = batch_stats(x);
    for (int c = 0; c < 4; ++c) {
      rm[c] = 0.9 * rm[c] + 0.1 * s.mean[c];
      rv[c] = 0.9 * rv[c] + 0.1 * s.var[c] * 8.0 / 7.0;
    }
  }
  for (int c = 0; c < 4; ++c) {
    EXPECT_NEAR(bn.running_mean[c], rm[c], 1e-5 * std::fabs(rm[c]));
    EXPECT_NEAR(bn.running_var[c], rv[c], 1e-5 * std::fabs(rv[c]));
  }
}

TEST(BatchNorm, TorchWithoutMomentumIsTheCumulativeAverage) {
  BatchNormOptions o = BatchNormOptions::torch();
  o.momentum.reset();
  BatchNormalization bn(o);
  Rng rng(1);
  bn.build(Shape{2}, rng);
  std::vector<double> mean_sum(2), var_sum(2);
  Tensor y;
  const auto xs = batches(4, 6, 2);
  for (const Tensor& x : xs) {
    bn.forward(x, y, Mode::Train);
    const Stats s = batch_stats(x);
    for (int c = 0; c < 2; ++c) {
      mean_sum[c] += s.mean[c];
      var_sum[c] += s.var[c] * 6.0 / 5.0;
    }
  }
  for (int c = 0; c < 2; ++c) {
    EXPECT_NEAR(bn.running_mean[c], mean_sum[c] / 4, 1e-5 * std::fabs(mean_sum[c] / 4));
    EXPECT_NEAR(bn.running_var[c], var_sum[c] / 4, 1e-5 * std::fabs(var_sum[c] / 4));
  }
}

// What the moving statistics still hold of their start (mean 0, variance 1) after n updates.
TEST(BatchNorm, MovingStatisticsForgetTheirStartByTheConvention) {
  EXPECT_DOUBLE_EQ(BatchNormalization().moving_start_share(100), std::pow(0.99, 100));  // Keras: 0.366
  EXPECT_DOUBLE_EQ(BatchNormalization(BatchNormOptions::torch()).moving_start_share(10), std::pow(0.9, 10));
  BatchNormOptions cumulative = BatchNormOptions::torch();
  cumulative.momentum.reset();
  EXPECT_EQ(BatchNormalization(cumulative).moving_start_share(0), 1.0);
  EXPECT_EQ(BatchNormalization(cumulative).moving_start_share(1), 0.0);
}

TEST(BatchNorm, EvalUsesTheFoldedMovingStatisticsAndIsRepeatable) {
  BatchNormalization bn;
  Rng rng(1);
  bn.build(Shape{3}, rng);
  Tensor y;
  for (const Tensor& x : batches(3, 8, 3)) bn.forward(x, y, Mode::Train);
  for (int c = 0; c < 3; ++c) {
    bn.weight[c] = 1.5f + c;
    bn.bias[c] = -0.5f * c;
  }
  const Tensor x = batches(1, 5, 3)[0];
  const std::vector<float> mean_before(bn.running_mean.data(), bn.running_mean.data() + 3);
  Tensor y1, y2;
  bn.forward(x, y1, Mode::Eval);
  bn.forward(x, y2, Mode::Eval);
  for (int64_t i = 0; i < y1.numel(); ++i) EXPECT_EQ(y1[i], y2[i]);
  for (int c = 0; c < 3; ++c) EXPECT_EQ(bn.running_mean[c], mean_before[c]) << "eval must not update statistics";
  for (int n = 0; n < 5; ++n)
    for (int c = 0; c < 3; ++c) {
      const double scale = bn.weight[c] / std::sqrt((double)bn.running_var[c] + 1e-3);
      const double expected = x[n * 3 + c] * scale + (bn.bias[c] - bn.running_mean[c] * scale);
      EXPECT_NEAR(y1[n * 3 + c], expected, 1e-5 * (1 + std::fabs(expected)));
    }
  EXPECT_EQ(bn.num_batches_tracked, 3);
}

TEST(BatchNorm, TrainingOnOneSampleIsAClearError) {
  BatchNormalization bn;
  bn.name = "batch_normalization";
  Rng rng(1);
  bn.build(Shape{3}, rng);
  Tensor x(Shape{1, 3}), y;
  try {
    bn.forward(x, y, Mode::Train);
    FAIL() << "expected an error";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(),
                 "batch_normalization: training needs more than 1 value per feature, got a batch of 1 (use a larger batch)");
  }
  EXPECT_NO_THROW(bn.forward(x, y, Mode::Eval));  // inference on one sample is fine
}

TEST(BatchNorm, LargeMeansStayExact) {
  // A feature at 1e4 with spread 1e-2: float accumulation of the variance would lose it.
  BatchNormalization bn(BatchNormOptions::torch());
  Rng rng(2);
  bn.build(Shape{1}, rng);
  Tensor x(Shape{512, 1}), y;
  for (int n = 0; n < 512; ++n) x[n] = 10000.0f + (n % 2 ? 0.01f : -0.01f);
  bn.forward(x, y, Mode::Train);
  const Stats s = batch_stats(x);
  for (int n = 0; n < 512; ++n) EXPECT_NEAR(y[n], (x[n] - s.mean[0]) / std::sqrt(s.var[0] + 1e-5), 1e-3);
}

// ---- gradients ------------------------------------------------------------------------------------

TEST(Gradients, BatchNormTrainKeras) {
  BatchNormalization bn;
  built_check(bn, Shape{5}, 8, {}, 2.0f, 6.0f);  // non-zero mean: the (x - mean) terms matter
}

TEST(Gradients, BatchNormTrainTorch) {
  BatchNormalization bn(BatchNormOptions::torch());
  built_check(bn, Shape{4}, 6);
}

TEST(Gradients, BatchNormWithoutCenterOrScale) {
  BatchNormOptions o;
  o.center = false;
  o.scale = false;
  BatchNormalization bn(o);
  built_check(bn, Shape{3}, 5);
}

TEST(Gradients, BatchNormEval) {
  BatchNormalization bn;
  GradCheckOptions o;
  o.mode = Mode::Eval;
  Rng rng(3);
  bn.build(Shape{4}, rng);
  for (int c = 0; c < 4; ++c) {
    bn.running_mean[c] = 0.3f * c;
    bn.running_var[c] = 0.5f + c;
  }
  check_layer_gradients(bn, random_tensor(Shape{6, 4}, rng), o);
}

// ---- Batch Renormalization ------------------------------------------------------------------------

// A batch of N samples of C features.
constexpr int N = 6, C = 4;

// Where r and d are clipped they do not move with x, so the layer's renorm gradient is the true
// gradient and the generic check applies (the moving statistics are reset before every forward).
TEST(BatchRenorm, LayerGradientsWhereRAndDAreClipped) {
  BatchNormOptions o;
  o.renorm = true;
  o.rmax = 2.0f;
  o.dmax = 0.5f;
  BatchNormalization bn(o);
  Rng rng(3);
  bn.build(Shape{C}, rng);
  for (int c = 0; c < C; ++c) {
    bn.weight[c] = 0.8f + 0.1f * c;
    bn.bias[c] = 0.2f * c - 0.3f;
  }
  const Tensor moving_mean = [] {
    Tensor t(Shape{C});
    for (int c = 0; c < C; ++c) t[c] = c % 2 ? 30.0f : -30.0f;
    return t;
  }();
  const Tensor moving_var = [] {
    Tensor t(Shape{C});
    for (int c = 0; c < C; ++c) t[c] = c < 2 ? 400.0f : 1e-4f;
    return t;
  }();
  GradCheckOptions g;
  g.before_forward = [&] {
    bn.running_mean = moving_mean;
    bn.running_var = moving_var;
  };
  check_layer_gradients(bn, random_tensor(Shape{8, C}, rng, -1.0f, 1.0f), g);
}

TEST(BatchRenorm, UnclippedTrainingOutputIsTheInferenceOutput) {
  BatchNormOptions o;
  o.renorm = true;
  o.rmax = 1e6f;
  o.dmax = 1e6f;
  BatchNormalization bn(o);
  Rng rng(4);
  bn.build(Shape{C}, rng);
  for (int c = 0; c < C; ++c) {
    bn.running_mean[c] = 1.5f + 0.2f * c;
    bn.running_var[c] = 0.3f + 0.1f * c;
    bn.weight[c] = 1.2f;
    bn.bias[c] = -0.1f;
  }
  const Tensor x = random_tensor(Shape{5, C}, rng, 1.0f, 3.0f);
  Tensor y_eval, y_train;
  bn.forward(x, y_eval, Mode::Eval);
  bn.forward(x, y_train, Mode::Train);
  for (int64_t i = 0; i < x.numel(); ++i) EXPECT_NEAR(y_train[i], y_eval[i], 1e-5) << i;

  BatchNormalization plain;
  plain.build(Shape{C}, rng);
  Tensor y_plain;
  plain.forward(x, y_plain, Mode::Train);
  double differs = 0.0;
  for (int64_t i = 0; i < x.numel(); ++i) differs += std::fabs(y_plain[i] - y_train[i]);
  EXPECT_GT(differs, 0.1) << "plain BN normalises by the batch, not the moving statistics";
}

TEST(BatchRenorm, RmaxOneAndDmaxZeroIsPlainBatchNormBitForBit) {
  BatchNormOptions o;
  o.renorm = true;
  o.rmax = 1.0f;
  o.dmax = 0.0f;
  BatchNormalization renorm(o), plain;
  Rng rng(8);
  renorm.build(Shape{C}, rng);
  plain.build(Shape{C}, rng);
  Tensor dx_r, dx_p, y_r, y_p;
  for (int step = 0; step < 3; ++step) {
    const Tensor x = random_tensor(Shape{N, C}, rng, -2.0f, 4.0f);
    const Tensor dy = random_tensor(Shape{N, C}, rng);
    renorm.forward(x, y_r, Mode::Train);
    plain.forward(x, y_p, Mode::Train);
    renorm.backward(x, y_r, dy, &dx_r);
    plain.backward(x, y_p, dy, &dx_p);
    for (int64_t i = 0; i < x.numel(); ++i) {
      ASSERT_EQ(y_r[i], y_p[i]);
      ASSERT_EQ(dx_r[i], dx_p[i]);
    }
  }
  for (int c = 0; c < C; ++c) {
    EXPECT_EQ(renorm.weight_grad[c], plain.weight_grad[c]);
    EXPECT_EQ(renorm.bias_grad[c], plain.bias_grad[c]);
    EXPECT_EQ(renorm.running_mean[c], plain.running_mean[c]);
    EXPECT_EQ(renorm.running_var[c], plain.running_var[c]);
  }
}

// ---- against PyTorch ------------------------------------------------------------------------------

void check_batchnorm(const Fixture& f, const std::string& g, BatchNormOptions options, bool has_counter) {
  BatchNormalization bn(options);
  Rng rng(0);
  bn.build(Shape{5}, rng);
  bn.weight = f.tensor(g + ".gamma");
  bn.bias = f.tensor(g + ".beta");
  const Tensor x1 = f.tensor(g + ".x1");
  Tensor y, dx;
  bn.forward(x1, y, Mode::Train);
  expect_close(as_vector(y), f.f32(g + ".y"), kRtol, kAtol, g + ".y");
  bn.zero_grad();
  bn.backward(x1, y, f.tensor(g + ".dy"), &dx);
  expect_close(as_vector(dx), f.f32(g + ".dx"), kRtol, 2 * kAtol, g + ".dx");
  expect_close(as_vector(bn.weight_grad), f.f32(g + ".dgamma"), kRtol, 5 * kAtol, g + ".dgamma");
  expect_close(as_vector(bn.bias_grad), f.f32(g + ".dbeta"), kRtol, 5 * kAtol, g + ".dbeta");
  bn.forward(f.tensor(g + ".x2"), y, Mode::Train);
  bn.forward(f.tensor(g + ".x3"), y, Mode::Train);
  expect_close(as_vector(bn.running_mean), f.f32(g + ".running_mean"), kRtol, kAtol, g + ".running_mean");
  expect_close(as_vector(bn.running_var), f.f32(g + ".running_var"), kRtol, kAtol, g + ".running_var");
  if (has_counter) {
    EXPECT_EQ(bn.num_batches_tracked, f.i64(g + ".num_batches_tracked")[0]);
  }
  bn.forward(x1, y, Mode::Eval);
  expect_close(as_vector(y), f.f32(g + ".eval_y"), kRtol, kAtol, g + ".eval_y");
}

TEST_F(TorchFixtures, BatchNormTorchConvention) { check_batchnorm(Fixture("layers.safetensors"), "bn_torch", BatchNormOptions::torch(), true); }

TEST_F(TorchFixtures, BatchNormKerasConvention) { check_batchnorm(Fixture("layers.safetensors"), "bn_keras", BatchNormOptions::keras(), false); }

TEST_F(TorchFixtures, BatchNormCumulativeAverage) {
  const Fixture f("layers.safetensors");
  BatchNormOptions o = BatchNormOptions::torch();
  o.momentum.reset();
  BatchNormalization bn(o);
  Rng rng(0);
  bn.build(Shape{5}, rng);
  Tensor y;
  for (const char* x : {".x1", ".x2", ".x3"}) bn.forward(f.tensor(std::string("bn_torch_cma") + x), y, Mode::Train);
  expect_close(as_vector(bn.running_mean), f.f32("bn_torch_cma.running_mean"), kRtol, kAtol, "running_mean");
  expect_close(as_vector(bn.running_var), f.f32("bn_torch_cma.running_var"), kRtol, kAtol, "running_var");
}

}  // namespace
}  // namespace bnlab
