#pragma once
// Backward of a BatchNormalization whose output feeds a Dense layer directly, when nothing before
// the BN needs a gradient (the BN normalises the network's input, as in the seed's model):
//
//   BN     y[n, c] = u[n, c] * gamma[c] + beta[c]    (u: the normalised input, kernels/batchnorm.h)
//   Dense  z[n, k] = sum_c y[n, c] W[k, c] + b[k]    (dz = dL/dz, after the activation's backward)
//
// The BN's parameter gradients need only sums of dL/dy = dz W over the batch, and those sums can
// be taken on the Dense side, so the (N, K) x (K, C) product dL/dy and the BN's dx are never formed:
//   H[k, c]    = sum_n dz[n, k] u[n, c]              (one GEMM, the size of dW's own)
//   s[k]       = sum_n dz[n, k]
//   dW[k, c]  += gamma[c] H[k, c] + s[k] beta[c]     (= sum_n dz[n, k] y[n, c])
//   db[k]     += s[k]
//   dgamma[c] += sum_k W[k, c] H[k, c]               (= sum_n dL/dy[n, c] u[n, c])
//   dbeta[c]  += sum_k W[k, c] s[k]                  (= sum_n dL/dy[n, c])
// The same gradients as the layer-by-layer backward, with a different rounding; for the seed's
// model at batch 64 it removes 2 x 64 x 784 x 256 = 25.7 MFLOP of the step's 90.1.
#include <cstdint>

namespace bnlab {

// H: (K, C) scratch  s: (K) scratch  dW: (K, C)  db: (K) or null  dgamma, dbeta: (C) or null
// (all accumulated)  dz: (N, K)  u: (N, C)  W: (K, C)  gamma, beta: (C) or null (scale=False /
// center=False: gamma = 1, beta = 0)
void batchnorm_dense_backward(float* H, float* s, float* dW, float* db, float* dgamma, float* dbeta, const float* dz,
                              const float* u, const float* W, const float* gamma, const float* beta, int N, int C,
                              int K);

}  // namespace bnlab
