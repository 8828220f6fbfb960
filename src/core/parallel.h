#pragma once
// How bnlab splits work across threads (OpenMP). Every output element is computed by exactly one
// thread, in a fixed order, so results do not depend on scheduling.
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "bnlab/core/work_split.h"

namespace bnlab {

// Block widths are whole AVX-512 vectors (16 floats), so blocks start on 64-byte boundaries of a
// row whenever rows do.
inline constexpr int kColumnAlign = 16;

// One thread's share of n items split `parts` ways, rounded up to whole kColumnAlign blocks: the
// Dense kernels' column blocks and the optimiser's slices of each array are cut alike.
inline int64_t aligned_share(int64_t n, int parts) {
  return ((n + parts - 1) / parts + kColumnAlign - 1) / kColumnAlign * kColumnAlign;
}

// Makes every region the calling thread opens get the threads it asks for, and returns the most any
// region can have: turns dynamic teams off and keeps the OpenMP thread count within
// OMP_THREAD_LIMIT on the calling thread (both are OpenMP settings of each thread), and once puts
// the BLAS on one thread (core/threads.cpp), since bnlab splits its products itself. Runs before
// every product, so it covers programs that never call set_num_threads.
int keep_teams_whole();

// Sets default_denormals() (bnlab/core/denormals.h) unless the program has set a mode: once, from
// keep_teams_whole, so before the first product.
void choose_default_denormals();

// How many threads for_column_blocks uses for a product of `flops`. (Every product goes through
// here, so keep_teams_whole runs before each.)
inline int column_block_threads(int64_t flops) {
  constexpr int64_t kMinFlopsPerThread = 500'000;
  const int most = std::min(omp_get_max_threads(), keep_teams_whole());
  return std::max(1, std::min<int>(most, static_cast<int>(flops / kMinFlopsPerThread)));
}

// For matrix products. The notebook's products are small (M = batch 16..256), where a threaded BLAS
// spends more time dividing the work than doing it. bnlab divides it instead: each thread takes one
// contiguous block of output columns and calls single-threaded sgemm on it (OpenBLAS and BLIS run
// serially inside an OpenMP parallel region, so the cores are never oversubscribed). Calls
// block(c0, w) for [c0, c0 + w); one thread per 0.5 MFLOP at most. Results are deterministic for a
// given thread count.
template <class BlockFn>
void for_column_blocks(int columns, int64_t flops, BlockFn block) {
  const int threads = column_block_threads(flops);
  const int per = static_cast<int>(aligned_share(columns, threads));
  if (threads == 1 || per >= columns) {
    // On the calling thread, outside any region: OpenBLAS's OpenMP build would split the product
    // by the calling thread's OpenMP count, against the one thread chosen here, and waits for ever
    // when its region gets fewer threads than it planned for (seen under LLVM's libomp). So the count
    // is 1 while the block runs.
    const int saved = omp_get_max_threads();
    if (saved > 1) omp_set_num_threads(1);
    block(0, columns);
    if (saved > 1) omp_set_num_threads(saved);
    return;
  }
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int t = 0; t < threads; ++t) {
    const int c0 = t * per, c1 = std::min(columns, c0 + per);
    if (c0 < c1) block(c0, c1 - c0);
  }
}

// The calling thread's own copy of an input held once per thread (ThreadCopies),
// or `shared` when it has none.
inline const float* own_copy(const ThreadCopies& copies, const float* shared) {
  const int t = omp_get_thread_num();
  return t < copies.count ? copies.data[t] : shared;
}

// make(k) for each k in [0, copies) of something held once per thread (ThreadCopies): thread t of a
// region of `copies` threads makes copy t. Should the region get fewer threads (OMP_DYNAMIC, or a
// region inside another), each makes every T-th copy, so every copy is always made. make must not
// start parallel regions or throw.
template <class MakeFn>
void for_each_copy(int copies, MakeFn make) {
#pragma omp parallel num_threads(copies) if (copies > 1)
  for (int k = omp_get_thread_num(); k < copies; k += omp_get_num_threads()) make(k);
}

// For per-column reductions over rows (BatchNorm statistics, column sums): the columns are cut
// into chunks of `chunk`, and each thread takes a contiguous run of chunks (a static schedule).
// chunk_fn(c0, w) handles columns [c0, c0 + w) over all rows, so each column's reduction runs over
// the rows in order whatever the thread count: results are bit-identical across thread counts.
// Chunks of 64 floats (256 bytes of a row) measured fastest at the notebook's shapes (docs/performance.md).
template <class ChunkFn>
void for_column_chunks(int64_t rows, int columns, int chunk, ChunkFn chunk_fn) {
  constexpr int64_t kMinElements = 8192;  // below this one thread is faster
  const int chunks = (columns + chunk - 1) / chunk;
#pragma omp parallel for schedule(static) if (rows * columns > kMinElements)
  for (int i = 0; i < chunks; ++i) chunk_fn(i * chunk, std::min(chunk, columns - i * chunk));
}

// For elementwise work over several arrays (optimiser updates, zeroing gradients): each array is
// cut into one contiguous range per thread (a multiple of 16 elements long), and each thread calls
// slice(i, begin, n) for its range [begin, begin + n) of every array i. Cutting each array, rather
// than the arrays laid end to end, gives each thread the same rows of a weight matrix as the Dense
// kernels' column blocks (for_column_blocks above): the rows a thread updates are the rows it
// multiplies with and whose gradient it wrote, already in its core's cache.
// for_slices_in_two_phases calls first(...) on a thread's ranges, waits for every thread, then calls
// second(...) on the same ranges: what first() read is still in that thread's cache.
namespace detail {
inline int slices_threads(const std::vector<int64_t>& sizes) {
  constexpr int64_t kMinParallel = 32768;
  int64_t total = 0;
  for (int64_t n : sizes) total += n;
  return total > kMinParallel ? omp_get_max_threads() : 1;
}
// slice(i, begin, n) for this thread's range of each array, called inside the parallel region.
template <class SliceFn>
void each_slice(const std::vector<int64_t>& sizes, SliceFn& slice) {
  const int t = omp_get_thread_num(), T = omp_get_num_threads();
  for (size_t i = 0; i < sizes.size(); ++i) {
    const int64_t per = aligned_share(sizes[i], T);
    const int64_t lo = std::min(sizes[i], t * per), hi = std::min(sizes[i], lo + per);
    if (lo < hi) slice(i, lo, hi - lo);
  }
}
}  // namespace detail

template <class SliceFn>
void for_slices(const std::vector<int64_t>& sizes, SliceFn slice) {
  const int threads = detail::slices_threads(sizes);
#pragma omp parallel num_threads(threads) if (threads > 1)
  detail::each_slice(sizes, slice);
}

template <class FirstFn, class SecondFn>
void for_slices_in_two_phases(const std::vector<int64_t>& sizes, FirstFn first, SecondFn second) {
  const int threads = detail::slices_threads(sizes);
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    detail::each_slice(sizes, first);
#pragma omp barrier
    detail::each_slice(sizes, second);
  }
}

}  // namespace bnlab
