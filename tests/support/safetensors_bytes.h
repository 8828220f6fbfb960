#pragma once
// safetensors files as bytes, for the reader's tests: made from a header text, and parsed to the
// reader's message.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "bnlab/core/error.h"
#include "bnlab/io/safetensors.h"

namespace bnlab::testing {

inline // A file made of an 8-byte length, the header text as given, and `data_bytes` bytes of data.
std::vector<uint8_t> file_with_header(const std::string& header, size_t data_bytes) {
  std::vector<uint8_t> bytes(8 + header.size() + data_bytes, 0);
  const uint64_t length = header.size();
  std::memcpy(bytes.data(), &length, 8);
  std::memcpy(bytes.data() + 8, header.data(), header.size());
  for (size_t i = 0; i < data_bytes; ++i) bytes[8 + header.size() + i] = static_cast<uint8_t>(i);
  return bytes;
}

// The InputError message of parsing `bytes` as "case.safetensors", or "(parsed without error)".
inline std::string parse_error(const std::vector<uint8_t>& bytes) {
  try {
    parse_safetensors(bytes.data(), bytes.size(), "case.safetensors");
  } catch (const InputError& e) {
    return e.what();
  }
  return "(parsed without error)";
}

}  // namespace bnlab::testing
