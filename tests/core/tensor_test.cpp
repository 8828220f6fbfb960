// Tensors: views that share storage and detach, and the alignment and page offsets of their storage.
#include "bnlab/core/tensor.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "bnlab/model/spec.h"

namespace bnlab {
namespace {

// Flatten's output is a view of its input: the same floats, never written through.
TEST(TensorView, SharesStorageAndDetachesOnWriteOrGrowth) {
  Tensor x(Shape{2, 2, 3});
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = static_cast<float>(i);
  Tensor v = Tensor::view(x.data(), Shape{2, 6});
  EXPECT_TRUE(v.is_view());
  EXPECT_EQ(v.data(), x.data());
  EXPECT_EQ(v.shape(), (Shape{2, 6}));
  const Tensor copy = v;  // copies own their storage
  EXPECT_FALSE(copy.is_view());
  EXPECT_NE(copy.data(), x.data());
  EXPECT_EQ(copy[7], 7.0f);
  Tensor other(Shape{2, 6});
  v = other;  // assigning to a view must not write the viewed storage
  EXPECT_FALSE(v.is_view());
  EXPECT_EQ(x[7], 7.0f);
  Tensor w = Tensor::view(x.data(), Shape{2, 6});
  w.resize(Shape{4, 6});  // growing gives it storage of its own
  EXPECT_FALSE(w.is_view());
  EXPECT_NE(w.data(), x.data());

  Sequential m = make_model("flatten,dense:2");
  m.build(Shape{2, 3}, 1);
  const Tensor& y = m.forward(x, Mode::Eval);
  EXPECT_EQ(y.shape(), (Shape{2, 2}));
  EXPECT_EQ(x[11], 11.0f);
}

// Large tensors start at different 64-byte offsets within their pages (core/tensor.cpp: no 4K
// aliasing between a weight, its gradient and the optimiser's moments); every tensor stays 64-byte
// aligned, and storage is whole and writable to its last float.
TEST(TensorStorage, LargeTensorsStaggeredWithinPagesAndAligned) {
  std::vector<Tensor> large;
  std::vector<uintptr_t> offsets;
  for (int i = 0; i < 8; ++i) {
    large.emplace_back(Shape{784, 256});
    const auto address = reinterpret_cast<uintptr_t>(large.back().data());
    EXPECT_EQ(address % 64, 0u) << "tensor " << i;
    offsets.push_back(address % 4096);
    large.back()[large.back().numel() - 1] = 1.0f;
    EXPECT_EQ(large.back()[0], 0.0f);
  }
  std::sort(offsets.begin(), offsets.end());
  EXPECT_EQ(std::unique(offsets.begin(), offsets.end()), offsets.end()) << "two of 8 consecutive large tensors share a page offset";
  for (int numel : {1, 15, 17, 1023, 1024, 1025}) {
    Tensor t(Shape{numel});
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data()) % 64, 0u) << numel;
    t[numel - 1] = 2.0f;
    Tensor grown = t;
    grown.resize(Shape{numel * 300});  // from small to large storage and back through a copy
    grown[numel * 300 - 1] = 3.0f;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(grown.data()) % 64, 0u) << numel;
  }
}

}  // namespace
}  // namespace bnlab
