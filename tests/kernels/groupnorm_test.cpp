// The GroupNorm kernels: one group per sample is LayerNorm's kernel over (C * HW), and the same bits
// for any thread count.
#include "bnlab/kernels/groupnorm.h"

#include <gtest/gtest.h>
#include <omp.h>

#include <cstring>
#include <vector>

#include "bnlab/kernels/layernorm.h"
#include "support/gradcheck.h"

namespace bnlab {
namespace {

using testing::random_tensor;

TEST(GroupNormKernels, OneGroupIsLayerNormOverAllOfASample) {
  const int N = 3, C = 4, HW = 6, D = C * HW;
  Rng rng(1);
  const Tensor x = random_tensor(Shape{N, D}, rng, 2.0f, 5.0f), dy = random_tensor(Shape{N, D}, rng);
  Tensor y_gn(Shape{N, D}), y_ln(Shape{N, D}), dx_gn(Shape{N, D}), dx_ln(Shape{N, D});
  Tensor mean_gn(Shape{N}), is_gn(Shape{N}), mean_ln(Shape{N}), is_ln(Shape{N});
  groupnorm_forward(y_gn.data(), mean_gn.data(), is_gn.data(), x.data(), nullptr, nullptr, N, C, HW, 1, 1e-5f);
  layernorm_forward(y_ln.data(), mean_ln.data(), is_ln.data(), x.data(), nullptr, nullptr, N, D, 1e-5f);
  groupnorm_backward(dx_gn.data(), nullptr, nullptr, dy.data(), x.data(), mean_gn.data(), is_gn.data(), nullptr, N, C,
                     HW, 1);
  layernorm_backward(dx_ln.data(), nullptr, nullptr, dy.data(), x.data(), mean_ln.data(), is_ln.data(), nullptr, N, D);
  for (int64_t i = 0; i < x.numel(); ++i) {
    EXPECT_NEAR(y_gn[i], y_ln[i], 1e-5) << i;
    EXPECT_NEAR(dx_gn[i], dx_ln[i], 1e-5) << i;
  }
}

TEST(GroupNormKernels, TheSameBitsForAnyThreadCount) {
  const int N = 10, C = 16, HW = 256, G = 4;  // past the kernels' threshold of 32768 values
  Rng rng(2);
  const Tensor x = random_tensor(Shape{N, C, 16, 16}, rng, -1.0f, 3.0f), dy = random_tensor(x.shape(), rng);
  const Tensor gamma = random_tensor(Shape{C}, rng, 0.5f, 1.5f), beta = random_tensor(Shape{C}, rng);
  auto run = [&](int threads) {
    const int saved = omp_get_max_threads();
    omp_set_num_threads(threads);
    Tensor y(x.shape()), dx(x.shape()), mean(Shape{N, G}), invstd(Shape{N, G}), dgamma(Shape{C}), dbeta(Shape{C});
    groupnorm_forward(y.data(), mean.data(), invstd.data(), x.data(), gamma.data(), beta.data(), N, C, HW, G, 1e-5f);
    groupnorm_backward(dx.data(), dgamma.data(), dbeta.data(), dy.data(), x.data(), mean.data(), invstd.data(),
                       gamma.data(), N, C, HW, G);
    omp_set_num_threads(saved);
    std::vector<float> out;
    for (const Tensor* t : {&y, &dx, &dgamma, &dbeta}) out.insert(out.end(), t->data(), t->data() + t->numel());
    return out;
  };
  const std::vector<float> one = run(1), two = run(2);
  ASSERT_EQ(one.size(), two.size());
  EXPECT_EQ(std::memcmp(one.data(), two.data(), one.size() * sizeof(float)), 0);
}

}  // namespace
}  // namespace bnlab
