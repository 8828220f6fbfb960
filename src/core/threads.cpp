#include "bnlab/core/threads.h"

#include <omp.h>

#include <algorithm>
#include <thread>

#include "core/cblas.h"
#include "core/parallel.h"

namespace bnlab {

int keep_teams_whole() {
  if (omp_get_dynamic()) omp_set_dynamic(0);
  static const int limit = std::max(1, omp_get_thread_limit());
  // OpenBLAS's OpenMP build takes its count from omp_get_max_threads() at every call, and LLVM's
  // libomp (the sanitizer build) does not lower that to the limit as libgomp does: lower it here.
  if (omp_get_max_threads() > limit) omp_set_num_threads(limit);
  static const bool blas_within_limit = [] {
    if (blas_num_threads() > limit) blas_set_num_threads(limit);
    return true;
  }();
  (void)blas_within_limit;
  return limit;
}

void set_num_threads(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::thread::hardware_concurrency());
  if (threads <= 0) threads = 1;
  // Regions must get the threads they ask for (bnlab train hung in its first product under
  // OMP_THREAD_LIMIT or OMP_DYNAMIC=true): the same guard every product runs, core/parallel.h.
  threads = std::min(threads, keep_teams_whole());
  omp_set_num_threads(threads);
  blas_set_num_threads(threads);
}

int num_threads() { return omp_get_max_threads(); }


}  // namespace bnlab
