#include "bnlab/kernels/dense.h"

#include "core/blas.h"

namespace bnlab {

void dense_forward(float* z, const float* x, const float* W, const float* b, int N, int in, int out) {
  // z[n, o] = b[o]; then z += x W^T in the GEMM (beta = 1), saving a pass over z.
  float beta = 0.0f;
  if (b) {
    for (int n = 0; n < N; ++n)
      for (int o = 0; o < out; ++o) z[(int64_t)n * out + o] = b[o];
    beta = 1.0f;
  }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, out, in, 1.0f, x, in, W, in, beta, z, out);
}

void dense_backward(float* dx, float* dW, float* db, const float* dz, const float* x, const float* W,
                    int N, int in, int out) {
  // dW[o, i] += sum_n dz[n, o] * x[n, i]
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, N, 1.0f, dz, out, x, in, 1.0f, dW, in);
  if (db) {
    // db[o] += sum_n dz[n, o]
    for (int n = 0; n < N; ++n)
      for (int o = 0; o < out; ++o) db[o] += dz[(int64_t)n * out + o];
  }
  if (dx) {
    // dx[n, i] = sum_o dz[n, o] * W[o, i]
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, in, out, 1.0f, dz, out, W, in, 0.0f, dx, in);
  }
}

}  // namespace bnlab
