#include "bnlab/kernels/activation.h"

#include <algorithm>
#include <cmath>

namespace bnlab {

const char* activation_name(Activation a) {
  switch (a) {
    case Activation::Linear: return "linear";
    case Activation::ReLU: return "relu";
    case Activation::Sigmoid: return "sigmoid";
    case Activation::Tanh: return "tanh";
    case Activation::Softmax: return "softmax";
  }
  return "?";
}

void activation_forward(float* y, const float* x, int64_t n, Activation a) {
  switch (a) {
    case Activation::Linear:
      if (y != x) std::copy(x, x + n, y);
      break;
    case Activation::ReLU:
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
      break;
    case Activation::Sigmoid:
      for (int64_t i = 0; i < n; ++i) y[i] = 1.0f / (1.0f + std::exp(-x[i]));
      break;
    case Activation::Tanh:
      for (int64_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
      break;
    case Activation::Softmax:
      break;  // row-wise: softmax_forward
  }
}

void activation_backward(float* dx, const float* dy, const float* y, int64_t n, Activation a) {
  switch (a) {
    case Activation::Linear:
      if (dx != dy) std::copy(dy, dy + n, dx);
      break;
    case Activation::ReLU:
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
      break;
    case Activation::Sigmoid:
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * y[i] * (1.0f - y[i]);
      break;
    case Activation::Tanh:
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * (1.0f - y[i] * y[i]);
      break;
    case Activation::Softmax:
      break;  // row-wise: softmax_backward
  }
}

double softmax_row(float* y, const float* x, int K) {
  const float m = *std::max_element(x, x + K);  // subtracting the maximum keeps exp finite
  double sum = 0.0;
  for (int k = 0; k < K; ++k) {
    y[k] = std::exp(x[k] - m);
    sum += y[k];
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (int k = 0; k < K; ++k) y[k] *= inv;
  return m + std::log(sum);
}

void softmax_forward(float* y, const float* x, int N, int K) {
  for (int n = 0; n < N; ++n) softmax_row(y + (int64_t)n * K, x + (int64_t)n * K, K);
}

void softmax_backward(float* dx, const float* dy, const float* y, int N, int K) {
  for (int n = 0; n < N; ++n) {
    const float* dyr = dy + (int64_t)n * K;
    const float* yr = y + (int64_t)n * K;
    float* dxr = dx + (int64_t)n * K;
    double dot = 0.0;
    for (int k = 0; k < K; ++k) dot += (double)dyr[k] * yr[k];
    for (int k = 0; k < K; ++k) dxr[k] = yr[k] * (dyr[k] - static_cast<float>(dot));
  }
}

}  // namespace bnlab
