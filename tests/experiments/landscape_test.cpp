// The landscape along the gradient: exact answers on a quadratic, and a model's probe checked against
// a forward at the stepped weights.
#include "bnlab/experiments/landscape.h"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

#include "support/gradcheck.h"
#include "support/models.h"

namespace bnlab::experiments {
namespace {

using testing::built;
using testing::cycling_labels;
using testing::random_tensor;

// L = (4 w0^2 + w1^2) / 2: curvature 4 along w0 and 1 along w1.
const auto quadratic = [](const std::vector<double>& w, std::vector<double>& grad) {
  grad = {4 * w[0], w[1]};
  return (4 * w[0] * w[0] + w[1] * w[1]) / 2;
};

TEST(Landscape, GivesTheCurvatureOfAQuadraticAlongAnEigenvector) {
  const LandscapeProbe p = probe_along_gradient({1.0, 0.0}, quadratic, {0.1, 0.25});
  EXPECT_DOUBLE_EQ(p.loss, 2.0);
  ASSERT_EQ(p.losses.size(), 2u);
  EXPECT_NEAR(p.losses[0], 2 * 0.6 * 0.6, 1e-12);  // w0 = 1 - 0.1 * 4
  EXPECT_NEAR(p.losses[1], 0.0, 1e-12);            // the minimum
  EXPECT_NEAR(p.loss_variation, 2.0, 1e-12);
  EXPECT_NEAR(p.gradient_changes[0], 1.6, 1e-12);  // |4 * (0.1 * 4)|
  EXPECT_NEAR(p.gradient_predictiveness, 4.0, 1e-12);
  EXPECT_NEAR(p.beta, 4.0, 1e-12);
}

TEST(Landscape, BetaLiesBetweenTheCurvaturesOffAnEigenvector) {
  const LandscapeProbe p = probe_along_gradient({1.0, 1.0}, quadratic, {0.01, 0.1});
  // g = (4, 1); the change is eta * (16, 1), so beta = sqrt(257) / sqrt(17).
  EXPECT_NEAR(p.beta, std::sqrt(257.0 / 17.0), 1e-12);
  EXPECT_GT(p.beta, 1.0);
  EXPECT_LT(p.beta, 4.0);
}

TEST(Landscape, IsFlatWhereTheGradientIsZero) {
  const LandscapeProbe p = probe_along_gradient({0.0, 0.0}, quadratic, {0.5});
  EXPECT_EQ(p.loss_variation, 0.0);
  EXPECT_EQ(p.gradient_predictiveness, 0.0);
  EXPECT_EQ(p.beta, 0.0);
  EXPECT_THROW(probe_along_gradient({1.0, 0.0}, quadratic, {0.0}), std::invalid_argument);
}

TEST(Landscape, ProbesAModelAndLeavesItAsItWas) {
  Rng rng(4);
  const Tensor x = random_tensor(Shape{8, 5}, rng);
  const std::vector<int32_t> labels = cycling_labels(8);
  Sequential m = built("dense:6,bn,noise,sigmoid,dense:3", Shape{5});
  Sequential twin = built("dense:6,bn,noise,sigmoid,dense:3", Shape{5});
  const LandscapeProbe p = probe_model_along_gradient(m, x, labels.data(), {0.1, 1.0});
  ASSERT_EQ(p.losses.size(), 2u);
  EXPECT_GT(p.loss_variation, 0.0);
  EXPECT_GT(p.beta, 0.0);
  EXPECT_NEAR(p.gradient_predictiveness, std::max(p.gradient_changes[0], p.gradient_changes[1]), 0.0);
  // The same probe again gives the same numbers: weights, statistics and noise were put back.
  const LandscapeProbe again = probe_model_along_gradient(m, x, labels.data(), {0.1, 1.0});
  EXPECT_EQ(again.losses, p.losses);
  EXPECT_EQ(again.beta, p.beta);
  const std::vector<StateEntry> after = m.state_dict(), expected = twin.state_dict();
  for (size_t k = 0; k < after.size(); ++k) {
    if (!after[k].tensor) continue;
    for (int64_t i = 0; i < after[k].tensor->numel(); ++i) {
      ASSERT_EQ((*after[k].tensor)[i], (*expected[k].tensor)[i]) << after[k].key;
    }
  }
  // Its loss at w is the training loss of the batch.
  Sequential fresh = built("dense:6,bn,noise,sigmoid,dense:3", Shape{5});
  EXPECT_NEAR(p.loss, fresh.forward_backward(x, labels.data()).loss_sum / 8, 1e-6);
}

}  // namespace
}  // namespace bnlab::experiments
