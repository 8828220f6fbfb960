#include "bnlab/kernels/batchnorm.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "core/parallel.h"
#include "kernels/batchnorm_rows.h"

namespace bnlab {
namespace {

// Per-feature work in chunks of kChunk columns (kernels/batchnorm_rows.h), threads taking runs of
// chunks (core/parallel.h).
using bn_rows::kChunk;

// chunk(c0, w) is called with w = std::integral_constant<int, kChunk> for whole chunks, so their
// loops have a constant trip count (unrolled, accumulators in registers), and with an int for the
// last, narrower chunk.
template <class ChunkFn>
void call_chunk(int c0, int w, ChunkFn& chunk) {
  if (w == kChunk)
    chunk(c0, std::integral_constant<int, kChunk>{});
  else
    chunk(c0, w);
}

// Columns [cb, ce), or all C columns when ce < 0, through chunk(c0, w): all columns split across
// threads (core/parallel.h), a given range serially on the calling thread (the caller's own
// parallel region: core/work_split.h's ColumnBlockFn). A column's results do not depend on which
// chunk it falls in.
template <class ChunkFn>
void for_feature_chunks(int N, int C, int cb, int ce, ChunkFn chunk) {
  if (ce < 0) {
    for_column_chunks(N, C, kChunk, [&](int c0, int w) { call_chunk(c0, w, chunk); });
    return;
  }
  for (int c0 = cb; c0 < ce; c0 += kChunk) call_chunk(c0, std::min(kChunk, ce - c0), chunk);
}

using bn_rows::split_mean;

// Batch Renormalization's inputs and outputs; null for plain BN.
struct Renorm {
  const float* moving_mean;
  const float* moving_var;
  float rmax, dmax;
  float* r;
  float* d;
};

double clip(double v, double lo, double hi) { return std::min(hi, std::max(lo, v)); }

// r and d of feature c from the batch's mean and variance; stored rounded to float, and returned as
// stored so that forward and backward use the same values.
void renorm_correction(const Renorm& renorm, int c, double mean, double var, float eps, double& r, double& d) {
  const double sigma = std::sqrt((double)renorm.moving_var[c] + eps);
  renorm.r[c] = static_cast<float>(clip(std::sqrt(var + eps) / sigma, 1.0 / renorm.rmax, renorm.rmax));
  renorm.d[c] = static_cast<float>(clip((mean - renorm.moving_mean[c]) / sigma, -renorm.dmax, renorm.dmax));
  r = renorm.r[c];
  d = renorm.d[c];
}

void forward_train(float* y, float* u, double* mean, float* invstd, double* var, const float* x, const float* gamma,
                   const float* beta, int N, int C, float eps, const Renorm* renorm, int cb = 0, int ce = -1) {
  for_feature_chunks(N, C, cb, ce, [&](int c0, auto w) {
    // One pass, the squares shifted by the first row (K = x[0, c], a member of the batch):
    // Scalar math: sum[c] = sum_n x[n, c];  sq[c] = sum_n (x[n, c] - K[c])^2
    //              var[c] = sq[c] / N - (mean[c] - K[c])^2   (not below 0)
    // x - K and its square are exact in double (floats have 24-bit significands), so only the
    // sums round. Since K is in the batch, (mean - K)^2 <= N var: the subtraction loses at most a
    // factor N of double precision, about 1e-13 at N = 1000, as exact as two passes.
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
    double mu[kChunk], v[kChunk];
#pragma omp simd
    for (int j = 0; j < w; ++j) {
      mu[j] = sum[j] / N;
      const double m = mu[j] - K[j];
      v[j] = std::max(0.0, sq[j] / N - m * m);
    }
    // Per-feature constants, vectorised across the chunk (plain BN: r = 1, d = 0).
    double is[kChunk], r[kChunk], d[kChunk];
#pragma omp simd
    for (int j = 0; j < w; ++j) {
      is[j] = 1.0 / std::sqrt(v[j] + eps);
      r[j] = 1.0;
      d[j] = 0.0;
    }
    if (renorm)
      for (int j = 0; j < w; ++j) renorm_correction(*renorm, c0 + j, mu[j], v[j], eps, r[j], d[j]);
    float a[kChunk], b[kChunk], m_hi[kChunk], m_lo[kChunk], ua[kChunk], ub[kChunk];
#pragma omp simd
    for (int j = 0; j < w; ++j) {
      const int c = c0 + j;
      mean[c] = mu[j];
      var[c] = v[j];
      invstd[c] = static_cast<float>(is[j]);
      split_mean(mu[j], m_hi[j], m_lo[j]);
      const double g = gamma ? gamma[c] : 1.0;
      a[j] = static_cast<float>(is[j] * r[j] * g);
      b[j] = static_cast<float>((beta ? beta[c] : 0.0) + d[j] * g);
      ua[j] = static_cast<float>(is[j] * r[j]);
      ub[j] = static_cast<float>(d[j]);
    }
    // Scalar math: y[n, c] = (x[n, c] - mean[c]) * a[c] + b[c], a = invstd * r * gamma, b = d * gamma + beta
    //              u[n, c] = (x[n, c] - mean[c]) * invstd[c] * r[c] + d[c]   (when wanted)
    for (int n = 0; n < N; ++n) {
      const float* xr = x + (int64_t)n * C + c0;
      float* yr = y + (int64_t)n * C + c0;
      if (u) {
        float* ur = u + (int64_t)n * C + c0;
#pragma omp simd
        for (int j = 0; j < w; ++j) {
          const float centred = (xr[j] - m_hi[j]) - m_lo[j];
          yr[j] = centred * a[j] + b[j];
          ur[j] = centred * ua[j] + ub[j];
        }
      } else {
#pragma omp simd
        for (int j = 0; j < w; ++j) yr[j] = ((xr[j] - m_hi[j]) - m_lo[j]) * a[j] + b[j];
      }
    }
  });
}

// r, d: (C), or both null for plain BN (r = 1, d = 0).
void backward_train(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x, const double* mean,
                    const float* invstd, const float* r, const float* d, const float* gamma, int N, int C, int cb = 0,
                    int ce = -1) {
  for_feature_chunks(N, C, cb, ce, [&](int c0, auto w) {
    double sum_dy[kChunk] = {}, sum_dy_xmu[kChunk] = {};
    double mu[kChunk];
    for (int j = 0; j < w; ++j) mu[j] = mean[c0 + j];
    bn_rows::backward_sums(sum_dy, sum_dy_xmu, dy, x, mu, N, C, c0, w);
    float k_dy[kChunk], k_x[kChunk], k_0[kChunk], m_hi[kChunk], m_lo[kChunk];
    double sum_dy_xhat[kChunk];
    // Per-feature constants, vectorised across the chunk.
#pragma omp simd
    for (int j = 0; j < w; ++j) {
      const int c = c0 + j;
      const double is = invstd[c];
      sum_dy_xhat[j] = sum_dy_xmu[j] * is;
      if (r) sum_dy_xhat[j] = sum_dy_xhat[j] * r[c] + d[c] * sum_dy[j];
      // dx = g*is*dy - (x - mean) * g*is^3*sum_dy_xmu/N - g*is*sum_dy/N, with g = gamma * r
      const double g = (gamma ? gamma[c] : 1.0) * (r ? r[c] : 1.0);
      k_dy[j] = static_cast<float>(g * is);
      k_x[j] = static_cast<float>(-g * is * sum_dy_xmu[j] * is * is / N);
      k_0[j] = static_cast<float>(-g * is * sum_dy[j] / N);
      split_mean(mu[j], m_hi[j], m_lo[j]);
    }
    if (dbeta) {
#pragma omp simd
      for (int j = 0; j < w; ++j) dbeta[c0 + j] += static_cast<float>(sum_dy[j]);
    }
    if (dgamma) {
#pragma omp simd
      for (int j = 0; j < w; ++j) dgamma[c0 + j] += static_cast<float>(sum_dy_xhat[j]);
    }
    if (!dx) return;
    bn_rows::input_gradient(dx, dy, x, k_dy, k_x, k_0, m_hi, m_lo, N, C, c0, w);
  });
}

}  // namespace

void batchnorm_forward_train(float* y, float* u, double* mean, float* invstd, double* var, const float* x,
                             const float* gamma, const float* beta, int N, int C, float eps) {
  forward_train(y, u, mean, invstd, var, x, gamma, beta, N, C, eps, nullptr);
}

void batchnorm_renorm_forward_train(float* y, float* u, double* mean, float* invstd, double* var, float* r, float* d,
                                    const float* x, const float* gamma, const float* beta,
                                    const float* moving_mean, const float* moving_var, float rmax, float dmax,
                                    int N, int C, float eps) {
  const Renorm renorm{moving_mean, moving_var, rmax, dmax, r, d};
  forward_train(y, u, mean, invstd, var, x, gamma, beta, N, C, eps, &renorm);
}

void batchnorm_backward_train(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x,
                              const double* mean, const float* invstd, const float* gamma, int N, int C) {
  backward_train(dx, dgamma, dbeta, dy, x, mean, invstd, nullptr, nullptr, gamma, N, C);
}

void batchnorm_renorm_backward_train(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x,
                                     const double* mean, const float* invstd, const float* r, const float* d,
                                     const float* gamma, int N, int C) {
  backward_train(dx, dgamma, dbeta, dy, x, mean, invstd, r, d, gamma, N, C);
}

void batchnorm_forward_train_columns(float* y, float* u, double* mean, float* invstd, double* var, const float* x,
                                     const float* gamma, const float* beta, int N, int C, float eps, int c0, int w) {
  forward_train(y, u, mean, invstd, var, x, gamma, beta, N, C, eps, nullptr, c0, c0 + w);
}

void batchnorm_backward_train_columns(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x,
                                      const double* mean, const float* invstd, const float* gamma, int N, int C,
                                      int c0, int w) {
  backward_train(dx, dgamma, dbeta, dy, x, mean, invstd, nullptr, nullptr, gamma, N, C, c0, c0 + w);
}

void batchnorm_fold(float* scale, float* shift, const float* moving_mean, const float* moving_var,
                    const float* gamma, const float* beta, int C, float eps) {
  for (int c = 0; c < C; ++c) {
    const double s = (gamma ? gamma[c] : 1.0) / std::sqrt((double)moving_var[c] + eps);
    scale[c] = static_cast<float>(s);
    shift[c] = static_cast<float>((beta ? beta[c] : 0.0) - moving_mean[c] * s);
  }
}

void batchnorm_forward_eval(float* y, const float* x, const float* scale, const float* shift, int N, int C) {
  // Scalar math: y[n, c] = x[n, c] * scale[c] + shift[c]
#pragma omp parallel for schedule(static) if ((int64_t)N * C > 32768)
  for (int n = 0; n < N; ++n) {
    const float* xr = x + (int64_t)n * C;
    float* yr = y + (int64_t)n * C;
#pragma omp simd
    for (int c = 0; c < C; ++c) yr[c] = xr[c] * scale[c] + shift[c];
  }
}

void batchnorm_backward_eval(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x,
                             const float* moving_mean, const float* moving_var, const float* scale,
                             int N, int C, float eps) {
  for (int c = 0; c < C; ++c) {
    double sum_dy = 0.0, sum_dy_xhat = 0.0;
    const double is = 1.0 / std::sqrt((double)moving_var[c] + eps);
    for (int n = 0; n < N; ++n) {
      const double g = dy[(int64_t)n * C + c];
      sum_dy += g;
      sum_dy_xhat += g * (x[(int64_t)n * C + c] - moving_mean[c]) * is;
    }
    if (dbeta) dbeta[c] += static_cast<float>(sum_dy);
    if (dgamma) dgamma[c] += static_cast<float>(sum_dy_xhat);
  }
  if (!dx) return;
  for (int n = 0; n < N; ++n)
    for (int c = 0; c < C; ++c) dx[(int64_t)n * C + c] = dy[(int64_t)n * C + c] * scale[c];
}

}  // namespace bnlab
