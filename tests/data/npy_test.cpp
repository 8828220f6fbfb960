// The .npy reader: numpy's headers of versions 1.0, 2.0 and 3.0 and the dtypes bnlab reads, files
// written by numpy itself (tests/corpus/npy/valid.*, byte-identical to numpy.save's), and one clear
// message for each way a header or its data can be broken.
#include "bnlab/data/npy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <limits>

#include "bnlab/core/error.h"
#include "support/npz_files.h"

namespace bnlab {
namespace {

using test::Bytes;
using test::bytes_of;
using test::npy_bytes;
using test::npy_with_header;
using ::testing::HasSubstr;

const std::filesystem::path kCorpus = std::filesystem::path(BNLAB_SOURCE_DIR) / "tests/corpus/npy";

NpyArray read_bytes(const Bytes& bytes) {
  size_t offset = 0;
  return read_npy(
      [&](uint8_t* dst, size_t n) {
        const size_t k = std::min(n, bytes.size() - offset);
        if (k) std::memcpy(dst, bytes.data() + offset, k);
        offset += k;
        return k;
      },
      "src");
}

// The message of the InputError that reading bytes throws (which must name the source).
std::string error_of(const Bytes& bytes) {
  try {
    read_bytes(bytes);
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), ::testing::StartsWith("src: "));
    return e.what();
  }
  ADD_FAILURE() << "no InputError";
  return "";
}

TEST(Npy, ReadsUint8ImagesAsStored) {
  const Bytes pixels = {0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255};
  const NpyArray a = read_bytes(npy_bytes("|u1", {2, 3, 2}, pixels));
  EXPECT_EQ(a.type, NpyType::UInt8);
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3, 2}));
  EXPECT_EQ(a.count(), 12u);
  EXPECT_EQ(a.bytes, pixels);
}

TEST(Npy, ReadsEveryFormatVersion) {
  const std::vector<float> values = {0.5f, -1.25f, 3e-8f, 1e30f};
  for (int major : {1, 2, 3}) {
    SCOPED_TRACE(major);
    const NpyArray a = read_bytes(npy_bytes("<f4", {2, 2}, bytes_of(values), false, major));
    EXPECT_EQ(a.type, NpyType::Float32);
    EXPECT_EQ(npy_floats(a), values);
  }
}

TEST(Npy, ConvertsEveryIntegerTypeToInt64) {
  EXPECT_EQ(npy_integers(read_bytes(npy_bytes("|i1", {3}, bytes_of(std::vector<int8_t>{-3, 0, 127}))), "s"),
            (std::vector<int64_t>{-3, 0, 127}));
  EXPECT_EQ(npy_integers(read_bytes(npy_bytes("<u2", {2}, bytes_of(std::vector<uint16_t>{65535, 9}))), "s"),
            (std::vector<int64_t>{65535, 9}));
  EXPECT_EQ(npy_integers(read_bytes(npy_bytes("<i4", {2}, bytes_of(std::vector<int32_t>{-70000, 7}))), "s"),
            (std::vector<int64_t>{-70000, 7}));
  EXPECT_EQ(npy_integers(read_bytes(npy_bytes("<u4", {1}, bytes_of(std::vector<uint32_t>{4000000000u}))), "s"),
            (std::vector<int64_t>{4000000000}));
  EXPECT_EQ(npy_integers(read_bytes(npy_bytes("<i8", {2}, bytes_of(std::vector<int64_t>{-1, 1LL << 40}))), "s"),
            (std::vector<int64_t>{-1, 1LL << 40}));
  EXPECT_EQ(npy_integers(read_bytes(npy_bytes("<u8", {1}, bytes_of(std::vector<uint64_t>{5}))), "s"),
            (std::vector<int64_t>{5}));
  const NpyArray huge = read_bytes(npy_bytes("<u8", {1}, bytes_of(std::vector<uint64_t>{std::numeric_limits<uint64_t>::max()})));
  EXPECT_THROW(npy_integers(huge, "s"), InputError);
  EXPECT_THROW(npy_integers(read_bytes(npy_bytes("<f4", {1}, bytes_of(std::vector<float>{1}))), "s"), InputError);
}

