#include "bnlab/kernels/batchnorm_dense.h"

#include <algorithm>
#include <stdexcept>

#include "core/blas.h"
#include "core/parallel.h"

namespace bnlab {
namespace {

// Rows [k0, k0 + w) of H, dW and s, and their groups' partial sums; k0 is a multiple of the group.
void rows_block(int k0, int w, float* H, float* s, float* partials, float* dW, float* db, float* dz, const float* da,
                const float* a, Activation act, const float* u, const float* W, const float* gamma, const float* beta,
                int N, int C, int K, bool accumulate) {
  if (da)
    for (int n = 0; n < N; ++n) {
      const int64_t row = (int64_t)n * K + k0;
      activation_backward(dz + row, da + row, a + row, w, act);
    }
  // s[k] = sum_n dz[n, k], rows in order (as dense_backward sums db)
  std::fill(s + k0, s + k0 + w, 0.0f);
  for (int n = 0; n < N; ++n) {
    const float* dzr = dz + (int64_t)n * K + k0;
#pragma omp simd
    for (int j = 0; j < w; ++j) s[k0 + j] += dzr[j];
  }
  if (db)
    for (int j = 0; j < w; ++j) db[k0 + j] = (accumulate ? db[k0 + j] : 0.0f) + s[k0 + j];
  // H[k0:k0+w, :] = dz[:, k0:k0+w]^T u
  for_blas_pieces(k0, w, (int64_t)C * N, [&](int p0, int pw) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, pw, C, N, 1.0f, dz + p0, K, u, C, 0.0f, H + (int64_t)p0 * C, C);
  });

  // Scalar math, row after row of H, W and dW, a partial sum per group of rows:
  //   dW[k, c] += gamma[c] H[k, c] + s[k] beta[c];  pwh[c] += W[k, c] H[k, c];  pws[c] += W[k, c] s[k]
  for (int g0 = k0; g0 < k0 + w; g0 += kBatchNormDenseGroup) {
    float* pwh = partials + 2LL * C * (g0 / kBatchNormDenseGroup);
    float* pws = pwh + C;
    std::fill(pwh, pwh + 2LL * C, 0.0f);
    for (int k = g0; k < std::min(g0 + kBatchNormDenseGroup, k0 + w); ++k) {
      const float* hr = H + (int64_t)k * C;
      const float* wr = W + (int64_t)k * C;
      float* dwr = dW + (int64_t)k * C;
      const float sk = s[k];
      if (!accumulate) {
#pragma omp simd
        for (int c = 0; c < C; ++c) dwr[c] = (gamma ? gamma[c] : 1.0f) * hr[c] + sk * (beta ? beta[c] : 0.0f);
      } else if (gamma && beta) {
#pragma omp simd
        for (int c = 0; c < C; ++c) dwr[c] += gamma[c] * hr[c] + sk * beta[c];
      } else {
#pragma omp simd
        for (int c = 0; c < C; ++c) dwr[c] += (gamma ? gamma[c] : 1.0f) * hr[c] + sk * (beta ? beta[c] : 0.0f);
      }
#pragma omp simd
      for (int c = 0; c < C; ++c) {
        pwh[c] += wr[c] * hr[c];
        pws[c] += wr[c] * sk;
      }
    }
  }
}

}  // namespace

void batchnorm_dense_backward(float* H, float* s, float* partials, float* dW, float* db, float* dgamma, float* dbeta,
                              float* dz, const float* da, const float* a, Activation act, const float* u,
                              const float* W, const float* gamma, const float* beta, int N, int C, int K,
                              bool accumulate) {
  if (da && act == Activation::Softmax) throw std::logic_error("batchnorm_dense_backward: softmax is not elementwise");
  static_assert(kColumnAlign % kBatchNormDenseGroup == 0, "blocks must hold whole groups");
  for_column_blocks(K, 2LL * N * C * K, [&](int k0, int w) {
    rows_block(k0, w, H, s, partials, dW, db, dz, da, a, act, u, W, gamma, beta, N, C, K, accumulate);
  });
  if (!accumulate) {
    if (dgamma) std::fill(dgamma, dgamma + C, 0.0f);
    if (dbeta) std::fill(dbeta, dbeta + C, 0.0f);
  }
  // dgamma[c] += sum over groups, in order, of pwh[c]; dbeta likewise with pws
  const int groups = (K + kBatchNormDenseGroup - 1) / kBatchNormDenseGroup;
  for (int g = 0; g < groups; ++g) {
    const float* pwh = partials + 2LL * C * g;
    const float* pws = pwh + C;
    if (dgamma) {
#pragma omp simd
      for (int c = 0; c < C; ++c) dgamma[c] += pwh[c];
    }
    if (dbeta) {
#pragma omp simd
      for (int c = 0; c < C; ++c) dbeta[c] += pws[c];
    }
  }
}

}  // namespace bnlab
