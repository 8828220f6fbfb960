#pragma once
// Group normalization (Wu and He 2018) of x: (N, C, HW), HW = H * W (1 for flat (N, C) input),
// the C channels cut into G groups of Cg = C / G consecutive channels; one statistic per sample n
// and group g, over its Cg * HW values (D of them), which are contiguous in x:
//   mean[n, g]   = (1/D) sum_{c in g, hw} x[n, c, hw]
//   var[n, g]    = (1/D) sum_{c in g, hw} (x[n, c, hw] - mean[n, g])^2        (biased)
//   invstd[n, g] = 1 / sqrt(var[n, g] + eps)
//   xhat         = (x - mean[n, g]) * invstd[n, g]
//   y[n, c, hw]  = xhat[n, c, hw] * gamma[c] + beta[c]           (gamma, beta per channel)
// Backward (g = dy * gamma[c]):
//   dbeta[c]  += sum_{n, hw} dy[n, c, hw]
//   dgamma[c] += sum_{n, hw} dy[n, c, hw] * xhat[n, c, hw]
//   dx         = invstd[n, g] * (g - mean_{group}(g) - xhat * mean_{group}(g * xhat))
// G = 1 is LayerNorm over (C, H, W); G = C is InstanceNorm. The same computation in training and
// inference. Statistics in double, the centred sum of squares in a second pass. gamma and beta may
// be null: gamma = 1, beta = 0.
// Threads: one (n, g) per iteration, and the parameter gradients summed per channel over n in order
// from per-(n, c) sums, so the results are the same bits for any thread count.

namespace bnlab {

// y: (N, C, HW)  mean, invstd: (N, G) written  x: (N, C, HW)  gamma, beta: (C) or null
void groupnorm_forward(float* y, float* mean, float* invstd, const float* x, const float* gamma, const float* beta,
                       int N, int C, int HW, int G, float eps);

// dx: (N, C, HW) or null  dgamma, dbeta: (C) accumulated, or null  dy, x: (N, C, HW)
// mean, invstd: (N, G) from the forward  gamma: (C) or null
void groupnorm_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x, const float* mean,
                        const float* invstd, const float* gamma, int N, int C, int HW, int G);

}  // namespace bnlab
