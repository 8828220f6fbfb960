// Batch Renormalization (bn:renorm): the kernel against a scalar reference with r and d held
// constant, the layer's gradients where r and d are clipped, the reduction to plain BN, the
// train/inference agreement it exists for, and the spec syntax.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "bnlab/core/error.h"
#include "bnlab/kernels/batchnorm.h"
#include "bnlab/layers/batchnorm.h"
#include "bnlab/model/spec.h"
#include "support/gradcheck.h"

namespace bnlab {
namespace {

using testing::check_layer_gradients;
using testing::GradCheckOptions;
using testing::random_tensor;

constexpr int N = 6, C = 4;
constexpr float kEps = 1e-3f;

struct Inputs {
  Tensor x{Shape{N, C}}, gamma{Shape{C}}, beta{Shape{C}}, moving_mean{Shape{C}}, moving_var{Shape{C}};
};

Inputs make_inputs() {
  Rng rng(11);
  Inputs in;
  in.x = random_tensor(Shape{N, C}, rng, 1.0f, 3.0f);
  in.gamma = random_tensor(Shape{C}, rng, 0.5f, 1.5f);
  in.beta = random_tensor(Shape{C}, rng, -0.5f, 0.5f);
  // Feature 0 unclipped, 1 with r clipped high, 2 with d clipped low, 3 with r clipped low.
  const float mm[C] = {2.0f, 2.0f, 40.0f, 2.0f}, mv[C] = {0.4f, 0.001f, 0.4f, 50.0f};
  for (int c = 0; c < C; ++c) {
    in.moving_mean[c] = mm[c];
    in.moving_var[c] = mv[c];
  }
  return in;
}

// The paper's forward in double, with r and d given.
double reference_loss(const Inputs& in, const Tensor& dy, const float* r, const float* d) {
  double loss = 0.0;
  for (int c = 0; c < C; ++c) {
    double mean = 0.0, var = 0.0;
    for (int n = 0; n < N; ++n) mean += in.x[n * C + c] / double(N);
    for (int n = 0; n < N; ++n) var += std::pow(in.x[n * C + c] - mean, 2) / N;
    for (int n = 0; n < N; ++n) {
      const double xhat = (in.x[n * C + c] - mean) / std::sqrt(var + kEps);
      loss += dy[n * C + c] * ((xhat * r[c] + d[c]) * in.gamma[c] + in.beta[c]);
    }
  }
  return loss;
}

struct Forward {
  Tensor y{Shape{N, C}}, r{Shape{C}}, d{Shape{C}}, invstd{Shape{C}};
  std::vector<double> mean = std::vector<double>(C), var = std::vector<double>(C);
};

Forward renorm_forward(const Inputs& in, float rmax, float dmax) {
  Forward f;
  batchnorm_renorm_forward_train(f.y.data(), nullptr, f.mean.data(), f.invstd.data(), f.var.data(), f.r.data(), f.d.data(),
                                 in.x.data(), in.gamma.data(), in.beta.data(), in.moving_mean.data(),
                                 in.moving_var.data(), rmax, dmax, N, C, kEps);
  return f;
}

TEST(BatchRenorm, KernelComputesClippedCorrections) {
  const Inputs in = make_inputs();
  const float rmax = 3.0f, dmax = 5.0f;
  const Forward f = renorm_forward(in, rmax, dmax);
  for (int c = 0; c < C; ++c) {
    const double sigma = std::sqrt(in.moving_var[c] + double(kEps));
    const double r = std::clamp(std::sqrt(f.var[c] + kEps) / sigma, 1.0 / rmax, double(rmax));
    const double d = std::clamp((f.mean[c] - in.moving_mean[c]) / sigma, -double(dmax), double(dmax));
    EXPECT_NEAR(f.r[c], r, 1e-6 * r) << c;
    EXPECT_NEAR(f.d[c], d, 1e-6) << c;
  }
  EXPECT_GT(f.r[0], 1.0f / rmax);
  EXPECT_LT(f.r[0], rmax);
  EXPECT_FLOAT_EQ(f.r[1], rmax);
  EXPECT_FLOAT_EQ(f.d[2], -dmax);
  EXPECT_FLOAT_EQ(f.r[3], 1.0f / rmax);
}

TEST(BatchRenorm, KernelGradientsMatchCentralDifferencesWithRAndDConstant) {
  Inputs in = make_inputs();
  const Forward f = renorm_forward(in, 3.0f, 5.0f);
  Rng rng(5);
  const Tensor dy = random_tensor(Shape{N, C}, rng);
  EXPECT_NEAR(testing::dot(f.y, dy), reference_loss(in, dy, f.r.data(), f.d.data()), 1e-4);

  Tensor dx(Shape{N, C}), dgamma(Shape{C}), dbeta(Shape{C});
  dx.fill(8.0f);
  dgamma.fill(8.0f);
  dbeta.fill(8.0f);
  batchnorm_renorm_backward_train(dx.data(), dgamma.data(), dbeta.data(), dy.data(), in.x.data(), f.mean.data(),
                                  f.invstd.data(), f.r.data(), f.d.data(), in.gamma.data(), N, C);
  const double h = 1e-3;
  auto numeric = [&](float& value) {
    const float saved = value;
    value = static_cast<float>(saved + h);
    const double lp = reference_loss(in, dy, f.r.data(), f.d.data());
    value = static_cast<float>(saved - h);
    const double lm = reference_loss(in, dy, f.r.data(), f.d.data());
    value = saved;
    return (lp - lm) / (2 * h);
  };
  for (int i = 0; i < N * C; ++i) EXPECT_NEAR(dx[i], numeric(in.x[i]), 2e-3) << "dx[" << i << "]";
  for (int c = 0; c < C; ++c) {
    EXPECT_NEAR(dgamma[c] - 8.0f, numeric(in.gamma[c]), 2e-3) << "dgamma[" << c << "]";
    EXPECT_NEAR(dbeta[c] - 8.0f, numeric(in.beta[c]), 2e-3) << "dbeta[" << c << "]";
  }
}

// Where r and d are clipped they do not move with x, so the layer's renorm gradient is the true
// gradient and the generic check applies (the moving statistics are reset before every forward).
TEST(BatchRenorm, LayerGradientsWhereRAndDAreClipped) {
  BatchNormOptions o;
  o.renorm = true;
  o.rmax = 2.0f;
  o.dmax = 0.5f;
  BatchNormalization bn(o);
  Rng rng(3);
  bn.build(Shape{C}, rng);
  for (int c = 0; c < C; ++c) {
    bn.weight[c] = 0.8f + 0.1f * c;
    bn.bias[c] = 0.2f * c - 0.3f;
  }
  const Tensor moving_mean = [] {
    Tensor t(Shape{C});
    for (int c = 0; c < C; ++c) t[c] = c % 2 ? 30.0f : -30.0f;
    return t;
  }();
  const Tensor moving_var = [] {
    Tensor t(Shape{C});
    for (int c = 0; c < C; ++c) t[c] = c < 2 ? 400.0f : 1e-4f;
    return t;
  }();
  GradCheckOptions g;
  g.before_forward = [&] {
    bn.running_mean = moving_mean;
    bn.running_var = moving_var;
  };
  check_layer_gradients(bn, random_tensor(Shape{8, C}, rng, -1.0f, 1.0f), g);
}

TEST(BatchRenorm, UnclippedTrainingOutputIsTheInferenceOutput) {
  BatchNormOptions o;
  o.renorm = true;
  o.rmax = 1e6f;
  o.dmax = 1e6f;
  BatchNormalization bn(o);
  Rng rng(4);
  bn.build(Shape{C}, rng);
  for (int c = 0; c < C; ++c) {
    bn.running_mean[c] = 1.5f + 0.2f * c;
    bn.running_var[c] = 0.3f + 0.1f * c;
    bn.weight[c] = 1.2f;
    bn.bias[c] = -0.1f;
  }
  const Tensor x = random_tensor(Shape{5, C}, rng, 1.0f, 3.0f);
  Tensor y_eval, y_train;
  bn.forward(x, y_eval, Mode::Eval);
  bn.forward(x, y_train, Mode::Train);
  for (int64_t i = 0; i < x.numel(); ++i) EXPECT_NEAR(y_train[i], y_eval[i], 1e-5) << i;

  BatchNormalization plain;
  plain.build(Shape{C}, rng);
  Tensor y_plain;
  plain.forward(x, y_plain, Mode::Train);
  double differs = 0.0;
  for (int64_t i = 0; i < x.numel(); ++i) differs += std::fabs(y_plain[i] - y_train[i]);
  EXPECT_GT(differs, 0.1) << "plain BN normalises by the batch, not the moving statistics";
}

TEST(BatchRenorm, RmaxOneAndDmaxZeroIsPlainBatchNormBitForBit) {
  BatchNormOptions o;
  o.renorm = true;
  o.rmax = 1.0f;
  o.dmax = 0.0f;
  BatchNormalization renorm(o), plain;
  Rng rng(8);
  renorm.build(Shape{C}, rng);
  plain.build(Shape{C}, rng);
  Tensor dx_r, dx_p, y_r, y_p;
  for (int step = 0; step < 3; ++step) {
    const Tensor x = random_tensor(Shape{N, C}, rng, -2.0f, 4.0f);
    const Tensor dy = random_tensor(Shape{N, C}, rng);
    renorm.forward(x, y_r, Mode::Train);
    plain.forward(x, y_p, Mode::Train);
    renorm.backward(x, y_r, dy, &dx_r);
    plain.backward(x, y_p, dy, &dx_p);
    for (int64_t i = 0; i < x.numel(); ++i) {
      ASSERT_EQ(y_r[i], y_p[i]);
      ASSERT_EQ(dx_r[i], dx_p[i]);
    }
  }
  for (int c = 0; c < C; ++c) {
    EXPECT_EQ(renorm.weight_grad[c], plain.weight_grad[c]);
    EXPECT_EQ(renorm.bias_grad[c], plain.bias_grad[c]);
    EXPECT_EQ(renorm.running_mean[c], plain.running_mean[c]);
    EXPECT_EQ(renorm.running_var[c], plain.running_var[c]);
  }
}

TEST(BatchRenorm, SpecSyntaxRoundTripsAndRejectsMistakes) {
  EXPECT_EQ(make_model("flatten,bn:renorm,dense:10:softmax").spec(), "flatten,bn:renorm,dense:10:softmax");
  EXPECT_EQ(make_model("bn:renorm:rmax=2:dmax=1").spec(), "bn:renorm:rmax=2:dmax=1");
  EXPECT_EQ(make_model("bn:dmax=1:torch:renorm").spec(), "bn:torch:renorm:dmax=1");
  EXPECT_THROW(make_model("bn:rmax=2"), InputError);
  EXPECT_THROW(make_model("bn:renorm:rmax=0.5"), InputError);
  EXPECT_THROW(make_model("bn:renorm:dmax=-1"), InputError);
  EXPECT_THROW(make_model("bn:renorm:rmax=x"), InputError);
}

}  // namespace
}  // namespace bnlab
