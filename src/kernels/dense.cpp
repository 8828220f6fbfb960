#include "bnlab/kernels/dense.h"

#include <algorithm>
#include <stdexcept>

#include "core/cblas.h"
#include "core/parallel.h"

namespace bnlab {
namespace {

bool elementwise(Activation act) { return act != Activation::Softmax; }

// For output columns [o0, o0 + w): dz = act'(y, dy) when dy is given (else dz is already dL/dz),
// db += column sums of dz (rows in order), dW rows o0..o0+w += dz[:, o0:o0+w]^T x; both set (=)
// instead when not accumulating.
void weight_block(int o0, int w, float* dW, float* db, float* dz, const float* dy, const float* y, Activation act,
                  const float* x, int N, int in, int out, bool accumulate) {
  if (dy)
    for (int n = 0; n < N; ++n) {
      const int64_t row = (int64_t)n * out + o0;
      activation_backward(dz + row, dy + row, y + row, w, act);
    }
  if (db) {
    if (!accumulate) std::fill(db + o0, db + o0 + w, 0.0f);
    for (int n = 0; n < N; ++n) {
      const float* dzr = dz + (int64_t)n * out + o0;
#pragma omp simd
      for (int j = 0; j < w; ++j) db[o0 + j] += dzr[j];
    }
  }
  for_blas_pieces(o0, w, (int64_t)in * N, [&](int p0, int pw) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, pw, in, N, 1.0f, dz + p0, out, x, in, accumulate ? 1.0f : 0.0f,
                dW + (int64_t)p0 * in, in);
  });
}

void backward(float* dx, float* dW, float* db, float* dz, const float* dy, const float* y, Activation act,
              const float* x, const float* W, int N, int in, int out, bool accumulate, const ColumnBlockFn& then_dx) {
  const int64_t flops = 2LL * N * in * out;
  for_column_blocks(out, flops, [&](int o0, int w) { weight_block(o0, w, dW, db, dz, dy, y, act, x, N, in, out, accumulate); });
  if (dx) {
    // dx[n, i] = sum_o dz[n, o] * W[o, i], columns i0..i0+w of dx per block
    for_column_blocks(in, flops, [&](int i0, int w) {
      for_blas_pieces(i0, w, (int64_t)N * out, [&](int p0, int pw) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, pw, out, 1.0f, dz, out, W + p0, in, 0.0f, dx + p0, in);
      });
      if (then_dx) then_dx(i0, w);
    });
  }
}

}  // namespace

void dense_forward(float* z, const float* x_shared, const float* W, const float* b, int N, int in, int out,
                   Activation act, const ColumnBlockFn& then, const ThreadCopies& x_copies) {
  // z[:, o0:o0+w] = x W[o0:o0+w, :]^T, then + b and the activation on the block while it is in cache
  for_column_blocks(out, 2LL * N * in * out, [&](int o0, int w) {
    const float* x = own_copy(x_copies, x_shared);
    for_blas_pieces(o0, w, (int64_t)N * in, [&](int p0, int pw) {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, pw, in, 1.0f, x, in, W + (int64_t)p0 * in, in, 0.0f,
                  z + p0, out);
    });
    for (int n = 0; n < N; ++n) {
      float* zr = z + (int64_t)n * out + o0;
      if (b) {
#pragma omp simd
        for (int j = 0; j < w; ++j) zr[j] += b[o0 + j];
      }
      if (act != Activation::Linear && elementwise(act)) activation_forward(zr, zr, w, act);
    }
    if (then) then(o0, w);
  });
}

void dense_backward(float* dx, float* dW, float* db, const float* dz, const float* x, const float* W, int N, int in,
                    int out, bool accumulate, const ColumnBlockFn& then_dx) {
  // dz is only read when no dy is given
  backward(dx, dW, db, const_cast<float*>(dz), nullptr, nullptr, Activation::Linear, x, W, N, in, out, accumulate,
           then_dx);
}

void dense_backward_activation(float* dx, float* dW, float* db, float* dz, const float* dy, const float* y,
                               Activation act, const float* x, const float* W, int N, int in, int out,
                               bool accumulate, const ColumnBlockFn& then_dx) {
  if (!elementwise(act)) throw std::logic_error("dense_backward_activation: softmax is not elementwise");
  backward(dx, dW, db, dz, dy, y, act, x, W, N, in, out, accumulate, then_dx);
}

}  // namespace bnlab
