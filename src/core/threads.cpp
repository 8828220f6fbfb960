#include "bnlab/threads.h"

#include <omp.h>

#include <algorithm>
#include <thread>

#include "core/blas.h"
#include "core/parallel.h"

namespace bnlab {

int keep_teams_whole() {
  if (omp_get_dynamic()) omp_set_dynamic(0);
  static const int limit = [] {
    const int most = std::max(1, omp_get_thread_limit());
    if (blas_num_threads() > most) blas_set_num_threads(most);
    return most;
  }();
  return limit;
}

void set_num_threads(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::thread::hardware_concurrency());
  if (threads <= 0) threads = 1;
  // Regions must get the threads they ask for. Where they get fewer (more than OMP_THREAD_LIMIT
  // allows, or OMP_DYNAMIC=true), OpenBLAS's OpenMP build, told to use more, waits for ever for the
  // ones it never gets: bnlab train hung in its first product under either setting.
  threads = std::min(threads, omp_get_thread_limit());
  omp_set_dynamic(0);
  omp_set_num_threads(threads);
  blas_set_num_threads(threads);
}

int num_threads() { return omp_get_max_threads(); }

const char* blas_name() { return blas_config(); }

}  // namespace bnlab
