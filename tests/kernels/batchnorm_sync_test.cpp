// Synchronised BatchNorm's kernels: a batch cut into shards (one of them empty, one of a single
// row), whose moments are merged and whose backward sums are added, gives the whole batch's
// statistics, output and gradients (kernels/batchnorm.h) within rounding; a batch of images, each
// channel's statistics over all its values.
#include "bnlab/kernels/batchnorm_sync.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "bnlab/kernels/batchnorm.h"
#include "support/batch_stats.h"
#include "support/gradcheck.h"

namespace bnlab {
namespace {

using testing::batch_stats;
using testing::random_tensor;

constexpr int N = 37, C = 70;  // two chunks of features, the second partial
constexpr float kEps = 1e-3f;
const std::vector<int> kShards = {13, 0, 1, 23};  // rows of each rank, in rank order

// Rows [begin, begin + rows) of x: (N, C).
const float* rows_of(const Tensor& x, int begin) { return x.data() + static_cast<int64_t>(begin) * C; }

// Each shard's moments, gathered in rank order.
std::vector<double> gathered_moments(const Tensor& x) {
  const int64_t n = batchnorm_moments_size(C);
  std::vector<double> gathered(n * kShards.size());
  int begin = 0;
  for (size_t r = 0; r < kShards.size(); ++r) {
    batchnorm_shard_moments(gathered.data() + r * n, rows_of(x, begin), kShards[r], C);
    begin += kShards[r];
  }
  return gathered;
}

Tensor features(uint64_t seed) {
  Rng rng(seed);
  Tensor x = random_tensor(Shape{N, C}, rng);
  for (int n = 0; n < N; ++n) x[n * C + 3] += 1e4f;  // a mean far larger than the spread
  return x;
}

TEST(BatchNormSync, MergedMomentsAreTheWholeBatchStatistics) {
  const Tensor x = features(1);
  const std::vector<double> gathered = gathered_moments(x);
  std::vector<double> mean(C), var(C);
  EXPECT_EQ(batchnorm_merge_moments(mean.data(), var.data(), gathered.data(), kShards.size(), C), N);
  const testing::Stats want = batch_stats(x);
  for (int c = 0; c < C; ++c) {
    EXPECT_NEAR(mean[c], want.mean[c], 1e-14 * std::fabs(want.mean[c])) << c;
    EXPECT_NEAR(var[c], want.var[c], 1e-11 * want.var[c]) << c;
  }
  // The columns form inside a caller's region gives the same moments, block by block.
  std::vector<double> blocks(batchnorm_moments_size(C));
  batchnorm_shard_moments_columns(blocks.data(), x.data(), 13, C, 0, 16);
  batchnorm_shard_moments_columns(blocks.data(), x.data(), 13, C, 16, C - 16);
  EXPECT_EQ(blocks, std::vector<double>(gathered.begin(), gathered.begin() + blocks.size()));
}

// Images: each channel's moments over the N * H * W values of a shard, merged as the features'.
TEST(BatchNormSync, MergedImageMomentsAreTheWholeBatchChannelStatistics) {
  constexpr int kImages = 9, kChannels = 5, kH = 6, kW = 7, HW = kH * kW;
  const std::vector<int> shards = {4, 0, 1, 4};
  Rng rng(4);
  Tensor x = random_tensor(Shape{kImages, kChannels, kH, kW}, rng);
  for (int n = 0; n < kImages; ++n)
    for (int i = 0; i < HW; ++i) x[(n * kChannels + 2) * HW + i] += 1e4f;  // a mean far larger than the spread
  const int64_t stride = batchnorm_moments_size(kChannels);
  std::vector<double> gathered(stride * shards.size());
  int begin = 0;
  for (size_t r = 0; r < shards.size(); ++r) {
    batchnorm2d_shard_moments(gathered.data() + r * stride, x.data() + static_cast<int64_t>(begin) * kChannels * HW,
                              shards[r], kChannels, HW);
    EXPECT_EQ(gathered[r * stride], shards[r] * HW);
    begin += shards[r];
  }
  std::vector<double> mean(kChannels), var(kChannels);
  EXPECT_EQ(batchnorm_merge_moments(mean.data(), var.data(), gathered.data(), shards.size(), kChannels),
            kImages * HW);
  const testing::Stats want = testing::channel_stats(x);
  for (int c = 0; c < kChannels; ++c) {
    EXPECT_NEAR(mean[c], want.mean[c], 1e-14 * std::fabs(want.mean[c])) << c;
    EXPECT_NEAR(var[c], want.var[c], 1e-11 * want.var[c]) << c;
  }
}

TEST(BatchNormSync, NoRowsAnywhereGiveNoRows) {
  std::vector<double> none(2 * batchnorm_moments_size(C), 0.0), mean(C, 1.0), var(C, 1.0);
  EXPECT_EQ(batchnorm_merge_moments(mean.data(), var.data(), none.data(), 2, C), 0);
  EXPECT_EQ(mean, std::vector<double>(C, 0.0));
}

TEST(BatchNormSync, ShardsGiveTheWholeBatchForwardAndBackward) {
  const Tensor x = features(2);
  Rng rng(3);
  const Tensor gamma = random_tensor(Shape{C}, rng, 0.5f, 1.5f), beta = random_tensor(Shape{C}, rng);
  const Tensor dy = random_tensor(Shape{N, C}, rng);

  // The whole batch in one process.
  Tensor y_want(Shape{N, C}), dx_want(Shape{N, C}), invstd_want(Shape{C});
  std::vector<double> mean_want(C), var_want(C);
  batchnorm_forward_train(y_want.data(), nullptr, mean_want.data(), invstd_want.data(), var_want.data(), x.data(),
                          gamma.data(), beta.data(), N, C, kEps);
  std::vector<float> dgamma_want(C, 0.0f), dbeta_want(C, 0.0f);
  batchnorm_backward_train(dx_want.data(), dgamma_want.data(), dbeta_want.data(), dy.data(), x.data(),
                           mean_want.data(), invstd_want.data(), gamma.data(), N, C);

  // The shards: merged statistics, then each shard normalised and differentiated.
  const std::vector<double> gathered = gathered_moments(x);
  std::vector<double> mean(C), var(C);
  const int64_t n = batchnorm_merge_moments(mean.data(), var.data(), gathered.data(), kShards.size(), C);
  Tensor y(Shape{N, C}), u(Shape{N, C}), dx(Shape{N, C}), invstd(Shape{C});
  std::vector<std::vector<double>> shard_sums(kShards.size(), std::vector<double>(2 * C));
  std::vector<double> sums(2 * C, 0.0);
  int begin = 0;
  for (size_t r = 0; r < kShards.size(); ++r) {
    const int64_t at = static_cast<int64_t>(begin) * C;
    batchnorm_normalise(y.data() + at, u.data() + at, invstd.data(), x.data() + at, mean.data(), var.data(),
                        gamma.data(), beta.data(), kShards[r], C, kEps);
    batchnorm_backward_sums(shard_sums[r].data(), dy.data() + at, x.data() + at, mean.data(), kShards[r], C);
    for (int i = 0; i < 2 * C; ++i) sums[i] += shard_sums[r][i];
    begin += kShards[r];
  }
  std::vector<float> dgamma(C, 8.0f), dbeta(C, 8.0f);  // accumulated onto the sentinel
  begin = 0;
  for (size_t r = 0; r < kShards.size(); ++r) {
    const int64_t at = static_cast<int64_t>(begin) * C;
    batchnorm_sync_backward_dx(dx.data() + at, dy.data() + at, x.data() + at, mean.data(), invstd.data(),
                               gamma.data(), sums.data(), n, kShards[r], C);
    batchnorm_sync_param_grads(dgamma.data(), dbeta.data(), shard_sums[r].data(), invstd.data(), C);
    begin += kShards[r];
  }
  for (int64_t i = 0; i < N * C; ++i) {
    ASSERT_NEAR(y[i], y_want[i], 1e-6f * (1.0f + std::fabs(y_want[i]))) << i;
    ASSERT_NEAR(u[i] * gamma[i % C] + beta[i % C], y_want[i], 1e-5f * (1.0f + std::fabs(y_want[i]))) << i;
    ASSERT_NEAR(dx[i], dx_want[i], 1e-5f * (1e-3f + std::fabs(dx_want[i]))) << i;
  }
  for (int c = 0; c < C; ++c) {
    EXPECT_FLOAT_EQ(invstd[c], invstd_want[c]) << c;
    EXPECT_NEAR(dgamma[c] - 8.0f, dgamma_want[c], 1e-5f) << c;
    EXPECT_NEAR(dbeta[c] - 8.0f, dbeta_want[c], 1e-5f) << c;
  }
}

}  // namespace
}  // namespace bnlab
