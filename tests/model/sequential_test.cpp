// The Sequential model: its state dict's names, its loss gradient against central differences, and
// ten training steps of the seed's BN MLP against PyTorch's, through the plain loop and the plan.
#include "bnlab/model/sequential.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "bnlab/model/plan.h"
#include "bnlab/model/spec.h"
#include "bnlab/optim/optimizer.h"
#include "support/gradcheck.h"
#include "support/models.h"
#include "support/torch_fixture.h"

namespace bnlab {
namespace {

using testing::built;
using testing::expect_close;
using testing::Fixture;
using testing::TorchFixtures;

TEST(StateDict, UsesPyTorchSequentialNames) {
  Sequential m = built("mlp-bn", Shape{28, 28});
  std::vector<std::string> keys;
  for (StateEntry& e : m.state_dict()) keys.push_back(e.key);
  const std::vector<std::string> expected = {
      "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked", "2.weight", "2.bias",
      "4.weight", "4.bias", "4.running_mean", "4.running_var", "4.num_batches_tracked", "5.weight", "5.bias",
      "7.weight", "7.bias", "7.running_mean", "7.running_var", "7.num_batches_tracked", "8.weight", "8.bias"};
  EXPECT_EQ(keys, expected);
}

// The whole model: forward_backward's gradients against central differences of the mean loss.
// The model's current parameter gradients (of the mean loss over x's batch, from the last
// forward_backward) against central differences of that loss, parameter by parameter.
void expect_gradients_match_central_differences(Sequential& m, const Tensor& x, const int32_t* labels) {
  const double n = static_cast<double>(x.dim(0));
  std::vector<ParamRef> params = m.trainable_params();
  std::vector<Tensor> analytic;  // each forward_backward adds to the gradients, so keep them aside
  for (ParamRef& p : params) analytic.push_back(*p.grad);
  for (size_t k = 0; k < params.size(); ++k) {
    Tensor& value = *params[k].value;
    for (int64_t i = 0; i < value.numel(); ++i) {
      const float saved = value[i];
      const double h = 1e-3;
      value[i] = static_cast<float>(saved + h);
      const double lp = m.forward_backward(x, labels).loss_sum / n;
      value[i] = static_cast<float>(saved - h);
      const double lm = m.forward_backward(x, labels).loss_sum / n;
      value[i] = saved;
      const double numeric = (lp - lm) / (2 * h);
      EXPECT_NEAR(analytic[k][i], numeric, 2e-3 + 2e-2 * std::fabs(numeric)) << params[k].name << "[" << i << "]";
    }
  }
}

TEST(Gradients, WholeModelLossGradient) {
  Sequential m = built("flatten,bn,dense:6:tanh,ln,dense:5:sigmoid,bn:torch,dense:3:softmax", Shape{2, 2});
  Rng rng(4);
  const Tensor x = testing::random_tensor(Shape{6, 2, 2}, rng);
  const int32_t labels[6] = {0, 1, 2, 0, 1, 2};
  m.zero_grad();
  const LossResult base = m.forward_backward(x, labels);
  EXPECT_GT(base.loss_sum, 0.0);
  expect_gradients_match_central_differences(m, x, labels);
}

// ---- the seed's BN MLP against PyTorch, 10 steps -------------------------------------------------
//
// Tolerances: losses to 1e-5 relative; gradients at step 0 to 1e-5 of each tensor's largest entry;
// final state to 2e-5 absolute + 5e-6 relative (about 40 float32 ulps after 10 steps in which every
// difference in summation order compounds; running variances reach ~70), except the biases of Dense
// layers followed by BatchNormalization, whose true gradient is exactly zero (BN removes any
// constant shift): there both sides' gradients are round-off noise that Adam normalises into steps
// of up to lr, so only |b| <= 10 steps * lr is asserted.

void init_by_formula(Sequential& m) {
  int t = 0;
  for (StateEntry& e : m.state_dict()) {
    if (!e.tensor || e.tensor->shape().rank() != 2) continue;
    const int64_t out = e.tensor->dim(0), in = e.tensor->dim(1);
    const double limit = std::sqrt(6.0 / double(in + out));
    for (int64_t i = 0; i < e.tensor->numel(); ++i) {
      const uint64_t h = (uint64_t(i) * 2654435761ull + uint64_t(t) * 40503ull + 12345ull) % 4294967296ull;
      (*e.tensor)[i] = static_cast<float>((2.0 * (double(h) / 4294967296.0) - 1.0) * limit);
    }
    ++t;
  }
}

void make_batch(int s, Tensor& x, std::vector<int32_t>& labels) {
  x.resize({64, 784});
  labels.resize(64);
  for (int n = 0; n < 64; ++n) {
    const uint64_t g = uint64_t(s) * 64 + n;
    for (int k = 0; k < 784; ++k) {
      const uint64_t pixel = (((g * 784 + k) * 2654435761ull) % 4294967296ull) >> 24;
      x[n * 784 + k] = static_cast<float>(double(pixel) / 255.0);
    }
    labels[n] = static_cast<int32_t>((((g * 2246822519ull) % 4294967296ull) >> 16) % 10);
  }
}

// Ten steps of the model against PyTorch's, through the plain loop or through the training plan
// that fit runs (model/plan.h).
void check_mlp_run(const std::string& file, const std::string& spec, AdamOptions adam, bool planned) {
  SCOPED_TRACE(planned ? "the training plan" : "the plain loop");
  const Fixture f(file);
  Sequential m = make_model(spec);
  m.build(Shape{784}, 0);
  m.compile(std::make_unique<Adam>(adam));
  init_by_formula(m);
  expect_close(m.state_dict()[5].tensor->data(), f.f32("check.init_2.weight.row0"), 0, 0, "init row0");

  Tensor x;
  std::vector<int32_t> labels;
  make_batch(0, x, labels);
  expect_close(x.data(), f.f32("check.batch0.x"), 0, 0, "batch0.x");
  const std::vector<int64_t> want_labels = f.i64("check.batch0.labels");
  for (int n = 0; n < 64; ++n) ASSERT_EQ(labels[n], want_labels[n]);

  const std::vector<float> loss = f.f32("loss"), accuracy = f.f32("accuracy");
  TrainingPlan plan(m);
  for (int s = 0; s < 10; ++s) {
    make_batch(s, x, labels);
    if (!planned) m.zero_grad();
    const LossResult r = planned ? plan.forward_backward(x, labels.data()) : m.forward_backward(x, labels.data());
    EXPECT_NEAR(r.loss_sum / 64, loss[s], 1e-5 * loss[s]) << "loss at step " << s;
    EXPECT_EQ(r.correct, std::lround(accuracy[s] * 64)) << "accuracy at step " << s;
    if (s == 0) {
      for (StateEntry& e : m.state_dict()) {
        if (!e.trainable) continue;
        const std::vector<float> want = f.f32("grad_step0." + e.key);
        float scale = 0;
        for (float v : want) scale = std::max(scale, std::fabs(v));
        const ParamRef* p = nullptr;
        std::vector<ParamRef> params = m.trainable_params();
        for (ParamRef& q : params)
          if (q.value == e.tensor) p = &q;
        ASSERT_NE(p, nullptr);
        expect_close(p->grad->data(), want, 0, 1e-5 * scale + 1e-9, "grad_step0." + e.key);
      }
    }
    m.optimizer()->step(m.trainable_params());
  }
  for (StateEntry& e : m.state_dict()) {
    if (e.counter) {
      EXPECT_EQ(*e.counter, f.i64(e.key)[0]) << e.key;
      continue;
    }
    const std::vector<float> want = f.f32(e.key);
    if (e.key == "2.bias" || e.key == "5.bias") {  // feed a BN: zero true gradient (see top)
      for (int64_t i = 0; i < e.tensor->numel(); ++i) EXPECT_LE(std::fabs((*e.tensor)[i]), 10 * adam.learning_rate * 1.01) << e.key;
      continue;
    }
    expect_close(e.tensor->data(), want, 5e-6, 2e-5, e.key);
  }
  make_batch(0, x, labels);
  const Tensor& probs = m.forward(x, Mode::Eval);
  expect_close(probs.data(), f.f32("eval_probs"), 0, 2e-5, "eval_probs");
}

TEST_F(TorchFixtures, SeedBnMlpTenStepsTorchConventions) {
  AdamOptions adam;
  adam.epsilon = 1e-8;
  adam.style = AdamStyle::Torch;
  for (bool planned : {false, true})
    check_mlp_run("mlp_bn_torch.safetensors",
                  "flatten,bn:torch,dense:256:relu,bn:torch,dense:128:relu,bn:torch,dense:10:softmax", adam, planned);
}

TEST_F(TorchFixtures, SeedBnMlpTenStepsKerasConventions) {
  for (bool planned : {false, true}) check_mlp_run("mlp_bn_keras.safetensors", "mlp-bn", AdamOptions{}, planned);
}

}  // namespace
}  // namespace bnlab
