#pragma once
// Which BLAS bnlab's matrix products run on (a build choice: CMake's BNLAB_BLAS), and what it reaches.
namespace bnlab {

const char* blas_name();  // e.g. "OpenBLAS 0.3.21 (openmp)"

// GFLOP/s of one single-precision product of two n x n matrices, the median of `repeats` after a
// warm-up, split across the current thread count as bnlab splits its own products (a block of
// columns each): the practical peak that benchmarks divide by.
double sgemm_peak_gflops(int n, int repeats);

}  // namespace bnlab
