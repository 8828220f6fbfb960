// The BatchNormalization layer on images (N, C, H, W): statistics per channel over N, H and W, both
// conventions' moving statistics (the unbiased variance over N * H * W values), inference with the
// folded formula, its gradients (Batch Renormalization too) and PyTorch's BatchNorm2d.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "bnlab/core/error.h"
#include "bnlab/layers/batchnorm.h"
#include "support/batch_stats.h"
#include "support/gradcheck.h"
#include "support/torch_fixture.h"

namespace bnlab {
namespace {

using testing::as_vector;
using testing::built_check;
using testing::channel_stats;
using testing::check_layer_gradients;
using testing::expect_close;
using testing::Fixture;
using testing::GradCheckOptions;
using testing::kAtol;
using testing::kRtol;
using testing::random_tensor;
using testing::Stats;
using testing::TorchFixtures;

// Batches of N images of C channels, H = 3, W = 4, channel means away from 0.
constexpr int C = 3, H = 3, W = 4;
std::vector<Tensor> batches(int count, int N) {
  Rng rng(7);
  std::vector<Tensor> out;
  for (int i = 0; i < count; ++i) out.push_back(random_tensor(Shape{N, C, H, W}, rng, 10.0f + i, 14.0f + 2 * i));
  return out;
}

TEST(BatchNorm2d, TrainNormalisesEachChannelOverBatchAndPixels) {
  BatchNormalization bn;
  Rng rng(1);
  EXPECT_EQ(bn.build(Shape{C, H, W}, rng), (Shape{C, H, W}));
  EXPECT_EQ(bn.weight.numel(), C);
  const Tensor x = batches(1, 5)[0];
  Tensor y;
  bn.forward(x, y, Mode::Train);
  const Stats s = channel_stats(x);
  for (int64_t i = 0; i < x.numel(); ++i) {
    const int c = static_cast<int>(i / (H * W) % C);
    EXPECT_NEAR(y[i], (x[i] - s.mean[c]) / std::sqrt(s.var[c] + 1e-3), 1e-5) << i;
  }
}

TEST(BatchNorm2d, KerasMovingStatisticsUseTheBiasedVariance) {
  BatchNormalization bn;
  Rng rng(1);
  bn.build(Shape{C, H, W}, rng);
  std::vector<double> mm(C, 0.0), mv(C, 1.0);
  Tensor y;
  for (const Tensor& x : batches(4, 2)) {
    bn.forward(x, y, Mode::Train);
    const Stats s = channel_stats(x);
    for (int c = 0; c < C; ++c) {
      mm[c] = mm[c] * 0.99 + s.mean[c] * 0.01;
      mv[c] = mv[c] * 0.99 + s.var[c] * 0.01;
    }
  }
  for (int c = 0; c < C; ++c) {
    EXPECT_NEAR(bn.running_mean[c], mm[c], 1e-5 * std::fabs(mm[c]));
    EXPECT_NEAR(bn.running_var[c], mv[c], 1e-5 * std::fabs(mv[c]));
  }
  EXPECT_EQ(bn.num_batches_tracked, 4);
}

TEST(BatchNorm2d, TorchRunningVarianceIsUnbiasedOverAllValuesOfAChannel) {
  BatchNormalization bn(BatchNormOptions::torch());
  Rng rng(1);
  bn.build(Shape{C, H, W}, rng);
  std::vector<double> rm(C, 0.0), rv(C, 1.0);
  const double n = 2 * H * W;  // values per channel: N = 2 images of H x W
  Tensor y;
  for (const Tensor& x : batches(4, 2)) {
    bn.forward(x, y, Mode::Train);
    const Stats s = channel_stats(x);
    for (int c = 0; c < C; ++c) {
      rm[c] = 0.9 * rm[c] + 0.1 * s.mean[c];
      rv[c] = 0.9 * rv[c] + 0.1 * s.var[c] * n / (n - 1);
    }
  }
  for (int c = 0; c < C; ++c) {
    EXPECT_NEAR(bn.running_mean[c], rm[c], 1e-5 * std::fabs(rm[c]));
    EXPECT_NEAR(bn.running_var[c], rv[c], 1e-5 * std::fabs(rv[c]));
  }
}

TEST(BatchNorm2d, EvalUsesTheFoldedMovingStatisticsPerChannel) {
  BatchNormalization bn;
  Rng rng(1);
  bn.build(Shape{C, H, W}, rng);
  Tensor y;
  for (const Tensor& x : batches(3, 2)) bn.forward(x, y, Mode::Train);
  for (int c = 0; c < C; ++c) {
    bn.weight[c] = 1.5f + c;
    bn.bias[c] = -0.5f * c;
  }
  const Tensor x = batches(1, 3)[0];
  const std::vector<float> mean_before = as_vector(bn.running_mean);
  bn.forward(x, y, Mode::Eval);
  EXPECT_EQ(as_vector(bn.running_mean), mean_before) << "eval must not update statistics";
  for (int64_t i = 0; i < x.numel(); ++i) {
    const int c = static_cast<int>(i / (H * W) % C);
    const double scale = bn.weight[c] / std::sqrt((double)bn.running_var[c] + 1e-3);
    const double expected = x[i] * scale + (bn.bias[c] - bn.running_mean[c] * scale);
    EXPECT_NEAR(y[i], expected, 1e-5 * (1 + std::fabs(expected))) << i;
  }
}

TEST(BatchNorm2d, OneImageTrainsButOneValuePerChannelIsAClearError) {
  BatchNormalization bn;
  bn.name = "batch_normalization";
  Rng rng(1);
  bn.build(Shape{C, H, W}, rng);
  Tensor y;
  EXPECT_NO_THROW(bn.forward(batches(1, 1)[0], y, Mode::Train)) << "one image has H * W values per channel";

  BatchNormalization pixel;
  pixel.name = "batch_normalization";
  pixel.build(Shape{C, 1, 1}, rng);
  try {
    pixel.forward(Tensor(Shape{1, C, 1, 1}), y, Mode::Train);
    FAIL() << "expected an error";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(),
                 "batch_normalization: training needs more than 1 value per feature, got a batch of 1 (use a larger batch)");
  }
}

TEST(BatchNorm2d, ImagesOfOnePixelAreTheFlatLayer) {
  // (N, C, 1, 1) through the image kernels against (N, C) through the flat ones.
  BatchNormalization images(BatchNormOptions::torch()), flat(BatchNormOptions::torch());
  Rng rng(5);
  images.build(Shape{4, 1, 1}, rng);
  flat.build(Shape{4}, rng);
  const Tensor x4 = random_tensor(Shape{9, 4, 1, 1}, rng, -3.0f, 5.0f);
  const Tensor x2 = Tensor::view(x4.data(), Shape{9, 4});
  const Tensor dy = random_tensor(Shape{9, 4}, rng);
  Tensor y4, y2, dx4, dx2;
  images.forward(x4, y4, Mode::Train);
  flat.forward(x2, y2, Mode::Train);
  images.zero_grad();
  flat.zero_grad();
  images.backward(x4, y4, Tensor::view(dy.data(), Shape{9, 4, 1, 1}), &dx4);
  flat.backward(x2, y2, dy, &dx2);
  for (int64_t i = 0; i < x4.numel(); ++i) {
    EXPECT_NEAR(y4[i], y2[i], 1e-6) << i;
    EXPECT_NEAR(dx4[i], dx2[i], 1e-6) << i;
  }
  for (int c = 0; c < 4; ++c) {
    EXPECT_NEAR(images.weight_grad[c], flat.weight_grad[c], 1e-5);
    EXPECT_NEAR(images.bias_grad[c], flat.bias_grad[c], 1e-5);
    EXPECT_FLOAT_EQ(images.running_mean[c], flat.running_mean[c]);
    EXPECT_FLOAT_EQ(images.running_var[c], flat.running_var[c]);
  }
}

TEST(BatchNorm2d, RanksOtherThanFlatOrImagesAreRefused) {
  BatchNormalization bn;
  Rng rng(1);
  EXPECT_THROW(bn.build(Shape{28, 28}, rng), InputError);
}

// ---- gradients ------------------------------------------------------------------------------------

TEST(Gradients, BatchNorm2dTrainKeras) {
  BatchNormalization bn;
  built_check(bn, Shape{C, 2, 3}, 3, {}, 2.0f, 6.0f);  // non-zero mean: the (x - mean) terms matter
}

TEST(Gradients, BatchNorm2dTrainTorch) {
  BatchNormalization bn(BatchNormOptions::torch());
  built_check(bn, Shape{2, 3, 2}, 2);
}

TEST(Gradients, BatchNorm2dWithoutCenterOrScale) {
  BatchNormOptions o;
  o.center = false;
  o.scale = false;
  BatchNormalization bn(o);
  built_check(bn, Shape{2, 2, 2}, 3);
}

TEST(Gradients, BatchNorm2dEval) {
  BatchNormalization bn;
  Rng rng(3);
  bn.build(Shape{C, 2, 2}, rng);
  for (int c = 0; c < C; ++c) {
    bn.running_mean[c] = 0.3f * c;
    bn.running_var[c] = 0.5f + c;
    bn.weight[c] = 1.0f + 0.2f * c;
  }
  GradCheckOptions o;
  o.mode = Mode::Eval;
  check_layer_gradients(bn, random_tensor(Shape{2, C, 2, 2}, rng), o);
}

// Where r and d are clipped they are constants, so the renorm gradient is the true gradient (the
// moving statistics are reset before every forward).
TEST(Gradients, BatchRenorm2dWhereRAndDAreClipped) {
  BatchNormOptions o;
  o.renorm = true;
  o.rmax = 2.0f;
  o.dmax = 0.5f;
  BatchNormalization bn(o);
  Rng rng(3);
  bn.build(Shape{4, 2, 2}, rng);
  for (int c = 0; c < 4; ++c) {
    bn.weight[c] = 0.8f + 0.1f * c;
    bn.bias[c] = 0.2f * c - 0.3f;
  }
  Tensor moving_mean(Shape{4}), moving_var(Shape{4});
  for (int c = 0; c < 4; ++c) {
    moving_mean[c] = c % 2 ? 30.0f : -30.0f;
    moving_var[c] = c < 2 ? 400.0f : 1e-4f;
  }
  GradCheckOptions g;
  g.before_forward = [&] {
    bn.running_mean = moving_mean;
    bn.running_var = moving_var;
  };
  check_layer_gradients(bn, random_tensor(Shape{2, 4, 2, 2}, rng), g);
}

TEST(BatchNorm2d, UnclippedRenormTrainingOutputIsTheInferenceOutput) {
  BatchNormOptions o;
  o.renorm = true;
  o.rmax = 1e6f;
  o.dmax = 1e6f;
  BatchNormalization bn(o);
  Rng rng(4);
  bn.build(Shape{C, H, W}, rng);
  for (int c = 0; c < C; ++c) {
    bn.running_mean[c] = 1.5f + 0.2f * c;
    bn.running_var[c] = 0.3f + 0.1f * c;
  }
  const Tensor x = random_tensor(Shape{2, C, H, W}, rng, 1.0f, 3.0f);
  Tensor y_eval, y_train;
  bn.forward(x, y_eval, Mode::Eval);
  bn.forward(x, y_train, Mode::Train);
  for (int64_t i = 0; i < x.numel(); ++i) EXPECT_NEAR(y_train[i], y_eval[i], 1e-5) << i;
}

// ---- against PyTorch ------------------------------------------------------------------------------

// The fixture's x1 forward and backward, then x2 and x3, and inference on x1 (make_norm2d_fixtures.py).
void check_batchnorm2d(const std::string& g, BatchNormOptions options) {
  const Fixture f("norm2d.safetensors");
  BatchNormalization bn(options);
  Rng rng(0);
  bn.build(Shape{3, 5, 5}, rng);
  bn.weight = f.tensor("bn2d_torch.gamma");
  bn.bias = f.tensor("bn2d_torch.beta");
  const Tensor x1 = f.tensor("bn2d_torch.x1");
  Tensor y, dx;
  bn.forward(x1, y, Mode::Train);
  expect_close(as_vector(y), f.f32(g + ".y"), kRtol, kAtol, g + ".y");
  bn.zero_grad();
  bn.backward(x1, y, f.tensor("bn2d_torch.dy"), &dx);
  expect_close(as_vector(dx), f.f32(g + ".dx"), kRtol, 2 * kAtol, g + ".dx");
  expect_close(as_vector(bn.weight_grad), f.f32(g + ".dgamma"), kRtol, 5 * kAtol, g + ".dgamma");
  expect_close(as_vector(bn.bias_grad), f.f32(g + ".dbeta"), kRtol, 5 * kAtol, g + ".dbeta");
  bn.forward(f.tensor("bn2d_torch.x2"), y, Mode::Train);
  bn.forward(f.tensor("bn2d_torch.x3"), y, Mode::Train);
  expect_close(as_vector(bn.running_mean), f.f32(g + ".running_mean"), kRtol, kAtol, g + ".running_mean");
  expect_close(as_vector(bn.running_var), f.f32(g + ".running_var"), kRtol, kAtol, g + ".running_var");
  bn.forward(x1, y, Mode::Eval);
  expect_close(as_vector(y), f.f32(g + ".eval_y"), kRtol, kAtol, g + ".eval_y");
}

TEST_F(TorchFixtures, BatchNorm2dTorchConvention) {
  check_batchnorm2d("bn2d_torch", BatchNormOptions::torch());
  EXPECT_EQ(Fixture("norm2d.safetensors").i64("bn2d_torch.num_batches_tracked")[0], 3);
}

TEST_F(TorchFixtures, BatchNorm2dKerasConvention) { check_batchnorm2d("bn2d_keras", BatchNormOptions::keras()); }

TEST_F(TorchFixtures, BatchNorm2dCumulativeAverage) {
  const Fixture f("norm2d.safetensors");
  BatchNormOptions o = BatchNormOptions::torch();
  o.momentum.reset();
  BatchNormalization bn(o);
  Rng rng(0);
  bn.build(Shape{3, 5, 5}, rng);
  Tensor y;
  for (const char* x : {"bn2d_torch.x1", "bn2d_torch.x2", "bn2d_torch.x3"}) bn.forward(f.tensor(x), y, Mode::Train);
  expect_close(as_vector(bn.running_mean), f.f32("bn2d_torch_cma.running_mean"), kRtol, kAtol, "running_mean");
  expect_close(as_vector(bn.running_var), f.f32("bn2d_torch_cma.running_var"), kRtol, kAtol, "running_var");
}

}  // namespace
}  // namespace bnlab
