#pragma once
// The fuzz input as a file, for readers that take a path: one file per process, rewritten for each
// input, in /dev/shm (memory) where it exists.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace bnlab::fuzz {

inline std::filesystem::path input_file(const uint8_t* data, size_t size) {
  static const std::filesystem::path path = [] {
    const std::filesystem::path dir = std::filesystem::exists("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path();
    return dir / ("bnlab-fuzz-input-" + std::to_string(::getpid()));
  }();
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || std::fwrite(data, 1, size, f) != size || std::fclose(f) != 0) std::abort();  // the harness, not bnlab, failed
  return path;
}

}  // namespace bnlab::fuzz
