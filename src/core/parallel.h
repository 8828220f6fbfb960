#pragma once
// How bnlab splits work across threads (OpenMP). Every output element is computed by exactly one
// thread, in a fixed order, so results do not depend on scheduling.
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

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
  constexpr int64_t kMinFlopsPerThread = 500'000;
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

// For per-column reductions over rows (BatchNorm statistics, column sums): the columns are cut
// into chunks of `chunk`, and each thread takes a contiguous run of chunks (a static schedule).
// chunk_fn(c0, w) handles columns [c0, c0 + w) over all rows, so each column's reduction runs over
// the rows in order whatever the thread count: results are bit-identical across thread counts.
// Chunks of 64 floats (256 bytes of a row) measured fastest at the seed's shapes (docs/performance.md).
template <class ChunkFn>
void for_column_chunks(int64_t rows, int columns, int chunk, ChunkFn chunk_fn) {
  constexpr int64_t kMinElements = 8192;  // below this one thread is faster
  const int chunks = (columns + chunk - 1) / chunk;
#pragma omp parallel for schedule(static) if (rows * columns > kMinElements)
  for (int i = 0; i < chunks; ++i) chunk_fn(i * chunk, std::min(chunk, columns - i * chunk));
}

// For elementwise work over several arrays laid end to end (optimiser updates, zeroing gradients):
// sizes[i] elements in array i; each thread takes one contiguous range of the total (a multiple of
// 16 elements long) and calls slice(i, begin, n) for elements [begin, begin + n) of array i.
// for_slices_in_two_phases calls first(...) on a thread's range, waits for every thread, then calls
// second(...) on the same range: what first() read is still in that thread's cache.
namespace detail {
inline int64_t slices_total(const std::vector<int64_t>& sizes) {
  int64_t total = 0;
  for (int64_t n : sizes) total += n;
  return total;
}
inline int slices_threads(int64_t total) {
  constexpr int64_t kMinParallel = 32768;
  return total > kMinParallel ? omp_get_max_threads() : 1;
}
// This thread's range [lo, hi) of the total, called inside the parallel region.
inline std::pair<int64_t, int64_t> slices_range(int64_t total) {
  const int64_t per = ((total + omp_get_num_threads() - 1) / omp_get_num_threads() + kColumnAlign - 1) / kColumnAlign * kColumnAlign;
  const int64_t lo = std::min(total, omp_get_thread_num() * per);
  return {lo, std::min(total, lo + per)};
}
// slice(i, begin, n) for the parts of [lo, hi) that fall in each array.
template <class SliceFn>
void each_slice(const std::vector<int64_t>& sizes, int64_t lo, int64_t hi, SliceFn& slice) {
  int64_t offset = 0;
  for (size_t i = 0; i < sizes.size() && offset < hi; ++i) {
    const int64_t a = std::max(lo, offset), b = std::min(hi, offset + sizes[i]);
    if (a < b) slice(i, a - offset, b - a);
    offset += sizes[i];
  }
}
}  // namespace detail

template <class SliceFn>
void for_slices(const std::vector<int64_t>& sizes, SliceFn slice) {
  const int64_t total = detail::slices_total(sizes);
  const int threads = detail::slices_threads(total);
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    const auto [lo, hi] = detail::slices_range(total);
    detail::each_slice(sizes, lo, hi, slice);
  }
}

template <class FirstFn, class SecondFn>
void for_slices_in_two_phases(const std::vector<int64_t>& sizes, FirstFn first, SecondFn second) {
  const int64_t total = detail::slices_total(sizes);
  const int threads = detail::slices_threads(total);
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    const auto [lo, hi] = detail::slices_range(total);
    detail::each_slice(sizes, lo, hi, first);
#pragma omp barrier
    detail::each_slice(sizes, lo, hi, second);
  }
}

}  // namespace bnlab
