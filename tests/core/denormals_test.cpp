// Subnormal floats flushed or kept (core/denormals.cpp) on every thread that does bnlab's
// arithmetic: the calling thread, the workers of an OpenMP region, the BLAS called from them, and
// threads a later thread count adds.
#include "bnlab/core/denormals.h"

#include <gtest/gtest.h>
#include <omp.h>

#include <cfloat>
#include <cstdlib>
#include <vector>

#include "bnlab/core/error.h"
#include "bnlab/core/threads.h"
#include "bnlab/kernels/dense.h"

namespace bnlab {
namespace {

// FLT_MIN / 10, a subnormal result, on each thread of a region of `threads`: 0 where flushed.
std::vector<float> tenth_of_smallest_normal(int threads) {
  std::vector<float> out(threads, -1.0f);
  volatile float smallest = FLT_MIN;
#pragma omp parallel num_threads(threads)
  out[omp_get_thread_num()] = smallest * 0.1f;
  return out;
}

// z = x W^T with every product 1e-40, a subnormal, and sums of 16 of them still subnormal, split
// by the Dense kernel across 2 threads (1 MFLOP; each thread's sgemm computes half the columns).
std::vector<float> subnormal_products() {
  const int N = 256, in = 16, out = 128;
  const std::vector<float> x(N * in, 1e-20f), W(out * in, 1e-20f);
  std::vector<float> z(N * out, -1.0f);
  dense_forward(z.data(), x.data(), W.data(), nullptr, N, in, out);
  return z;
}

class DenormalsTest : public ::testing::Test {
 protected:
  void TearDown() override {
    set_denormals(default_denormals());
    set_num_threads(0);
  }
};

TEST_F(DenormalsTest, FlushedByDefault) {
  if (std::getenv("BNLAB_DENORMALS")) GTEST_SKIP() << "BNLAB_DENORMALS is set";
  EXPECT_EQ(default_denormals(), Denormals::Flush);
  set_num_threads(2);
  EXPECT_EQ(denormals(), Denormals::Flush);  // chosen before the tests' first product
  for (float r : tenth_of_smallest_normal(2)) EXPECT_EQ(r, 0.0f);
}

TEST_F(DenormalsTest, EveryThreadAndTheBlasFlushOrKeep) {
  set_num_threads(2);
  for (Denormals mode : {Denormals::Keep, Denormals::Flush, Denormals::Keep}) {
    SCOPED_TRACE(denormals_name(mode));
    set_denormals(mode);
    EXPECT_EQ(denormals(), mode);
    const bool flush = mode == Denormals::Flush;
    const std::vector<float> r = tenth_of_smallest_normal(2);
    for (size_t t = 0; t < r.size(); ++t) EXPECT_EQ(r[t] == 0.0f, flush) << "thread " << t << ": " << r[t];
    const std::vector<float> z = subnormal_products();
    for (int c : {0, 127}) {  // one column of each thread's block
      EXPECT_EQ(z[c] == 0.0f, flush) << "column " << c << ": " << z[c];
      if (!flush) {
        EXPECT_NEAR(z[c], 16e-40f, 1e-42f);
      }
    }
  }
}

// The mode set while the count is 1 reaches the threads of a later, larger team: those the pool
// held from before (set with the old mode) and those created for it.
TEST_F(DenormalsTest, ThreadsOfALaterCountGetTheMode) {
  set_num_threads(2);
  set_denormals(Denormals::Keep);
  set_num_threads(1);
  set_denormals(Denormals::Flush);
  set_num_threads(3);
  for (float r : tenth_of_smallest_normal(3)) EXPECT_EQ(r, 0.0f);
  set_num_threads(1);
  set_denormals(Denormals::Keep);
  set_num_threads(3);
  for (float r : tenth_of_smallest_normal(3)) EXPECT_NE(r, 0.0f);
}

TEST_F(DenormalsTest, ModesByName) {
  EXPECT_EQ(parse_denormals("flush", "--denormals"), Denormals::Flush);
  EXPECT_EQ(parse_denormals("keep", "--denormals"), Denormals::Keep);
  EXPECT_STREQ(denormals_name(Denormals::Keep), "keep");
  try {
    parse_denormals("ftz", "--denormals");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "--denormals: unknown denormal mode 'ftz' (flush, keep)");
  }
}

}  // namespace
}  // namespace bnlab
