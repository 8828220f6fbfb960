#include "bnlab/kernels/batchnorm_dense.h"

#include <algorithm>
#include <stdexcept>
#include <type_traits>

#include "core/cblas.h"
#include "core/parallel.h"

namespace bnlab {
namespace {

constexpr int kGroupColumns = 64;  // columns whose partial sums one pass over a group keeps in registers

// Columns [c0, c0 + w) of rows [g0, g1) of one group: dW from H and s, and the group's partial
// sums, which stay in registers while the rows go by. Hr is H, or dW itself (set mode: each element
// of H is read before dW's is written over it). Scalar math:
//   dW[k, c] (+)= gamma[c] H[k, c] + s[k] beta[c];  pwh[c] = sum_k W[k, c] H[k, c];  pws[c] = sum_k W[k, c] s[k]
template <class Width>
void group_columns(int g0, int g1, int c0, Width w, const float* Hr, const float* s, float* pwh, float* pws,
                   float* dW, const float* W, const float* gamma, const float* beta, int C, bool accumulate) {
  float g[kGroupColumns], b[kGroupColumns], ph[kGroupColumns] = {}, ps[kGroupColumns] = {};
  for (int j = 0; j < w; ++j) {
    g[j] = gamma ? gamma[c0 + j] : 1.0f;
    b[j] = beta ? beta[c0 + j] : 0.0f;
  }
  for (int k = g0; k < g1; ++k) {
    const float* hr = Hr + (int64_t)k * C + c0;
    const float* wr = W + (int64_t)k * C + c0;
    float* dwr = dW + (int64_t)k * C + c0;
    const float sk = s[k];
#pragma omp simd
    for (int j = 0; j < w; ++j) {
      const float h = hr[j];
      ph[j] += wr[j] * h;
      ps[j] += wr[j] * sk;
      dwr[j] = (accumulate ? dwr[j] : 0.0f) + (g[j] * h + sk * b[j]);
    }
  }
  for (int j = 0; j < w; ++j) {
    pwh[c0 + j] = ph[j];
    pws[c0 + j] = ps[j];
  }
}

// Rows [g0, g1) of one group, kGroupColumns columns at a time.
void group_rows(int g0, int g1, const float* Hr, const float* s, float* partials, float* dW, const float* W,
                const float* gamma, const float* beta, int C, bool accumulate) {
  float* pwh = partials + 2LL * C * (g0 / kBatchNormDenseGroup);
  float* pws = pwh + C;
  for (int c0 = 0; c0 < C; c0 += kGroupColumns) {
    if (c0 + kGroupColumns <= C)
      group_columns(g0, g1, c0, std::integral_constant<int, kGroupColumns>{}, Hr, s, pwh, pws, dW, W, gamma, beta, C,
                    accumulate);
    else
      group_columns(g0, g1, c0, C - c0, Hr, s, pwh, pws, dW, W, gamma, beta, C, accumulate);
  }
}

// Rows [k0, k0 + w) of H, dW and s, and their groups' partial sums; k0 is a multiple of the group.
// dz_written: dz, to be written first from da and a (null when dz is given).
void rows_block(int k0, int w, float* H, float* s, float* partials, float* dW, float* db, const float* dz,
                float* dz_written, const float* da, const float* a, Activation act, const float* u, const float* W,
                const float* gamma, const float* beta, int N, int C, int K, bool accumulate) {
  if (dz_written)
    for (int n = 0; n < N; ++n) {
      const int64_t row = (int64_t)n * K + k0;
      activation_backward(dz_written + row, da + row, a + row, w, act);
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
  // H goes straight into dW unless dW accumulates. Piece by piece (core/cblas.h; pieces hold whole
  // groups), so that each piece of H is still in cache when the elementwise pass reads it.
  float* Hr = accumulate ? H : dW;
  for_blas_pieces(k0, w, (int64_t)C * N, [&](int p0, int pw) {
    // H[p0:p0+pw, :] = dz[:, p0:p0+pw]^T u
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, pw, C, N, 1.0f, dz + p0, K, u, C, 0.0f, Hr + (int64_t)p0 * C,
                C);
    for (int g0 = p0; g0 < p0 + pw; g0 += kBatchNormDenseGroup)
      group_rows(g0, std::min(g0 + kBatchNormDenseGroup, p0 + pw), Hr, s, partials, dW, W, gamma, beta, C, accumulate);
  });
}

// dz_written: as in rows_block.
void backward(float* dW, float* db, float* dgamma, float* dbeta, float* scratch, const float* dz, float* dz_written,
              const float* da, const float* a, Activation act, const float* u, const float* W, const float* gamma,
              const float* beta, int N, int C, int K, bool accumulate, const ThreadCopies& u_copies) {
  static_assert(kColumnAlign % kBatchNormDenseGroup == 0, "blocks must hold whole groups");
  float* s = scratch;
  float* partials = s + batchnorm_dense_s_floats(K);
  float* H = accumulate ? partials + 2LL * C * ((K + kBatchNormDenseGroup - 1) / kBatchNormDenseGroup) : nullptr;
  for_column_blocks(K, 2LL * N * C * K, [&](int k0, int w) {
    rows_block(k0, w, H, s, partials, dW, db, dz, dz_written, da, a, act, own_copy(u_copies, u), W, gamma, beta, N, C,
               K, accumulate);
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

}  // namespace

void batchnorm_dense_backward(float* dW, float* db, float* dgamma, float* dbeta, float* scratch, const float* dz,
                              const float* u, const float* W, const float* gamma, const float* beta, int N, int C,
                              int K, bool accumulate, const ThreadCopies& u_copies) {
  backward(dW, db, dgamma, dbeta, scratch, dz, nullptr, nullptr, nullptr, Activation::Linear, u, W, gamma, beta, N, C,
           K, accumulate, u_copies);
}

void batchnorm_dense_backward_activation(float* dW, float* db, float* dgamma, float* dbeta, float* scratch, float* dz,
                                         const float* da, const float* a, Activation act, const float* u,
                                         const float* W, const float* gamma, const float* beta, int N, int C, int K,
                                         bool accumulate, const ThreadCopies& u_copies) {
  if (act == Activation::Softmax)
    throw std::logic_error("batchnorm_dense_backward_activation: softmax is not elementwise");
  backward(dW, db, dgamma, dbeta, scratch, dz, dz, da, a, act, u, W, gamma, beta, N, C, K, accumulate, u_copies);
}

}  // namespace bnlab
