// The Sequential model: specs, summaries, the fused loss, determinism and end-to-end training.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "bnlab/core/error.h"
#include "bnlab/core/threads.h"
#include "bnlab/kernels/loss.h"
#include "bnlab/kernels/optim.h"
#include "bnlab/layers/batchnorm.h"
#include "bnlab/layers/dense.h"
#include "bnlab/model/fit.h"
#include "bnlab/model/plan.h"
#include "bnlab/model/spec.h"
#include "bnlab/optim/optimizer.h"
#include "support/gradcheck.h"
#include "support/models.h"

namespace bnlab {
namespace {

using testing::built;
using testing::cycling_labels;

// Flatten's output is a view of its input: the same floats, never written through.
TEST(TensorView, SharesStorageAndDetachesOnWriteOrGrowth) {
  Tensor x(Shape{2, 2, 3});
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = static_cast<float>(i);
  Tensor v = Tensor::view(x.data(), Shape{2, 6});
  EXPECT_TRUE(v.is_view());
  EXPECT_EQ(v.data(), x.data());
  EXPECT_EQ(v.shape(), (Shape{2, 6}));
  const Tensor copy = v;  // copies own their storage
  EXPECT_FALSE(copy.is_view());
  EXPECT_NE(copy.data(), x.data());
  EXPECT_EQ(copy[7], 7.0f);
  Tensor other(Shape{2, 6});
  v = other;  // assigning to a view must not write the viewed storage
  EXPECT_FALSE(v.is_view());
  EXPECT_EQ(x[7], 7.0f);
  Tensor w = Tensor::view(x.data(), Shape{2, 6});
  w.resize(Shape{4, 6});  // growing gives it storage of its own
  EXPECT_FALSE(w.is_view());
  EXPECT_NE(w.data(), x.data());

  Sequential m = make_model("flatten,dense:2");
  m.build(Shape{2, 3}, 1);
  const Tensor& y = m.forward(x, Mode::Eval);
  EXPECT_EQ(y.shape(), (Shape{2, 2}));
  EXPECT_EQ(x[11], 11.0f);
}

// Large tensors start at different 64-byte offsets within their pages (core/tensor.cpp: no 4K
// aliasing between a weight, its gradient and the optimiser's moments); every tensor stays 64-byte
// aligned, and storage is whole and writable to its last float.
TEST(TensorStorage, LargeTensorsStaggeredWithinPagesAndAligned) {
  std::vector<Tensor> large;
  std::vector<uintptr_t> offsets;
  for (int i = 0; i < 8; ++i) {
    large.emplace_back(Shape{784, 256});
    const auto address = reinterpret_cast<uintptr_t>(large.back().data());
    EXPECT_EQ(address % 64, 0u) << "tensor " << i;
    offsets.push_back(address % 4096);
    large.back()[large.back().numel() - 1] = 1.0f;
    EXPECT_EQ(large.back()[0], 0.0f);
  }
  std::sort(offsets.begin(), offsets.end());
  EXPECT_EQ(std::unique(offsets.begin(), offsets.end()), offsets.end()) << "two of 8 consecutive large tensors share a page offset";
  for (int numel : {1, 15, 17, 1023, 1024, 1025}) {
    Tensor t(Shape{numel});
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data()) % 64, 0u) << numel;
    t[numel - 1] = 2.0f;
    Tensor grown = t;
    grown.resize(Shape{numel * 300});  // from small to large storage and back through a copy
    grown[numel * 300 - 1] = 3.0f;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(grown.data()) % 64, 0u) << numel;
  }
}

TEST(Summary, SeedModelsHaveTheNotebooksParameterCounts) {
  Sequential plain = built("mlp", Shape{28, 28});
  EXPECT_EQ(plain.count_params(true), 235146);
  EXPECT_EQ(plain.count_params(false), 0);
  Sequential bn = built("mlp-bn", Shape{28, 28});
  EXPECT_EQ(bn.count_params(true) + bn.count_params(false), 239818);
  EXPECT_EQ(bn.count_params(true), 237482);
  EXPECT_EQ(bn.count_params(false), 2336);
}

