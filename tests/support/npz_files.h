#pragma once
// Small .npy arrays and .npz archives made on the fly for the data tests: the bytes numpy.save
// writes, zipped by libarchive (stored or deflated, as numpy.savez and savez_compressed do).
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "support/data_files.h"

namespace bnlab::test {

// A .npy file: magic, version major.0, header length, the header dict padded with spaces to a
// multiple of 64 bytes and ended by '\n' (as numpy writes it), then data.
Bytes npy_bytes(const std::string& descr, const std::vector<int64_t>& shape, const Bytes& data, bool fortran_order = false,
                int major = 1);
// The same with the header text given as it is (padded and ended by '\n' as above).
Bytes npy_with_header(const std::string& header, const Bytes& data, int major = 1);

// The bytes of values as stored in memory (little-endian here).
template <class T>
Bytes bytes_of(const std::vector<T>& values) {
  Bytes out(values.size() * sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), values.data(), out.size());
  return out;
}

using NpzMembers = std::vector<std::pair<std::string, Bytes>>;  // member name ("x_train.npy") -> content

// A zip archive of the members, stored or deflated, written with libarchive.
void write_npz(const std::filesystem::path& file, const NpzMembers& members, bool deflate);

// x_train, y_train, x_test, y_test of n_train and n_test uint8 images of shape sample_shape, pixel k
// of image i being (i + 3 * k) % 256 and its label i % classes, as .npy members (labels int64).
NpzMembers image_set(int64_t n_train, int64_t n_test, const std::vector<int64_t>& sample_shape, int classes = 3);

}  // namespace bnlab::test
