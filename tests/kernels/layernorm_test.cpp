// The LayerNorm kernels against PyTorch, at both epsilons.
#include "bnlab/kernels/layernorm.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "support/torch_fixture.h"

namespace bnlab {
namespace {

using testing::as_vector;
using testing::expect_close;
using testing::Fixture;
using testing::TorchFixtures;
using testing::kAtol;
using testing::kRtol;

TEST_F(TorchFixtures, LayerNormBothEpsilons) {
  const Fixture f("layers.safetensors");
  for (const auto& [g, eps] : {std::pair{std::string("ln_eps1e-5"), 1e-5f}, std::pair{std::string("ln_eps1e-3"), 1e-3f}}) {
    const Tensor x = f.tensor(g + ".x"), gamma = f.tensor(g + ".gamma"), beta = f.tensor(g + ".beta"), dy = f.tensor(g + ".dy");
    Tensor y(x.shape()), dx(x.shape()), dgamma(Shape{6}), dbeta(Shape{6}), mean(Shape{8}), rstd(Shape{8});
    layernorm_forward(y.data(), mean.data(), rstd.data(), x.data(), gamma.data(), beta.data(), 8, 6, eps);
    expect_close(as_vector(y), f.f32(g + ".y"), kRtol, kAtol, g + ".y");
    expect_close(as_vector(rstd), f.f32(g + ".rstd"), kRtol, kAtol, g + ".rstd");
    layernorm_backward(dx.data(), dgamma.data(), dbeta.data(), dy.data(), x.data(), mean.data(), rstd.data(), gamma.data(), 8, 6);
    expect_close(as_vector(dx), f.f32(g + ".dx"), kRtol, 5 * kAtol, g + ".dx");
    expect_close(as_vector(dgamma), f.f32(g + ".dgamma"), kRtol, 5 * kAtol, g + ".dgamma");
    expect_close(as_vector(dbeta), f.f32(g + ".dbeta"), kRtol, 5 * kAtol, g + ".dbeta");
  }
}

}  // namespace
}  // namespace bnlab