TEST(Summary, ReadsLikeKeras) {
  Sequential plain = built("mlp", Shape{28, 28});
  const std::string s = plain.summary("sequential");
  EXPECT_NE(s.find("Model: \"sequential\""), std::string::npos);
  EXPECT_NE(s.find("│ inputLayer (Flatten)            │ (None, 784)            │             0 │"), std::string::npos) << s;
  EXPECT_NE(s.find("│ hiddenLayer1 (Dense)            │ (None, 256)            │       200,960 │"), std::string::npos) << s;
  EXPECT_NE(s.find(" Total params: 235,146 (918.54 KB)"), std::string::npos) << s;
  EXPECT_NE(s.find(" Trainable params: 235,146 (918.54 KB)"), std::string::npos);
  EXPECT_NE(s.find(" Non-trainable params: 0 (0.00 B)"), std::string::npos);
  Sequential bn = built("mlp-bn", Shape{28, 28});
  const std::string t = bn.summary();
  EXPECT_NE(t.find("│ batch_normalization_1           │ (None, 256)            │         1,024 │"), std::string::npos) << t;
  EXPECT_NE(t.find("│ (BatchNormalization)            │                        │               │"), std::string::npos)
      << "a cell too long for its column wraps before the type, as in Keras";
  EXPECT_NE(t.find(" Total params: 239,818 (936.79 KB)"), std::string::npos) << t;
  EXPECT_NE(t.find(" Non-trainable params: 2,336 (9.12 KB)"), std::string::npos) << t;
}

TEST(Spec, PresetsAndRoundTrip) {
  EXPECT_EQ(make_model("mlp-bn").spec(), "flatten,bn,dense:256:relu,bn,dense:128:relu,bn,dense:10:softmax");
  const std::string spec = "flatten,bn:torch:momentum=none,ln:eps=1e-05,dropout:0.5,dense:7:tanh:nobias,relu,dense:3";
  EXPECT_EQ(make_model(spec).spec(), spec);
}

TEST(Spec, ErrorsNameTheToken) {
  auto message = [](const std::string& spec) {
    try {
      make_model(spec);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message("flatten,conv:3"), "model spec: layer 2 'conv:3': unknown layer (flatten, dense:N[:act], bn[:opts], ln[:opts], dropout:R, relu, sigmoid, tanh, softmax)");
  EXPECT_EQ(message("dense:abc"), "model spec: layer 1 'dense:abc': units 'abc' is not a number");
  EXPECT_EQ(message("dense:0"), "model spec: layer 1 'dense:0': units must be a whole number from 1 to 16777216");
  EXPECT_EQ(message("dense:4:swish"), "model spec: layer 1 'dense:4:swish': unknown activation 'swish' (linear, relu, sigmoid, tanh, softmax)");
  EXPECT_EQ(message("bn:momentum=2"), "model spec: layer 1 'bn:momentum=2': bn: momentum must be in [0, 1], got 2");
  EXPECT_EQ(message("dropout:1.5"), "model spec: layer 1 'dropout:1.5': dropout: rate must be in [0, 1), got 1.5");
  EXPECT_EQ(message("flatten,,dense:3"), "model spec: layer 2 '': empty layer");
  EXPECT_EQ(message(""), "model spec: empty (use mlp, mlp-bn or e.g. flatten,dense:10:softmax)");
  Sequential m = make_model("dense:3");
  EXPECT_THROW(m.build(Shape{28, 28}, 1), InputError);
}

TEST(Loss, FusedSoftmaxCrossEntropyIsStable) {
  const float logits[2 * 3] = {1000.0f, 0.0f, -1000.0f, 1.0f, 2.0f, 3.0f};
  const int32_t labels[2] = {2, 2};
  float probs[6], d[6];
  const LossResult r = softmax_cross_entropy_forward(probs, logits, labels, 2, 3);
  EXPECT_TRUE(std::isfinite(r.loss_sum));
  const double row2 = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0)) - 3.0;
  EXPECT_NEAR(r.loss_sum, 2000.0 + row2, 1e-3);
  EXPECT_EQ(r.correct, 1);
  softmax_cross_entropy_backward(d, probs, labels, 2, 3, 0.5f);
  EXPECT_NEAR(d[2], -0.5f, 1e-6);
  EXPECT_NEAR(d[0], 0.5f, 1e-6);
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

