#include "bnlab/kernels/optim.h"

#include <cmath>
#include <cstring>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace bnlab {

namespace {
// The Keras update of elements [0, n), as written in kernels/optim.h, with the two fused
// multiply-adds GCC has always contracted m's and v's updates into (std::fma pins them).
void adam_keras_elements(float* p, float* m, float* v, const float* g, int64_t n, float alpha, float one_b1,
                         float one_b2, float eps) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    m[i] = std::fma(g[i] - m[i], one_b1, m[i]);
    v[i] = std::fma(std::fma(g[i], g[i], -v[i]), one_b2, v[i]);
    p[i] -= m[i] * alpha / (std::sqrt(v[i]) + eps);
  }
}

#if defined(__AVX512F__)
// Newton's method from vrsqrt14ps (relative error below 2^-14): one coupled step for sqrt(v) and
// 1/(2 sqrt(v)), then one correction from the exact residual v - g^2 (a fused multiply-add).
// Lanes outside [2^-100, inf) other than zero go to vsqrtps: there the residual can underflow.
// (The maskz intrinsics: GCC 12 warns about the plain ones' undefined pass-through operand.)
inline __m512 sqrt_on_fma_units(__m512 v) {
  const __m512 half = _mm512_set1_ps(0.5f);
  const __m512 y = _mm512_maskz_rsqrt14_ps(0xffff, v);
  __m512 g = _mm512_mul_ps(v, y);
  __m512 h = _mm512_mul_ps(half, y);
  const __m512 r = _mm512_fnmadd_ps(g, h, half);
  g = _mm512_fmadd_ps(g, r, g);
  h = _mm512_fmadd_ps(h, r, h);
  g = _mm512_fmadd_ps(_mm512_fnmadd_ps(g, g, v), h, g);
  const __mmask16 in_range = _mm512_cmp_ps_mask(v, _mm512_set1_ps(0x1p-100f), _CMP_GE_OQ) &
                             _mm512_cmp_ps_mask(v, _mm512_set1_ps(INFINITY), _CMP_LT_OQ);
  const __mmask16 zero = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_EQ_OQ);
  if (__builtin_expect((in_range | zero) != 0xffff, 0)) return _mm512_mask_sqrt_ps(g, static_cast<__mmask16>(~in_range), v);
  return _mm512_mask_mov_ps(g, zero, v);  // sqrt(+-0) = +-0
}


// The same update on 16 elements from i. The square root comes from vsqrtps, or with FmaSqrt from
// sqrt_on_fma_units: identical results.
template <bool FmaSqrt>
inline void adam_keras_16(float* p, float* m, float* v, const float* g, int64_t i, __m512 alpha, __m512 one_b1,
                          __m512 one_b2, __m512 eps) {
  const __m512 gi = _mm512_loadu_ps(g + i);
  const __m512 mi = _mm512_fmadd_ps(_mm512_sub_ps(gi, _mm512_loadu_ps(m + i)), one_b1, _mm512_loadu_ps(m + i));
  const __m512 vi = _mm512_fmadd_ps(_mm512_fmsub_ps(gi, gi, _mm512_loadu_ps(v + i)), one_b2, _mm512_loadu_ps(v + i));
  _mm512_storeu_ps(m + i, mi);
  _mm512_storeu_ps(v + i, vi);
  const __m512 s = FmaSqrt ? sqrt_on_fma_units(vi) : _mm512_maskz_sqrt_ps(0xffff, vi);
  const __m512 step = _mm512_div_ps(_mm512_mul_ps(mi, alpha), _mm512_add_ps(s, eps));
  _mm512_storeu_ps(p + i, _mm512_sub_ps(_mm512_loadu_ps(p + i), step));
}
#endif
}  // namespace

void sqrt_on_fma_units(float* y, const float* x, int64_t n) {
  int64_t i = 0;
#if defined(__AVX512F__)
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, sqrt_on_fma_units(_mm512_loadu_ps(x + i)));
#endif
  for (; i < n; ++i) y[i] = std::sqrt(x[i]);
}

// Adam is bound by the divider, which both vsqrtps and vdivps use (about one cycle an element on
// Zen 4, docs/performance.md), while the multiply-add units wait. So one block of 16 in every three
// takes its square root on those units instead. The results are the same bits either way.
void adam_keras_update(float* p, float* m, float* v, const float* g, int64_t n, double lr, double b1,
                       double b2, double eps, int64_t t) {
  const float alpha = static_cast<float>(lr * std::sqrt(1.0 - std::pow(b2, (double)t)) / (1.0 - std::pow(b1, (double)t)));
  const float one_b1 = 1.0f - static_cast<float>(b1), one_b2 = 1.0f - static_cast<float>(b2);
  const float epsf = static_cast<float>(eps);
  int64_t i = 0;
#if defined(__AVX512F__)
  const __m512 a = _mm512_set1_ps(alpha), o1 = _mm512_set1_ps(one_b1), o2 = _mm512_set1_ps(one_b2), e = _mm512_set1_ps(epsf);
  for (; i + 48 <= n; i += 48) {
    adam_keras_16<false>(p, m, v, g, i, a, o1, o2, e);
    adam_keras_16<false>(p, m, v, g, i + 16, a, o1, o2, e);
    adam_keras_16<true>(p, m, v, g, i + 32, a, o1, o2, e);
  }
#endif
  adam_keras_elements(p + i, m + i, v + i, g + i, n - i, alpha, one_b1, one_b2, epsf);
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
