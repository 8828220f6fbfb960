// libFuzzer target: the IDX reader (raw and gzip'd). Any input must either be read, with as many
// bytes as its dimensions promise, or be refused with an InputError; anything else is a finding.
#include <cstdlib>

#include "bnlab/core/error.h"
#include "bnlab/data/idx.h"
#include "input_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::filesystem::path file = bnlab::fuzz::input_file(data, size);
  for (int rank : {1, 3}) {
    try {
      const bnlab::IdxArray a = bnlab::read_idx(file, rank);
      uint64_t count = 1;
      for (int64_t d : a.dims) count *= static_cast<uint64_t>(d);
      if (a.dims.size() != static_cast<size_t>(rank) || count != a.data.size()) std::abort();
    } catch (const bnlab::InputError&) {
    }
  }
  return 0;
}
