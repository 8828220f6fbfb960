// The GroupNormalization layer: per-sample statistics per group of channels over the group's pixels,
// on images and flat input, groups = 1 as LayerNorm, the same in training and inference, the build
// errors, its gradients and PyTorch's nn.GroupNorm.
#include "bnlab/layers/groupnorm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "bnlab/core/error.h"
#include "bnlab/layers/layernorm.h"
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
using testing::random_tensor;
using testing::TorchFixtures;

GroupNormOptions groups(int G) {
  GroupNormOptions o;
  o.groups = G;
  return o;
}

TEST(GroupNorm, EachGroupOfEachSampleIsNormalised) {
  GroupNormalization gn(groups(2));
  Rng rng(1);
  EXPECT_EQ(gn.build(Shape{4, 2, 3}, rng), (Shape{4, 2, 3}));
  const Tensor x = random_tensor(Shape{3, 4, 2, 3}, rng, 5.0f, 9.0f);
  Tensor y;
  gn.forward(x, y, Mode::Train);
  // Group g of sample n: channels 2g, 2g + 1, 12 contiguous values.
  for (int ng = 0; ng < 3 * 2; ++ng) {
    double mean = 0.0, var = 0.0;
    for (int i = 0; i < 12; ++i) mean += x[ng * 12 + i];
    mean /= 12;
    for (int i = 0; i < 12; ++i) var += std::pow(x[ng * 12 + i] - mean, 2);
    var /= 12;
    for (int i = 0; i < 12; ++i)
      EXPECT_NEAR(y[ng * 12 + i], (x[ng * 12 + i] - mean) / std::sqrt(var + 1e-5), 1e-5) << ng << " " << i;
  }
}

TEST(GroupNorm, OneGroupIsLayerNormOverChannelsAndPixels) {
  GroupNormOptions o = groups(1);
  o.eps = 1e-3f;
  GroupNormalization gn(o);
  LayerNormalization ln;  // eps 1e-3
  Rng rng(2);
  gn.build(Shape{3, 2, 2}, rng);
  ln.build(Shape{12}, rng);
  for (int i = 0; i < 12; ++i) {
    ln.weight[i] = gn.weight[i / 4] = 1.0f + 0.1f * (i / 4);
    ln.bias[i] = gn.bias[i / 4] = -0.2f * (i / 4);
  }
  const Tensor x = random_tensor(Shape{5, 3, 2, 2}, rng, -2.0f, 3.0f);
  Tensor y_gn, y_ln;
  gn.forward(x, y_gn, Mode::Train);
  ln.forward(Tensor::view(x.data(), Shape{5, 12}), y_ln, Mode::Train);
  for (int64_t i = 0; i < x.numel(); ++i) EXPECT_NEAR(y_gn[i], y_ln[i], 1e-5) << i;
}

TEST(GroupNorm, TrainingAndInferenceAgreeAndDoNotDependOnTheBatch) {
  GroupNormalization gn(groups(3));
  Rng rng(3);
  gn.build(Shape{6, 2, 2}, rng);
  const Tensor x = random_tensor(Shape{4, 6, 2, 2}, rng);
  Tensor y_train, y_eval, y_one;
  gn.forward(x, y_train, Mode::Train);
  gn.forward(x, y_eval, Mode::Eval);
  gn.forward(Tensor::view(x.data() + 24, Shape{1, 6, 2, 2}), y_one, Mode::Train);
  for (int64_t i = 0; i < x.numel(); ++i) EXPECT_EQ(y_train[i], y_eval[i]);
  for (int i = 0; i < 24; ++i) EXPECT_EQ(y_one[i], y_train[24 + i]) << "sample 1 alone";
}

TEST(GroupNorm, ChannelsNotDividedByTheGroupsAreAClearError) {
  GroupNormalization gn(groups(4));
  Rng rng(1);
  try {
    gn.build(Shape{6, 5, 5}, rng);
    FAIL() << "expected an error";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "gn:4: 6 channels do not split into 4 equal groups");
  }
  EXPECT_THROW(gn.build(Shape{28, 28}, rng), InputError);
  EXPECT_THROW(GroupNormalization(groups(0)), InputError);
}

TEST(GroupNorm, SpecRoundTrips) {
  EXPECT_EQ(GroupNormalization(groups(8)).spec(), "gn:8");
  GroupNormOptions o = groups(2);
  o.eps = 1e-3f;
  o.center = false;
  EXPECT_EQ(GroupNormalization(o).spec(), "gn:2:eps=0.001:center=0");
}

// ---- gradients ------------------------------------------------------------------------------------

TEST(Gradients, GroupNormImages) {
  GroupNormalization gn(groups(2));
  built_check(gn, Shape{4, 2, 3}, 2, {}, 1.0f, 4.0f);
}

TEST(Gradients, GroupNormOneGroupPerChannel) {
  GroupNormalization gn(groups(3));
  built_check(gn, Shape{3, 2, 2}, 2);
}

TEST(Gradients, GroupNormFlat) {
  GroupNormalization gn(groups(2));
  built_check(gn, Shape{6}, 3);
}

TEST(Gradients, GroupNormWithoutCenterOrScale) {
  GroupNormOptions o = groups(2);
  o.center = false;
  o.scale = false;
  GroupNormalization gn(o);
  built_check(gn, Shape{4, 2, 2}, 2);
}

TEST(Gradients, GroupNormEval) {
  GroupNormalization gn(groups(1));
  testing::GradCheckOptions o;
  o.mode = Mode::Eval;
  built_check(gn, Shape{2, 2, 2}, 2, o);
}

// ---- against PyTorch ------------------------------------------------------------------------------

void check_groupnorm(const std::string& g, int G) {
  const Fixture f("norm2d.safetensors");
  const Tensor x = f.tensor(g + ".x");
  GroupNormalization gn(groups(G));
  Rng rng(0);
  gn.build(x.shape().without_batch(), rng);
  gn.weight = f.tensor(g + ".gamma");
  gn.bias = f.tensor(g + ".beta");
  Tensor y, dx;
  gn.forward(x, y, Mode::Train);
  expect_close(as_vector(y), f.f32(g + ".y"), kRtol, 2 * kAtol, g + ".y");
  gn.zero_grad();
  gn.backward(x, y, f.tensor(g + ".dy"), &dx);
  expect_close(as_vector(dx), f.f32(g + ".dx"), kRtol, 2 * kAtol, g + ".dx");
  expect_close(as_vector(gn.weight_grad), f.f32(g + ".dgamma"), kRtol, 5 * kAtol, g + ".dgamma");
  expect_close(as_vector(gn.bias_grad), f.f32(g + ".dbeta"), kRtol, 5 * kAtol, g + ".dbeta");
}

TEST_F(TorchFixtures, GroupNormImages) { check_groupnorm("gn4d", 3); }
TEST_F(TorchFixtures, GroupNormOneGroup) { check_groupnorm("gn4d_layer", 1); }
TEST_F(TorchFixtures, GroupNormFlat) { check_groupnorm("gn2d", 2); }

}  // namespace
}  // namespace bnlab
