#pragma once
// One knob for the threads of bnlab's kernels (OpenMP). They split every matrix product
// themselves, each thread calling the BLAS on its own block, so the BLAS itself always runs on one
// thread and the cores are never oversubscribed.
//
// Whether or not a program calls set_num_threads, bnlab turns OMP_DYNAMIC off on each thread that
// runs its products and keeps that thread's OpenMP count within OMP_THREAD_LIMIT, so that every
// region gets the team it asks for (core/parallel.h's keep_teams_whole). The same guard sets the
// default denormal mode (bnlab/core/denormals.h).
namespace bnlab {

void set_num_threads(int threads);  // threads <= 0: one per core; at most OMP_THREAD_LIMIT; OMP_DYNAMIC off
int num_threads();

}  // namespace bnlab
