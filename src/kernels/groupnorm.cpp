#include "bnlab/kernels/groupnorm.h"

#include <cmath>
#include <cstdint>
#include <vector>

namespace bnlab {
namespace {

// Below this many elements one thread is faster.
constexpr int64_t kMinParallel = 32768;

}  // namespace

void groupnorm_forward(float* y, float* mean, float* invstd, const float* x, const float* gamma, const float* beta,
                       int N, int C, int HW, int G, float eps) {
  const int Cg = C / G;
  const int64_t D = static_cast<int64_t>(Cg) * HW;
#pragma omp parallel for collapse(2) schedule(static) if ((int64_t)N * C * HW > kMinParallel)
  for (int n = 0; n < N; ++n)
    for (int g = 0; g < G; ++g) {
      const int64_t at = ((int64_t)n * C + (int64_t)g * Cg) * HW;  // the group's D values
      const float* xp = x + at;
      double sum = 0.0;
      // Scalar math: sum += x
#pragma omp simd reduction(+ : sum)
      for (int64_t i = 0; i < D; ++i) sum += xp[i];
      const double mu = sum / D;
      double sq = 0.0;
      // Scalar math: sq += (x - mean)^2
#pragma omp simd reduction(+ : sq)
      for (int64_t i = 0; i < D; ++i) sq += ((double)xp[i] - mu) * ((double)xp[i] - mu);
      const double is = 1.0 / std::sqrt(sq / D + eps);
      mean[(int64_t)n * G + g] = static_cast<float>(mu);
      invstd[(int64_t)n * G + g] = static_cast<float>(is);
      const float m = static_cast<float>(mu), s = static_cast<float>(is);
      for (int k = 0; k < Cg; ++k) {
        const int c = g * Cg + k;
        const float a = s * (gamma ? gamma[c] : 1.0f), b = beta ? beta[c] : 0.0f;
        const float* xc = xp + (int64_t)k * HW;
        float* yc = y + at + (int64_t)k * HW;
        // Scalar math: y = (x - mean) * (invstd * gamma[c]) + beta[c]
#pragma omp simd
        for (int i = 0; i < HW; ++i) yc[i] = (xc[i] - m) * a + b;
      }
    }
}

void groupnorm_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x, const float* mean,
                        const float* invstd, const float* gamma, int N, int C, int HW, int G) {
  const int Cg = C / G;
  const int64_t D = static_cast<int64_t>(Cg) * HW;
  // Per (n, c): sum_hw dy and sum_hw dy * xhat, for the parameter gradients and the group means.
  std::vector<double> sum_dy((size_t)N * C), sum_dy_xhat((size_t)N * C);
#pragma omp parallel for collapse(2) schedule(static) if ((int64_t)N * C * HW > kMinParallel)
  for (int n = 0; n < N; ++n)
    for (int g = 0; g < G; ++g) {
      const double m = mean[(int64_t)n * G + g], is = invstd[(int64_t)n * G + g];
      double sum_g = 0.0, sum_g_xhat = 0.0;
      for (int k = 0; k < Cg; ++k) {
        const int c = g * Cg + k;
        const int64_t at = ((int64_t)n * C + c) * HW;
        double s = 0.0, sx = 0.0;
        // Scalar math: s += dy;  sx += dy * (x - mean) * invstd
#pragma omp simd reduction(+ : s, sx)
        for (int i = 0; i < HW; ++i) {
          s += dy[at + i];
          sx += (double)dy[at + i] * (((double)x[at + i] - m) * is);
        }
        sum_dy[(size_t)n * C + c] = s;
        sum_dy_xhat[(size_t)n * C + c] = sx;
        const double gc = gamma ? gamma[c] : 1.0;
        sum_g += gc * s;
        sum_g_xhat += gc * sx;
      }
      if (!dx) continue;
      // dx = invstd * (dy * gamma[c] - sum_g / D - xhat * sum_g_xhat / D)
      const float mg = static_cast<float>(sum_g / D), mgx = static_cast<float>(sum_g_xhat / D);
      const float mf = static_cast<float>(m), isf = static_cast<float>(is);
      for (int k = 0; k < Cg; ++k) {
        const int c = g * Cg + k;
        const int64_t at = ((int64_t)n * C + c) * HW;
        const float gc = gamma ? gamma[c] : 1.0f;
        // Scalar math: dx = invstd * (dy * gamma[c] - mg - (x - mean) * invstd * mgx)
#pragma omp simd
        for (int i = 0; i < HW; ++i) dx[at + i] = isf * (dy[at + i] * gc - mg - (x[at + i] - mf) * isf * mgx);
      }
    }
  // Scalar math: dbeta[c] += sum_n sum_dy[n, c];  dgamma[c] += sum_n sum_dy_xhat[n, c]   (n in order)
  for (int c = 0; c < C; ++c) {
    double s = 0.0, sx = 0.0;
    for (int n = 0; n < N; ++n) {
      s += sum_dy[(size_t)n * C + c];
      sx += sum_dy_xhat[(size_t)n * C + c];
    }
    if (dbeta) dbeta[c] += static_cast<float>(s);
    if (dgamma) dgamma[c] += static_cast<float>(sx);
  }
}

}  // namespace bnlab
