#pragma once
// The --threads option of the commands that train or evaluate.
namespace bnlab::cli {

// 0: one thread per core (under mpirun, per core of this process's share of its node: ranks.h);
// a negative count is an InputError naming --threads.
void apply_threads(int threads);

}  // namespace bnlab::cli
