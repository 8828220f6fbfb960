// The pooling kernels on values worked out by hand: ties and NaN in the max, the window means,
// overlapping windows summing their gradients, and the global mean.
#include "bnlab/kernels/pooling.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace bnlab {
namespace {

Pool2DGeometry geometry(int H, int W, int P, int S) {
  Pool2DGeometry g;
  g.planes = 1, g.H = H, g.W = W, g.PH = g.PW = P, g.SH = g.SW = S;
  g.HO = (H - P) / S + 1, g.WO = (W - P) / S + 1;
  return g;
}

TEST(PoolingKernels, MaxTakesTheFirstOfTiesAndPropagatesNaN) {
  const Pool2DGeometry g = geometry(2, 4, 2, 2);
  const std::vector<float> x = {5, 1, NAN, 0,  //
                                5, 2, 9, 3};
  std::vector<float> y(2), dx(8, 8.0f);
  maxpool2d_forward(y.data(), x.data(), g);
  EXPECT_EQ(y[0], 5.0f);
  EXPECT_TRUE(std::isnan(y[1]));
  const std::vector<float> dy = {10, 20};
  maxpool2d_backward(dx.data(), dy.data(), x.data(), g);
  EXPECT_EQ(dx, (std::vector<float>{10, 0, 20, 0, 0, 0, 0, 0}));  // the first 5; the NaN
}

TEST(PoolingKernels, OverlappingWindowsSumTheirGradients) {
  const Pool2DGeometry g = geometry(1, 5, 1, 1);  // 1x1 windows: identity
  const Pool2DGeometry wide = [] {
    Pool2DGeometry w;
    w.planes = 1, w.H = 3, w.W = 3, w.PH = w.PW = 2, w.SH = w.SW = 1, w.HO = w.WO = 2;
    return w;
  }();
  const std::vector<float> x = {1, 2, 3, 4, 9, 5, 6, 7, 8};  // the 9 is in every window
  std::vector<float> y(4), dx(9);
  maxpool2d_forward(y.data(), x.data(), wide);
  EXPECT_EQ(y, (std::vector<float>{9, 9, 9, 9}));
  const std::vector<float> dy = {1, 2, 3, 4};
  maxpool2d_backward(dx.data(), dy.data(), x.data(), wide);
  EXPECT_EQ(dx, (std::vector<float>{0, 0, 0, 0, 10, 0, 0, 0, 0}));
  avgpool2d_forward(y.data(), x.data(), wide);
  EXPECT_EQ(y, (std::vector<float>{4, 4.75f, 6.5f, 7.25f}));
  avgpool2d_backward(dx.data(), dy.data(), wide);
  EXPECT_EQ(dx, (std::vector<float>{0.25f, 0.75f, 0.5f, 1, 2.5f, 1.5f, 0.75f, 1.75f, 1}));
  std::vector<float> same(5);
  avgpool2d_forward(same.data(), x.data(), g);
  EXPECT_EQ(same, (std::vector<float>{1, 2, 3, 4, 9}));
}

TEST(PoolingKernels, GlobalMeanPerPlane) {
  const std::vector<float> x = {1, 2, 3, 6, -1, -2, -3, -6};
  std::vector<float> y(2), dx(8, 8.0f);
  global_avgpool_forward(y.data(), x.data(), 2, 4);
  EXPECT_EQ(y, (std::vector<float>{3, -3}));
  const std::vector<float> dy = {4, -8};
  global_avgpool_backward(dx.data(), dy.data(), 2, 4);
  EXPECT_EQ(dx, (std::vector<float>{1, 1, 1, 1, -2, -2, -2, -2}));
}

}  // namespace
}  // namespace bnlab
