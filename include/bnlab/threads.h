#pragma once
// One knob for every thread pool bnlab uses: OpenMP (our kernels) and the BLAS. With the OpenMP
// build of OpenBLAS both share one pool; setting them together keeps the cores from being
// oversubscribed.
namespace bnlab {

void set_num_threads(int threads);  // threads <= 0: one per core; at most OMP_THREAD_LIMIT; OMP_DYNAMIC off
int num_threads();
const char* blas_name();            // e.g. "OpenBLAS 0.3.21 (openmp)"

}  // namespace bnlab
