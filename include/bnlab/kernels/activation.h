#pragma once
// Elementwise activations and the row-wise softmax.
//   relu     y = max(x, 0)              dx = dy * (y > 0)
//   sigmoid  y = 1 / (1 + exp(-x))      dx = dy * y * (1 - y)
//   tanh     y = tanh(x)                dx = dy * (1 - y^2)
//   softmax  y[n, k] = exp(x[n, k] - max_k x[n]) / sum_j exp(x[n, j] - max_k x[n])
//            dx[n, k] = y[n, k] * (dy[n, k] - sum_j dy[n, j] y[n, j])
// The backward functions take the forward output y, so they also work in place (dx == dy).
#include <cstdint>

namespace bnlab {

enum class Activation { Linear, ReLU, Sigmoid, Tanh, Softmax };

const char* activation_name(Activation a);  // "linear", "relu", ...

// y, x: (n) elementwise activations (not Softmax), in place allowed
void activation_forward(float* y, const float* x, int64_t n, Activation a);
void activation_backward(float* dx, const float* dy, const float* y, int64_t n, Activation a);

// y, x: (N, K)
void softmax_forward(float* y, const float* x, int N, int K);
// One row: y = softmax(x), x and y: (K); returns log(sum_k exp(x[k])) (the log-sum-exp).
double softmax_row(float* y, const float* x, int K);
// dx, dy, y: (N, K)
void softmax_backward(float* dx, const float* dy, const float* y, int N, int K);

}  // namespace bnlab
