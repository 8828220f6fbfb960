#pragma once
// The row loops that BatchNorm's one-process kernels (kernels/batchnorm.cpp) and its synchronised
// ones (kernels/batchnorm_sync.cpp) share, on one chunk of w columns [c0, c0 + w) of (N, C) arrays.
// Both files use them, so a feature gives the same bits whichever of them runs it.
#include <cstdint>

namespace bnlab::bn_rows {

// Per-feature work in chunks of kChunk columns: a chunk's accumulators stay in L1 while the rows
// stream through.
inline constexpr int kChunk = 64;

// mean = hi + lo in two floats: x - hi is exact near the mean (Sterbenz), so (x - hi) - lo centres
// x with double accuracy even when the mean is far larger than the spread.
inline void split_mean(double mean, float& hi, float& lo) {
  hi = static_cast<float>(mean);
  lo = static_cast<float>(mean - hi);
}

// sum_dy, sum_dy_xmu: (w), accumulated (+=) in row order.  dy, x: (N, C)  mu: (w)
inline void backward_sums(double* sum_dy, double* sum_dy_xmu, const float* dy, const float* x, const double* mu, int N,
                          int C, int c0, int w) {
  // Scalar math: sum_dy[c] += sum_n dy[n, c];  sum_dy_xmu[c] += sum_n dy[n, c] * (x[n, c] - mean[c])
  for (int n = 0; n < N; ++n) {
    const float* xr = x + (int64_t)n * C + c0;
    const float* dyr = dy + (int64_t)n * C + c0;
#pragma omp simd
    for (int j = 0; j < w; ++j) {
      sum_dy[j] += dyr[j];
      sum_dy_xmu[j] += (double)dyr[j] * ((double)xr[j] - mu[j]);
    }
  }
}

// dx: (N, C), its w columns written.  dy, x: (N, C)  k_dy, k_x, k_0, m_hi, m_lo: (w)
inline void input_gradient(float* dx, const float* dy, const float* x, const float* k_dy, const float* k_x,
                           const float* k_0, const float* m_hi, const float* m_lo, int N, int C, int c0, int w) {
  // Scalar math: dx[n, c] = dy[n, c] * k_dy[c] + (x[n, c] - mean[c]) * k_x[c] + k_0[c]
  for (int n = 0; n < N; ++n) {
    const float* xr = x + (int64_t)n * C + c0;
    const float* dyr = dy + (int64_t)n * C + c0;
    float* dxr = dx + (int64_t)n * C + c0;
#pragma omp simd
    for (int j = 0; j < w; ++j) dxr[j] = dyr[j] * k_dy[j] + ((xr[j] - m_hi[j]) - m_lo[j]) * k_x[j] + k_0[j];
  }
}

}  // namespace bnlab::bn_rows
