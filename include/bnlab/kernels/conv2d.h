#pragma once
// 2-D convolution kernels, channels first, in PyTorch's nn.Conv2d layout:
//   x (N, C, H, W)   W (F, C, KH, KW)   b (F)   y (N, F, HO, WO)
//   forward   z[n, f, i, j] = b[f] + sum_{c, p, q} W[f, c, p, q] x[n, c, i SH - PT + p, j SW - PL + q]
//             (x read as 0 outside the image), y = act(z)
//   backward  dz = act'(y, dy),  dW += sum_n dz_n col_n^T,  db += sum_{n, i, j} dz[n, :, i, j],
//             dx = col2im(W^T dz_n)
// where col_n (C KH KW, HO WO) holds the patches of sample n (im2col), so that each product is one
// cblas_sgemm per sample: z_n (F, HO WO) = W (F, C KH KW) col_n.
//
// Threads take contiguous runs of samples. The weight and bias gradients are sums over samples:
// each fixed group of kSamplesPerGroup samples sums its own partial in sample order, and the
// partials are added in group order. The groups do not depend on the thread count, so every result
// is bit-identical for any number of threads.
#include <cstdint>

#include "bnlab/core/tensor.h"
#include "bnlab/kernels/activation.h"

namespace bnlab {

// The sizes of one convolution. pad_top and pad_left are the zeros before the image; the zeros
// after it are whatever the output size needs (Keras and TensorFlow's SAME padding puts the odd
// one at the bottom and right).
struct Conv2DGeometry {
  int N = 0, C = 0, H = 0, W = 0;  // input
  int F = 0, KH = 1, KW = 1;       // filters and kernel
  int SH = 1, SW = 1;              // stride
  int pad_top = 0, pad_left = 0;
  int HO = 0, WO = 0;  // output

  int64_t patch() const { return int64_t{C} * KH * KW; }  // rows of col_n
  int64_t pixels() const { return int64_t{HO} * WO; }     // columns of col_n
  // 2 N F (C KH KW) (HO WO): the FLOPs of the forward product (and of each backward one).
  double product_flops() const { return 2.0 * N * F * patch() * pixels(); }
};

// Samples per group of the weight-gradient sums (see above).
inline constexpr int kSamplesPerGroup = 8;

// col: (C KH KW, HO WO) the patches of one sample x: (C, H, W); zeros where they reach the padding.
void im2col(float* col, const float* x, const Conv2DGeometry& g);
// dx: (C, H, W) += the patches' gradients dcol: (C KH KW, HO WO) summed back onto the pixels.
void col2im_add(float* dx, const float* dcol, const Conv2DGeometry& g);

// y: (N, F, HO, WO)  x: (N, C, H, W)  W: (F, C, KH, KW)  b: (F) or null
// act: elementwise (not Softmax), applied after the bias
// scratch: grown as needed and reused (the patches of each thread's sample)
void conv2d_forward(float* y, const float* x, const float* W, const float* b, const Conv2DGeometry& g, Activation act,
                    Tensor& scratch);

// dx: (N, C, H, W) SET, or null (not computed)  dW: (F, C, KH, KW) and db: (F) or null ACCUMULATED
// dy: dL/dy and y: the forward's output, (N, F, HO, WO)  x: (N, C, H, W)  W: (F, C, KH, KW)
// act: the forward's activation (elementwise)
// scratch: grown as needed and reused (patches, dz and the partial sums)
void conv2d_backward(float* dx, float* dW, float* db, const float* dy, const float* y, Activation act, const float* x,
                     const float* W, const Conv2DGeometry& g, Tensor& scratch);

}  // namespace bnlab
