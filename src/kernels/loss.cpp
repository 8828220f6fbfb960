#include "bnlab/kernels/loss.h"

#include "bnlab/kernels/activation.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace bnlab {
namespace {
int argmax(const float* row, int K) { return static_cast<int>(std::max_element(row, row + K) - row); }
}  // namespace

LossResult softmax_cross_entropy_forward(float* probs, const float* logits, const int32_t* labels,
                                         int N, int K) {
  LossResult r;
  for (int n = 0; n < N; ++n) {
    const float* z = logits + (int64_t)n * K;
    const double lse = softmax_row(probs + (int64_t)n * K, z, K);
    r.loss_sum += lse - z[labels[n]];
    r.correct += argmax(z, K) == labels[n];
  }
  return r;
}

void softmax_cross_entropy_backward(float* dlogits, const float* probs, const int32_t* labels, int N,
                                    int K, float scale) {
  for (int n = 0; n < N; ++n) {
    const float* p = probs + (int64_t)n * K;
    float* d = dlogits + (int64_t)n * K;
    for (int k = 0; k < K; ++k) d[k] = p[k] * scale;
    d[labels[n]] = (p[labels[n]] - 1.0f) * scale;
  }
}

LossResult cross_entropy_from_probs(const float* probs, const int32_t* labels, int N, int K) {
  LossResult r;
  for (int n = 0; n < N; ++n) {
    const float* p = probs + (int64_t)n * K;
    r.loss_sum -= std::log(std::max<double>(p[labels[n]], std::numeric_limits<float>::min()));
    r.correct += argmax(p, K) == labels[n];
  }
  return r;
}

}  // namespace bnlab
