#include "bnlab/kernels/batchnorm2d.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace bnlab {
namespace {

// Below this many elements one thread is faster.
constexpr int64_t kMinParallel = 32768;

// mean = hi + lo in two floats: x - hi is exact near the mean (Sterbenz), so (x - hi) - lo centres
// x with double accuracy even when the mean is far larger than the spread (as kernels/batchnorm.cpp).
inline void split_mean(double mean, float& hi, float& lo) {
  hi = static_cast<float>(mean);
  lo = static_cast<float>(mean - hi);
}

double clip(double v, double lo, double hi) { return std::min(hi, std::max(lo, v)); }

}  // namespace

void batchnorm2d_sums(double* sum, double* sumsq, const float* shift, const float* x, int N, int C, int HW) {
  // One channel per iteration, its values summed over n, then hw, in order: the same bits for any
  // thread count.
#pragma omp parallel for schedule(static) if ((int64_t)N * C * HW > kMinParallel)
  for (int c = 0; c < C; ++c) {
    const double K = shift[c];
    double s = 0.0, q = 0.0;
    for (int n = 0; n < N; ++n) {
      const float* xp = x + ((int64_t)n * C + c) * HW;
      // Scalar math: s += x - K;  q += (x - K)^2
#pragma omp simd reduction(+ : s, q)
      for (int i = 0; i < HW; ++i) {
        const double d = (double)xp[i] - K;
        s += d;
        q += d * d;
      }
    }
    sum[c] = s;
    sumsq[c] = q;
  }
}

void batchnorm2d_moments(double* mean, double* var, const double* sum, const double* sumsq, const float* shift,
                         int64_t count, int C) {
  for (int c = 0; c < C; ++c) {
    const double m = sum[c] / count;  // mean - K
    mean[c] = shift[c] + m;
    var[c] = std::max(0.0, sumsq[c] / count - m * m);
  }
}

void batchnorm2d_renorm_corrections(float* r, float* d, const double* mean, const double* var,
                                    const float* moving_mean, const float* moving_var, float rmax, float dmax,
                                    int C, float eps) {
  for (int c = 0; c < C; ++c) {
    const double sigma = std::sqrt((double)moving_var[c] + eps);
    r[c] = static_cast<float>(clip(std::sqrt(var[c] + eps) / sigma, 1.0 / rmax, rmax));
    d[c] = static_cast<float>(clip((mean[c] - moving_mean[c]) / sigma, -dmax, dmax));
  }
}

void batchnorm2d_normalise(float* y, float* invstd, const float* x, const double* mean, const double* var,
                           const float* r, const float* d, const float* gamma, const float* beta, int N, int C,
                           int HW, float eps) {
  for (int c = 0; c < C; ++c) invstd[c] = static_cast<float>(1.0 / std::sqrt(var[c] + eps));
#pragma omp parallel for collapse(2) schedule(static) if ((int64_t)N * C * HW > kMinParallel)
  for (int n = 0; n < N; ++n)
    for (int c = 0; c < C; ++c) {
      const double is = 1.0 / std::sqrt(var[c] + eps);
      const double g = gamma ? gamma[c] : 1.0;
      const float a = static_cast<float>(is * (r ? r[c] : 1.0) * g);
      const float b = static_cast<float>((beta ? beta[c] : 0.0) + (d ? d[c] : 0.0) * g);
      float m_hi, m_lo;
      split_mean(mean[c], m_hi, m_lo);
      const float* xp = x + ((int64_t)n * C + c) * HW;
      float* yp = y + ((int64_t)n * C + c) * HW;
      // Scalar math: y = (x - mean[c]) * a[c] + b[c], a = invstd * r * gamma, b = d * gamma + beta
#pragma omp simd
      for (int i = 0; i < HW; ++i) yp[i] = ((xp[i] - m_hi) - m_lo) * a + b;
    }
}

void batchnorm2d_backward_sums(double* sum_dy, double* sum_dy_xmu, const float* dy, const float* x,
                               const double* mean, int N, int C, int HW) {
#pragma omp parallel for schedule(static) if ((int64_t)N * C * HW > kMinParallel)
  for (int c = 0; c < C; ++c) {
    const double mu = mean[c];
    double s = 0.0, sx = 0.0;
    for (int n = 0; n < N; ++n) {
      const int64_t at = ((int64_t)n * C + c) * HW;
      const float* xp = x + at;
      const float* dyp = dy + at;
      // Scalar math: s += dy;  sx += dy * (x - mean[c])
#pragma omp simd reduction(+ : s, sx)
      for (int i = 0; i < HW; ++i) {
        s += dyp[i];
        sx += (double)dyp[i] * ((double)xp[i] - mu);
      }
    }
    sum_dy[c] = s;
    sum_dy_xmu[c] = sx;
  }
}

