#pragma once
// Batch normalization over the channel axis of images x: (N, C, HW), HW = H * W (channels first),
// one statistic per channel c over all n and hw of the batch: count = N * HW values per channel
// (PyTorch's BatchNorm2d, Keras's BatchNormalization(axis=1)).
//
// Training runs in two phases each way, so that a data-parallel reducer can add the per-channel
// sums of every process between them (with count the total over processes):
//   forward  (a) sums      sum[c]    = sum_{n,hw} (x[n, c, hw] - K[c])
//                          sumsq[c]  = sum_{n,hw} (x[n, c, hw] - K[c])^2
//            moments       mean[c]   = K[c] + sum[c] / count
//                          var[c]    = sumsq[c] / count - (sum[c] / count)^2     (biased, not below 0)
//            (b) normalise invstd[c] = 1 / sqrt(var[c] + eps)
//                          y[n, c, hw] = (x[n, c, hw] - mean[c]) * invstd[c] * gamma[c] + beta[c]
//   backward (a) sums      sum_dy[c]     = sum_{n,hw} dy[n, c, hw]
//                          sum_dy_xmu[c] = sum_{n,hw} dy[n, c, hw] * (x[n, c, hw] - mean[c])
//            parameters    dbeta[c]  += sum_dy[c]
//                          dgamma[c] += sum_dy_xmu[c] * invstd[c]
//            (b) input     dx = gamma[c] * invstd[c] * (dy - sum_dy[c] / count
//                                                       - (x - mean[c]) * invstd[c]^2 * sum_dy_xmu[c] / count)
// K[c] is a shift near channel c's values, x[0, c, 0] for one process: x - K and its square are
// exact in double, and (mean - K)^2 <= count * var, so the variance keeps double accuracy even when
// the mean is far larger than the spread. Processes whose sums are added must share K (e.g. the
// first process's, broadcast). In data-parallel training the parameter gradients come from each
// process's own sums (and are then added as every gradient is), the input gradient from the total.
//
// Batch Renormalization (kernels/batchnorm.h's formulas) takes per-channel r and d from
// batchnorm2d_renorm_corrections: y = ((x - mean) * invstd * r + d) * gamma + beta; backward with
// gamma * r in place of gamma and dgamma[c] += r[c] * sum_dy_xmu[c] * invstd[c] + d[c] * sum_dy[c].
//
// Inference: y[n, c, hw] = x[n, c, hw] * scale[c] + shift[c] (kernels/batchnorm.h's batchnorm_fold).
// gamma and beta may be null (scale=False / center=False): gamma = 1, beta = 0.
//
// Threads: each channel's sums are taken by one thread over n, then hw, in order, and every output
// element is written by one thread, so the results are the same bits for any thread count.
#include <cstdint>

namespace bnlab {

// sum, sumsq: (C) written  shift: (C), K  x: (N, C, HW)
void batchnorm2d_sums(double* sum, double* sumsq, const float* shift, const float* x, int N, int C, int HW);

// mean, var: (C) written  sum, sumsq: (C), possibly added over processes  shift: (C), K
// count: the values per channel the sums are over (N * HW, summed over processes)
void batchnorm2d_moments(double* mean, double* var, const double* sum, const double* sumsq, const float* shift,
                         int64_t count, int C);

// Batch Renormalization's corrections (kernels/batchnorm.h), rounded to float.
// r, d: (C) written  mean, var: (C) of the batch  moving_mean, moving_var: (C) before this batch's update
void batchnorm2d_renorm_corrections(float* r, float* d, const double* mean, const double* var,
                                    const float* moving_mean, const float* moving_var, float rmax, float dmax,
                                    int C, float eps);

// y: (N, C, HW)  invstd: (C) written  x: (N, C, HW)  mean, var: (C)  r, d: (C) or both null (plain BN)
// gamma, beta: (C) or null
void batchnorm2d_normalise(float* y, float* invstd, const float* x, const double* mean, const double* var,
                           const float* r, const float* d, const float* gamma, const float* beta, int N, int C,
                           int HW, float eps);

// sum_dy, sum_dy_xmu: (C) written  dy, x: (N, C, HW)  mean: (C) from the forward
void batchnorm2d_backward_sums(double* sum_dy, double* sum_dy_xmu, const float* dy, const float* x,
                               const double* mean, int N, int C, int HW);

// dgamma, dbeta: (C) accumulated, or null  sum_dy, sum_dy_xmu: (C)  invstd: (C)  r, d: (C) or both null
void batchnorm2d_param_grads(float* dgamma, float* dbeta, const double* sum_dy, const double* sum_dy_xmu,
                             const float* invstd, const float* r, const float* d, int C);

// dx: (N, C, HW) written  dy, x: (N, C, HW)  mean, invstd: (C) from the forward  r: (C) or null
// gamma: (C) or null  sum_dy, sum_dy_xmu: (C)  count: as for batchnorm2d_moments
void batchnorm2d_backward_input(float* dx, const float* dy, const float* x, const double* mean, const float* invstd,
                                const float* r, const float* gamma, const double* sum_dy, const double* sum_dy_xmu,
                                int64_t count, int N, int C, int HW);

// y, x: (N, C, HW)  scale, shift: (C); in place allowed
void batchnorm2d_forward_eval(float* y, const float* x, const float* scale, const float* shift, int N, int C, int HW);

// Eval-mode backward (the statistics are constants): dx = dy * scale[c];
// dgamma[c] += sum_{n,hw} dy * (x - moving_mean[c]) / sqrt(moving_var[c] + eps); dbeta[c] += sum_{n,hw} dy.
// dx: (N, C, HW) or null  dgamma, dbeta: (C) or null  dy, x: (N, C, HW)  moving_mean, moving_var, scale: (C)
void batchnorm2d_backward_eval(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x,
                               const float* moving_mean, const float* moving_var, const float* scale, int N, int C,
                               int HW, float eps);

}  // namespace bnlab
