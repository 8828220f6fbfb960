// The fused softmax cross-entropy: stable on large logits, and against PyTorch.
#include "bnlab/kernels/loss.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "support/torch_fixture.h"

namespace bnlab {
namespace {

using testing::as_vector;
using testing::expect_close;
using testing::Fixture;
using testing::TorchFixtures;
using testing::kAtol;
using testing::kRtol;

TEST(Loss, FusedSoftmaxCrossEntropyIsStable) {
  const float logits[2 * 3] = {1000.0f, 0.0f, -1000.0f, 1.0f, 2.0f, 3.0f};
  const int32_t labels[2] = {2, 2};
  float probs[6], d[6];
  const LossResult r = softmax_cross_entropy_forward(probs, logits, labels, 2, 3);
  EXPECT_TRUE(std::isfinite(r.loss_sum));
  const double row2 = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0)) - 3.0;
  EXPECT_NEAR(r.loss_sum, 2000.0 + row2, 1e-3);
  EXPECT_EQ(r.correct, 1);
  softmax_cross_entropy_backward(d, probs, labels, 2, 3, 0.5f);
  EXPECT_NEAR(d[2], -0.5f, 1e-6);
  EXPECT_NEAR(d[0], 0.5f, 1e-6);
}

TEST_F(TorchFixtures, SoftmaxCrossEntropy) {
  const Fixture f("layers.safetensors");
  const Tensor logits = f.tensor("xent.logits");
  std::vector<int32_t> labels;
  for (int64_t l : f.i64("xent.labels")) labels.push_back(static_cast<int32_t>(l));
  Tensor probs(logits.shape()), d(logits.shape());
  const LossResult r = softmax_cross_entropy_forward(probs.data(), logits.data(), labels.data(), 6, 10);
  EXPECT_NEAR(r.loss_sum / 6, f.f32("xent.loss")[0], 1e-6 * std::fabs(f.f32("xent.loss")[0]));
  expect_close(as_vector(probs), f.f32("xent.probs"), kRtol, kAtol, "probs");
  softmax_cross_entropy_backward(d.data(), probs.data(), labels.data(), 6, 10, 1.0f / 6);
  expect_close(as_vector(d), f.f32("xent.dlogits"), kRtol, kAtol, "dlogits");
}

}  // namespace
}  // namespace bnlab
