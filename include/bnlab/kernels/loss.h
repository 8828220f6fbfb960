#pragma once
// Sparse categorical cross-entropy fused with softmax, stable through log-sum-exp:
//   p[n, k]  = exp(z[n, k] - lse[n]),  lse[n] = log sum_k exp(z[n, k])
//   loss     = (1/N) sum_n (lse[n] - z[n, y[n]])
//   dz[n, k] = (p[n, k] - [k == y[n]]) / N
#include <cstdint>

namespace bnlab {

struct LossResult {
  double loss_sum = 0.0;  // sum over the batch (divide by N for the mean)
  int64_t correct = 0;    // samples whose argmax equals the label
};

// probs: (N, K) written  logits: (N, K)  labels: (N), each in [0, K) (checked by the caller)
LossResult softmax_cross_entropy_forward(float* probs, const float* logits, const int32_t* labels,
                                         int N, int K);

// dlogits: (N, K)  probs: (N, K) from the forward  labels: (N)  scale: 1/N for the batch mean
void softmax_cross_entropy_backward(float* dlogits, const float* probs, const int32_t* labels, int N,
                                    int K, float scale);

// Accuracy and loss of given probabilities (the model's output is already a softmax):
// loss = -log(max(p[n, y[n]], tiny)).
LossResult cross_entropy_from_probs(const float* probs, const int32_t* labels, int N, int K);

}  // namespace bnlab
