#pragma once
// Layer normalization over the feature axis of x: (N, C), one statistic per sample n.
//   mean[n]   = (1/C) sum_c x[n, c]
//   var[n]    = (1/C) sum_c (x[n, c] - mean[n])^2        (biased)
//   invstd[n] = 1 / sqrt(var[n] + eps)
//   xhat      = (x - mean) * invstd
//   y[n, c]   = xhat[n, c] * gamma[c] + beta[c]
// Backward (g = dy * gamma):
//   dbeta[c]  += sum_n dy[n, c]
//   dgamma[c] += sum_n dy[n, c] * xhat[n, c]
//   dx[n, c]   = invstd[n] * (g[n, c] - mean_c(g[n]) - xhat[n, c] * mean_c(g[n] * xhat[n]))
// The same computation in training and inference (no batch statistics).
// gamma and beta may be null: gamma = 1, beta = 0.

namespace bnlab {

// y: (N, C)  mean, invstd: (N) written  x: (N, C)  gamma, beta: (C) or null
void layernorm_forward(float* y, float* mean, float* invstd, const float* x, const float* gamma,
                       const float* beta, int N, int C, float eps);

// dx: (N, C) or null  dgamma, dbeta: (C) accumulated, or null  dy, x: (N, C)  mean, invstd: (N)
void layernorm_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x,
                        const float* mean, const float* invstd, const float* gamma, int N, int C);

}  // namespace bnlab
