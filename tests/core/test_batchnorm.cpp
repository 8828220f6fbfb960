// BatchNormalization's statistics: both conventions' moving averages over several batches, the
// cumulative average, inference with the folded formula, and the one-sample error.
#include <gtest/gtest.h>

#include <cmath>

#include "bnlab/core/error.h"
#include "bnlab/kernels/batchnorm.h"
#include "bnlab/kernels/batchnorm_dense.h"
#include "bnlab/layers/batchnorm.h"
#include "support/gradcheck.h"

namespace bnlab {
namespace {

using testing::random_tensor;

struct Stats {
  std::vector<double> mean, var;  // biased
};

Stats batch_stats(const Tensor& x) {
  const int64_t N = x.dim(0), C = x.dim(1);
  Stats s{std::vector<double>(C), std::vector<double>(C)};
  for (int64_t c = 0; c < C; ++c) {
    for (int64_t n = 0; n < N; ++n) s.mean[c] += x[n * C + c];
    s.mean[c] /= N;
    for (int64_t n = 0; n < N; ++n) s.var[c] += std::pow(x[n * C + c] - s.mean[c], 2);
    s.var[c] /= N;
  }
  return s;
}

std::vector<Tensor> batches(int count, int N, int C) {
  Rng rng(7);
  std::vector<Tensor> out;
  for (int i = 0; i < count; ++i) out.push_back(random_tensor(Shape{N, C}, rng, 10.0f + i, 14.0f + 2 * i));
  return out;
}

TEST(BatchNorm, TrainOutputIsNormalisedWithBiasedBatchVariance) {
  BatchNormalization bn;
  Rng rng(1);
  bn.build(Shape{3}, rng);
  const Tensor x = batches(1, 16, 3)[0];
  Tensor y;
  bn.forward(x, y, Mode::Train);
  const Stats s = batch_stats(x);
  for (int n = 0; n < 16; ++n)
    for (int c = 0; c < 3; ++c)
      EXPECT_NEAR(y[n * 3 + c], (x[n * 3 + c] - s.mean[c]) / std::sqrt(s.var[c] + 1e-3), 1e-5);
}

TEST(BatchNorm, KerasMovingStatisticsKeepTheOldValueByMomentum) {
  BatchNormalization bn;  // momentum 0.99, eps 1e-3, biased moving variance
  Rng rng(1);
  bn.build(Shape{4}, rng);
  std::vector<double> mm(4, 0.0), mv(4, 1.0);
  Tensor y;
  for (const Tensor& x : batches(5, 8, 4)) {
    bn.forward(x, y, Mode::Train);
    const Stats s = batch_stats(x);
    for (int c = 0; c < 4; ++c) {
      mm[c] = mm[c] * 0.99 + s.mean[c] * 0.01;
      mv[c] = mv[c] * 0.99 + s.var[c] * 0.01;
    }
  }
  for (int c = 0; c < 4; ++c) {
    EXPECT_NEAR(bn.running_mean[c], mm[c], 1e-5 * std::fabs(mm[c]));
    EXPECT_NEAR(bn.running_var[c], mv[c], 1e-5 * std::fabs(mv[c]));
  }
  EXPECT_EQ(bn.num_batches_tracked, 5);
}

TEST(BatchNorm, TorchRunningStatisticsWeightTheNewBatchAndUseUnbiasedVariance) {
  BatchNormalization bn(BatchNormOptions::torch());
  Rng rng(1);
  bn.build(Shape{4}, rng);
  std::vector<double> rm(4, 0.0), rv(4, 1.0);
  Tensor y;
  for (const Tensor& x : batches(5, 8, 4)) {
    bn.forward(x, y, Mode::Train);
    const Stats s = batch_stats(x);
    for (int c = 0; c < 4; ++c) {
      rm[c] = 0.9 * rm[c] + 0.1 * s.mean[c];
      rv[c] = 0.9 * rv[c] + 0.1 * s.var[c] * 8.0 / 7.0;
    }
  }
  for (int c = 0; c < 4; ++c) {
    EXPECT_NEAR(bn.running_mean[c], rm[c], 1e-5 * std::fabs(rm[c]));
    EXPECT_NEAR(bn.running_var[c], rv[c], 1e-5 * std::fabs(rv[c]));
  }
}

TEST(BatchNorm, TorchWithoutMomentumIsTheCumulativeAverage) {
  BatchNormOptions o = BatchNormOptions::torch();
  o.momentum.reset();
  BatchNormalization bn(o);
  Rng rng(1);
  bn.build(Shape{2}, rng);
  std::vector<double> mean_sum(2), var_sum(2);
  Tensor y;
  const auto xs = batches(4, 6, 2);
  for (const Tensor& x : xs) {
    bn.forward(x, y, Mode::Train);
    const Stats s = batch_stats(x);
    for (int c = 0; c < 2; ++c) {
      mean_sum[c] += s.mean[c];
      var_sum[c] += s.var[c] * 6.0 / 5.0;
    }
  }
  for (int c = 0; c < 2; ++c) {
    EXPECT_NEAR(bn.running_mean[c], mean_sum[c] / 4, 1e-5 * std::fabs(mean_sum[c] / 4));
    EXPECT_NEAR(bn.running_var[c], var_sum[c] / 4, 1e-5 * std::fabs(var_sum[c] / 4));
  }
}

TEST(BatchNorm, EvalUsesTheFoldedMovingStatisticsAndIsRepeatable) {
  BatchNormalization bn;
  Rng rng(1);
  bn.build(Shape{3}, rng);
  Tensor y;
  for (const Tensor& x : batches(3, 8, 3)) bn.forward(x, y, Mode::Train);
  for (int c = 0; c < 3; ++c) {
    bn.weight[c] = 1.5f + c;
    bn.bias[c] = -0.5f * c;
  }
  const Tensor x = batches(1, 5, 3)[0];
  const std::vector<float> mean_before(bn.running_mean.data(), bn.running_mean.data() + 3);
  Tensor y1, y2;
  bn.forward(x, y1, Mode::Eval);
  bn.forward(x, y2, Mode::Eval);
  for (int64_t i = 0; i < y1.numel(); ++i) EXPECT_EQ(y1[i], y2[i]);
  for (int c = 0; c < 3; ++c) EXPECT_EQ(bn.running_mean[c], mean_before[c]) << "eval must not update statistics";
  for (int n = 0; n < 5; ++n)
    for (int c = 0; c < 3; ++c) {
      const double scale = bn.weight[c] / std::sqrt((double)bn.running_var[c] + 1e-3);
      const double expected = x[n * 3 + c] * scale + (bn.bias[c] - bn.running_mean[c] * scale);
      EXPECT_NEAR(y1[n * 3 + c], expected, 1e-5 * (1 + std::fabs(expected)));
    }
  EXPECT_EQ(bn.num_batches_tracked, 3);
}

TEST(BatchNorm, TrainingOnOneSampleIsAClearError) {
  BatchNormalization bn;
  bn.name = "batch_normalization";
  Rng rng(1);
  bn.build(Shape{3}, rng);
  Tensor x(Shape{1, 3}), y;
  try {
    bn.forward(x, y, Mode::Train);
    FAIL() << "expected an error";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(),
                 "batch_normalization: training needs more than 1 value per feature, got a batch of 1 (use a larger batch)");
  }
  EXPECT_NO_THROW(bn.forward(x, y, Mode::Eval));  // inference on one sample is fine
}

TEST(BatchNorm, LargeMeansStayExact) {
  // A feature at 1e4 with spread 1e-2: float accumulation of the variance would lose it.
  BatchNormalization bn(BatchNormOptions::torch());
  Rng rng(2);
  bn.build(Shape{1}, rng);
  Tensor x(Shape{512, 1}), y;
  for (int n = 0; n < 512; ++n) x[n] = 10000.0f + (n % 2 ? 0.01f : -0.01f);
  bn.forward(x, y, Mode::Train);
  const Stats s = batch_stats(x);
  for (int n = 0; n < 512; ++n) EXPECT_NEAR(y[n], (x[n] - s.mean[0]) / std::sqrt(s.var[0] + 1e-5), 1e-3);
}

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

// The input-BatchNorm + Dense backward (kernels/batchnorm_dense.h) in its two modes: set (H formed
// in dW's rows, then overwritten) and accumulate (H in the scratch). Accumulating onto P gives P
// plus what setting gives: exactly for dW and db, to rounding for dgamma and dbeta. C = 100 ends in
// a partial block of columns; K = 40 ends in a partial group of rows.
TEST(BatchNormDense, AccumulateAddsWhatSetWrites) {
  const int N = 5, C = 100, K = 40;
  Rng rng(3);
  const Tensor u = random_tensor(Shape{N, C}, rng), W = random_tensor(Shape{K, C}, rng);
  const Tensor a = random_tensor(Shape{N, K}, rng), da = random_tensor(Shape{N, K}, rng);
  const Tensor gamma = random_tensor(Shape{C}, rng), beta = random_tensor(Shape{C}, rng);
  const Tensor P = random_tensor(Shape{K, C}, rng), Pb = random_tensor(Shape{K}, rng);
  const Tensor Pg = random_tensor(Shape{C}, rng), Pbeta = random_tensor(Shape{C}, rng);
  auto run = [&](bool accumulate) {
    Tensor scratch(Shape{batchnorm_dense_scratch(C, K, accumulate)}), dz(Shape{N, K});
    std::vector<Tensor> g = {P, Pb, Pg, Pbeta};  // dW, db, dgamma, dbeta
    batchnorm_dense_backward_activation(g[0].data(), g[1].data(), g[2].data(), g[3].data(), scratch.data(), dz.data(),
                                        da.data(), a.data(), Activation::Tanh, u.data(), W.data(), gamma.data(),
                                        beta.data(), N, C, K, accumulate);
    return g;
  };
  const std::vector<Tensor> set = run(false), acc = run(true);
  for (int64_t i = 0; i < P.numel(); ++i) EXPECT_EQ(acc[0][i], P[i] + set[0][i]) << "dW[" << i << "]";
  for (int64_t i = 0; i < Pb.numel(); ++i) EXPECT_EQ(acc[1][i], Pb[i] + set[1][i]) << "db[" << i << "]";
  for (int64_t i = 0; i < C; ++i) {
    EXPECT_NEAR(acc[2][i], Pg[i] + set[2][i], 1e-5f) << "dgamma[" << i << "]";
    EXPECT_NEAR(acc[3][i], Pbeta[i] + set[3][i], 1e-5f) << "dbeta[" << i << "]";
  }
}

}  // namespace
}  // namespace bnlab
