#pragma once
// Backward of a BatchNormalization whose output feeds a Dense layer directly, when nothing before
// the BN needs a gradient (the BN normalises the network's input, as in the notebook's model):
//
//   BN     y[n, c] = u[n, c] * gamma[c] + beta[c]    (u: the normalised input, kernels/batchnorm.h)
//   Dense  z[n, k] = sum_c y[n, c] W[k, c] + b[k],  a = act(z)    (dz = dL/dz = act'(a, dL/da))
//
// The BN's parameter gradients need only sums of dL/dy = dz W over the batch, and those sums can
// be taken on the Dense side, so the (N, K) x (K, C) product dL/dy and the BN's dx are never formed:
//   H[k, c]    = sum_n dz[n, k] u[n, c]              (one GEMM, the size of dW's own)
//   s[k]       = sum_n dz[n, k]
//   dW[k, c]  += gamma[c] H[k, c] + s[k] beta[c]     (= sum_n dz[n, k] y[n, c])
//   db[k]     += s[k]
//   dgamma[c] += sum_k W[k, c] H[k, c]               (= sum_n dL/dy[n, c] u[n, c])
//   dbeta[c]  += sum_k W[k, c] s[k]                  (= sum_n dL/dy[n, c])
// The same gradients as the layer-by-layer backward, with a different rounding; for the notebook's
// model at batch 64 it removes 2 x 64 x 784 x 256 = 25.7 MFLOP of the step's 90.1.
// One parallel region: each thread takes a block of rows k (16 at a time) and does everything for
// them while they are in its cache (dz, s, db, H, dW; H is formed in dW's rows and turned into dW
// in place, unless dW accumulates); dgamma and dbeta are summed per 16 rows of k
// and then over those groups in order, so the result does not depend on the thread count.
#include <cstdint>

#include "bnlab/core/work_split.h"
#include "bnlab/kernels/activation.h"

namespace bnlab {

inline constexpr int kBatchNormDenseGroup = 16;  // rows of k per partial sum of dgamma and dbeta

// Floats of `scratch` the kernels need: s (K, padded to whole 64-byte lines), two rows of C of
// partial sums per group of kBatchNormDenseGroup rows of k, and H (K, C) when accumulating (else H
// is formed in dW's rows and turned into dW in place).
inline int64_t batchnorm_dense_s_floats(int K) { return (K + 15) / 16 * 16; }
inline int64_t batchnorm_dense_scratch(int C, int K, bool accumulate) {
  const int64_t groups = (K + kBatchNormDenseGroup - 1) / kBatchNormDenseGroup;
  return batchnorm_dense_s_floats(K) + 2LL * C * groups + (accumulate ? int64_t{K} * C : 0);
}

// dW: (K, C)  db: (K) or null  dgamma, dbeta: (C) or null  (all accumulated, or all set when
// accumulate is false)
// scratch: batchnorm_dense_scratch(C, K, accumulate) floats
// dz: (N, K): dL/dz (the Dense layer's gradient before its activation, or of its logits)
// u: (N, C); a thread reads its own copy in u_copies when it has one (core/work_split.h)
// W: (K, C)  gamma, beta: (C) or null (scale=False / center=False: gamma = 1, beta = 0)
void batchnorm_dense_backward(float* dW, float* db, float* dgamma, float* dbeta, float* scratch, const float* dz,
                              const float* u, const float* W, const float* gamma, const float* beta, int N, int C,
                              int K, bool accumulate = true, const ThreadCopies& u_copies = {});

// The same from dL/da of an elementwise activation a = act(z) (Linear, ReLU, Sigmoid, Tanh):
// dz = act'(a, da) is written to dz (N, K) first, block by block.  a, da: (N, K); dz may be da.
void batchnorm_dense_backward_activation(float* dW, float* db, float* dgamma, float* dbeta, float* scratch, float* dz,
                                         const float* da, const float* a, Activation act, const float* u,
                                         const float* W, const float* gamma, const float* beta, int N, int C, int K,
                                         bool accumulate = true, const ThreadCopies& u_copies = {});

}  // namespace bnlab
