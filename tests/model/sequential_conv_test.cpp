// Ten training steps of the conv presets `cnn-bn` and `cnn` against PyTorch's, Keras conventions
// (tests/fixtures/make_cnn_fixtures.py): the losses and accuracies of every step, the gradients of
// the first, the final weights and moving statistics, and the trained model's output, through the
// plain loop and through the training plan.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "bnlab/layers/basic.h"
#include "bnlab/model/plan.h"
#include "bnlab/model/sequential.h"
#include "bnlab/model/spec.h"
#include "bnlab/optim/optimizer.h"
#include "support/torch_fixture.h"

namespace bnlab {
namespace {

using testing::expect_close;
using testing::Fixture;
using testing::TorchFixtures;

constexpr int kSteps = 10, kBatch = 16, kSide = 28, kPixels = kSide * kSide;
constexpr uint64_t kDropoutSeed = 21;

// Weight number t (rank 2 or 4, in model order), element i in row-major order: Glorot-uniform's
// limit with Keras's fans and a hash in place of random draws (tests/fixtures/README.md).
void init_by_formula(Sequential& m) {
  uint64_t t = 0;
  for (StateEntry& e : m.state_dict()) {
    if (!e.tensor || e.tensor->shape().rank() < 2) continue;
    const int64_t receptive = e.tensor->numel() / (e.tensor->dim(0) * e.tensor->dim(1));
    const int64_t fan_in = e.tensor->dim(1) * receptive, fan_out = e.tensor->dim(0) * receptive;
    const double limit = std::sqrt(6.0 / double(fan_in + fan_out));
    for (int64_t i = 0; i < e.tensor->numel(); ++i) {
      const uint64_t h = (uint64_t(i) * 2654435761ull + t * 40503ull + 12345ull) % 4294967296ull;
      (*e.tensor)[i] = static_cast<float>((2.0 * (double(h) / 4294967296.0) - 1.0) * limit);
    }
    ++t;
  }
}

// Step s's 16 images (noise plus a bright stripe in columns 3 * label .. 3 * label + 2) and labels.
void make_batch(int s, Tensor& x, std::vector<int32_t>& labels) {
  x.resize({kBatch, kSide, kSide});
  labels.resize(kBatch);
  for (int n = 0; n < kBatch; ++n) {
    const uint64_t g = uint64_t(s) * kBatch + n;
    labels[n] = static_cast<int32_t>((((g * 2246822519ull) % 4294967296ull) >> 16) % 10);
    for (int k = 0; k < kPixels; ++k) {
      const uint64_t noise = (((g * kPixels + k) * 2654435761ull) % 4294967296ull) >> 24;
      const uint64_t stripe = (k % kSide) / 3 == labels[n] ? 255 : 0;
      x[n * kPixels + k] = static_cast<float>(double(noise + stripe) / 510.0);
    }
  }
}

Dropout& dropout_of(Sequential& m) {
  for (const auto& layer : m.layers())
    if (auto* d = dynamic_cast<Dropout*>(layer.get())) return *d;
  throw std::runtime_error("the model has no Dropout");
}

// Tolerances. Losses to 1e-5 relative; gradients at step 0 to 2e-5 of each tensor's largest entry;
// the final state to 1e-4 absolute + 1e-4 relative: both sides compute in float32 and sum the
// convolutions' products in different orders (im2col products of 288 terms, weight gradients over
// 16 * 676 positions), and ten Adam steps compound the differences.
//
// The biases of convolutions followed by BatchNormalization have a true gradient of exactly zero
// (BN removes any constant shift): both sides' gradients there are round-off noise, which Adam
// normalises into steps of up to lr, different on each side. So for these biases only |b| <= 10
// steps * lr is asserted; the moving mean that follows takes them in, so it is compared less its
// bias part (make_cnn_fixtures.py's running_means_after_biases), to 1e-6 absolute; and the eval
// forward, whose output depends on them, runs on PyTorch's final state loaded into bnlab's model.

// The running_mean that the bias `key` feeds (module index + 1 has running statistics), or "".
std::string running_mean_after(Sequential& m, const std::string& key) {
  if (!key.ends_with(".bias")) return "";
  const std::string next = std::to_string(std::stoi(key.substr(0, key.find('.'))) + 1) + ".running_mean";
  for (const StateEntry& e : m.state_dict())
    if (e.key == next) return next;
  return "";
}

// Copies the fixture's final state (names as bnlab's state dict) into m.
void load_final_state(Sequential& m, const Fixture& f) {
  for (StateEntry& e : m.state_dict()) {
    if (e.counter) {
      *e.counter = f.i64(e.key)[0];
      continue;
    }
    const std::vector<float> v = f.f32(e.key);
    ASSERT_EQ(int64_t(v.size()), e.tensor->numel()) << e.key;
    std::copy(v.begin(), v.end(), e.tensor->data());
  }
}

void check_cnn_run(const std::string& file, const std::string& preset, bool planned) {
  SCOPED_TRACE(planned ? "the training plan" : "the plain loop");
  const Fixture f(file);
  Sequential m = make_model(preset);
  m.build(Shape{kSide, kSide}, 0);
  m.compile(std::make_unique<Adam>());
  init_by_formula(m);
  dropout_of(m).rng() = Rng(kDropoutSeed);
  for (StateEntry& e : m.state_dict())
    if (e.tensor && e.tensor->shape().rank() >= 2)
      expect_close(e.tensor->data(), f.f32("check.init_" + e.key + ".row0"), 0, 0, "initial " + e.key);

  Tensor x;
  std::vector<int32_t> labels;
  make_batch(0, x, labels);
  expect_close(x.data(), f.f32("check.batch0.x"), 0, 0, "batch0.x");
  const std::vector<int64_t> want_labels = f.i64("check.batch0.labels");
  for (int n = 0; n < kBatch; ++n) ASSERT_EQ(labels[n], want_labels[n]);
  Rng draws(kDropoutSeed);
  for (float keep : f.f32("check.dropout_mask")) ASSERT_EQ(draws.uniform() >= 0.5 ? 2.0f : 0.0f, keep);

  // The bias part of each moving mean that follows a convolution's bias (see the top).
  std::map<std::string, std::vector<double>> bias_parts;
  for (StateEntry& e : m.state_dict())
    if (const std::string rm = running_mean_after(m, e.key); !rm.empty()) bias_parts[rm].assign(e.tensor->numel(), 0.0);

  const std::vector<float> loss = f.f32("loss"), accuracy = f.f32("accuracy");
  TrainingPlan plan(m);
  for (int s = 0; s < kSteps; ++s) {
    for (StateEntry& e : m.state_dict())
      if (const std::string rm = running_mean_after(m, e.key); !rm.empty())
        for (int64_t c = 0; c < e.tensor->numel(); ++c)
          bias_parts[rm][c] += double(0.01f) * std::pow(double(0.99f), kSteps - 1 - s) * (*e.tensor)[c];
    make_batch(s, x, labels);
    if (!planned) m.zero_grad();
    const LossResult r = planned ? plan.forward_backward(x, labels.data()) : m.forward_backward(x, labels.data());
    EXPECT_NEAR(r.loss_sum / kBatch, loss[s], 1e-5 * loss[s]) << "loss at step " << s;
    EXPECT_EQ(r.correct, std::lround(accuracy[s] * kBatch)) << "accuracy at step " << s;
    if (s == 0) {
      std::vector<ParamRef> params = m.trainable_params();
      for (StateEntry& e : m.state_dict()) {
        if (!e.trainable) continue;
        const auto p = std::find_if(params.begin(), params.end(), [&](const ParamRef& q) { return q.value == e.tensor; });
        ASSERT_NE(p, params.end());
        const std::vector<float> want = f.f32("grad_step0." + e.key);
        if (!running_mean_after(m, e.key).empty()) {  // zero but for round-off, on both sides
          for (int64_t i = 0; i < p->grad->numel(); ++i) EXPECT_LE(std::fabs((*p->grad)[i]), 1e-5) << e.key;
          continue;
        }
        float scale = 0;
        for (float v : want) scale = std::max(scale, std::fabs(v));
        expect_close(p->grad->data(), want, 0, 2e-5 * scale + 1e-9, "grad_step0." + e.key);
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
    if (!running_mean_after(m, e.key).empty()) {
      for (int64_t i = 0; i < e.tensor->numel(); ++i) EXPECT_LE(std::fabs((*e.tensor)[i]), kSteps * 1e-3 * 1.01) << e.key;
    } else if (bias_parts.count(e.key)) {
      const std::vector<float> want_part = f.f32("check.bias_part." + e.key);
      for (int64_t c = 0; c < e.tensor->numel(); ++c)
        EXPECT_NEAR((*e.tensor)[c] - bias_parts[e.key][c], double(want[c]) - want_part[c], 1e-6) << e.key << "[" << c << "]";
    } else {
      expect_close(e.tensor->data(), want, 1e-4, 1e-4, e.key);
    }
  }
  if (!bias_parts.empty()) load_final_state(m, f);
  make_batch(0, x, labels);
  expect_close(m.forward(x, Mode::Eval).data(), f.f32("eval_probs"), 0, 1e-5, "eval_probs");
}

TEST_F(TorchFixtures, CnnBnTenStepsKerasConventions) {
  for (bool planned : {false, true}) check_cnn_run("cnn_bn_keras.safetensors", "cnn-bn", planned);
}

TEST_F(TorchFixtures, CnnTenStepsKerasConventions) {
  for (bool planned : {false, true}) check_cnn_run("cnn_keras.safetensors", "cnn", planned);
}

}  // namespace
}  // namespace bnlab
