#pragma once
// Optimiser update kernels, one parameter tensor (or a slice of one) at a time, on the calling
// thread; the optimisers split the work across threads. t is the 1-based step number.
//
// Adam, Keras form (epsilon "hat", added to sqrt(v) before bias correction):
//   m += (g - m) (1 - b1);  v += (g^2 - v) (1 - b2)
//   p -= m * alpha / (sqrt(v) + eps),  alpha = lr sqrt(1 - b2^t) / (1 - b1^t)
// Adam, PyTorch form (torch.optim.Adam):
//   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
//   p -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
// SGD with momentum, Keras form: u = momentum u - lr g;  p += u   (momentum 0: p -= lr g)
#include <cstdint>

namespace bnlab {

// The hyperparameters are doubles, as the Python floats the references pass: the bias corrections
// and step sizes are computed in double and rounded once; each framework's float32 constants
// (Keras: 1.0f - float(b1); PyTorch: float(1 - b1)) follow its own arithmetic.
// p, g, m, v: (n)
void adam_keras_update(float* p, float* m, float* v, const float* g, int64_t n, double lr, double b1,
                       double b2, double eps, int64_t t);
void adam_torch_update(float* p, float* m, float* v, const float* g, int64_t n, double lr, double b1,
                       double b2, double eps, int64_t t);
// y = sqrt(x), x and y: (n), as adam_keras_update takes it for some of its elements: Newton steps on
// the multiply-add units, exact (identical to std::sqrt, which tests check for every float) on
// AVX-512 CPUs; std::sqrt elsewhere.
void sqrt_on_fma_units(float* y, const float* x, int64_t n);
// Whether this build of the kernels has sqrt_on_fma_units' Newton steps (compiled for AVX-512);
// false: sqrt_on_fma_units is std::sqrt.
bool sqrt_on_fma_units_compiled_in();
// p, g, u: (n); u may be null when momentum == 0
void sgd_update(float* p, float* u, const float* g, int64_t n, float lr, float momentum);

// True when no element of x: (n) is NaN or Inf.
bool all_finite(const float* x, int64_t n);

}  // namespace bnlab
