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