// The optimiser's guarded step over parameters large enough to be split across threads: a NaN
// found by one thread stops the other thread's update too; without one it is step() exactly.
TEST(Optimizer, StepIfFiniteUpdatesNothingWhenAnyGradientIsNotFinite) {
  set_num_threads(2);
  auto make = [] {
    std::vector<Tensor> t;
    for (int64_t n : {70000, 5, 50000}) t.emplace_back(Shape{n});
    for (Tensor& x : t)
      for (int64_t i = 0; i < x.numel(); ++i) x[i] = 0.01f * std::sin(0.1f * i);
    return t;
  };
  std::vector<Tensor> values = make(), grads = make(), values2 = make();
  std::vector<ParamRef> params, params2;
  for (size_t i = 0; i < values.size(); ++i) {
    params.push_back({"p", &values[i], &grads[i], true});
    params2.push_back({"p", &values2[i], &grads[i], true});
  }
  Adam guarded, plain;
  std::vector<uint8_t> bad;
  ASSERT_TRUE(guarded.step_if_finite(params, bad));
  plain.step(params2);
  for (size_t i = 0; i < values.size(); ++i)
    EXPECT_EQ(std::memcmp(values[i].data(), values2[i].data(), values[i].numel() * sizeof(float)), 0);
  EXPECT_EQ(bad, (std::vector<uint8_t>{0, 0, 0}));

  const std::vector<Tensor> before = values;
  grads[2][49000] = std::numeric_limits<float>::quiet_NaN();  // in the second thread's share
  EXPECT_FALSE(guarded.step_if_finite(params, bad));
  EXPECT_EQ(bad, (std::vector<uint8_t>{0, 0, 1}));
  EXPECT_EQ(guarded.iterations, 1);
  for (size_t i = 0; i < values.size(); ++i)
    EXPECT_EQ(std::memcmp(values[i].data(), before[i].data(), values[i].numel() * sizeof(float)), 0) << i;
  set_num_threads(0);
}

// Synthetic data with a large offset (raw 0..255 pixels, not divided): the class is which of two
// features is larger. Training-mode statistics, moving averages and backward must all be right
// for the eval-mode accuracy to be high.
Dataset two_feature_task(int n, uint64_t seed) {
  Dataset d;
  d.name = "synthetic";
  d.sample_shape = {8};
  d.num_classes = 2;
  d.divide_by = 1.0;
  Rng rng(seed);
  for (int i = 0; i < n; ++i) {
    int a = 100 + static_cast<int>(rng.below(100)), b = 100 + static_cast<int>(rng.below(100));
    if (a == b) ++a;
    for (int k = 0; k < 8; ++k) d.pixels.push_back(static_cast<uint8_t>(k == 0 ? a : k == 1 ? b : 120 + rng.below(20)));
    d.labels.push_back(a > b ? 1 : 0);
  }
  return d;
}

TEST(Training, BatchNormModelLearnsAnUnscaledTask) {
  const Dataset train = two_feature_task(2000, 1), valid = two_feature_task(500, 2);
  Sequential m = built("bn,dense:16:relu,bn,dense:2:softmax", Shape{8});
  FitOptions o;
  o.epochs = 8;
  o.batch_size = 32;
  o.seed = 3;
  o.validation = &valid;
  const History h = m.fit(train, o);
  ASSERT_EQ(h.epochs.size(), 8u);
  EXPECT_GT(h.epochs.back().val_accuracy, 0.95);
  EXPECT_LT(h.epochs.back().loss, h.epochs.front().loss);
  const Metrics e = m.evaluate(valid, 7);
  EXPECT_DOUBLE_EQ(e.accuracy, h.epochs.back().val_accuracy) << "evaluation must not depend on batch size";
}

TEST(Training, SameSeedAndThreadsGiveBitIdenticalWeights) {
  const Dataset train = two_feature_task(600, 1);
  auto run = [&] {
    Sequential m = built("bn,dense:32:relu,dropout:0.2,bn,dense:2:softmax", Shape{8}, 11);
    FitOptions o;
    o.epochs = 2;
    o.batch_size = 16;
    o.seed = 5;
    m.fit(train, o);
    std::vector<float> w;
    for (StateEntry& e : m.state_dict())
      if (e.tensor) w.insert(w.end(), e.tensor->data(), e.tensor->data() + e.tensor->numel());
    return w;
  };
  const std::vector<float> a = run(), b = run();
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0);
}

// A program that never calls set_num_threads. tests/CMakeLists.txt also runs this alone under
// OMP_DYNAMIC=true and under OMP_THREAD_LIMIT=1, where OpenBLAS's OpenMP build used to wait for ever
// in the first step (core/parallel.h's keep_teams_whole). The seed's model at batch 64: OpenBLAS
// threads some of its products itself when a region gives bnlab only one thread (without the second
// hidden layer it happened not to).
TEST(Training, StepsFinishWithoutSetNumThreads) {
  Sequential m = built("flatten,dense:256:relu,dense:128:relu,dense:10:softmax", Shape{28, 28});
  Rng rng(12);
  const Tensor x = testing::random_tensor(Shape{64, 28, 28}, rng);
  const std::vector<int32_t> labels = cycling_labels(64);
  TrainingPlan plan(m);
  double first = 0.0, last = 0.0;
  for (int step = 0; step < 5; ++step) {
    const LossResult r = plan.train_step(x, labels.data());
    (step == 0 ? first : last) = r.loss_sum;
  }
  EXPECT_LT(last, first);
  EXPECT_FALSE(omp_get_dynamic());
}

