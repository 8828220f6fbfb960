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
// Statistics are accumulated in double, so large batches and large means stay exact.
// gamma and beta may be null (scale=False / center=False): gamma = 1, beta = 0.

namespace bnlab {

// y: (N, C)  mean, invstd, var: (C) written  x: (N, C)  gamma, beta: (C) or null
void batchnorm_forward_train(float* y, double* mean, float* invstd, double* var, const float* x,
                             const float* gamma, const float* beta, int N, int C, float eps);

// dx: (N, C) or null  dgamma, dbeta: (C) accumulated, or null  dy, x: (N, C)
// mean, invstd: (C) from the forward  gamma: (C) or null
void batchnorm_backward_train(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x,
                              const double* mean, const float* invstd, const float* gamma, int N, int C);

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
