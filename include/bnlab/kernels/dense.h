#pragma once
// Fully connected layer kernels, weights in PyTorch's nn.Linear layout (out, in):
//   forward   z = x W^T + b
//   backward  dW += dz^T x,  db += sum_n dz,  dx = dz W
// The matrix products go through cblas_sgemm.
#include <cstdint>

namespace bnlab {

// z: (N, out)  x: (N, in)  W: (out, in)  b: (out) or null
void dense_forward(float* z, const float* x, const float* W, const float* b, int N, int in, int out);

// dx: (N, in) or null (not computed)  dW: (out, in)  db: (out) or null  (both accumulated)
// dz: (N, out)  x: (N, in)  W: (out, in)
void dense_backward(float* dx, float* dW, float* db, const float* dz, const float* x, const float* W,
                    int N, int in, int out);

}  // namespace bnlab
