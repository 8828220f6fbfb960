#pragma once
// The one place that includes cblas.h: which BLAS is linked is a build choice (CMake BNLAB_BLAS;
// bnlab/core/blas.h names it).
#include <cblas.h>

#include <algorithm>
#include <cstdint>

namespace bnlab {

// The BLAS's own thread count (bnlab keeps it at 1: core/threads.cpp).
void blas_set_num_threads(int threads);

// How wide a piece of one dimension of a product to give each sgemm call, when the product of the
// other two dimensions is `other`; 0: no cutting. OpenBLAS (0.3.21, AVX-512 kernels) computes a
// product of at most 10^6 multiply-adds with its small-matrix kernels, which skip packing; at the
// notebook's batch sizes a thread's 128 columns of the first layer, cut into pieces under that size
// (16 or 32 columns), ran 10-40% faster than one call (docs/performance.md). Multiples of 16.
int blas_small_piece(int64_t other);

// Calls piece(p0, pw) for [c0, c0 + w) cut into pieces of blas_small_piece(other) (or whole).
template <class PieceFn>
void for_blas_pieces(int c0, int w, int64_t other, PieceFn piece) {
  const int width = blas_small_piece(other);
  if (width <= 0 || width >= w) {
    piece(c0, w);
    return;
  }
  for (int p = c0; p < c0 + w; p += width) piece(p, std::min(width, c0 + w - p));
}

}  // namespace bnlab
