// libFuzzer target: the .npy reader (preamble, header dict, data). Any input must either be read,
// with as many bytes as its shape and dtype promise, or be refused with an InputError; anything
// else is a finding.
#include <cstdlib>
#include <cstring>

#include "bnlab/core/error.h"
#include "bnlab/data/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  size_t offset = 0;
  const bnlab::ReadBytes read = [&](uint8_t* dst, size_t n) {
    const size_t k = std::min(n, size - offset);
    if (k) std::memcpy(dst, data + offset, k);
    offset += k;
    return k;
  };
  try {
    const bnlab::NpyArray a = bnlab::read_npy(read, "input");
    if (a.bytes.size() != a.count() * bnlab::npy_type_size(a.type) || offset != size) std::abort();
    if (a.type != bnlab::NpyType::Float32) bnlab::npy_integers(a, "input");
  } catch (const bnlab::InputError&) {
  }
  try {
    const bnlab::NpyHeader h = bnlab::parse_npy_header(data, size, "input");
    if (h.data_bytes != h.count * bnlab::npy_type_size(h.type)) std::abort();
  } catch (const bnlab::InputError&) {
  }
  return 0;
}
