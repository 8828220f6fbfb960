// The Conv2D layer: its gradients (stride, valid and SAME padding, 1x1, no bias, one-channel
// input, activations), PyTorch's results, its shapes, spec and Keras initialisation.
#include "bnlab/layers/conv2d.h"

#include <gtest/gtest.h>

#include <cmath>

#include "bnlab/core/error.h"
#include "support/gradcheck.h"
#include "support/torch_fixture.h"

namespace bnlab {
namespace {

using testing::as_vector;
using testing::built_check;
using testing::expect_close;
using testing::Fixture;
using testing::kAtol;
using testing::kRtol;
using testing::TorchFixtures;

Conv2DOptions options(int kh, int kw, int stride, Padding padding, Activation act = Activation::Linear,
                      bool use_bias = true) {
  Conv2DOptions o;
  o.kernel_h = kh, o.kernel_w = kw, o.stride_h = stride, o.stride_w = stride;
  o.padding = padding, o.activation = act, o.use_bias = use_bias;
  return o;
}

TEST(Gradients, Conv2DValid) {
  Conv2D c(3, options(3, 3, 1, Padding::Valid));
  built_check(c, Shape{2, 6, 5}, 3);
}

TEST(Gradients, Conv2DReLUSkipsKinks) {
  Conv2D c(4, options(3, 2, 1, Padding::Valid, Activation::ReLU));
  built_check(c, Shape{2, 5, 5}, 2);
}

TEST(Gradients, Conv2DSameAtStrideTwo) {
  Conv2D c(3, options(3, 3, 2, Padding::Same, Activation::Tanh));
  built_check(c, Shape{2, 8, 7}, 2);  // zeros after the image only along H, on both sides along W
}

TEST(Gradients, Conv2DSameWithEvenKernelWithoutBias) {
  Conv2D c(2, options(4, 4, 1, Padding::Same, Activation::Sigmoid, false));
  built_check(c, Shape{2, 5, 6}, 2);
}

TEST(Gradients, Conv2DStrideAboveKernelAndOneByOne) {
  Conv2D skip(2, options(2, 2, 3, Padding::Valid));
  built_check(skip, Shape{1, 8, 8}, 2);
  Conv2D pointwise(3, options(1, 1, 1, Padding::Valid));
  built_check(pointwise, Shape{4, 3, 3}, 3);
}

// More samples than one group of the weight-gradient sums (kernels/conv2d.h).
TEST(Gradients, Conv2DOverSeveralGroups) {
  Conv2D c(2, options(2, 2, 1, Padding::Valid));
  built_check(c, Shape{1, 4, 4}, kSamplesPerGroup + 3);
}

// (H, W) samples, e.g. raw MNIST, are one channel.
TEST(Conv2DLayer, TwoDimensionalSamplesAreOneChannel) {
  Conv2D c(32, options(3, 3, 1, Padding::Valid, Activation::ReLU));
  Rng rng(1);
  EXPECT_EQ(c.build(Shape{28, 28}, rng), (Shape{32, 26, 26}));
  EXPECT_EQ(c.weight.shape(), (Shape{32, 1, 3, 3}));
  EXPECT_EQ(c.count_params(true), 320);
  built_check(c, Shape{6, 5}, 2);
}

TEST(Conv2DLayer, ShapesForEachPadding) {
  Rng rng(1);
  Conv2D same(64, options(3, 3, 1, Padding::Same));
  EXPECT_EQ(same.build(Shape{32, 13, 13}, rng), (Shape{64, 13, 13}));
  Conv2D strided(8, options(3, 3, 2, Padding::Same));
  EXPECT_EQ(strided.build(Shape{1, 28, 28}, rng), (Shape{8, 14, 14}));
  EXPECT_EQ(strided.geometry(1).pad_top, 0);  // (14 - 1) 2 + 3 - 28 = 1 zero, after the image
  Conv2D odd(8, options(3, 3, 2, Padding::Same));
  odd.build(Shape{1, 27, 27}, rng);
  EXPECT_EQ(odd.geometry(1).pad_top, 1);  // 2 zeros, one each side
  Conv2D valid(8, options(5, 3, 2, Padding::Valid));
  EXPECT_EQ(valid.build(Shape{2, 12, 9}, rng), (Shape{8, 4, 4}));
  Conv2D too_big(8, options(5, 5, 1, Padding::Valid));
  EXPECT_THROW(too_big.build(Shape{4, 4}, rng), InputError);
  EXPECT_THROW(too_big.build(Shape{16}, rng), InputError);
  EXPECT_THROW(Conv2D(8, options(3, 3, 1, Padding::Valid, Activation::Softmax)), InputError);
}

TEST(Conv2DLayer, SpecNamesAndTorchModules) {
  Conv2D plain(32, options(3, 3, 1, Padding::Valid, Activation::ReLU));
  EXPECT_EQ(plain.spec(), "conv:32:3:relu");
  EXPECT_EQ(plain.torch_modules(), 2);  // nn.Conv2d, nn.ReLU
  Conv2D other(16, options(3, 5, 2, Padding::Same, Activation::Linear, false));
  EXPECT_EQ(other.spec(), "conv:16:3x5:same:stride=2:nobias");
  EXPECT_EQ(other.torch_modules(), 1);
  EXPECT_EQ(other.type_name(), "Conv2D");
  EXPECT_EQ(other.default_name(), "conv2d");
}

// Keras' defaults: Glorot-uniform weights within sqrt(6 / (fan_in + fan_out)), fan = channels
// times the kernel's area, spread over that range; zero bias.
TEST(Conv2DLayer, KerasInitialisation) {
  Conv2D c(64, options(3, 3, 1, Padding::Valid));
  Rng rng(7);
  c.build(Shape{32, 11, 11}, rng);
  const double limit = std::sqrt(6.0 / (32 * 9 + 64 * 9));
  double largest = 0.0, sum = 0.0;
  for (int64_t i = 0; i < c.weight.numel(); ++i) {
    largest = std::max(largest, double(std::fabs(c.weight[i])));
    sum += c.weight[i];
  }
  EXPECT_LE(largest, limit);
  EXPECT_GT(largest, 0.99 * limit);
  EXPECT_NEAR(sum / c.weight.numel(), 0.0, 0.01 * limit);
  for (int64_t i = 0; i < c.bias.numel(); ++i) EXPECT_EQ(c.bias[i], 0.0f);
}

// nn.Conv2d's forward and backward (tests/fixtures/make_conv_fixtures.py).
void expect_torch_case(const char* prefix, int filters, const Conv2DOptions& o) {
  SCOPED_TRACE(prefix);
  const Fixture f("conv_layers.safetensors");
  const std::string p = prefix;
  const Tensor x = f.tensor(p + "x");
  Conv2D c(filters, o);
  Rng rng(0);
  c.build(x.shape().without_batch(), rng);
  c.weight = f.tensor(p + "weight");
  if (o.use_bias) c.bias = f.tensor(p + "bias");
  Tensor y, dx;
  c.forward(x, y, Mode::Train);
  expect_close(as_vector(y), f.f32(p + "y"), kRtol, kAtol, "y");
  c.zero_grad();
  c.backward(x, y, f.tensor(p + "dy"), &dx);
  expect_close(as_vector(dx), f.f32(p + "dx"), kRtol, kAtol, "dx");
  expect_close(as_vector(c.weight_grad), f.f32(p + "dweight"), kRtol, kAtol, "dweight");
  if (o.use_bias) expect_close(as_vector(c.bias_grad), f.f32(p + "dbias"), kRtol, kAtol, "dbias");
}

TEST_F(TorchFixtures, Conv2DValidReLU) {
  expect_torch_case("conv_valid_relu.", 4, options(3, 3, 1, Padding::Valid, Activation::ReLU));
}

TEST_F(TorchFixtures, Conv2DSameAtStrideTwo) {
  expect_torch_case("conv_same_stride2.", 3, options(3, 3, 2, Padding::Same));
}

TEST_F(TorchFixtures, Conv2DSameEvenKernelTanhWithoutBias) {
  expect_torch_case("conv_same_even.", 3, options(4, 3, 1, Padding::Same, Activation::Tanh, false));
}

}  // namespace
}  // namespace bnlab
