#include "bnlab/threads.h"

#include <omp.h>

#include <thread>

#include "core/blas.h"

namespace bnlab {

void set_num_threads(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::thread::hardware_concurrency());
  if (threads <= 0) threads = 1;
  omp_set_num_threads(threads);
  blas_set_num_threads(threads);
}

int num_threads() { return omp_get_max_threads(); }

const char* blas_name() { return blas_config(); }

}  // namespace bnlab
