#pragma once
// The IDX format of the MNIST files: a magic of 0x00 0x00 <element type> <rank>, then `rank`
// big-endian uint32 dimensions, then prod(dimensions) elements, row-major. A file may be raw or
// gzip'd; gzip is detected by its magic bytes 1f 8b, not by the file name.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "bnlab/data/dataset.h"

namespace bnlab {

// The content of an unsigned-byte IDX file.
struct IdxArray {
  std::vector<int64_t> dims;  // e.g. {60000, 28, 28}
  std::vector<uint8_t> data;  // prod(dims) bytes, row-major
};

// Reads an IDX file of unsigned bytes (element type 0x08) and the given rank. Throws InputError
// naming the file when it is empty, its magic, element type or rank is wrong, its dimensions
// overflow, or it holds fewer or more data bytes than its header says. The header is checked
// against the file before anything is allocated, and a gzip'd file is never inflated past what
// its header promises.
IdxArray read_idx(const std::filesystem::path& file, int rank);

// Reads an images file (rank 3: count x rows x cols) and its labels file (rank 1: count) as a
// dataset named `name` with divide_by = 255. Throws InputError when the counts differ or a label
// is outside [0, 9].
Dataset read_idx_dataset(const std::filesystem::path& images_file,
                         const std::filesystem::path& labels_file, const std::string& name);

}  // namespace bnlab
