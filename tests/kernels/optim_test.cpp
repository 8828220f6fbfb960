// The optimiser kernels: both Adam forms against their formulas, and the square root on the FMA units.
#include "bnlab/kernels/optim.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

#include "bnlab/core/denormals.h"
#include "bnlab/core/rng.h"

namespace bnlab {
namespace {

TEST(Optimizers, AdamStylesFollowTheirFormulas) {
  float p = 1.0f, m = 0.0f, v = 0.0f;
  const float g = 0.5f;
  // One Keras step: m = 0.05, v = 0.00025, alpha = 1e-3 * sqrt(0.001) / 0.1
  adam_keras_update(&p, &m, &v, &g, 1, 1e-3f, 0.9f, 0.999f, 1e-7f, 1);
  const double alpha = 1e-3 * std::sqrt(0.001) / 0.1;
  EXPECT_NEAR(p, 1.0 - 0.05 * alpha / (std::sqrt(0.00025) + 1e-7), 1e-7);
  float q = 1.0f, mq = 0.0f, vq = 0.0f;
  adam_torch_update(&q, &mq, &vq, &g, 1, 1e-3f, 0.9f, 0.999f, 1e-8f, 1);
  EXPECT_NEAR(q, 1.0 - (1e-3 / 0.1) * 0.05 / (std::sqrt(0.00025) / std::sqrt(0.001) + 1e-8), 1e-7);
}

// Every one of the 2^32 floats: sqrt_on_fma_units (which adam_keras_update uses for some elements)
// must give std::sqrt's bits, NaNs aside (any NaN for any NaN). rsqrt14's exact bits are the CPU's
// own, so this runs on each machine that runs the tests; a build without AVX-512, where
// sqrt_on_fma_units is std::sqrt itself, skips it. Under AddressSanitizer (16 times slower here)
// every 16th chunk, spread over all exponents; the plain build checks them all.
#if defined(__SANITIZE_ADDRESS__)  // GCC
#define BNLAB_TEST_ASAN 1
#elif defined(__has_feature)       // clang, which scripts/sanitize.sh uses
#if __has_feature(address_sanitizer)
#define BNLAB_TEST_ASAN 1
#endif
#endif
TEST(Optimizers, SqrtOnFmaUnitsIsExactForEveryFloat) {
  if (!sqrt_on_fma_units_compiled_in()) GTEST_SKIP() << "built without AVX-512: sqrt_on_fma_units is std::sqrt here";
  // In IEEE arithmetic, whatever mode an earlier test of this process left. Flushed, std::sqrt reads
  // a subnormal as 0 while sqrt_on_fma_units passes it through; Adam adds epsilon to either, and
  // DAZ reads both as 0 there.
  const Denormals saved = denormals();
  set_denormals(Denormals::Keep);
#ifdef BNLAB_TEST_ASAN
  constexpr uint64_t kEvery = 16;
#else
  constexpr uint64_t kEvery = 1;
#endif
  constexpr int64_t kChunk = 1 << 16;
  std::vector<uint32_t> in(kChunk);
  std::vector<float> out(kChunk), want(kChunk);
  int64_t mismatches = 0;
  uint32_t first = 0;
  for (uint64_t base = 0; base < (uint64_t{1} << 32); base += kChunk * kEvery) {
    for (int64_t k = 0; k < kChunk; ++k) in[k] = static_cast<uint32_t>(base + k);
    const float* x = reinterpret_cast<const float*>(in.data());
    sqrt_on_fma_units(out.data(), x, kChunk);
    for (int64_t k = 0; k < kChunk; ++k) want[k] = std::sqrt(x[k]);
    if (std::memcmp(out.data(), want.data(), kChunk * sizeof(float)) == 0) continue;
    for (int64_t k = 0; k < kChunk; ++k)
      if (std::memcmp(&out[k], &want[k], 4) != 0 && !(std::isnan(out[k]) && std::isnan(want[k])) && mismatches++ == 0)
        first = in[k];
  }
  set_denormals(saved);
  EXPECT_EQ(mismatches, 0) << "first at bits 0x" << std::hex << first;
}

// adam_keras_update against its formula one element at a time (kernels/optim.h, with the fused
// multiply-adds of m's and v's updates), bit for bit: lengths on both sides of the blocks of 16 and
// 64 (the last 16 of each 64 take the other square root) and of the tail; values where the square root leaves the multiply-add path (0, tiny, Inf, NaN); and m
// stuck a few units above 0 or tiny, next to p of every size from 0 to 1, Inf and NaN, where tiny
// lanes skip their step only when it cannot change p. Several epsilons and learning rates, down to
// an epsilon that rounds to 0 in float.
TEST(Optimizers, KerasAdamMatchesItsFormulaElementByElement) {
  const double b1 = 0.9, b2 = 0.999;
  Rng rng(7);
  const auto uniform = [&](float lo, float hi) { return lo + (hi - lo) * static_cast<float>(rng.uniform()); };
  const auto same = [](float a, float b) { return std::memcmp(&a, &b, 4) == 0 || (std::isnan(a) && std::isnan(b)); };
  for (const auto& [lr, eps] : std::vector<std::pair<double, double>>{{1e-3, 1e-7}, {1e-3, 1e-30}, {0.5, 1e-45}, {1e-3, 1e-50}, {1e-40, 1e-7}})
    for (int64_t n : {0, 1, 15, 16, 17, 31, 47, 48, 49, 63, 64, 65, 95, 96, 97, 100, 127, 128, 129, 1000}) {
      std::vector<float> p(n), m(n), v(n), g(n);
      for (int64_t i = 0; i < n; ++i) {
        p[i] = i % 2 ? uniform(-1, 1) : 0.0f;  // 0: the new p is the step itself, to its last bit
        m[i] = i % 5 == 0 ? 0.0f : 1e-3f * uniform(-1, 1);
        v[i] = i % 5 == 0 ? 0.0f : 1e-6f * uniform(0, 1);
        g[i] = i % 7 == 0 ? 0.0f : 1e-2f * uniform(-1, 1);
        if (i % 11 == 3) v[i] = 0x1p-120f;                                  // tiny: below the fast path
        if (i % 13 == 4) g[i] = 1e30f;                                      // g^2 overflows: v = Inf
        if (i % 17 == 5) g[i] = std::numeric_limits<float>::quiet_NaN();
        if (i % 3 == 1 && i % 13 != 4 && i % 17 != 5) {
          // m stuck at a few subnormal units, or tiny; p from 1e-45 to 1 by powers of ten
          g[i] = 0.0f;
          m[i] = i % 4 == 1 ? std::ldexp(float(1 + i % 9), -149) * (i % 8 == 1 ? -1 : 1) : 4e-35f * uniform(-1, 1);  // m * alpha subnormal
          v[i] = i % 6 == 1 ? 0.0f : v[i];
          p[i] = std::pow(10.0f, -float(i % 46)) * (i % 10 < 5 ? 1 : -1);
          if (i % 29 == 1) p[i] = std::numeric_limits<float>::infinity();
          if (i % 31 == 1) p[i] = std::numeric_limits<float>::quiet_NaN();
        }
      }
      for (int64_t t = 1; t <= 3; ++t) {
        std::vector<float> pe = p, me = m, ve = v;
        const float alpha = static_cast<float>(lr * std::sqrt(1.0 - std::pow(b2, (double)t)) / (1.0 - std::pow(b1, (double)t)));
        const float one_b1 = 1.0f - static_cast<float>(b1), one_b2 = 1.0f - static_cast<float>(b2);
        for (int64_t i = 0; i < n; ++i) {
          me[i] = std::fma(g[i] - me[i], one_b1, me[i]);
          ve[i] = std::fma(std::fma(g[i], g[i], -ve[i]), one_b2, ve[i]);
          const float step = me[i] * alpha;
          pe[i] = pe[i] - step / (std::sqrt(ve[i]) + static_cast<float>(eps));
        }
        adam_keras_update(p.data(), m.data(), v.data(), g.data(), n, lr, b1, b2, eps, t);
        for (int64_t i = 0; i < n; ++i)
          ASSERT_TRUE(same(p[i], pe[i]) && same(m[i], me[i]) && same(v[i], ve[i]))
              << "lr " << lr << ", eps " << eps << ", n " << n << ", step " << t << ", element " << i << ": p " << p[i]
              << " want " << pe[i] << " (m " << m[i] << ")";
      }
    }
}

}  // namespace
}  // namespace bnlab
