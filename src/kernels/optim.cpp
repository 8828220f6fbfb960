#include "bnlab/kernels/optim.h"

#include <cmath>
#include <cstring>

namespace bnlab {

void adam_keras_update(float* p, float* m, float* v, const float* g, int64_t n, double lr, double b1,
                       double b2, double eps, int64_t t) {
  const float alpha = static_cast<float>(lr * std::sqrt(1.0 - std::pow(b2, (double)t)) / (1.0 - std::pow(b1, (double)t)));
  const float one_b1 = 1.0f - static_cast<float>(b1), one_b2 = 1.0f - static_cast<float>(b2);
  const float epsf = static_cast<float>(eps);
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    m[i] += (g[i] - m[i]) * one_b1;
    v[i] += (g[i] * g[i] - v[i]) * one_b2;
    p[i] -= m[i] * alpha / (std::sqrt(v[i]) + epsf);
  }
}

void adam_torch_update(float* p, float* m, float* v, const float* g, int64_t n, double lr, double b1,
                       double b2, double eps, int64_t t) {
  const double bc1 = 1.0 - std::pow(b1, (double)t);
  const double bc2 = 1.0 - std::pow(b2, (double)t);
  const float step_size = static_cast<float>(lr / bc1);
  const float bc2_sqrt = static_cast<float>(std::sqrt(bc2));
  const float b1f = static_cast<float>(b1), b2f = static_cast<float>(b2);
  const float one_b1 = static_cast<float>(1.0 - b1), one_b2 = static_cast<float>(1.0 - b2);
  const float epsf = static_cast<float>(eps);
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    m[i] = m[i] * b1f + g[i] * one_b1;
    v[i] = v[i] * b2f + g[i] * g[i] * one_b2;
    p[i] -= step_size * (m[i] / (std::sqrt(v[i]) / bc2_sqrt + epsf));
  }
}

// NaN and Inf are exactly the values with every exponent bit set. The integer test vectorises where
// a float reduction (without -ffast-math) would not.
bool all_finite(const float* x, int64_t n) {
  uint32_t bad = 0;
  for (int64_t i = 0; i < n; ++i) {
    uint32_t bits;
    std::memcpy(&bits, x + i, sizeof bits);
    bad |= (bits & 0x7f800000u) == 0x7f800000u;
  }
  return bad == 0;
}

void sgd_update(float* p, float* u, const float* g, int64_t n, float lr, float momentum) {
  if (!u || momentum == 0.0f) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) p[i] -= lr * g[i];
    return;
  }
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    u[i] = momentum * u[i] - lr * g[i];
    p[i] += u[i];
  }
}

}  // namespace bnlab
