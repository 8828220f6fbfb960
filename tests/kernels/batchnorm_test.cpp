// The BatchNorm kernels: one-pass statistics against two passes, and Batch Renormalization's forward
// (r and d clipped) and backward against a scalar reference with r and d held constant.
#include "bnlab/kernels/batchnorm.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "support/batch_stats.h"
#include "support/gradcheck.h"

namespace bnlab {
namespace {

using testing::batch_stats;
using testing::random_tensor;
using testing::Stats;

// The statistics take one pass, squares shifted by the first row (kernels/batchnorm.cpp): exact to
// double precision even when that row is far from the others (the worst case of the shift), a
// large mean, or a constant feature. Checked against two passes in double, through the kernel's
// outputs: mean and var bit for bit after rounding to float, invstd to 1 ulp.
TEST(BatchNorm, OnePassStatisticsMatchTwoPasses) {
  const int N = 512, C = 5;
  Tensor x(Shape{N, C});
  Rng rng(4);
  for (int n = 0; n < N; ++n) {
    const float u = static_cast<float>(rng.uniform() - 0.5);
    x[n * C + 0] = n == 0 ? 1e4f + 300.0f : 1e4f + 0.02f * u;  // first row an outlier
    x[n * C + 1] = n == 0 ? -5.0f : 3.0f + u;                  // first row below everything
    x[n * C + 2] = 7.25f;                                      // constant
    x[n * C + 3] = 1e-3f * u;                                  // tiny values
    x[n * C + 4] = n % 2 ? 1e6f : -1e6f;                       // large spread
  }
  Tensor y(Shape{N, C}), invstd(Shape{C});
  std::vector<double> mean(C), var(C);
  batchnorm_forward_train(y.data(), nullptr, mean.data(), invstd.data(), var.data(), x.data(), nullptr, nullptr, N, C,
                          1e-3f);
  const Stats want = batch_stats(x);
  for (int c = 0; c < C; ++c) {
    SCOPED_TRACE(c);
    EXPECT_EQ(static_cast<float>(mean[c]), static_cast<float>(want.mean[c]));
    EXPECT_EQ(static_cast<float>(var[c]), static_cast<float>(want.var[c]));
    EXPECT_NEAR(var[c], want.var[c], 1e-12 * want.var[c] + 1e-300);
    EXPECT_FLOAT_EQ(invstd[c], static_cast<float>(1.0 / std::sqrt(want.var[c] + 1e-3)));
  }
}

// ---- Batch Renormalization ------------------------------------------------------------------------

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

}  // namespace
}  // namespace bnlab
