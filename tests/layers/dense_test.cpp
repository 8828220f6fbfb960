// The Dense layer: its gradients with each activation and without bias, and PyTorch's results.
#include "bnlab/layers/dense.h"

#include <gtest/gtest.h>

#include "support/gradcheck.h"
#include "support/torch_fixture.h"

namespace bnlab {
namespace {

using testing::as_vector;
using testing::built_check;
using testing::expect_close;
using testing::Fixture;
using testing::TorchFixtures;
using testing::kAtol;
using testing::kRtol;

TEST(Gradients, DenseLinear) {
  Dense d(5);
  built_check(d, Shape{7}, 4);
}

TEST(Gradients, DenseReLUSkipsKinks) {
  Dense d(6, Activation::ReLU);
  built_check(d, Shape{5}, 8);
}

TEST(Gradients, DenseSigmoidTanhSoftmax) {
  for (Activation a : {Activation::Sigmoid, Activation::Tanh, Activation::Softmax}) {
    Dense d(4, a);
    built_check(d, Shape{3}, 5);
  }
}

TEST(Gradients, DenseWithoutBias) {
  Dense d(3, Activation::Linear, false);
  built_check(d, Shape{4}, 2);
}

TEST_F(TorchFixtures, DenseReLU) {
  const Fixture f("layers.safetensors");
  Dense d(4, Activation::ReLU);
  Rng rng(0);
  d.build(Shape{9}, rng);
  d.weight = f.tensor("linear_relu.weight");
  d.bias = f.tensor("linear_relu.bias");
  const Tensor x = f.tensor("linear_relu.x");
  Tensor y, dx;
  d.forward(x, y, Mode::Train);
  expect_close(as_vector(y), f.f32("linear_relu.y"), kRtol, kAtol, "y");
  d.zero_grad();
  d.backward(x, y, f.tensor("linear_relu.dy"), &dx);
  expect_close(as_vector(dx), f.f32("linear_relu.dx"), kRtol, kAtol, "dx");
  expect_close(as_vector(d.weight_grad), f.f32("linear_relu.dweight"), kRtol, kAtol, "dweight");
  expect_close(as_vector(d.bias_grad), f.f32("linear_relu.dbias"), kRtol, kAtol, "dbias");
}

}  // namespace
}  // namespace bnlab