TEST(Training, LabelsOutsideTheClassesAreAClearError) {
  Dataset d = two_feature_task(10, 1);
  d.labels[3] = 7;
  Sequential m = built("dense:2:softmax", Shape{8});
  FitOptions o;
  try {
    m.fit(d, o);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "synthetic: label 7 at index 3 is outside [0, 2) for a model with 2 outputs");
  }
}

TEST(Training, RunningMetricsAreSampleWeightedAverages) {
  struct Recorder : TrainingCallback {
    std::vector<double> losses;
    void on_batch_end(int64_t, int64_t, double loss, double) override { losses.push_back(loss); }
  } rec;
  const Dataset train = two_feature_task(70, 1);  // 32 + 32 + 6
  Sequential m = built("bn,dense:2:softmax", Shape{8});
  FitOptions o;
  o.batch_size = 32;
  o.callback = &rec;
  const History h = m.fit(train, o);
  ASSERT_EQ(rec.losses.size(), 3u);
  EXPECT_EQ(h.epochs[0].steps, 3);
  EXPECT_DOUBLE_EQ(rec.losses.back(), h.epochs[0].loss);
}

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

TEST(Optimizers, AdamStylesFollowTheirFormulas) {
  float p = 1.0f, m = 0.0f, v = 0.0f;
  const float g = 0.5f;
  // One Keras step: m = 0.05, v = 0.00025, alpha = 1e-3 * sqrt(0.001) / 0.1
  adam_keras_update(&p, &m, &v, &g, 1, 1e-3f, 0.9f, 0.999f, 1e-7f, 1);
  const double alpha = 1e-3 * std::sqrt(0.001) / 0.1;
  EXPECT_NEAR(p, 1.0 - 0.05 * alpha / (std::sqrt(0.00025) + 1e-7), 1e-7);
  float q = 1.0f, mq = 0.0f, vq = 0.0f;
  adam_torch_update(&q, &mq, &vq, &g, 1, 1e-3f, 0.9f, 0.999f, 1e-8f, 1);
  EXPECT_NEAR(q, 1.0 - (1e-3 / 0.1) * 0.05 / (std::sqrt(0.00025) / std::sqrt(0.001) + 1e-8), 1e-7);
}

// Every one of the 2^32 floats: sqrt_on_fma_units (which adam_keras_update uses for some elements)
// must give std::sqrt's bits, NaNs aside (any NaN for any NaN). rsqrt14's exact bits are the CPU's
// own, so this runs on each machine that runs the tests. Under AddressSanitizer (16 times slower
// here) every 16th chunk, spread over all exponents; the plain build checks them all.
#if defined(__SANITIZE_ADDRESS__)  // GCC
#define BNLAB_TEST_ASAN 1
#elif defined(__has_feature)       // clang, which scripts/sanitize.sh uses
#if __has_feature(address_sanitizer)
#define BNLAB_TEST_ASAN 1
#endif
#endif
TEST(Optimizers, SqrtOnFmaUnitsIsExactForEveryFloat) {
#ifdef BNLAB_TEST_ASAN
  constexpr uint64_t kEvery = 16;
#else
  constexpr uint64_t kEvery = 1;
#endif
  constexpr int64_t kChunk = 1 << 16;
  std::vector<uint32_t> in(kChunk);
  std::vector<float> out(kChunk), want(kChunk);
  int64_t mismatches = 0;
  uint32_t first = 0;
  for (uint64_t base = 0; base < (uint64_t{1} << 32); base += kChunk * kEvery) {
    for (int64_t k = 0; k < kChunk; ++k) in[k] = static_cast<uint32_t>(base + k);
    const float* x = reinterpret_cast<const float*>(in.data());
    sqrt_on_fma_units(out.data(), x, kChunk);
    for (int64_t k = 0; k < kChunk; ++k) want[k] = std::sqrt(x[k]);
    if (std::memcmp(out.data(), want.data(), kChunk * sizeof(float)) == 0) continue;
    for (int64_t k = 0; k < kChunk; ++k)
      if (std::memcmp(&out[k], &want[k], 4) != 0 && !(std::isnan(out[k]) && std::isnan(want[k])) && mismatches++ == 0)
        first = in[k];
  }
  EXPECT_EQ(mismatches, 0) << "first at bits 0x" << std::hex << first;
}

