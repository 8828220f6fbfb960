// The pooling layers: their gradients (windows that leave rows and columns out, overlapping
// windows, one-channel input), PyTorch's results, shapes and specs.
#include "bnlab/layers/pooling.h"

#include <gtest/gtest.h>

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

Pool2DOptions pool(int size, int stride = 0) {
  Pool2DOptions o;
  o.pool_h = o.pool_w = size;
  o.stride_h = o.stride_w = stride;
  return o;
}

// A 7x5 plane pooled by 2: the last row and column are in no window and get no gradient.
// The max's gradient is piecewise constant: the steps of 1e-3 do not move the argmax of random inputs.
TEST(Gradients, MaxPoolingWithLeftOverRowsAndOverlaps) {
  MaxPooling2D two(pool(2));
  built_check(two, Shape{3, 7, 5}, 2);
  MaxPooling2D overlapping(pool(3, 2));
  built_check(overlapping, Shape{2, 7, 6}, 2);
}

TEST(Gradients, AveragePoolingWithLeftOverRowsAndOverlaps) {
  AveragePooling2D two(pool(2));
  built_check(two, Shape{3, 7, 5}, 2);
  AveragePooling2D overlapping(pool(3, 2));
  built_check(overlapping, Shape{2, 7, 6}, 2);
}

TEST(Gradients, GlobalAveragePooling) {
  GlobalAveragePooling2D gap;
  built_check(gap, Shape{3, 4, 5}, 2);
}

TEST(Gradients, PoolingOneChannelImages) {
  MaxPooling2D max(pool(2));
  built_check(max, Shape{6, 5}, 2);
  GlobalAveragePooling2D gap;
  built_check(gap, Shape{4, 3}, 2);
}

// Rows and columns no window reaches get a zero gradient, set over whatever dx held.
TEST(PoolingLayers, LeftOverPixelsGetZeroGradient) {
  MaxPooling2D max(pool(2));
  AveragePooling2D avg(pool(2));
  for (Layer* l : {static_cast<Layer*>(&max), static_cast<Layer*>(&avg)}) {
    Rng rng(2);
    l->build(Shape{1, 5, 5}, rng);
    const Tensor x = testing::random_tensor(Shape{1, 1, 5, 5}, rng);
    Tensor y, dx(x.shape());
    dx.fill(8.0f);
    l->forward(x, y, Mode::Train);
    Tensor dy(y.shape());
    dy.fill(1.0f);
    l->backward(x, y, dy, &dx);
    float total = 0.0f;
    for (int i = 0; i < 5; ++i) {
      EXPECT_EQ(dx[4 * 5 + i], 0.0f) << l->type_name();  // the last row
      EXPECT_EQ(dx[i * 5 + 4], 0.0f) << l->type_name();  // the last column
    }
    for (int64_t i = 0; i < dx.numel(); ++i) total += dx[i];
    EXPECT_FLOAT_EQ(total, 4.0f) << l->type_name();  // each of the 4 windows passes on its 1
  }
}

TEST(PoolingLayers, ShapesSpecsAndNames) {
  Rng rng(1);
  MaxPooling2D max(pool(2));
  EXPECT_EQ(max.build(Shape{32, 26, 26}, rng), (Shape{32, 13, 13}));
  EXPECT_EQ(max.build(Shape{64, 11, 11}, rng), (Shape{64, 5, 5}));
  EXPECT_EQ(max.spec(), "maxpool:2");
  EXPECT_EQ(max.default_name(), "max_pooling2d");
  AveragePooling2D avg(pool(3, 1));
  EXPECT_EQ(avg.build(Shape{2, 5, 6}, rng), (Shape{2, 3, 4}));
  EXPECT_EQ(avg.spec(), "avgpool:3:stride=1");
  EXPECT_EQ(avg.type_name(), "AveragePooling2D");
  GlobalAveragePooling2D gap;
  EXPECT_EQ(gap.build(Shape{64, 5, 5}, rng), (Shape{64}));
  EXPECT_EQ(gap.torch_modules(), 2);  // nn.AdaptiveAvgPool2d(1), nn.Flatten()
  EXPECT_THROW(max.build(Shape{1, 1, 7}, rng), InputError);
  EXPECT_THROW(max.build(Shape{10}, rng), InputError);
  EXPECT_THROW(MaxPooling2D(pool(0)), InputError);
}

// PyTorch's MaxPool2d, AvgPool2d and AdaptiveAvgPool2d(1) + Flatten (make_conv_fixtures.py).
template <class L>
void expect_torch_case(L& layer, const std::string& p) {
  SCOPED_TRACE(p);
  const Fixture f("conv_layers.safetensors");
  const Tensor x = f.tensor(p + "x");
  Rng rng(0);
  layer.build(x.shape().without_batch(), rng);
  Tensor y, dx;
  layer.forward(x, y, Mode::Train);
  expect_close(as_vector(y), f.f32(p + "y"), kRtol, kAtol, "y");
  layer.backward(x, y, f.tensor(p + "dy"), &dx);
  expect_close(as_vector(dx), f.f32(p + "dx"), kRtol, kAtol, "dx");
}

TEST_F(TorchFixtures, MaxPooling) {
  MaxPooling2D two(pool(2)), overlapping(pool(3, 2));
  expect_torch_case(two, "maxpool2.");
  expect_torch_case(overlapping, "maxpool3_stride2.");
}

TEST_F(TorchFixtures, AveragePooling) {
  AveragePooling2D two(pool(2)), overlapping(pool(3, 2));
  expect_torch_case(two, "avgpool2.");
  expect_torch_case(overlapping, "avgpool3_stride2.");
}

TEST_F(TorchFixtures, GlobalAveragePooling) {
  GlobalAveragePooling2D gap;
  expect_torch_case(gap, "gap.");
}

}  // namespace
}  // namespace bnlab
