// The BatchNorm kernels on images (N, C, HW): the shifted one-pass sums against two passes, sums of
// parts of a batch adding up to the whole batch's (what a data-parallel reducer relies on), and the
// same bits for any thread count.
#include "bnlab/kernels/batchnorm2d.h"

#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "support/batch_stats.h"
#include "support/gradcheck.h"

namespace bnlab {
namespace {

using testing::channel_stats;
using testing::random_tensor;
using testing::Stats;

// The shift of one process: each channel's first value.
std::vector<float> first_values(const Tensor& x) {
  const int C = static_cast<int>(x.dim(1)), HW = static_cast<int>(x.dim(2) * x.dim(3));
  std::vector<float> k(C);
  for (int c = 0; c < C; ++c) k[c] = x[(int64_t)c * HW];
  return k;
}

struct Moments {
  std::vector<double> mean, var;
};

Moments moments(const Tensor& x) {
  const int N = static_cast<int>(x.dim(0)), C = static_cast<int>(x.dim(1));
  const int HW = static_cast<int>(x.dim(2) * x.dim(3));
  const std::vector<float> k = first_values(x);
  std::vector<double> sum(C), sumsq(C);
  Moments m{std::vector<double>(C), std::vector<double>(C)};
  batchnorm2d_sums(sum.data(), sumsq.data(), k.data(), x.data(), N, C, HW);
  batchnorm2d_moments(m.mean.data(), m.var.data(), sum.data(), sumsq.data(), k.data(), (int64_t)N * HW, C);
  return m;
}

TEST(BatchNorm2dKernels, ShiftedSumsMatchTwoPassesWhereTheMeanDwarfsTheSpread) {
  const int N = 4, C = 4, H = 8, W = 8;
  Tensor x(Shape{N, C, H, W});
  Rng rng(4);
  for (int64_t i = 0; i < x.numel(); ++i) {
    const int c = static_cast<int>(i / (H * W) % C);
    const float u = static_cast<float>(rng.uniform() - 0.5);
    const float values[] = {1e4f + 0.02f * u, 3.0f + u, 7.25f, 1e6f * (i % 2 ? 1 : -1)};
    x[i] = values[c];
  }
  x[0] = 1e4f + 300.0f;  // channel 0's shift an outlier
  const Moments got = moments(x);
  const Stats want = channel_stats(x);
  for (int c = 0; c < C; ++c) {
    SCOPED_TRACE(c);
    EXPECT_EQ(static_cast<float>(got.mean[c]), static_cast<float>(want.mean[c]));
    EXPECT_NEAR(got.var[c], want.var[c], 1e-12 * want.var[c] + 1e-300);
  }
}

TEST(BatchNorm2dKernels, SumsOfPartsOfABatchWithOneShiftAddUpToTheWhole) {
  const int N = 6, C = 3, HW = 10;
  Rng rng(5);
  const Tensor x = random_tensor(Shape{N, C, 2, 5}, rng, 50.0f, 54.0f);
  const std::vector<float> k = first_values(x);  // the first part's, shared
  std::vector<double> sum(C), sumsq(C), part_sum(C), part_sumsq(C);
  // Two "processes": images 0..3 and 4..5.
  batchnorm2d_sums(sum.data(), sumsq.data(), k.data(), x.data(), 4, C, HW);
  batchnorm2d_sums(part_sum.data(), part_sumsq.data(), k.data(), x.data() + 4 * C * HW, 2, C, HW);
  for (int c = 0; c < C; ++c) {
    sum[c] += part_sum[c];
    sumsq[c] += part_sumsq[c];
  }
  std::vector<double> mean(C), var(C);
  batchnorm2d_moments(mean.data(), var.data(), sum.data(), sumsq.data(), k.data(), (int64_t)N * HW, C);
  const Moments whole = moments(x);
  for (int c = 0; c < C; ++c) {
    EXPECT_NEAR(mean[c], whole.mean[c], 1e-12 * std::fabs(whole.mean[c]));
    EXPECT_NEAR(var[c], whole.var[c], 1e-10 * whole.var[c]);
  }
}

// Forward and backward with 1 and 2 threads, at a size past the kernels' parallel threshold.
TEST(BatchNorm2dKernels, TheSameBitsForAnyThreadCount) {
  const int N = 10, C = 16, H = 16, W = 16, HW = H * W;  // past the kernels' threshold of 32768 values
  Rng rng(6);
  const Tensor x = random_tensor(Shape{N, C, H, W}, rng, -1.0f, 3.0f);
  const Tensor dy = random_tensor(Shape{N, C, H, W}, rng);
  const Tensor gamma = random_tensor(Shape{C}, rng, 0.5f, 1.5f), beta = random_tensor(Shape{C}, rng);
  const std::vector<float> k = first_values(x);
  auto run = [&](int threads) {
    const int saved = omp_get_max_threads();
    omp_set_num_threads(threads);
    std::vector<double> sum(C), sumsq(C), mean(C), var(C), sdy(C), sdyx(C);
    Tensor y(x.shape()), dx(x.shape()), invstd(Shape{C}), dgamma(Shape{C}), dbeta(Shape{C});
    batchnorm2d_sums(sum.data(), sumsq.data(), k.data(), x.data(), N, C, HW);
    batchnorm2d_moments(mean.data(), var.data(), sum.data(), sumsq.data(), k.data(), (int64_t)N * HW, C);
    batchnorm2d_normalise(y.data(), invstd.data(), x.data(), mean.data(), var.data(), nullptr, nullptr, gamma.data(),
                          beta.data(), N, C, HW, 1e-5f);
    batchnorm2d_backward_sums(sdy.data(), sdyx.data(), dy.data(), x.data(), mean.data(), N, C, HW);
    batchnorm2d_param_grads(dgamma.data(), dbeta.data(), sdy.data(), sdyx.data(), invstd.data(), nullptr, nullptr, C);
    batchnorm2d_backward_input(dx.data(), dy.data(), x.data(), mean.data(), invstd.data(), nullptr, gamma.data(),
                               sdy.data(), sdyx.data(), (int64_t)N * HW, N, C, HW);
    omp_set_num_threads(saved);
    std::vector<float> out;
    for (const Tensor* t : {&y, &dx, &dgamma, &dbeta}) out.insert(out.end(), t->data(), t->data() + t->numel());
    return out;
  };
  const std::vector<float> one = run(1), two = run(2);
  ASSERT_EQ(one.size(), two.size());
  EXPECT_EQ(std::memcmp(one.data(), two.data(), one.size() * sizeof(float)), 0);
}

}  // namespace
}  // namespace bnlab
