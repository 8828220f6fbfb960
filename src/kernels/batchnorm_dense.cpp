#include "bnlab/kernels/batchnorm_dense.h"

#include <algorithm>

#include "core/blas.h"
#include "core/parallel.h"

namespace bnlab {

void batchnorm_dense_backward(float* H, float* s, float* dW, float* db, float* dgamma, float* dbeta, const float* dz,
                              const float* u, const float* W, const float* gamma, const float* beta, int N, int C,
                              int K) {
  // H[k0:k0+w, :] = dz[:, k0:k0+w]^T u, rows k0..k0+w of H per block
  for_column_blocks(K, 2LL * N * C * K, [&](int k0, int w) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, w, C, N, 1.0f, dz + k0, K, u, C, 0.0f, H + (int64_t)k0 * C, C);
  });
  // s[k] = sum_n dz[n, k], in the order dense_backward sums db
  std::fill(s, s + K, 0.0f);
  for (int n = 0; n < N; ++n)
    for (int k = 0; k < K; ++k) s[k] += dz[(int64_t)n * K + k];
  if (db)
    for (int k = 0; k < K; ++k) db[k] += s[k];

  // Columns in chunks of 64 (core/parallel.h), rows k streaming through; float
  // accumulators, like the GEMMs' own (a sum over K = 256 terms).
  constexpr int kChunk = 64;
  for_column_chunks(K, C, kChunk, [&](int c0, int w) {
    float sum_wh[kChunk] = {}, sum_ws[kChunk] = {}, g[kChunk], b[kChunk];
    for (int j = 0; j < w; ++j) {
      g[j] = gamma ? gamma[c0 + j] : 1.0f;
      b[j] = beta ? beta[c0 + j] : 0.0f;
    }
    // Scalar math, row after row of H, W and dW:
    //   dW[k, c] += gamma[c] H[k, c] + s[k] beta[c];  sum_wh[c] += W[k, c] H[k, c];  sum_ws[c] += W[k, c] s[k]
    for (int k = 0; k < K; ++k) {
      const float* hr = H + (int64_t)k * C + c0;
      const float* wr = W + (int64_t)k * C + c0;
      float* dwr = dW + (int64_t)k * C + c0;
      const float sk = s[k];
#pragma omp simd
      for (int j = 0; j < w; ++j) {
        dwr[j] += g[j] * hr[j] + sk * b[j];
        sum_wh[j] += wr[j] * hr[j];
        sum_ws[j] += wr[j] * sk;
      }
    }
    for (int j = 0; j < w; ++j) {
      if (dgamma) dgamma[c0 + j] += sum_wh[j];
      if (dbeta) dbeta[c0 + j] += sum_ws[j];
    }
  });
}

}  // namespace bnlab
