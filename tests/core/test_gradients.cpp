// Every layer's gradients against central differences, in both modes where they differ.
#include "support/gradcheck.h"
#include "bnlab/layers/basic.h"
#include "bnlab/layers/batchnorm.h"
#include "bnlab/layers/dense.h"
#include "bnlab/layers/layernorm.h"

namespace bnlab {
namespace {

using testing::check_layer_gradients;
using testing::GradCheckOptions;
using testing::random_tensor;

template <class L>
void built_check(L& layer, const Shape& in, int N, const GradCheckOptions& o = {}, float lo = -1, float hi = 1) {
  Rng rng(1);
  layer.build(in, rng);
  // Non-trivial gamma and beta, so their gradients and the dx path through gamma are exercised.
  for (ParamRef& p : layer.params())
    if (p.trainable && p.value->numel())
      for (int64_t i = 0; i < p.value->numel(); ++i) (*p.value)[i] += static_cast<float>(0.5 * rng.uniform() - 0.25);
  check_layer_gradients(layer, random_tensor(in.with_batch(N), rng, lo, hi), o);
}

TEST(Gradients, DenseLinear) {
  Dense d(5);
  built_check(d, Shape{7}, 4);
}

TEST(Gradients, DenseReLUSkipsKinks) {
  Dense d(6, Activation::ReLU);
  built_check(d, Shape{5}, 8);
}

TEST(Gradients, DenseSigmoidTanhSoftmax) {
  for (Activation a : {Activation::Sigmoid, Activation::Tanh, Activation::Softmax}) {
    Dense d(4, a);
    built_check(d, Shape{3}, 5);
  }
}

TEST(Gradients, DenseWithoutBias) {
  Dense d(3, Activation::Linear, false);
  built_check(d, Shape{4}, 2);
}

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

TEST(Gradients, LayerNorm) {
  LayerNormalization ln;
  built_check(ln, Shape{6}, 4, {}, 1.0f, 3.0f);
  LayerNormalization ln_torch({1e-5f, true, true});
  built_check(ln_torch, Shape{5}, 3);
}

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
