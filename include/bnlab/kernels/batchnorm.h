#pragma once
// Batch normalization over the batch axis of x: (N, C), one statistic per feature c.
//
// Training:  mean[c]   = (1/N) sum_n x[n, c]
//            var[c]    = (1/N) sum_n (x[n, c] - mean[c])^2          (biased)
//            invstd[c] = 1 / sqrt(var[c] + eps)
//            y[n, c]   = (x[n, c] - mean[c]) * invstd[c] * gamma[c] + beta[c]
// Backward (xhat = (x - mean) * invstd):
//            dbeta[c]  += sum_n dy[n, c]
//            dgamma[c] += sum_n dy[n, c] * xhat[n, c]
//            dx[n, c]   = gamma[c] * invstd[c] * (dy[n, c] - sum_dy[c] / N
//                                                 - xhat[n, c] * sum_dy_xhat[c] / N)
// Inference: y[n, c] = x[n, c] * scale[c] + shift[c], with the moving statistics folded into
//            scale = gamma / sqrt(moving_var + eps) and shift = beta - moving_mean * scale.
// Statistics are accumulated in double, in one pass over x with the squares shifted by the first
// row, so large batches and large means stay exact (bounds in kernels/batchnorm.cpp).
// gamma and beta may be null (scale=False / center=False): gamma = 1, beta = 0.
//
// Batch Renormalization (Ioffe 2017), training only; inference is the same folded formula. With the
// moving sigma[c] = sqrt(moving_var[c] + eps) and the batch's sigma_B[c] = 1 / invstd[c]:
//            r[c]      = clip(sigma_B[c] / sigma[c], 1 / rmax, rmax)
//            d[c]      = clip((mean[c] - moving_mean[c]) / sigma[c], -dmax, dmax)
//            y[n, c]   = ((x[n, c] - mean[c]) * invstd[c] * r[c] + d[c]) * gamma[c] + beta[c]
// r and d are constants for backprop (the paper's stop_gradient), so with xhat as above:
//            dbeta[c]  += sum_n dy[n, c]
//            dgamma[c] += r[c] * sum_n dy[n, c] * xhat[n, c] + d[c] * sum_n dy[n, c]
//            dx         = the BN dx above with gamma[c] replaced by gamma[c] * r[c]
// rmax = 1 and dmax = 0 give r = 1 and d = 0: plain BN.

namespace bnlab {

// The training forwards can also write the normalised value before the affine step,
//            u[n, c] = (x[n, c] - mean[c]) * invstd[c]    (renorm: * r[c] + d[c]),  y = u * gamma + beta,
// which lets a following Dense layer give gamma's and beta's gradients without dL/du
// (kernels/batchnorm_dense.h).

// y: (N, C)  u: (N, C) or null  mean, invstd, var: (C) written  x: (N, C)  gamma, beta: (C) or null
void batchnorm_forward_train(float* y, float* u, double* mean, float* invstd, double* var, const float* x,
                             const float* gamma, const float* beta, int N, int C, float eps);

// dx: (N, C) or null  dgamma, dbeta: (C) accumulated, or null  dy, x: (N, C)
// mean, invstd: (C) from the forward  gamma: (C) or null
void batchnorm_backward_train(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x,
                              const double* mean, const float* invstd, const float* gamma, int N, int C);

// The same two on columns [c0, c0 + w) only (all arrays still whole), serially on the calling
// thread: for a caller that runs them inside its own parallel region, one block of columns per
// thread (a Dense layer next to the BN: core/work_split.h's ColumnBlockFn). The same results, column
// for column, as the whole-array calls.
void batchnorm_forward_train_columns(float* y, float* u, double* mean, float* invstd, double* var, const float* x,
                                     const float* gamma, const float* beta, int N, int C, float eps, int c0, int w);
void batchnorm_backward_train_columns(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x,
                                      const double* mean, const float* invstd, const float* gamma, int N, int C,
                                      int c0, int w);

// y: (N, C)  u: (N, C) or null  mean, invstd, var, r, d: (C) written  x: (N, C)  gamma, beta: (C) or null
// moving_mean, moving_var: (C), the statistics before this batch's update
void batchnorm_renorm_forward_train(float* y, float* u, double* mean, float* invstd, double* var, float* r, float* d,
                                    const float* x, const float* gamma, const float* beta,
                                    const float* moving_mean, const float* moving_var, float rmax, float dmax,
                                    int N, int C, float eps);

// dx: (N, C) or null  dgamma, dbeta: (C) accumulated, or null  dy, x: (N, C)
// mean, invstd, r, d: (C) from the forward  gamma: (C) or null
void batchnorm_renorm_backward_train(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x,
                                     const double* mean, const float* invstd, const float* r, const float* d,
                                     const float* gamma, int N, int C);

// scale, shift: (C) written  moving_mean, moving_var: (C)  gamma, beta: (C) or null
void batchnorm_fold(float* scale, float* shift, const float* moving_mean, const float* moving_var,
                    const float* gamma, const float* beta, int C, float eps);

// y, x: (N, C)  scale, shift: (C); in place allowed
void batchnorm_forward_eval(float* y, const float* x, const float* scale, const float* shift, int N, int C);

// Eval-mode backward (the statistics are constants): dx = dy * scale;
// dgamma += sum_n dy * (x - moving_mean) / sqrt(moving_var + eps); dbeta += sum_n dy.
// dx: (N, C) or null  dgamma, dbeta: (C) or null  dy, x: (N, C)  moving_mean, moving_var, scale: (C)
void batchnorm_backward_eval(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x,
                             const float* moving_mean, const float* moving_var, const float* scale,
                             int N, int C, float eps);

}  // namespace bnlab
