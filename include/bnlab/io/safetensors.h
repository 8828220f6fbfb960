#pragma once
// The safetensors file format: an 8-byte little-endian header length H, a JSON header of H bytes
// ({"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
//   "__metadata__": {"key": "string value", ...}}), then the raw little-endian tensor bytes.
// Offsets are relative to the byte after the header.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace bnlab {

enum class DType { F32, F64, I64, I32, U8 };

struct NamedTensor {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;  // little-endian, prod(shape) * size_of(dtype) bytes
};

struct SafetensorsFile {
  std::vector<NamedTensor> tensors;             // in file order
  std::map<std::string, std::string> metadata;  // "__metadata__"

  const NamedTensor* find(const std::string& name) const;
};

size_t dtype_size(DType dtype);
const char* dtype_name(DType dtype);  // "F32", "I64", ...

// Writes atomically: a temporary file beside `path`, fsync, rename. Throws InputError naming the
// path when it cannot be written; never leaves a partial file at `path`. A tensor whose bytes do
// not match its shape, or a repeated or reserved name, is a caller bug: std::invalid_argument.
void write_safetensors(const std::filesystem::path& path, const SafetensorsFile& file);

// Reads and validates strictly (header length bounded by the file size, JSON well formed, known
// dtypes, shape consistent with the byte range, ranges inside the data area, not overlapping and
// covering it, no duplicate names). Any violation throws InputError naming the file.
SafetensorsFile read_safetensors(const std::filesystem::path& path);
SafetensorsFile parse_safetensors(const uint8_t* data, size_t size, const std::string& source_name);

}  // namespace bnlab
