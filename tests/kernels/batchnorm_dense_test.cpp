// The input-BatchNorm + Dense backward kernel: accumulating adds exactly what setting writes.
#include "bnlab/kernels/batchnorm_dense.h"

#include <gtest/gtest.h>

#include <vector>

#include "support/gradcheck.h"

namespace bnlab {
namespace {

using testing::random_tensor;

// The input-BatchNorm + Dense backward (kernels/batchnorm_dense.h) in its two modes: set (H formed
// in dW's rows, then overwritten) and accumulate (H in the scratch). Accumulating onto P gives P
// plus what setting gives: exactly for dW and db, to rounding for dgamma and dbeta. C = 100 ends in
// a partial block of columns; K = 40 ends in a partial group of rows.
TEST(BatchNormDense, AccumulateAddsWhatSetWrites) {
  const int N = 5, C = 100, K = 40;
  Rng rng(3);
  const Tensor u = random_tensor(Shape{N, C}, rng), W = random_tensor(Shape{K, C}, rng);
  const Tensor a = random_tensor(Shape{N, K}, rng), da = random_tensor(Shape{N, K}, rng);
  const Tensor gamma = random_tensor(Shape{C}, rng), beta = random_tensor(Shape{C}, rng);
  const Tensor P = random_tensor(Shape{K, C}, rng), Pb = random_tensor(Shape{K}, rng);
  const Tensor Pg = random_tensor(Shape{C}, rng), Pbeta = random_tensor(Shape{C}, rng);
  auto run = [&](bool accumulate) {
    Tensor scratch(Shape{batchnorm_dense_scratch(C, K, accumulate)}), dz(Shape{N, K});
    std::vector<Tensor> g = {P, Pb, Pg, Pbeta};  // dW, db, dgamma, dbeta
    batchnorm_dense_backward_activation(g[0].data(), g[1].data(), g[2].data(), g[3].data(), scratch.data(), dz.data(),
                                        da.data(), a.data(), Activation::Tanh, u.data(), W.data(), gamma.data(),
                                        beta.data(), N, C, K, accumulate);
    return g;
  };
  const std::vector<Tensor> set = run(false), acc = run(true);
  for (int64_t i = 0; i < P.numel(); ++i) EXPECT_EQ(acc[0][i], P[i] + set[0][i]) << "dW[" << i << "]";
  for (int64_t i = 0; i < Pb.numel(); ++i) EXPECT_EQ(acc[1][i], Pb[i] + set[1][i]) << "db[" << i << "]";
  for (int64_t i = 0; i < C; ++i) {
    EXPECT_NEAR(acc[2][i], Pg[i] + set[2][i], 1e-5f) << "dgamma[" << i << "]";
    EXPECT_NEAR(acc[3][i], Pbeta[i] + set[3][i], 1e-5f) << "dbeta[" << i << "]";
  }
}

}  // namespace
}  // namespace bnlab
