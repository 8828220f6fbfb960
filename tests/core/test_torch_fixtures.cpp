// bnlab against PyTorch 1.13: per-kernel cases and a 10-step training run of the seed's BN MLP,
// under PyTorch's and Keras' conventions (fixtures made by tests/fixtures/make_fixtures.py; their
// exact contents are in tests/fixtures/README.md).
//
// Tolerances. Kernels: 2e-6 relative (+ 1e-6 absolute) — both sides compute in float32 with
// different summation orders and fused operations, a few ulps apart. The training run: losses to
// 1e-5 relative; gradients at step 0 to 1e-5 of each tensor's largest entry; final state to 2e-5
// absolute + 5e-6 relative (about 40 float32 ulps after 10 steps in which every difference in
// summation order compounds; running variances reach ~70), except the biases of Dense layers
// followed by BatchNormalization, whose true gradient is exactly zero (BN removes any constant shift): there both sides' gradients are round-off noise
// that Adam normalises into steps of up to lr, so only |b| <= 10 steps * lr is asserted.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "bnlab/io/safetensors.h"
#include "bnlab/kernels/batchnorm.h"
#include "bnlab/kernels/dense.h"
#include "bnlab/kernels/layernorm.h"
#include "bnlab/kernels/loss.h"
#include "bnlab/layers/batchnorm.h"
#include "bnlab/layers/dense.h"
#include "bnlab/model/plan.h"
#include "bnlab/model/spec.h"

namespace bnlab {
namespace {

const std::string kFixtures = std::string(BNLAB_SOURCE_DIR) + "/tests/fixtures/";

class Fixture {
 public:
  explicit Fixture(const std::string& file) : file_(read_safetensors(kFixtures + file)) {}
  std::vector<float> f32(const std::string& name) const {
    const NamedTensor& t = get(name);
    EXPECT_EQ(t.dtype, DType::F32) << name;
    std::vector<float> v(t.bytes.size() / 4);
    std::memcpy(v.data(), t.bytes.data(), t.bytes.size());
    return v;
  }
  std::vector<int64_t> i64(const std::string& name) const {
    const NamedTensor& t = get(name);
    std::vector<int64_t> v(t.bytes.size() / 8);
    std::memcpy(v.data(), t.bytes.data(), t.bytes.size());
    return v;
  }
  Tensor tensor(const std::string& name) const {
    const NamedTensor& t = get(name);
    Tensor out(Shape(t.shape));
    std::memcpy(out.data(), t.bytes.data(), t.bytes.size());
    return out;
  }

