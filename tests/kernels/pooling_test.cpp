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

// The 2x2 stride-2 windows (their own branch-free path for planes without NaN) on odd-sized planes
// full of ties, of +0 and -0, and in the last plane NaNs, against the rule written out: the first
// largest in scan order, a NaN counting as the largest, dx = 0 + dy there and 0 elsewhere (the
// last odd row and column included).
TEST(PoolingKernels, TwoByTwoWindowsFollowTheScanRule) {
  Pool2DGeometry g = geometry(7, 9, 2, 2);
  g.planes = 3;
  const int64_t in = 7 * 9, out = 3 * 4;
  std::vector<float> x(g.planes * in), dy(g.planes * out), y(g.planes * out), dx(g.planes * in, 8.0f);
  for (size_t i = 0; i < x.size(); ++i) {
    const float v = static_cast<float>((i * 7) % 3);
    x[i] = i >= 2 * in && i % 11 == 5 ? NAN : v == 2.0f && i % 2 ? -0.0f : v;
  }
  for (size_t i = 0; i < dy.size(); ++i) dy[i] = i % 5 == 0 ? -0.0f : static_cast<float>(i) + 0.5f;
  maxpool2d_forward(y.data(), x.data(), g);
  maxpool2d_backward(dx.data(), dy.data(), x.data(), g);
  for (int64_t k = 0; k < g.planes; ++k) {
    std::vector<float> want_dx(in, 0.0f);
    for (int i = 0; i < g.HO; ++i)
      for (int j = 0; j < g.WO; ++j) {
        int64_t best = -1;
        for (int p = 0; p < 2; ++p)
          for (int q = 0; q < 2; ++q) {
            const int64_t at = (2 * i + p) * g.W + 2 * j + q;
            const float v = x[k * in + at];
            const float top = best < 0 ? 0.0f : x[k * in + best];
            if (best < 0 || v > top || (std::isnan(v) && !std::isnan(top))) best = at;
          }
        const float want = x[k * in + best], got = y[k * out + i * g.WO + j];
        if (std::isnan(want))
          EXPECT_TRUE(std::isnan(got));
        else
          EXPECT_TRUE(got == want && std::signbit(got) == std::signbit(want)) << got << " " << want;
        want_dx[best] += dy[k * out + i * g.WO + j];
      }
    for (int64_t e = 0; e < in; ++e) {
      EXPECT_EQ(dx[k * in + e], want_dx[e]) << "plane " << k << " element " << e;
      EXPECT_EQ(std::signbit(dx[k * in + e]), std::signbit(want_dx[e])) << "plane " << k << " element " << e;
    }
  }
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
