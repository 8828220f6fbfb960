#include "bnlab/kernels/layernorm.h"

#include <cmath>
#include <cstdint>

namespace bnlab {

void layernorm_forward(float* y, float* mean, float* invstd, const float* x, const float* gamma,
                       const float* beta, int N, int C, float eps) {
#pragma omp parallel for schedule(static) if ((int64_t)N * C > 32768)
  for (int n = 0; n < N; ++n) {
    const float* xr = x + (int64_t)n * C;
    float* yr = y + (int64_t)n * C;
    double sum = 0.0;
    for (int c = 0; c < C; ++c) sum += xr[c];
    const double mu = sum / C;
    double sq = 0.0;
    for (int c = 0; c < C; ++c) sq += (xr[c] - mu) * (xr[c] - mu);
    const double is = 1.0 / std::sqrt(sq / C + eps);
    mean[n] = static_cast<float>(mu);
    invstd[n] = static_cast<float>(is);
    const float m = static_cast<float>(mu), s = static_cast<float>(is);
    // Scalar math: y[n, c] = (x[n, c] - mean[n]) * invstd[n] * gamma[c] + beta[c]
    for (int c = 0; c < C; ++c) {
      const float xhat = (xr[c] - m) * s;
      yr[c] = xhat * (gamma ? gamma[c] : 1.0f) + (beta ? beta[c] : 0.0f);
    }
  }
}

void layernorm_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x,
                        const float* mean, const float* invstd, const float* gamma, int N, int C) {
  // Parameter gradients reduce over n: one feature per iteration keeps the order fixed.
  if (dgamma || dbeta) {
    for (int n = 0; n < N; ++n) {
      const float* xr = x + (int64_t)n * C;
      const float* dyr = dy + (int64_t)n * C;
      for (int c = 0; c < C; ++c) {
        if (dbeta) dbeta[c] += dyr[c];
        if (dgamma) dgamma[c] += dyr[c] * ((xr[c] - mean[n]) * invstd[n]);
      }
    }
  }
  if (!dx) return;
#pragma omp parallel for schedule(static) if ((int64_t)N * C > 32768)
  for (int n = 0; n < N; ++n) {
    const float* xr = x + (int64_t)n * C;
    const float* dyr = dy + (int64_t)n * C;
    float* dxr = dx + (int64_t)n * C;
    double sum_g = 0.0, sum_g_xhat = 0.0;
    for (int c = 0; c < C; ++c) {
      const double g = (double)dyr[c] * (gamma ? gamma[c] : 1.0f);
      sum_g += g;
      sum_g_xhat += g * ((xr[c] - mean[n]) * (double)invstd[n]);
    }
    const float mg = static_cast<float>(sum_g / C), mgx = static_cast<float>(sum_g_xhat / C);
    // Scalar math: dx = invstd * (g - mean(g) - xhat * mean(g * xhat))
    for (int c = 0; c < C; ++c) {
      const float xhat = (xr[c] - mean[n]) * invstd[n];
      const float g = dyr[c] * (gamma ? gamma[c] : 1.0f);
      dxr[c] = invstd[n] * (g - mg - xhat * mgx);
    }
  }
}

}  // namespace bnlab
