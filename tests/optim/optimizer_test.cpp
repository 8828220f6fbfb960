// The optimisers' guarded step: nothing moves when any gradient is not finite, split across threads or not.
#include "bnlab/optim/optimizer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "bnlab/core/threads.h"

namespace bnlab {
namespace {

// The optimiser's guarded step over parameters large enough to be split across threads: a NaN
// found by one thread stops the other thread's update too; without one it is step() exactly.
TEST(Optimizer, StepIfFiniteUpdatesNothingWhenAnyGradientIsNotFinite) {
  set_num_threads(2);
  auto make = [] {
    std::vector<Tensor> t;
    for (int64_t n : {70000, 5, 50000}) t.emplace_back(Shape{n});
    for (Tensor& x : t)
      for (int64_t i = 0; i < x.numel(); ++i) x[i] = 0.01f * std::sin(0.1f * i);
    return t;
  };
  std::vector<Tensor> values = make(), grads = make(), values2 = make();
  std::vector<ParamRef> params, params2;
  for (size_t i = 0; i < values.size(); ++i) {
    params.push_back({"p", &values[i], &grads[i], true});
    params2.push_back({"p", &values2[i], &grads[i], true});
  }
  Adam guarded, plain;
  std::vector<uint8_t> bad;
  ASSERT_TRUE(guarded.step_if_finite(params, bad));
  plain.step(params2);
  for (size_t i = 0; i < values.size(); ++i)
    EXPECT_EQ(std::memcmp(values[i].data(), values2[i].data(), values[i].numel() * sizeof(float)), 0);
  EXPECT_EQ(bad, (std::vector<uint8_t>{0, 0, 0}));

  const std::vector<Tensor> before = values;
  grads[2][49000] = std::numeric_limits<float>::quiet_NaN();  // in the second thread's share
  EXPECT_FALSE(guarded.step_if_finite(params, bad));
  EXPECT_EQ(bad, (std::vector<uint8_t>{0, 0, 1}));
  EXPECT_EQ(guarded.iterations, 1);
  for (size_t i = 0; i < values.size(); ++i)
    EXPECT_EQ(std::memcmp(values[i].data(), before[i].data(), values[i].numel() * sizeof(float)), 0) << i;
  set_num_threads(0);
}

}  // namespace
}  // namespace bnlab
