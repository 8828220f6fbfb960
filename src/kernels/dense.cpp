#include "bnlab/kernels/dense.h"

#include <algorithm>

#include "core/blas.h"
#include "core/parallel.h"

namespace bnlab {

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
