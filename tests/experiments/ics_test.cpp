// The two measures of internal covariate shift: percentiles and their drift on known numbers, and
// Santurkar's gradient change, zero where earlier layers do not move and equal to a change made by hand.
#include "bnlab/experiments/ics.h"

#include <gtest/gtest.h>

#include <cmath>

#include "bnlab/layers/dense.h"
#include "bnlab/model/buffer_snapshot.h"
#include "support/gradcheck.h"
#include "support/models.h"

namespace bnlab::experiments {
namespace {

using testing::built;
using testing::cycling_labels;
using testing::random_tensor;

TEST(Percentile, InterpolatesBetweenRanksAsNumpy) {
  std::vector<double> hundred_and_one;
  for (int i = 101; i >= 1; --i) hundred_and_one.push_back(i);
  EXPECT_DOUBLE_EQ(percentile(hundred_and_one, 15), 16.0);
  EXPECT_DOUBLE_EQ(percentile(hundred_and_one, 50), 51.0);
  EXPECT_DOUBLE_EQ(percentile({5, 1, 3, 2, 4}, 15), 1.6);  // numpy.percentile([1, 2, 3, 4, 5], 15)
  EXPECT_DOUBLE_EQ(percentile({7}, 85), 7.0);
  EXPECT_THROW(percentile({}, 50), std::invalid_argument);
}

TEST(Percentile, OfOneUnitsColumn) {
  Tensor x(Shape{5, 2});
  for (int n = 0; n < 5; ++n) {
    x[n * 2] = static_cast<float>(n + 1);
    x[n * 2 + 1] = -10.0f * n;
  }
  const Percentiles p = unit_percentiles(x, 0);
  EXPECT_DOUBLE_EQ(p.p15, 1.6);
  EXPECT_DOUBLE_EQ(p.p50, 3.0);
  EXPECT_DOUBLE_EQ(p.p85, 4.4);
  EXPECT_DOUBLE_EQ(unit_percentiles(x, 1).p50, -20.0);
}

TEST(PercentileDrift, IsThePathLengthInUnitsOfTheSpread) {
  EXPECT_DOUBLE_EQ(percentile_drift({{0, 1, 2}, {1, 2, 3}}), 0.5);
  EXPECT_DOUBLE_EQ(percentile_drift({{0, 1, 2}, {1, 2, 3}, {0, 1, 2}}), 1.0);
  EXPECT_DOUBLE_EQ(percentile_drift({{0, 1, 2}, {0, 1, 2}, {0, 1, 2}}), 0.0);
  EXPECT_DOUBLE_EQ(percentile_drift({{0, 1, 2}}), 0.0);
  // A widening distribution drifts too: its 15th and 85th percentiles move by 1, the median by 0.
  EXPECT_DOUBLE_EQ(percentile_drift({{-1, 0, 1}, {-2, 0, 2}}), (2.0 / 3.0) / 3.0);
  // The same movement at ten times the scale is the same drift.
  EXPECT_DOUBLE_EQ(percentile_drift({{0, 10, 20}, {10, 20, 30}}), 0.5);
  EXPECT_TRUE(std::isnan(percentile_drift({{1, 1, 1}, {2, 2, 2}})));
}

struct Batch {
  Tensor x;
  std::vector<int32_t> labels;
};

Batch batch(int n, int features, uint64_t seed) {
  Rng rng(seed);
  return {random_tensor(Shape{n, features}, rng), cycling_labels(n)};
}

TEST(GradientIcs, IsZeroWhenEarlierLayersDoNotMove) {
  const Batch b = batch(8, 5, 1);
  Sequential one_layer = built("dense:3", Shape{5});
  const std::vector<GradientShift> single = gradient_ics(one_layer, b.x, b.labels.data(), 0.5);
  ASSERT_EQ(single.size(), 1u);
  EXPECT_EQ(single[0].distance, 0.0) << "no layer before the only one";
  EXPECT_DOUBLE_EQ(single[0].cosine, 1.0);
  for (const char* spec : {"dense:6:sigmoid,dense:4:tanh,dense:3", "dense:6,bn,noise,sigmoid,dense:4,bn,noise,sigmoid,dense:3"}) {
    Sequential frozen = built(spec, Shape{5});
    for (const GradientShift& s : gradient_ics(frozen, b.x, b.labels.data(), 0.0)) {
      EXPECT_EQ(s.distance, 0.0) << spec << ": a learning rate of 0 moves nothing (and the noise is replayed)";
      EXPECT_DOUBLE_EQ(s.cosine, 1.0) << spec;
    }
  }
}

TEST(GradientIcs, EqualsTheChangeAfterUpdatingTheFirstLayerByHand) {
  const Batch b = batch(8, 5, 2);
  const double lr = 0.5;
  Sequential measured = built("dense:6:sigmoid,dense:3", Shape{5});
  const std::vector<GradientShift> ics = gradient_ics(measured, b.x, b.labels.data(), lr);
  ASSERT_EQ(ics.size(), 2u);
  EXPECT_EQ(ics[0].distance, 0.0);

  Sequential by_hand = built("dense:6:sigmoid,dense:3", Shape{5});
  auto& first = dynamic_cast<Dense&>(by_hand.layer(0));
  auto& second = dynamic_cast<Dense&>(by_hand.layer(1));
  by_hand.zero_grad();
  by_hand.forward_backward(b.x, b.labels.data());
  const Tensor g = second.weight_grad;
  for (int64_t i = 0; i < first.weight.numel(); ++i) first.weight[i] -= static_cast<float>(lr * first.weight_grad[i]);
  for (int64_t i = 0; i < first.bias.numel(); ++i) first.bias[i] -= static_cast<float>(lr * first.bias_grad[i]);
  by_hand.zero_grad();
  by_hand.forward_backward(b.x, b.labels.data());
  double diff = 0, dot = 0, gg = 0, hh = 0;
  for (int64_t i = 0; i < g.numel(); ++i) {
    const double h = second.weight_grad[i];
    diff += (g[i] - h) * (g[i] - h);
    dot += g[i] * h;
    gg += double(g[i]) * g[i];
    hh += h * h;
  }
  EXPECT_GT(std::sqrt(diff), 1e-4) << "the update must change the second layer's gradient";
  EXPECT_NEAR(ics[1].distance, std::sqrt(diff), 1e-6);
  EXPECT_NEAR(ics[1].cosine, dot / std::sqrt(gg * hh), 1e-9);
  EXPECT_LT(ics[1].cosine, 1.0);
}

TEST(GradientIcs, LeavesTheModelAsItWas) {
  const Batch b = batch(8, 5, 3);
  Sequential m = built("dense:6,bn,sigmoid,dense:3", Shape{5});
  Sequential twin = built("dense:6,bn,sigmoid,dense:3", Shape{5});
  gradient_ics(m, b.x, b.labels.data(), 0.3);
  const std::vector<StateEntry> after = m.state_dict(), expected = twin.state_dict();
  for (size_t k = 0; k < after.size(); ++k) {
    if (!after[k].tensor) continue;
    for (int64_t i = 0; i < after[k].tensor->numel(); ++i) {
      ASSERT_EQ((*after[k].tensor)[i], (*expected[k].tensor)[i]) << after[k].key;
    }
  }
  for (const ParamRef& p : m.trainable_params())
    for (int64_t i = 0; i < p.grad->numel(); ++i) ASSERT_EQ((*p.grad)[i], 0.0f) << p.name;
}

}  // namespace
}  // namespace bnlab::experiments
