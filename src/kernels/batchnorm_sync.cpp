#include "bnlab/kernels/batchnorm_sync.h"

#include <algorithm>
#include <cmath>

#include "core/parallel.h"
#include "kernels/batchnorm_rows.h"

namespace bnlab {
namespace {

using bn_rows::kChunk;
using bn_rows::split_mean;

// Below this many values one thread is faster (as kernels/batchnorm2d.cpp).
constexpr int64_t kMinParallelValues = 32768;

// chunk(c0, w) on columns [c0, c0 + w) in chunks, serially.
template <class ChunkFn>
void for_chunks_of(int c0, int w, ChunkFn chunk) {
  for (int c = c0; c < c0 + w; c += kChunk) chunk(c, std::min(kChunk, c0 + w - c));
}

void shard_moments_chunk(double* moments, const float* x, int N, int C, int c0, int w) {
  double* mean = moments + 1;
  double* m2 = moments + 1 + C;
  if (N == 0) {
    std::fill(mean + c0, mean + c0 + w, 0.0);
    std::fill(m2 + c0, m2 + c0 + w, 0.0);
    return;
  }
  // Scalar math: sum[c] = sum_n x[n, c];  sq[c] = sum_n (x[n, c] - K[c])^2, K = x[0, c] (a member of
  // the shard, so the shifted squares are exact in double: kernels/batchnorm.cpp's bound)
  //              mean[c] = sum[c] / N;  m2[c] = sq[c] - N (mean[c] - K[c])^2   (not below 0)
  double sum[kChunk] = {}, sq[kChunk] = {};
  const float* K = x + c0;
  for (int n = 0; n < N; ++n) {
    const float* xr = x + (int64_t)n * C + c0;
#pragma omp simd
    for (int j = 0; j < w; ++j) {
      sum[j] += xr[j];
      const double d = (double)xr[j] - K[j];
      sq[j] += d * d;
    }
  }
  for (int j = 0; j < w; ++j) {
    const double mu = sum[j] / N, m = mu - K[j];
    mean[c0 + j] = mu;
    m2[c0 + j] = std::max(0.0, sq[j] - N * m * m);
  }
}

void normalise_chunk(float* y, float* u, float* invstd, const float* x, const double* mean, const double* var,
                     const float* gamma, const float* beta, int N, int C, float eps, int c0, int w) {
  float a[kChunk], b[kChunk], ua[kChunk], m_hi[kChunk], m_lo[kChunk];
  for (int j = 0; j < w; ++j) {
    const int c = c0 + j;
    const double is = 1.0 / std::sqrt(var[c] + eps);
    invstd[c] = static_cast<float>(is);
    split_mean(mean[c], m_hi[j], m_lo[j]);
    a[j] = static_cast<float>(is * (gamma ? gamma[c] : 1.0));
    b[j] = static_cast<float>(beta ? beta[c] : 0.0);
    ua[j] = static_cast<float>(is);
  }
  // Scalar math: y[n, c] = (x[n, c] - mean[c]) * a[c] + b[c], a = invstd * gamma, b = beta
  //              u[n, c] = (x[n, c] - mean[c]) * invstd[c]   (when wanted)
  for (int n = 0; n < N; ++n) {
    const float* xr = x + (int64_t)n * C + c0;
    float* yr = y + (int64_t)n * C + c0;
    float* ur = u ? u + (int64_t)n * C + c0 : nullptr;
#pragma omp simd
    for (int j = 0; j < w; ++j) {
      const float centred = (xr[j] - m_hi[j]) - m_lo[j];
      yr[j] = centred * a[j] + b[j];
      if (ur) ur[j] = centred * ua[j];
    }
  }
}

void backward_sums_chunk(double* sums, const float* dy, const float* x, const double* mean, int N, int C, int c0,
                         int w) {
  double sum_dy[kChunk] = {}, sum_dy_xmu[kChunk] = {}, mu[kChunk];
  for (int j = 0; j < w; ++j) mu[j] = mean[c0 + j];
  bn_rows::backward_sums(sum_dy, sum_dy_xmu, dy, x, mu, N, C, c0, w);
  std::copy_n(sum_dy, w, sums + c0);
  std::copy_n(sum_dy_xmu, w, sums + C + c0);
}

void backward_dx_chunk(float* dx, const float* dy, const float* x, const double* mean, const float* invstd,
                       const float* gamma, const double* sums, int64_t count, int N, int C, int c0, int w) {
  float k_dy[kChunk], k_x[kChunk], k_0[kChunk], m_hi[kChunk], m_lo[kChunk];
  for (int j = 0; j < w; ++j) {
    const int c = c0 + j;
    const double is = invstd[c], g = gamma ? gamma[c] : 1.0;
    // dx = g*is*dy - (x - mean) * g*is^3*sum_dy_xmu/n - g*is*sum_dy/n
    k_dy[j] = static_cast<float>(g * is);
    k_x[j] = static_cast<float>(-g * is * sums[C + c] * is * is / count);
    k_0[j] = static_cast<float>(-g * is * sums[c] / count);
    split_mean(mean[c], m_hi[j], m_lo[j]);
  }
  bn_rows::input_gradient(dx, dy, x, k_dy, k_x, k_0, m_hi, m_lo, N, C, c0, w);
}

}  // namespace

void batchnorm_shard_moments_columns(double* moments, const float* x, int N, int C, int c0, int w) {
  if (c0 == 0) moments[0] = N;  // by one block of a caller's region
  for_chunks_of(c0, w, [&](int c, int cw) { shard_moments_chunk(moments, x, N, C, c, cw); });
}

void batchnorm_shard_moments(double* moments, const float* x, int N, int C) {
  moments[0] = N;
  for_column_chunks(N, C, kChunk, [&](int c, int w) { shard_moments_chunk(moments, x, N, C, c, w); });
}

void batchnorm2d_shard_moments(double* moments, const float* x, int N, int C, int HW) {
  const int64_t count = static_cast<int64_t>(N) * HW;
  moments[0] = static_cast<double>(count);
  double* mean = moments + 1;
  double* m2 = moments + 1 + C;
#pragma omp parallel for schedule(static) if (count * C > kMinParallelValues)
  for (int c = 0; c < C; ++c) {
    if (count == 0) {
      mean[c] = m2[c] = 0.0;
      continue;
    }
    const double K = x[static_cast<int64_t>(c) * HW];
    double s = 0.0, q = 0.0;
    for (int n = 0; n < N; ++n) {
      const float* xp = x + (static_cast<int64_t>(n) * C + c) * HW;
      // Scalar math: s += x - K;  q += (x - K)^2
#pragma omp simd reduction(+ : s, q)
      for (int i = 0; i < HW; ++i) {
        const double d = static_cast<double>(xp[i]) - K;
        s += d;
        q += d * d;
      }
    }
    // mean = K + s / count;  m2 = sum (x - mean)^2 = q - s^2 / count   (not below 0)
    mean[c] = K + s / count;
    m2[c] = std::max(0.0, q - s * s / count);
  }
}

int64_t batchnorm_merge_moments(double* mean, double* var, const double* gathered, int ranks, int C) {
  const int64_t stride = batchnorm_moments_size(C);
  std::fill(mean, mean + C, 0.0);
  std::fill(var, var + C, 0.0);  // m2 until the end
  int64_t n = 0;
  for (int r = 0; r < ranks; ++r) {
    const double* rank = gathered + r * stride;
    const int64_t n_r = static_cast<int64_t>(rank[0]);
    if (n_r == 0) continue;  // an empty shard
    const double* mean_r = rank + 1;
    const double* m2_r = rank + 1 + C;
    const int64_t merged = n + n_r;
    // Scalar math: delta = mean_r - mean;  mean += delta * n_r / merged;
    //              m2 += m2_r + delta^2 * n * n_r / merged
    const double w_r = static_cast<double>(n_r) / merged, w_nr = static_cast<double>(n) * n_r / merged;
    for (int c = 0; c < C; ++c) {
      const double delta = mean_r[c] - mean[c];
      mean[c] += delta * w_r;
      var[c] += m2_r[c] + delta * delta * w_nr;
    }
    n = merged;
  }
  for (int c = 0; c < C; ++c) var[c] = n > 0 ? var[c] / n : 0.0;
  return n;
}

void batchnorm_normalise_columns(float* y, float* u, float* invstd, const float* x, const double* mean,
                                 const double* var, const float* gamma, const float* beta, int N, int C, float eps,
                                 int c0, int w) {
  for_chunks_of(c0, w, [&](int c, int cw) { normalise_chunk(y, u, invstd, x, mean, var, gamma, beta, N, C, eps, c, cw); });
}

void batchnorm_normalise(float* y, float* u, float* invstd, const float* x, const double* mean, const double* var,
                         const float* gamma, const float* beta, int N, int C, float eps) {
  for_column_chunks(N, C, kChunk,
                    [&](int c, int w) { normalise_chunk(y, u, invstd, x, mean, var, gamma, beta, N, C, eps, c, w); });
}

void batchnorm_backward_sums_columns(double* sums, const float* dy, const float* x, const double* mean, int N, int C,
                                     int c0, int w) {
  for_chunks_of(c0, w, [&](int c, int cw) { backward_sums_chunk(sums, dy, x, mean, N, C, c, cw); });
}

void batchnorm_backward_sums(double* sums, const float* dy, const float* x, const double* mean, int N, int C) {
  for_column_chunks(N, C, kChunk, [&](int c, int w) { backward_sums_chunk(sums, dy, x, mean, N, C, c, w); });
}

void batchnorm_sync_param_grads(float* dgamma, float* dbeta, const double* shard_sums, const float* invstd, int C) {
  for (int c = 0; c < C; ++c) {
    if (dbeta) dbeta[c] += static_cast<float>(shard_sums[c]);
    if (dgamma) dgamma[c] += static_cast<float>(shard_sums[C + c] * invstd[c]);
  }
}

void batchnorm_sync_backward_dx(float* dx, const float* dy, const float* x, const double* mean, const float* invstd,
                                const float* gamma, const double* sums, int64_t n, int N, int C) {
  for_column_chunks(N, C, kChunk,
                    [&](int c, int w) { backward_dx_chunk(dx, dy, x, mean, invstd, gamma, sums, n, N, C, c, w); });
}

}  // namespace bnlab
