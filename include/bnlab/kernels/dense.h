#pragma once
// Fully connected layer kernels, weights in PyTorch's nn.Linear layout (out, in):
//   forward   z = act(x W^T + b)        (act elementwise; softmax is row-wise, the caller's)
//   backward  dz = act'(y, dy),  dW += dz^T x,  db += sum_n dz,  dx = dz W
//             (dW = and db = instead when not accumulating)
// The matrix products go through cblas_sgemm. Each thread takes one block of output columns and
// does everything for it (bias, activation, its columns' dz and db, its rows of dW) while the block
// is in its cache, so a forward is one parallel region and a backward two (dx needs all of dz).
#include <cstdint>

#include "bnlab/core/work_split.h"
#include "bnlab/kernels/activation.h"

namespace bnlab {

// z: (N, out)  x: (N, in)  W: (out, in)  b: (out) or null
// act: applied in place after the bias; Linear and Softmax apply nothing here
// then: run on each block of z after its bias and activation
// x_copies: copies of x, one per thread (x is read by threads without one)
void dense_forward(float* z, const float* x, const float* W, const float* b, int N, int in, int out,
                   Activation act = Activation::Linear, const ColumnBlockFn& then = {},
                   const ThreadCopies& x_copies = {});

// dx: (N, in) or null (not computed)  dW: (out, in)  db: (out) or null  (both accumulated)
// dz: (N, out)  x: (N, in)  W: (out, in)
// accumulate: false sets dW and db instead (the weight-gradient product does not read dW)
// then_dx: run on each block of dx (only when dx is computed)
void dense_backward(float* dx, float* dW, float* db, const float* dz, const float* x, const float* W,
                    int N, int in, int out, bool accumulate = true, const ColumnBlockFn& then_dx = {});

// dense_backward from dL/dy of the activation's output: dz = act'(y, dy) is written to dz (N, out),
// which may be dy itself. act: elementwise (Linear, ReLU, Sigmoid, Tanh).  y, dy: (N, out)
void dense_backward_activation(float* dx, float* dW, float* db, float* dz, const float* dy, const float* y,
                               Activation act, const float* x, const float* W, int N, int in, int out,
                               bool accumulate = true, const ColumnBlockFn& then_dx = {});

}  // namespace bnlab
