// The shift-and-scale noise of noisy BatchNorm: its draws, Eval's identity, seeding, and gradients.
#include "bnlab/layers/noise.h"

#include <gtest/gtest.h>

#include "bnlab/core/error.h"
#include "bnlab/model/spec.h"
#include "support/gradcheck.h"

namespace bnlab {
namespace {

using testing::check_layer_gradients;
using testing::GradCheckOptions;
using testing::random_tensor;

TEST(ShiftScaleNoise, DrawsOnePairPerUnitEveryStepInTheStatedRanges) {
  ShiftScaleNoise noise({0.5f, 3.0f});
  Rng rng(1);
  noise.build(Shape{4}, rng);
  const Tensor x = random_tensor(Shape{6, 4}, rng);
  Tensor y;
  noise.forward(x, y, Mode::Train);
  const Tensor first_scale = noise.last_scale();
  for (int64_t j = 0; j < 4; ++j) {
    EXPECT_GE(noise.last_scale()[j], 1.0f);
    EXPECT_LT(noise.last_scale()[j], 3.0f);
    EXPECT_GE(noise.last_shift()[j], 0.0f);
    EXPECT_LT(noise.last_shift()[j], 1.0f);
    for (int64_t n = 0; n < 6; ++n)
      EXPECT_FLOAT_EQ(y[n * 4 + j], noise.last_scale()[j] * x[n * 4 + j] + noise.last_shift()[j]);
  }
  noise.forward(x, y, Mode::Train);
  EXPECT_NE(noise.last_scale()[0], first_scale[0]) << "a new draw at every step";
}

TEST(ShiftScaleNoise, AppliesTheMeanScaleAndShiftInEvalMode) {
  ShiftScaleNoise noise({0.5f, 3.0f});
  Rng rng(1);
  noise.build(Shape{5}, rng);
  const Tensor x = random_tensor(Shape{3, 5}, rng);
  Tensor y, dx;
  noise.forward(x, y, Mode::Eval);
  noise.backward(x, y, x, &dx);
  for (int64_t i = 0; i < x.numel(); ++i) {
    EXPECT_FLOAT_EQ(y[i], 2.0f * x[i] + 0.5f) << "E[U(1, 3)] = 2, E[U(0, 1)] = 0.5";
    EXPECT_FLOAT_EQ(dx[i], 2.0f * x[i]);
  }
  const auto state = noise.rng().state();
  noise.forward(x, y, Mode::Eval);
  EXPECT_EQ(noise.rng().state(), state) << "inference draws nothing";
}

TEST(Gradients, ShiftScaleNoiseInEvalMode) {
  ShiftScaleNoise noise;
  GradCheckOptions o;
  o.mode = Mode::Eval;
  testing::built_check(noise, Shape{6}, 4, o);
}

TEST(ShiftScaleNoise, IsDeterministicFromTheSeed) {
  auto draws = [](uint64_t seed) {
    Sequential m = make_model("noise");
    m.build(Shape{3}, seed);
    Tensor x(Shape{2, 3});
    x.fill(1.0f);
    const Tensor& y = m.forward(x, Mode::Train);
    return std::vector<float>(y.data(), y.data() + y.numel());
  };
  EXPECT_EQ(draws(7), draws(7));
  EXPECT_NE(draws(7), draws(8));
}

TEST(Gradients, ShiftScaleNoiseWithReplayedDraws) {
  ShiftScaleNoise noise;
  Rng rng(5);
  noise.build(Shape{6}, rng);
  const auto state = noise.rng().state();
  GradCheckOptions o;
  o.before_forward = [&] { noise.rng().set_state(state); };
  check_layer_gradients(noise, random_tensor(Shape{4, 6}, rng), o);
}

TEST(ShiftScaleNoise, RefusesImages) {
  ShiftScaleNoise noise;
  Rng rng(1);
  EXPECT_THROW(noise.build(Shape{2, 2}, rng), InputError);
}

}  // namespace
}  // namespace bnlab
