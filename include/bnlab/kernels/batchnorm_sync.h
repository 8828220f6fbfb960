#pragma once
// Batch normalization with the statistics of a batch larger than the rows at hand: the global
// batch of a data-parallel step, whose shards are on other ranks (synchronised BatchNorm:
// model/plan.h). x: (N, C) is this rank's shard; the global batch has n rows over all ranks.
//
// Forward, in three parts with the merge between them:
//   shard moments   mean_r[c] = (1/N) sum_n x[n, c],  m2_r[c] = sum_n (x[n, c] - mean_r[c])^2
//   merge           n = sum_r n_r,  mean = sum_r n_r mean_r / n,
//                   var = (sum_r m2_r + n_r (mean_r - mean)^2) / n                      (biased)
//                   taken one rank at a time in rank order (Chan, Golub and LeVeque's update), in
//                   double, so that every rank holding the same gathered moments gets the same bits
//   normalise       y[n, c] = (x[n, c] - mean[c]) * invstd[c] * gamma[c] + beta[c],
//                   invstd = 1 / sqrt(var + eps), and u = (x - mean) * invstd when wanted
// Backward, as PyTorch's SyncBatchNorm: with the two per-feature sums over every rank's rows
//   sum_dy[c] = sum dy[., c],  sum_dy_xmu[c] = sum dy[., c] * (x[., c] - mean[c])
//   dx[n, c]  = gamma[c] * invstd[c] * (dy[n, c] - sum_dy[c] / n - (x[n, c] - mean[c]) * invstd[c]^2
//                                       * sum_dy_xmu[c] / n)
// and the parameter gradients of this rank's rows only (the ranks' gradient sum adds the shares):
//   dbeta[c] += sum_n dy[n, c],  dgamma[c] += invstd[c] * sum_n dy[n, c] (x[n, c] - mean[c])
// The arithmetic is kernels/batchnorm.h's (double sums, the mean split in two floats), so one rank
// holding the whole batch gives that kernel's results within rounding. N = 0 is allowed (an empty
// shard: zero moments, nothing to write).
//
// Images x: (N, C, HW), HW = H * W, are normalised per channel over all n and hw (BatchNorm2d), so a
// rank's shard gives each channel N * HW values: batchnorm2d_shard_moments forms their moments in
// the same layout (count N * HW, mean, m2), merged by batchnorm_merge_moments as the features' are,
// whose n is then the values per channel of all ranks. The rest is kernels/batchnorm2d.h's with the
// merged statistics: batchnorm2d_normalise (forward), batchnorm2d_backward_sums into the (2, C)
// sums, then, summed over the ranks, batchnorm2d_backward_input with count = n (backward).
#include <cstdint>

namespace bnlab {

// Doubles one rank sends to the merge for C features: its row count, mean (C) and m2 (C).
inline int64_t batchnorm_moments_size(int C) { return 1 + 2 * int64_t{C}; }

// moments: batchnorm_moments_size(C) doubles written: N, mean_r (C), m2_r (C)  x: (N, C)
// On columns [c0, c0 + w) only, serially on the calling thread (inside a caller's parallel region,
// one block of columns per thread; the block with c0 = 0 writes N), or on all columns across threads.
void batchnorm_shard_moments_columns(double* moments, const float* x, int N, int C, int c0, int w);
void batchnorm_shard_moments(double* moments, const float* x, int N, int C);

// moments: batchnorm_moments_size(C) doubles written: N * HW, mean_r (C), m2_r (C)  x: (N, C, HW)
// Each channel's values shifted by its first, x[0, c, 0], summed over n, then hw, by one thread:
// the same bits for any thread count.
void batchnorm2d_shard_moments(double* moments, const float* x, int N, int C, int HW);

// mean, var: (C) written; returns n, the rows of all ranks (for images: the values per channel)
// gathered: ranks x batchnorm_moments_size(C) doubles, rank r's moments at r * batchnorm_moments_size(C)
int64_t batchnorm_merge_moments(double* mean, double* var, const double* gathered, int ranks, int C);

// y: (N, C)  u: (N, C) or null  invstd: (C) written  x: (N, C)  mean, var: (C) of the global batch
// gamma, beta: (C) or null. Columns [c0, c0 + w) serially, or all across threads.
void batchnorm_normalise_columns(float* y, float* u, float* invstd, const float* x, const double* mean,
                                 const double* var, const float* gamma, const float* beta, int N, int C, float eps,
                                 int c0, int w);
void batchnorm_normalise(float* y, float* u, float* invstd, const float* x, const double* mean, const double* var,
                         const float* gamma, const float* beta, int N, int C, float eps);

// sums: (2, C) written: sum_dy, then sum_dy_xmu, over this rank's rows  dy, x: (N, C)  mean: (C)
void batchnorm_backward_sums_columns(double* sums, const float* dy, const float* x, const double* mean, int N, int C,
                                     int c0, int w);
void batchnorm_backward_sums(double* sums, const float* dy, const float* x, const double* mean, int N, int C);

// dgamma, dbeta: (C) accumulated, or null  shard_sums: (2, C) of this rank's rows  invstd: (C)
void batchnorm_sync_param_grads(float* dgamma, float* dbeta, const double* shard_sums, const float* invstd, int C);

// dx: (N, C)  dy, x: (N, C)  mean, invstd: (C)  gamma: (C) or null
// sums: (2, C) over every rank's rows  n: the rows of all ranks
void batchnorm_sync_backward_dx(float* dx, const float* dy, const float* x, const double* mean, const float* invstd,
                                const float* gamma, const double* sums, int64_t n, int N, int C);

}  // namespace bnlab
