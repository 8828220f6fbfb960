#pragma once
// Batch statistics in double, in two passes: the reference of the BatchNorm kernel and layer tests.
#include <cmath>
#include <cstdint>
#include <vector>

#include "bnlab/core/tensor.h"

namespace bnlab::testing {

struct Stats {
  std::vector<double> mean, var;  // biased
};

inline Stats batch_stats(const Tensor& x) {
  const int64_t N = x.dim(0), C = x.dim(1);
  Stats s{std::vector<double>(C), std::vector<double>(C)};
  for (int64_t c = 0; c < C; ++c) {
    for (int64_t n = 0; n < N; ++n) s.mean[c] += x[n * C + c];
    s.mean[c] /= N;
    for (int64_t n = 0; n < N; ++n) s.var[c] += std::pow(x[n * C + c] - s.mean[c], 2);
    s.var[c] /= N;
  }
  return s;
}

// The same per channel of images x: (N, C, H, W), over n, h and w.
inline Stats channel_stats(const Tensor& x) {
  const int64_t N = x.dim(0), C = x.dim(1), HW = x.dim(2) * x.dim(3);
  Stats s{std::vector<double>(C), std::vector<double>(C)};
  for (int64_t c = 0; c < C; ++c) {
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < HW; ++i) s.mean[c] += x[(n * C + c) * HW + i];
    s.mean[c] /= N * HW;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < HW; ++i) s.var[c] += std::pow(x[(n * C + c) * HW + i] - s.mean[c], 2);
    s.var[c] /= N * HW;
  }
  return s;
}

}  // namespace bnlab::testing
