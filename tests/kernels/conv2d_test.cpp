// The convolution kernels (im2col + sgemm) against a direct loop over the formula, for valid and
// SAME padding, strides, 1x1 kernels and batches that end inside a group of the weight-gradient
// sums; their accumulation rules; and the same bits for 1, 2 and 3 threads.
#include "bnlab/kernels/conv2d.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "bnlab/core/rng.h"
#include "bnlab/core/threads.h"

namespace bnlab {
namespace {

std::vector<float> randoms(int64_t n, Rng& rng) {
  std::vector<float> v(n);
  for (float& f : v) f = static_cast<float>(2.0 * rng.uniform() - 1.0);
  return v;
}

Conv2DGeometry geometry(int N, int C, int H, int W, int F, int KH, int KW, int S, int pad_top, int pad_left, int HO,
                        int WO) {
  Conv2DGeometry g;
  g.N = N, g.C = C, g.H = H, g.W = W, g.F = F, g.KH = KH, g.KW = KW, g.SH = S, g.SW = S;
  g.pad_top = pad_top, g.pad_left = pad_left, g.HO = HO, g.WO = WO;
  return g;
}

// x[n, c, i, j], 0 outside the image.
float at(const std::vector<float>& x, const Conv2DGeometry& g, int n, int c, int i, int j) {
  if (i < 0 || i >= g.H || j < 0 || j >= g.W) return 0.0f;
  return x[((int64_t(n) * g.C + c) * g.H + i) * g.W + j];
}

// The formulas of kernels/conv2d.h as plain loops, in double: z (no activation), dx, dW, db from dz.
struct Reference {
  std::vector<double> z, dx, dW, db;
};
Reference reference(const std::vector<float>& x, const std::vector<float>& W, const std::vector<float>& b,
                    const std::vector<float>& dz, const Conv2DGeometry& g) {
  Reference r;
  r.z.assign(int64_t(g.N) * g.F * g.pixels(), 0.0);
  r.dx.assign(x.size(), 0.0);
  r.dW.assign(W.size(), 0.0);
  r.db.assign(g.F, 0.0);
  for (int n = 0; n < g.N; ++n)
    for (int f = 0; f < g.F; ++f)
      for (int i = 0; i < g.HO; ++i)
        for (int j = 0; j < g.WO; ++j) {
          const int64_t o = ((int64_t(n) * g.F + f) * g.HO + i) * g.WO + j;
          double s = b[f];
          r.db[f] += dz[o];
          for (int c = 0; c < g.C; ++c)
            for (int p = 0; p < g.KH; ++p)
              for (int q = 0; q < g.KW; ++q) {
                const int ih = i * g.SH - g.pad_top + p, iw = j * g.SW - g.pad_left + q;
                const int64_t w = ((int64_t(f) * g.C + c) * g.KH + p) * g.KW + q;
                s += double(W[w]) * at(x, g, n, c, ih, iw);
                r.dW[w] += double(dz[o]) * at(x, g, n, c, ih, iw);
                if (ih >= 0 && ih < g.H && iw >= 0 && iw < g.W)
                  r.dx[((int64_t(n) * g.C + c) * g.H + ih) * g.W + iw] += double(dz[o]) * W[w];
              }
          r.z[o] = s;
        }
  return r;
}

void expect_near(const float* got, const std::vector<double>& want, double offset, const char* what) {
  for (size_t i = 0; i < want.size(); ++i)
    ASSERT_NEAR(got[i] - offset, want[i], 1e-4 + 1e-4 * std::fabs(want[i])) << what << "[" << i << "]";
}

// Valid, SAME at stride 1 with an even kernel, SAME at stride 2 (zeros after the image only),
// a stride larger than the kernel, and a 1x1 kernel (its patches are the input itself).
const Conv2DGeometry kCases[] = {
    geometry(11, 3, 7, 6, 4, 3, 3, 1, 0, 0, 5, 4),  // valid; 11 samples: the second group is partial
    geometry(3, 2, 5, 6, 3, 4, 3, 1, 1, 1, 5, 6),   // SAME, 4x3: 1 zero row above, 2 below
    geometry(2, 2, 8, 7, 3, 3, 3, 2, 0, 1, 4, 4),   // SAME at stride 2
    geometry(2, 1, 9, 9, 2, 2, 2, 3, 0, 0, 3, 3),   // stride 3 over a 2x2 kernel: pixels skipped
    geometry(9, 5, 4, 3, 6, 1, 1, 1, 0, 0, 4, 3),   // 1x1
};

TEST(Conv2DKernels, MatchTheFormulaForEachGeometry) {
  for (const Conv2DGeometry& g : kCases) {
    SCOPED_TRACE(::testing::Message() << "N " << g.N << " C " << g.C << " " << g.H << "x" << g.W << " K " << g.KH
                                      << "x" << g.KW << " S " << g.SH);
    Rng rng(3);
    const std::vector<float> x = randoms(int64_t(g.N) * g.C * g.H * g.W, rng);
    const std::vector<float> W = randoms(g.F * g.patch(), rng), b = randoms(g.F, rng);
    const std::vector<float> dz = randoms(int64_t(g.N) * g.F * g.pixels(), rng);
    const Reference want = reference(x, W, b, dz, g);
    Tensor scratch;
    std::vector<float> y(dz.size());
    conv2d_forward(y.data(), x.data(), W.data(), b.data(), g, Activation::Linear, scratch);
    expect_near(y.data(), want.z, 0.0, "y");
    // dx is set over a sentinel; dW and db are accumulated onto it.
    constexpr float kSentinel = 8.0f;
    std::vector<float> dx(x.size(), kSentinel), dW(W.size(), kSentinel), db(g.F, kSentinel);
    conv2d_backward(dx.data(), dW.data(), db.data(), dz.data(), y.data(), Activation::Linear, x.data(), W.data(), g,
                    scratch);
    expect_near(dx.data(), want.dx, 0.0, "dx");
    expect_near(dW.data(), want.dW, kSentinel, "dW");
    expect_near(db.data(), want.db, kSentinel, "db");
  }
}

// The activation is applied after the bias, and its derivative taken from y in the backward.
TEST(Conv2DKernels, ReLUAfterTheBias) {
  const Conv2DGeometry g = kCases[0];
  Rng rng(4);
  const std::vector<float> x = randoms(int64_t(g.N) * g.C * g.H * g.W, rng);
  const std::vector<float> W = randoms(g.F * g.patch(), rng), b = randoms(g.F, rng);
  const std::vector<float> dy = randoms(int64_t(g.N) * g.F * g.pixels(), rng);
  Tensor scratch;
  std::vector<float> z(dy.size()), y(dy.size());
  conv2d_forward(z.data(), x.data(), W.data(), b.data(), g, Activation::Linear, scratch);
  conv2d_forward(y.data(), x.data(), W.data(), b.data(), g, Activation::ReLU, scratch);
  std::vector<float> dz(dy.size());
  int zeros = 0;
  for (size_t i = 0; i < z.size(); ++i) {
    EXPECT_EQ(y[i], z[i] > 0 ? z[i] : 0.0f);
    dz[i] = z[i] > 0 ? dy[i] : 0.0f;
    zeros += z[i] <= 0;
  }
  EXPECT_GT(zeros, 0);
  std::vector<float> dx_relu(x.size()), dW_relu(W.size(), 0.0f), dx_lin(x.size()), dW_lin(W.size(), 0.0f);
  conv2d_backward(dx_relu.data(), dW_relu.data(), nullptr, dy.data(), y.data(), Activation::ReLU, x.data(), W.data(), g,
                  scratch);
  conv2d_backward(dx_lin.data(), dW_lin.data(), nullptr, dz.data(), z.data(), Activation::Linear, x.data(), W.data(), g,
                  scratch);
  EXPECT_EQ(dx_relu, dx_lin);
  EXPECT_EQ(dW_relu, dW_lin);
}

// Every result bit-identical for 1, 2 and 3 threads: the samples' groups, not the threads, decide
// how the weight gradient is summed. Large enough for the kernels to use several threads.
TEST(Conv2DKernels, SameBitsForAnyThreadCount) {
  const Conv2DGeometry g = geometry(37, 8, 12, 12, 16, 3, 3, 1, 1, 1, 12, 12);
  Rng rng(5);
  const std::vector<float> x = randoms(int64_t(g.N) * g.C * g.H * g.W, rng);
  const std::vector<float> W = randoms(g.F * g.patch(), rng), b = randoms(g.F, rng);
  const std::vector<float> dy = randoms(int64_t(g.N) * g.F * g.pixels(), rng);
  auto run = [&](int threads) {
    set_num_threads(threads);
    Tensor scratch;
    std::vector<float> y(dy.size()), dx(x.size()), dW(W.size(), 0.0f), db(g.F, 0.0f);
    conv2d_forward(y.data(), x.data(), W.data(), b.data(), g, Activation::ReLU, scratch);
    conv2d_backward(dx.data(), dW.data(), db.data(), dy.data(), y.data(), Activation::ReLU, x.data(), W.data(), g,
                    scratch);
    return std::vector<std::vector<float>>{y, dx, dW, db};
  };
  const auto one = run(1), two = run(2), three = run(3);
  set_num_threads(0);
  EXPECT_EQ(one, two);
  EXPECT_EQ(one, three);
}

// No input gradient asked for (the first layer): dx stays untouched, the rest is computed.
TEST(Conv2DKernels, WithoutInputGradient) {
  const Conv2DGeometry g = kCases[2];
  Rng rng(6);
  const std::vector<float> x = randoms(int64_t(g.N) * g.C * g.H * g.W, rng);
  const std::vector<float> W = randoms(g.F * g.patch(), rng), b = randoms(g.F, rng);
  const std::vector<float> dz = randoms(int64_t(g.N) * g.F * g.pixels(), rng);
  const Reference want = reference(x, W, b, dz, g);
  Tensor scratch;
  std::vector<float> y(dz.size()), dW(W.size(), 0.0f);
  conv2d_backward(nullptr, dW.data(), nullptr, dz.data(), y.data(), Activation::Linear, x.data(), W.data(), g, scratch);
  expect_near(dW.data(), want.dW, 0.0, "dW");
}

}  // namespace
}  // namespace bnlab