void batchnorm2d_param_grads(float* dgamma, float* dbeta, const double* sum_dy, const double* sum_dy_xmu,
                             const float* invstd, const float* r, const float* d, int C) {
  for (int c = 0; c < C; ++c) {
    if (dbeta) dbeta[c] += static_cast<float>(sum_dy[c]);
    if (!dgamma) continue;
    const double sum_dy_xhat = sum_dy_xmu[c] * invstd[c];
    dgamma[c] += static_cast<float>(r ? sum_dy_xhat * r[c] + d[c] * sum_dy[c] : sum_dy_xhat);
  }
}

void batchnorm2d_backward_input(float* dx, const float* dy, const float* x, const double* mean, const float* invstd,
                                const float* r, const float* gamma, const double* sum_dy, const double* sum_dy_xmu,
                                int64_t count, int N, int C, int HW) {
#pragma omp parallel for collapse(2) schedule(static) if ((int64_t)N * C * HW > kMinParallel)
  for (int n = 0; n < N; ++n)
    for (int c = 0; c < C; ++c) {
      // dx = g*is*dy - (x - mean) * g*is^3*sum_dy_xmu/count - g*is*sum_dy/count, with g = gamma * r
      const double is = invstd[c];
      const double g = (gamma ? gamma[c] : 1.0) * (r ? r[c] : 1.0);
      const float k_dy = static_cast<float>(g * is);
      const float k_x = static_cast<float>(-g * is * sum_dy_xmu[c] * is * is / count);
      const float k_0 = static_cast<float>(-g * is * sum_dy[c] / count);
      float m_hi, m_lo;
      split_mean(mean[c], m_hi, m_lo);
      const int64_t at = ((int64_t)n * C + c) * HW;
      const float* xp = x + at;
      const float* dyp = dy + at;
      float* dxp = dx + at;
      // Scalar math: dx = dy * k_dy[c] + (x - mean[c]) * k_x[c] + k_0[c]
#pragma omp simd
      for (int i = 0; i < HW; ++i) dxp[i] = dyp[i] * k_dy + ((xp[i] - m_hi) - m_lo) * k_x + k_0;
    }
}

void batchnorm2d_forward_eval(float* y, const float* x, const float* scale, const float* shift, int N, int C,
                              int HW) {
#pragma omp parallel for collapse(2) schedule(static) if ((int64_t)N * C * HW > kMinParallel)
  for (int n = 0; n < N; ++n)
    for (int c = 0; c < C; ++c) {
      const int64_t at = ((int64_t)n * C + c) * HW;
      const float s = scale[c], t = shift[c];
      // Scalar math: y = x * scale[c] + shift[c]
#pragma omp simd
      for (int i = 0; i < HW; ++i) y[at + i] = x[at + i] * s + t;
    }
}

void batchnorm2d_backward_eval(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x,
                               const float* moving_mean, const float* moving_var, const float* scale, int N, int C,
                               int HW, float eps) {
  if (dgamma || dbeta) {
#pragma omp parallel for schedule(static) if ((int64_t)N * C * HW > kMinParallel)
    for (int c = 0; c < C; ++c) {
      const double mu = moving_mean[c], is = 1.0 / std::sqrt((double)moving_var[c] + eps);
      double s = 0.0, sx = 0.0;
      for (int n = 0; n < N; ++n) {
        const int64_t at = ((int64_t)n * C + c) * HW;
        // Scalar math: s += dy;  sx += dy * (x - moving_mean[c])
        for (int i = 0; i < HW; ++i) {
          s += dy[at + i];
          sx += (double)dy[at + i] * ((double)x[at + i] - mu);
        }
      }
      if (dbeta) dbeta[c] += static_cast<float>(s);
      if (dgamma) dgamma[c] += static_cast<float>(sx * is);
    }
  }
  if (!dx) return;
#pragma omp parallel for collapse(2) schedule(static) if ((int64_t)N * C * HW > kMinParallel)
  for (int n = 0; n < N; ++n)
    for (int c = 0; c < C; ++c) {
      const int64_t at = ((int64_t)n * C + c) * HW;
      const float s = scale[c];
      // Scalar math: dx = dy * scale[c]
#pragma omp simd
      for (int i = 0; i < HW; ++i) dx[at + i] = dy[at + i] * s;
    }
}

}  // namespace bnlab
