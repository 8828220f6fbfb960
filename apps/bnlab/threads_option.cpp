#include "threads_option.h"

#include <fmt/format.h>

#include "bnlab/core/error.h"
#include "bnlab/core/threads.h"
#include "ranks.h"

namespace bnlab::cli {

void apply_threads(int threads) {
  if (threads < 0) throw InputError(fmt::format("--threads: must be 0 (one per core) or positive, got {}", threads));
  set_num_threads(threads == 0 ? threads_per_process() : threads);
}

}  // namespace bnlab::cli
