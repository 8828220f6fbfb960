#pragma once
// One knob for every thread pool bnlab uses: OpenMP (our kernels) and the BLAS. With the OpenMP
// build of OpenBLAS both share one pool; setting them together keeps the cores from being
// oversubscribed.
//
// Whether or not a program calls set_num_threads, bnlab turns OMP_DYNAMIC off on each thread that
// runs its products and keeps that thread's OpenMP count and the BLAS's within OMP_THREAD_LIMIT:
// OpenBLAS's OpenMP build waits for ever for threads a region did not get (core/parallel.h's
// keep_teams_whole).
namespace bnlab {

void set_num_threads(int threads);  // threads <= 0: one per core; at most OMP_THREAD_LIMIT; OMP_DYNAMIC off
int num_threads();

}  // namespace bnlab
