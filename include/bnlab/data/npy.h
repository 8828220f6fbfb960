#pragma once
// numpy's .npy format (numpy.lib.format): the magic "\x93NUMPY", a version byte pair (1.0, 2.0 or
// 3.0), the header's length (little-endian uint16 for 1.0, uint32 for 2.0 and 3.0), then the header:
// a Python dict literal such as {'descr': '<f4', 'fortran_order': False, 'shape': (60000, 28, 28), }
// padded with spaces and ended by '\n'; then prod(shape) elements in C (row-major) order.
//
// bnlab reads little-endian (or byte-sized) unsigned and signed integers of 1, 2, 4 and 8 bytes
// and float32, in C order only: what images and labels are stored as.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace bnlab {

enum class NpyType { UInt8, Int8, UInt16, Int16, UInt32, Int32, UInt64, Int64, Float32 };

// numpy's name of the type: "uint8", "float32", ...
const char* npy_type_name(NpyType type);
size_t npy_type_size(NpyType type);

struct NpyHeader {
  NpyType type = NpyType::UInt8;
  std::vector<int64_t> shape;  // () for a scalar
  uint64_t count = 1;          // prod(shape) elements
  uint64_t data_bytes = 0;     // count * element size
};

// Reads up to n bytes into dst; returns fewer only at the end of the input.
using ReadBytes = std::function<size_t(uint8_t* dst, size_t n)>;

// The largest header accepted. numpy refuses headers above 10,000 bytes by default; a shape of a
// few numbers needs under 200.
inline constexpr size_t kMaxNpyHeaderBytes = 65536;

// Reads and checks the magic, version and header, consuming exactly the preamble and the header.
// Throws InputError starting with "<source>: " when the magic or version is wrong, the header is
// truncated, oversized, not ended by '\n', not a dict of exactly 'descr', 'fortran_order' and
// 'shape', or names an unsupported dtype (big-endian, structured, ...), Fortran order, or a shape
// whose byte count overflows.
NpyHeader read_npy_header(const ReadBytes& read, const std::string& source);

// The same for a header already in memory (the fuzz target's entry point).
NpyHeader parse_npy_header(const uint8_t* data, size_t size, const std::string& source);

struct NpyArray {
  NpyType type = NpyType::UInt8;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;  // the elements as stored: little-endian, C order

  uint64_t count() const;  // prod(shape)
};

// Reads the header, then exactly its data_bytes, and checks that nothing follows. The buffer grows
// only as data arrive, so a header that claims more than the input holds is refused without
// allocating what it claims. Throws InputError starting with "<source>: ".
NpyArray read_npy(const ReadBytes& read, const std::string& source);

// A .npy file on disk.
NpyArray read_npy_file(const std::filesystem::path& file);

// The array's elements as int64 (labels); InputError naming source unless the type is an integer
// or a value does not fit an int64.
std::vector<int64_t> npy_integers(const NpyArray& array, const std::string& source);
// The array's elements as float32 (NpyType::Float32 only).
std::vector<float> npy_floats(const NpyArray& array);

}  // namespace bnlab
