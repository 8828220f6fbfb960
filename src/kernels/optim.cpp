#include "bnlab/kernels/optim.h"

#include <cmath>
#include <cstring>
#include <limits>

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
  if (__builtin_expect((in_range | zero) != 0xffff, 0))
    return _mm512_mask_sqrt_ps(g, static_cast<__mmask16>(~in_range), v);
  return _mm512_mask_mov_ps(g, zero, v);  // sqrt(+-0) = +-0
}

// The constants of one adam_keras_update call, for 16 lanes at a time.
//
// small_m and large_p: after Adam has seen zero gradients for a while, m sits at a few units of the
// smallest subnormal (there m - m/10 rounds back to m), and most vectors of the notebook's first layer
// come to hold such lanes. A subnormal or underflowing m * alpha costs vmulps and vdivps several
// times their usual time, so lanes where it is certain not to matter multiply and divide 0 instead:
//   |m| < small_m = 2^-126 / alpha  makes |m * alpha| < 2^-126 (up to rounding), and since
//   sqrt(v) + eps >= eps after rounding, the step is below step_bound = small_m alpha / eps (with
//   room for the roundings);
//   |p| >= large_p = 2^26 step_bound puts each neighbour of p more than 2^-24 |p| / 2 > 2 step_bound
//   away, so p - step rounds to p, as p - 0 does.
// NaN m and p never qualify; no lane does unless alpha and eps are positive (small_m is 0 then).
struct AdamKeras16 {
  __m512 alpha, one_b1, one_b2, eps;
  __m512 small_m, large_p;

  AdamKeras16(float alpha_, float one_b1_, float one_b2_, float eps_)
      : alpha(_mm512_set1_ps(alpha_)), one_b1(_mm512_set1_ps(one_b1_)), one_b2(_mm512_set1_ps(one_b2_)),
        eps(_mm512_set1_ps(eps_)), small_m(_mm512_setzero_ps()), large_p(_mm512_set1_ps(INFINITY)) {
    if (!(alpha_ > 0 && eps_ > 0)) return;
    const float bound_m = static_cast<float>(0x1p-126 / alpha_);  // at most 2^23: alpha >= 2^-149
    const double step_bound = double{bound_m} * alpha_ / eps_ * (1 + 0x1p-20);
    const double bound_p = step_bound * 0x1p26 * (1 + 0x1p-20);
    small_m = _mm512_set1_ps(bound_m);
    large_p = _mm512_set1_ps(bound_p > std::numeric_limits<float>::max() ? INFINITY : static_cast<float>(bound_p));
  }
};

// The same update on 16 elements from i. The square root comes from vsqrtps, or with FmaSqrt from
// sqrt_on_fma_units: identical results.
template <bool FmaSqrt>
inline void adam_keras_16(float* p, float* m, float* v, const float* g, int64_t i, const AdamKeras16& c) {
  const __m512 gi = _mm512_loadu_ps(g + i), pi = _mm512_loadu_ps(p + i);
  const __m512 m0 = _mm512_loadu_ps(m + i), v0 = _mm512_loadu_ps(v + i);
  const __m512 mi = _mm512_fmadd_ps(_mm512_sub_ps(gi, m0), c.one_b1, m0);
  const __m512 vi = _mm512_fmadd_ps(_mm512_fmsub_ps(gi, gi, v0), c.one_b2, v0);
  _mm512_storeu_ps(m + i, mi);
  _mm512_storeu_ps(v + i, vi);
  // |m| < small_m (m = 0 included: 0 * alpha is 0 either way) and |p| >= large_p; NaN fails both
  const __mmask16 small_m = _mm512_cmp_ps_mask(_mm512_abs_ps(mi), c.small_m, _CMP_LT_OQ);
  const __mmask16 p_stays = _mm512_mask_cmp_ps_mask(small_m, _mm512_abs_ps(pi), c.large_p, _CMP_GE_OQ);
  const __m512 s = FmaSqrt ? sqrt_on_fma_units(vi) : _mm512_maskz_sqrt_ps(0xffff, vi);
  const __m512 numerator = _mm512_maskz_mul_ps(static_cast<__mmask16>(~p_stays), mi, c.alpha);
  const __m512 step = _mm512_div_ps(numerator, _mm512_add_ps(s, c.eps));
  _mm512_storeu_ps(p + i, _mm512_sub_ps(pi, step));
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

bool sqrt_on_fma_units_compiled_in() {
#if defined(__AVX512F__)
  return true;
#else
  return false;
#endif
}

// Adam is bound by the divider, which both vsqrtps and vdivps use (about one cycle an element on
// Zen 4, docs/performance.md), while the multiply-add units wait. So one block of 16 in every four
// takes its square root on those units instead (one in three, without the tiny-m test below, was
// faster still); and lanes whose m is tiny divide 0 where that cannot change p (AdamKeras16). The
// results are the same bits either way.
void adam_keras_update(float* p, float* m, float* v, const float* g, int64_t n, double lr, double b1,
                       double b2, double eps, int64_t t) {
  const float alpha = static_cast<float>(lr * std::sqrt(1.0 - std::pow(b2, (double)t)) / (1.0 - std::pow(b1, (double)t)));
  const float one_b1 = 1.0f - static_cast<float>(b1), one_b2 = 1.0f - static_cast<float>(b2);
  const float epsf = static_cast<float>(eps);
  int64_t i = 0;
#if defined(__AVX512F__)
  const AdamKeras16 c(alpha, one_b1, one_b2, epsf);
  for (; i + 64 <= n; i += 64) {
    adam_keras_16<false>(p, m, v, g, i, c);
    adam_keras_16<false>(p, m, v, g, i + 16, c);
    adam_keras_16<false>(p, m, v, g, i + 32, c);
    adam_keras_16<true>(p, m, v, g, i + 48, c);
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
