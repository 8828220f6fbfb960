#pragma once
// The processes of one bnlab command (mpirun -np N bnlab train ...): every rank trains, rank 0
// alone prints and writes files, and a rank that fails ends them all.
#include "bnlab/dist/communicator.h"

namespace bnlab::cli {

// world() (dist/communicator.h), made on the first call and kept until the program ends.
Communicator& run_ranks();
// Whether this process prints and writes: rank 0, or a process that has not joined its ranks yet.
bool is_lead_rank();
// Ends every rank with `code` when this one is one of several (their collectives would otherwise
// wait for it for ever); else returns code.
int end_ranks(int code);
// A rank's prefix for its error line: "" for rank 0 and one process, "(rank 2) " for others.
const char* rank_prefix();

// --threads 0: the cores of this node divided by the processes the launcher started on it
// (OMPI_COMM_WORLD_LOCAL_SIZE, MPI_LOCALNRANKS), at least 1; the cores alone without a launcher.
int threads_per_process();

}  // namespace bnlab::cli
