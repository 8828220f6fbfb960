#include "bnlab/core/threads.h"

#include <omp.h>

#include <algorithm>
#include <thread>

#include "bnlab/core/denormals.h"
#include "core/cblas.h"
#include "core/parallel.h"

namespace bnlab {
namespace {

// The BLAS on one thread, whatever the thread count: bnlab splits every product across its threads
// itself (core/parallel.h), so the BLAS's own threading would only split products bnlab chose to run
// on one thread. This holds for BLIS and OpenBLAS's pthread build; OpenBLAS's OpenMP build follows
// the calling thread's OpenMP count at every call instead, which for_column_blocks sets to 1 around
// a product it runs on one thread. Setting it calls omp_set_num_threads in OpenBLAS's OpenMP build,
// so the calling thread's count is put back.
void serialise_blas() {
  const int threads = omp_get_max_threads();
  blas_set_num_threads(1);
  omp_set_num_threads(threads);
}

}  // namespace

int keep_teams_whole() {
  choose_default_denormals();
  if (omp_get_dynamic()) omp_set_dynamic(0);
  static const int limit = std::max(1, omp_get_thread_limit());
  // LLVM's libomp (the sanitizer build) does not lower the count to the limit as libgomp does.
  if (omp_get_max_threads() > limit) omp_set_num_threads(limit);
  static const bool serial_blas = [] {
    serialise_blas();
    return true;
  }();
  (void)serial_blas;
  return limit;
}

void set_num_threads(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::thread::hardware_concurrency());
  if (threads <= 0) threads = 1;
  // Regions must get the threads they ask for (bnlab train hung in its first product under
  // OMP_THREAD_LIMIT or OMP_DYNAMIC=true): the same guard every product runs, core/parallel.h.
  threads = std::min(threads, keep_teams_whole());
  omp_set_num_threads(threads);
  set_denormals(denormals());  // on the threads of the new team too
}

int num_threads() { return omp_get_max_threads(); }

}  // namespace bnlab
