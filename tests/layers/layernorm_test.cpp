// The LayerNormalization layer's gradients, under Keras' and PyTorch's epsilons.
#include "bnlab/layers/layernorm.h"

#include <gtest/gtest.h>

#include "support/gradcheck.h"

namespace bnlab {
namespace {

using testing::built_check;

TEST(Gradients, LayerNorm) {
  LayerNormalization ln;
  built_check(ln, Shape{6}, 4, {}, 1.0f, 3.0f);
  LayerNormalization ln_torch({1e-5f, true, true});
  built_check(ln_torch, Shape{5}, 3);
}

}  // namespace
}  // namespace bnlab