// adam_keras_update against its formula one element at a time (kernels/optim.h, with the fused
// multiply-adds of m's and v's updates), bit for bit: lengths on both sides of the blocks of 16 and
// 64 (the last 16 of each 64 take the other square root) and of the tail; values where the square root leaves the multiply-add path (0, tiny, Inf, NaN); and m
// stuck a few units above 0 or tiny, next to p of every size from 0 to 1, Inf and NaN, where tiny
// lanes skip their step only when it cannot change p. Several epsilons and learning rates, down to
// an epsilon that rounds to 0 in float.
TEST(Optimizers, KerasAdamMatchesItsFormulaElementByElement) {
  const double b1 = 0.9, b2 = 0.999;
  Rng rng(7);
  const auto uniform = [&](float lo, float hi) { return lo + (hi - lo) * static_cast<float>(rng.uniform()); };
  const auto same = [](float a, float b) { return std::memcmp(&a, &b, 4) == 0 || (std::isnan(a) && std::isnan(b)); };
  for (const auto& [lr, eps] : std::vector<std::pair<double, double>>{{1e-3, 1e-7}, {1e-3, 1e-30}, {0.5, 1e-45}, {1e-3, 1e-50}, {1e-40, 1e-7}})
    for (int64_t n : {0, 1, 15, 16, 17, 31, 47, 48, 49, 63, 64, 65, 95, 96, 97, 100, 127, 128, 129, 1000}) {
      std::vector<float> p(n), m(n), v(n), g(n);
      for (int64_t i = 0; i < n; ++i) {
        p[i] = i % 2 ? uniform(-1, 1) : 0.0f;  // 0: the new p is the step itself, to its last bit
        m[i] = i % 5 == 0 ? 0.0f : 1e-3f * uniform(-1, 1);
        v[i] = i % 5 == 0 ? 0.0f : 1e-6f * uniform(0, 1);
        g[i] = i % 7 == 0 ? 0.0f : 1e-2f * uniform(-1, 1);
        if (i % 11 == 3) v[i] = 0x1p-120f;                                  // tiny: below the fast path
        if (i % 13 == 4) g[i] = 1e30f;                                      // g^2 overflows: v = Inf
        if (i % 17 == 5) g[i] = std::numeric_limits<float>::quiet_NaN();
        if (i % 3 == 1 && i % 13 != 4 && i % 17 != 5) {
          // m stuck at a few subnormal units, or tiny; p from 1e-45 to 1 by powers of ten
          g[i] = 0.0f;
          m[i] = i % 4 == 1 ? std::ldexp(float(1 + i % 9), -149) * (i % 8 == 1 ? -1 : 1) : 4e-35f * uniform(-1, 1);  // m * alpha subnormal
          v[i] = i % 6 == 1 ? 0.0f : v[i];
          p[i] = std::pow(10.0f, -float(i % 46)) * (i % 10 < 5 ? 1 : -1);
          if (i % 29 == 1) p[i] = std::numeric_limits<float>::infinity();
          if (i % 31 == 1) p[i] = std::numeric_limits<float>::quiet_NaN();
        }
      }
      for (int64_t t = 1; t <= 3; ++t) {
        std::vector<float> pe = p, me = m, ve = v;
        const float alpha = static_cast<float>(lr * std::sqrt(1.0 - std::pow(b2, (double)t)) / (1.0 - std::pow(b1, (double)t)));
        const float one_b1 = 1.0f - static_cast<float>(b1), one_b2 = 1.0f - static_cast<float>(b2);
        for (int64_t i = 0; i < n; ++i) {
          me[i] = std::fma(g[i] - me[i], one_b1, me[i]);
          ve[i] = std::fma(std::fma(g[i], g[i], -ve[i]), one_b2, ve[i]);
          const float step = me[i] * alpha;
          pe[i] = pe[i] - step / (std::sqrt(ve[i]) + static_cast<float>(eps));
        }
        adam_keras_update(p.data(), m.data(), v.data(), g.data(), n, lr, b1, b2, eps, t);
        for (int64_t i = 0; i < n; ++i)
          ASSERT_TRUE(same(p[i], pe[i]) && same(m[i], me[i]) && same(v[i], ve[i]))
              << "lr " << lr << ", eps " << eps << ", n " << n << ", step " << t << ", element " << i << ": p " << p[i]
              << " want " << pe[i] << " (m " << m[i] << ")";
      }
    }
}

}  // namespace
}  // namespace bnlab
