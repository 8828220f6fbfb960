#pragma once
// How bnlab splits a kernel across threads: by contiguous blocks of columns (output features), one
// per thread. Every output element is then computed by exactly one thread, in a fixed order, so
// results do not depend on scheduling.
#include <omp.h>

#include <algorithm>
#include <cstdint>

namespace bnlab {

// Block widths are whole AVX-512 vectors (16 floats), so blocks start on 64-byte boundaries of a
// row whenever rows do.
inline constexpr int kColumnAlign = 16;

// For matrix products. The seed's products are small (M = batch 16..256), where a threaded BLAS
// spends more time dividing the work than doing it. bnlab divides it instead: each thread takes one
// contiguous block of output columns and calls single-threaded sgemm on it (OpenBLAS and BLIS run
// serially inside an OpenMP parallel region, so the cores are never oversubscribed). Calls
// block(c0, w) for [c0, c0 + w); one thread per 2 MFLOP at most. Results are deterministic for a
// given thread count.
template <class BlockFn>
void for_column_blocks(int columns, int64_t flops, BlockFn block) {
  constexpr int64_t kMinFlopsPerThread = 2'000'000;
  const int threads = std::max(1, std::min<int>(omp_get_max_threads(), static_cast<int>(flops / kMinFlopsPerThread)));
  const int per = ((columns + threads - 1) / threads + kColumnAlign - 1) / kColumnAlign * kColumnAlign;
  if (threads == 1 || per >= columns) {
    block(0, columns);
    return;
  }
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int t = 0; t < threads; ++t) {
    const int c0 = t * per, c1 = std::min(columns, c0 + per);
    if (c0 < c1) block(c0, c1 - c0);
  }
}

// For per-column reductions over rows (BatchNorm statistics, column sums): each thread takes one
// contiguous range of columns and streams the rows through it in chunks of at most `chunk`
// columns, row after row, so memory is read in long runs and a chunk's per-column accumulators stay
// in L1. chunk_fn(c0, w) handles [c0, c0 + w). Each column's reduction runs over the rows in order
// whatever the thread count: results are bit-identical across thread counts.
template <class ChunkFn>
void for_column_chunks(int64_t rows, int columns, int chunk, ChunkFn chunk_fn) {
  constexpr int64_t kMinElements = 32768;  // below this one thread is faster
  const int threads = rows * columns > kMinElements ? omp_get_max_threads() : 1;
  const int per = ((columns + threads - 1) / threads + kColumnAlign - 1) / kColumnAlign * kColumnAlign;
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    const int begin = std::min(columns, omp_get_thread_num() * per), end = std::min(columns, begin + per);
    for (int c0 = begin; c0 < end; c0 += chunk) chunk_fn(c0, std::min(chunk, end - c0));
  }
}

}  // namespace bnlab
