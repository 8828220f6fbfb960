#include "bnlab/kernels/dense.h"

#include <omp.h>

#include <algorithm>

#include "core/blas.h"

namespace bnlab {
namespace {

// The seed's products are small (M = batch 16..256), where a threaded BLAS spends more time
// dividing the work than doing it. bnlab divides it instead: each thread takes one contiguous
// block of output columns and calls single-threaded sgemm on it (OpenBLAS and BLIS run serially
// inside an OpenMP parallel region, so the cores are never oversubscribed). Every output element
// is computed by exactly one call, in a fixed order: results are deterministic for a thread count.
template <class BlockFn>
void for_column_blocks(int columns, int64_t flops, BlockFn block) {
  constexpr int kAlign = 16;                 // whole AVX-512 vectors per block
  constexpr int64_t kMinFlopsPerThread = 2'000'000;
  const int threads = std::max(1, std::min<int>(omp_get_max_threads(), static_cast<int>(flops / kMinFlopsPerThread)));
  const int per = ((columns + threads - 1) / threads + kAlign - 1) / kAlign * kAlign;
  if (threads == 1 || per >= columns) {
    block(0, columns);
    return;
  }
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int t = 0; t < threads; ++t) {
    const int c0 = t * per, c1 = std::min(columns, c0 + per);
    if (c0 < c1) block(c0, c1 - c0);
  }
}

}  // namespace

void dense_forward(float* z, const float* x, const float* W, const float* b, int N, int in, int out) {
  // z[n, o] = b[o]; then z += x W^T in the GEMM (beta = 1), saving a pass over z.
  float beta = 0.0f;
  if (b) {
    for (int n = 0; n < N; ++n) std::copy(b, b + out, z + (int64_t)n * out);
    beta = 1.0f;
  }
  // z[:, o0:o0+w] (+)= x W[o0:o0+w, :]^T
  for_column_blocks(out, 2LL * N * in * out, [&](int o0, int w) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, w, in, 1.0f, x, in, W + (int64_t)o0 * in, in, beta, z + o0, out);
  });
}

void dense_backward(float* dx, float* dW, float* db, const float* dz, const float* x, const float* W,
                    int N, int in, int out) {
  // dW[o, i] += sum_n dz[n, o] * x[n, i], rows o0..o0+w of dW per block
  for_column_blocks(out, 2LL * N * in * out, [&](int o0, int w) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, w, in, N, 1.0f, dz + o0, out, x, in, 1.0f, dW + (int64_t)o0 * in, in);
  });
  if (db) {
    // db[o] += sum_n dz[n, o]
    for (int n = 0; n < N; ++n)
      for (int o = 0; o < out; ++o) db[o] += dz[(int64_t)n * out + o];
  }
  if (dx) {
    // dx[n, i] = sum_o dz[n, o] * W[o, i], columns i0..i0+w of dx per block
    for_column_blocks(in, 2LL * N * in * out, [&](int i0, int w) {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, w, out, 1.0f, dz, out, W + i0, in, 0.0f, dx + i0, in);
    });
  }
}

}  // namespace bnlab
