// The layers without parameters: activations, Flatten and Dropout (its mask replayed), by their gradients.
#include "bnlab/layers/basic.h"

#include <gtest/gtest.h>

#include "support/gradcheck.h"

namespace bnlab {
namespace {

using testing::built_check;
using testing::check_layer_gradients;
using testing::GradCheckOptions;
using testing::random_tensor;

TEST(Gradients, ActivationLayers) {
  for (Activation a : {Activation::ReLU, Activation::Sigmoid, Activation::Tanh, Activation::Softmax}) {
    ActivationLayer l(a);
    built_check(l, Shape{5}, 4);
  }
}

TEST(Gradients, Flatten) {
  Flatten f;
  built_check(f, Shape{2, 3}, 2);
}

// Images (N, C, H, W) flatten in PyTorch's order, C then H then W: the order they are held in.
TEST(Gradients, FlattenImages) {
  Flatten f;
  Rng rng(3);
  EXPECT_EQ(f.build(Shape{2, 3, 4}, rng), (Shape{24}));
  const Tensor x = random_tensor(Shape{2, 2, 3, 4}, rng);
  Tensor y;
  f.forward(x, y, Mode::Train);
  ASSERT_EQ(y.shape(), (Shape{2, 24}));
  // y[n, (c H + h) W + w] = x[n, c, h, w]
  EXPECT_EQ(y[1 * 24 + (1 * 3 + 2) * 4 + 3], x[((1 * 2 + 1) * 3 + 2) * 4 + 3]);
  EXPECT_EQ(y[0 * 24 + (0 * 3 + 1) * 4 + 2], x[((0 * 2 + 0) * 3 + 1) * 4 + 2]);
  built_check(f, Shape{2, 3, 2}, 2);
}

TEST(Gradients, DropoutOnImagesWithReplayedMask) {
  Dropout d(0.5f);
  Rng rng(6);
  EXPECT_EQ(d.build(Shape{3, 4, 5}, rng), (Shape{3, 4, 5}));
  const auto state = d.rng().state();
  GradCheckOptions o;
  o.before_forward = [&] { d.rng().set_state(state); };
  const Tensor x = random_tensor(Shape{2, 3, 4, 5}, rng);
  Tensor y;
  d.forward(x, y, Mode::Train);
  int dropped = 0;
  for (int64_t i = 0; i < y.numel(); ++i) {
    EXPECT_TRUE(y[i] == 0.0f || y[i] == 2.0f * x[i]) << i;
    dropped += y[i] == 0.0f;
  }
  EXPECT_GT(dropped, 30);
  EXPECT_LT(dropped, 90);
  check_layer_gradients(d, x, o);
}

TEST(Gradients, DropoutWithReplayedMask) {
  Dropout d(0.3f);
  Rng rng(5);
  d.build(Shape{10}, rng);
  const auto state = d.rng().state();
  GradCheckOptions o;
  o.before_forward = [&] { d.rng().set_state(state); };
  check_layer_gradients(d, random_tensor(Shape{4, 10}, rng), o);
}

}  // namespace
}  // namespace bnlab