TEST(Npy, AcceptsWhatPythonWritesInAnyOrder) {
  // Keys in another order, double quotes, no trailing comma, Python 2's long suffix, a scalar.
  EXPECT_EQ(read_bytes(npy_with_header("{\"shape\": (2L, 1L), 'fortran_order': False, 'descr': '<u2'}", Bytes(4))).shape,
            (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(read_bytes(npy_bytes("|u1", {}, {7})).bytes, Bytes{7});
  EXPECT_EQ(read_bytes(npy_bytes("|u1", {0, 28, 28}, {})).count(), 0u);
}

TEST(Npy, ReadsFilesNumpyWrote) {
  const NpyArray x = read_npy_file(kCorpus / "valid.x_train.npy");
  EXPECT_EQ(x.shape, (std::vector<int64_t>{12, 4, 4}));
  EXPECT_EQ(x.bytes[191], 191);
  EXPECT_EQ(npy_integers(read_npy_file(kCorpus / "valid.y_train.npy"), "y")[4], 1);
  EXPECT_EQ(npy_floats(read_npy_file(kCorpus / "valid.x_float.npy")), (std::vector<float>{0.5f, -1.0f, 2.0f, 3.25f}));
  EXPECT_EQ(npy_integers(read_npy_file(kCorpus / "valid.v2.npy"), "v2"), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(read_npy_file(kCorpus / "valid.v3.npy").shape, (std::vector<int64_t>{2, 1}));
}

TEST(Npy, RefusesABrokenPreamble) {
  const Bytes good = npy_bytes("|u1", {2}, {1, 2});
  EXPECT_THAT(error_of({}), HasSubstr("empty .npy data"));
  EXPECT_THAT(error_of({'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0}), HasSubstr("not a .npy array (bad magic"));
  EXPECT_THAT(error_of(Bytes(good.begin(), good.begin() + 7)), HasSubstr("truncated .npy preamble"));
  Bytes v4 = good;
  v4[6] = 4;
  EXPECT_THAT(error_of(v4), HasSubstr(".npy format version 4.0 is not supported"));
  EXPECT_THAT(error_of(Bytes(good.begin(), good.begin() + 9)), HasSubstr("truncated .npy header length"));
  EXPECT_THAT(error_of(Bytes(good.begin(), good.begin() + 40)), HasSubstr("truncated .npy header: 30 of 118 bytes"));
}

TEST(Npy, RefusesAnOversizedHeaderBeforeReadingIt) {
  Bytes big = {0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0, 0xff, 0xff, 0xff, 0xff};
  EXPECT_THAT(error_of(big), HasSubstr(".npy header of 4294967295 bytes is over the limit of 65536"));
}

TEST(Npy, RefusesMalformedHeaders) {
  const auto header_error = [](const std::string& header) { return error_of(npy_with_header(header, Bytes(16))); };
  Bytes unterminated = npy_bytes("|u1", {2}, {});
  unterminated.back() = ' ';
  EXPECT_THAT(error_of(unterminated), HasSubstr("bad .npy header: not ended by a newline"));
  EXPECT_THAT(header_error("['descr']"), HasSubstr("bad .npy header: expected '{' at offset 0"));
  EXPECT_THAT(header_error("{'descr': '|u1', 'fortran_order': False"), HasSubstr("expected '}', found the end"));
  EXPECT_THAT(header_error("{'descr': '|u1', 'fortran_order': False}"), HasSubstr("bad .npy header: no 'shape'"));
  EXPECT_THAT(header_error("{'descr': '|u1', 'fortran_order': False, 'shape': (16,), 'x': False}"),
              HasSubstr("unknown key 'x'"));
  EXPECT_THAT(header_error("{'descr': '|u1', 'descr': '|u1'}"), HasSubstr("key 'descr' appears twice"));
  EXPECT_THAT(header_error("{'descr': '|u1', 'fortran_order': 0, 'shape': (16,)}"), HasSubstr("unexpected value"));
  EXPECT_THAT(header_error("{'descr': '|u1', 'fortran_order': False, 'shape': 16}"), HasSubstr("unexpected value for 'shape'"));
  EXPECT_THAT(header_error("{'descr': '|u1', 'fortran_order': False, 'shape': (-16,)}"), HasSubstr("non-negative whole number"));
  EXPECT_THAT(header_error("{'descr': '|u1', 'fortran_order': False, 'shape': (16,)} x"), HasSubstr("text after the closing '}'"));
  EXPECT_THAT(header_error("{'descr': '|u1, 'fortran_order': False, 'shape': (16,)}"), HasSubstr("expected '}' at offset 17"));
  EXPECT_THAT(header_error("{'descr': '|u1', 'fortran_order': False, 'shape': (99999999999999999999,)}"),
              HasSubstr("overflows"));
}

TEST(Npy, RefusesWhatBnlabDoesNotRead) {
  const auto descr_error = [](const std::string& descr) { return error_of(npy_bytes(descr, {2}, Bytes(16))); };
  EXPECT_THAT(descr_error(">f4"), HasSubstr("dtype '>f4' is not supported (big-endian"));
  EXPECT_THAT(descr_error("<f8"), HasSubstr("dtype '<f8' is not supported"));
  EXPECT_THAT(descr_error("<c8"), HasSubstr("dtype '<c8' is not supported"));
  EXPECT_THAT(descr_error("|O"), HasSubstr("dtype '|O' is not supported"));
  EXPECT_THAT(descr_error("|u4"), HasSubstr("no byte order"));
  EXPECT_EQ(read_bytes(npy_bytes(">u1", {2}, {1, 2})).type, NpyType::UInt8);  // a byte has no order
  EXPECT_THAT(error_of(npy_with_header("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,)}", Bytes(8))),
              HasSubstr("structured dtypes"));
  EXPECT_THAT(error_of(npy_bytes("|u1", {2, 2}, Bytes(4), true)), HasSubstr("Fortran-ordered arrays are not supported"));
}

TEST(Npy, RefusesSizesTheDataDoNotMatch) {
  EXPECT_THAT(error_of(npy_bytes("<f4", {1LL << 62, 1LL << 62, 4}, {})), HasSubstr("shape (4611686018427387904, 4611686018427387904, 4) overflows"));
  EXPECT_THAT(error_of(npy_bytes("<f4", {1LL << 61}, {})), HasSubstr("of float32 overflows"));
  // A header that claims 47 MB over 12 bytes of data is refused without allocating 47 MB first.
  EXPECT_THAT(error_of(npy_bytes("|u1", {60000, 28, 28}, Bytes(12))),
              HasSubstr("truncated: shape (60000, 28, 28) of uint8 needs 47040000 bytes of data, found 12"));
  EXPECT_THAT(error_of(npy_bytes("|u1", {2, 2}, Bytes(5))), HasSubstr("trailing data after the 4 bytes that shape (2, 2) of uint8 needs"));
}

}  // namespace
}  // namespace bnlab