 private:
  const NamedTensor& get(const std::string& name) const {
    const NamedTensor* t = file_.find(name);
    if (!t) throw std::runtime_error("fixture has no tensor " + name);
    return *t;
  }
  SafetensorsFile file_;
};

void expect_close(const float* got, const std::vector<float>& want, double rtol, double atol, const std::string& what) {
  for (size_t i = 0; i < want.size(); ++i)
    ASSERT_NEAR(got[i], want[i], atol + rtol * std::fabs(want[i])) << what << "[" << i << "]";
}
void expect_close(const std::vector<float>& got, const std::vector<float>& want, double rtol, double atol, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  expect_close(got.data(), want, rtol, atol, what);
}
std::vector<float> as_vector(const Tensor& t) { return {t.data(), t.data() + t.numel()}; }

constexpr double kRtol = 2e-6, kAtol = 1e-6;

void check_batchnorm(const Fixture& f, const std::string& g, BatchNormOptions options, bool has_counter) {
  BatchNormalization bn(options);
  Rng rng(0);
  bn.build(Shape{5}, rng);
  bn.weight = f.tensor(g + ".gamma");
  bn.bias = f.tensor(g + ".beta");
  const Tensor x1 = f.tensor(g + ".x1");
  Tensor y, dx;
  bn.forward(x1, y, Mode::Train);
  expect_close(as_vector(y), f.f32(g + ".y"), kRtol, kAtol, g + ".y");
  bn.zero_grad();
  bn.backward(x1, y, f.tensor(g + ".dy"), &dx);
  expect_close(as_vector(dx), f.f32(g + ".dx"), kRtol, 2 * kAtol, g + ".dx");
  expect_close(as_vector(bn.weight_grad), f.f32(g + ".dgamma"), kRtol, 5 * kAtol, g + ".dgamma");
  expect_close(as_vector(bn.bias_grad), f.f32(g + ".dbeta"), kRtol, 5 * kAtol, g + ".dbeta");
  bn.forward(f.tensor(g + ".x2"), y, Mode::Train);
  bn.forward(f.tensor(g + ".x3"), y, Mode::Train);
  expect_close(as_vector(bn.running_mean), f.f32(g + ".running_mean"), kRtol, kAtol, g + ".running_mean");
  expect_close(as_vector(bn.running_var), f.f32(g + ".running_var"), kRtol, kAtol, g + ".running_var");
  if (has_counter) {
    EXPECT_EQ(bn.num_batches_tracked, f.i64(g + ".num_batches_tracked")[0]);
  }
  bn.forward(x1, y, Mode::Eval);
  expect_close(as_vector(y), f.f32(g + ".eval_y"), kRtol, kAtol, g + ".eval_y");
}

TEST(TorchFixtures, BatchNormTorchConvention) { check_batchnorm(Fixture("layers.safetensors"), "bn_torch", BatchNormOptions::torch(), true); }

TEST(TorchFixtures, BatchNormKerasConvention) { check_batchnorm(Fixture("layers.safetensors"), "bn_keras", BatchNormOptions::keras(), false); }

TEST(TorchFixtures, BatchNormCumulativeAverage) {
  const Fixture f("layers.safetensors");
  BatchNormOptions o = BatchNormOptions::torch();
  o.momentum.reset();
  BatchNormalization bn(o);
  Rng rng(0);
  bn.build(Shape{5}, rng);
  Tensor y;
  for (const char* x : {".x1", ".x2", ".x3"}) bn.forward(f.tensor(std::string("bn_torch_cma") + x), y, Mode::Train);
  expect_close(as_vector(bn.running_mean), f.f32("bn_torch_cma.running_mean"), kRtol, kAtol, "running_mean");
  expect_close(as_vector(bn.running_var), f.f32("bn_torch_cma.running_var"), kRtol, kAtol, "running_var");
}

TEST(TorchFixtures, LayerNormBothEpsilons) {
  const Fixture f("layers.safetensors");
  for (const auto& [g, eps] : {std::pair{std::string("ln_eps1e-5"), 1e-5f}, std::pair{std::string("ln_eps1e-3"), 1e-3f}}) {
    const Tensor x = f.tensor(g + ".x"), gamma = f.tensor(g + ".gamma"), beta = f.tensor(g + ".beta"), dy = f.tensor(g + ".dy");
    Tensor y(x.shape()), dx(x.shape()), dgamma(Shape{6}), dbeta(Shape{6}), mean(Shape{8}), rstd(Shape{8});
    layernorm_forward(y.data(), mean.data(), rstd.data(), x.data(), gamma.data(), beta.data(), 8, 6, eps);
    expect_close(as_vector(y), f.f32(g + ".y"), kRtol, kAtol, g + ".y");
    expect_close(as_vector(rstd), f.f32(g + ".rstd"), kRtol, kAtol, g + ".rstd");
    layernorm_backward(dx.data(), dgamma.data(), dbeta.data(), dy.data(), x.data(), mean.data(), rstd.data(), gamma.data(), 8, 6);
    expect_close(as_vector(dx), f.f32(g + ".dx"), kRtol, 5 * kAtol, g + ".dx");
    expect_close(as_vector(dgamma), f.f32(g + ".dgamma"), kRtol, 5 * kAtol, g + ".dgamma");
    expect_close(as_vector(dbeta), f.f32(g + ".dbeta"), kRtol, 5 * kAtol, g + ".dbeta");
  }
}

TEST(TorchFixtures, DenseReLU) {
  const Fixture f("layers.safetensors");
  Dense d(4, Activation::ReLU);
  Rng rng(0);
  d.build(Shape{9}, rng);
  d.weight = f.tensor("linear_relu.weight");
  d.bias = f.tensor("linear_relu.bias");
  const Tensor x = f.tensor("linear_relu.x");
  Tensor y, dx;
  d.forward(x, y, Mode::Train);
  expect_close(as_vector(y), f.f32("linear_relu.y"), kRtol, kAtol, "y");
  d.zero_grad();
  d.backward(x, y, f.tensor("linear_relu.dy"), &dx);
  expect_close(as_vector(dx), f.f32("linear_relu.dx"), kRtol, kAtol, "dx");
  expect_close(as_vector(d.weight_grad), f.f32("linear_relu.dweight"), kRtol, kAtol, "dweight");
  expect_close(as_vector(d.bias_grad), f.f32("linear_relu.dbias"), kRtol, kAtol, "dbias");
}

TEST(TorchFixtures, SoftmaxCrossEntropy) {
  const Fixture f("layers.safetensors");
  const Tensor logits = f.tensor("xent.logits");
  std::vector<int32_t> labels;
  for (int64_t l : f.i64("xent.labels")) labels.push_back(static_cast<int32_t>(l));
  Tensor probs(logits.shape()), d(logits.shape());
  const LossResult r = softmax_cross_entropy_forward(probs.data(), logits.data(), labels.data(), 6, 10);
  EXPECT_NEAR(r.loss_sum / 6, f.f32("xent.loss")[0], 1e-6 * std::fabs(f.f32("xent.loss")[0]));
  expect_close(as_vector(probs), f.f32("xent.probs"), kRtol, kAtol, "probs");
  softmax_cross_entropy_backward(d.data(), probs.data(), labels.data(), 6, 10, 1.0f / 6);
  expect_close(as_vector(d), f.f32("xent.dlogits"), kRtol, kAtol, "dlogits");
}

// --- The seed's BN MLP, 10 steps -------------------------------------------------------------

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

TEST(TorchFixtures, SeedBnMlpTenStepsTorchConventions) {
  AdamOptions adam;
  adam.epsilon = 1e-8;
  adam.style = AdamStyle::Torch;
  for (bool planned : {false, true})
    check_mlp_run("mlp_bn_torch.safetensors",
                  "flatten,bn:torch,dense:256:relu,bn:torch,dense:128:relu,bn:torch,dense:10:softmax", adam, planned);
}

TEST(TorchFixtures, SeedBnMlpTenStepsKerasConventions) {
  for (bool planned : {false, true}) check_mlp_run("mlp_bn_keras.safetensors", "mlp-bn", AdamOptions{}, planned);
}

}  // namespace
}  // namespace bnlab
