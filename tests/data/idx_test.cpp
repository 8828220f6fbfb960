// Reading IDX files, raw or gzip'd, and the one-line message for each way one can be broken.
#include "bnlab/data/idx.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "bnlab/core/error.h"
#include "support/data_files.h"

namespace bnlab {
namespace {

using test::Bytes;
using test::gzip;
using test::idx_bytes;
using test::write_file;
using ::testing::HasSubstr;

// 3 images of 2x2 and their labels 3, 0, 9.
const Bytes kPixels = {0, 1, 2, 3, 10, 11, 12, 13, 252, 253, 254, 255};
const Bytes kImages = idx_bytes(0x08, {3, 2, 2}, kPixels);
const Bytes kLabels = idx_bytes(0x08, {3}, {3, 0, 9});

class IdxTest : public ::testing::Test {
 protected:
  std::filesystem::path write(const std::string& name, const Bytes& bytes) {
    const std::filesystem::path file = dir_.path() / name;
    write_file(file, bytes);
    return file;
  }

  // The message of the InputError that reading `bytes` as an IDX file of `rank` throws.
  std::string read_error(const Bytes& bytes, int rank, const std::string& name = "f-idx") {
    const std::filesystem::path file = write(name, bytes);
    try {
      read_idx(file, rank);
    } catch (const InputError& e) {
      EXPECT_THAT(e.what(), HasSubstr(file.string() + ": "));
      return e.what();
    }
    ADD_FAILURE() << "no InputError for " << name;
    return "";
  }

  std::string dataset_error(const Bytes& images, const Bytes& labels) {
    const auto images_file = write("images", images);
    const auto labels_file = write("labels", labels);
    try {
      read_idx_dataset(images_file, labels_file, "t");
    } catch (const InputError& e) {
      return e.what();
    }
    ADD_FAILURE() << "no InputError";
    return "";
  }

  test::TempDir dir_;
};

void expect_fixture_dataset(const Dataset& d) {
  EXPECT_EQ(d.name, "toy/train");
  EXPECT_EQ(d.size(), 3);
  EXPECT_EQ(d.sample_shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(d.pixels, kPixels);
  EXPECT_EQ(d.labels, (std::vector<int32_t>{3, 0, 9}));
  EXPECT_EQ(d.divide_by, 255.0);
}

TEST_F(IdxTest, ReadsRawFiles) {
  expect_fixture_dataset(read_idx_dataset(write("i", kImages), write("l", kLabels), "toy/train"));
}

TEST_F(IdxTest, ReadsGzipFilesWhateverTheirName) {
  expect_fixture_dataset(read_idx_dataset(write("i.gz", gzip(kImages)),
                                          write("l-no-suffix", gzip(kLabels)), "toy/train"));
}

TEST_F(IdxTest, ReadIdxReturnsDimsAndData) {
  const IdxArray a = read_idx(write("i", kImages), 3);
  EXPECT_EQ(a.dims, (std::vector<int64_t>{3, 2, 2}));
  EXPECT_EQ(a.data, kPixels);
}

TEST_F(IdxTest, EmptyFile) { EXPECT_THAT(read_error({}, 3), HasSubstr(": empty file")); }

TEST_F(IdxTest, EmptyGzipContent) {
  EXPECT_THAT(read_error(gzip({}), 3), HasSubstr(": empty file"));
}

TEST_F(IdxTest, BadMagic) {
  Bytes bytes = kImages;
  bytes[0] = 0x12;
  bytes[1] = 0x34;
  EXPECT_THAT(read_error(bytes, 3), HasSubstr(": bad magic 0x12340803 (expected 0x00000803)"));
}

TEST_F(IdxTest, WrongElementType) {
  EXPECT_THAT(read_error(idx_bytes(0x0D, {3, 2, 2}, kPixels), 3),
              HasSubstr(": element type 0x0d is not supported (expected 0x08, unsigned byte)"));
}

TEST_F(IdxTest, WrongRank) {
  EXPECT_THAT(read_error(kImages, 1), HasSubstr(": rank 3 (expected 1)"));
}

TEST_F(IdxTest, TruncatedHeader) {
  const Bytes cut(kImages.begin(), kImages.begin() + 10);
  EXPECT_THAT(read_error(cut, 3), HasSubstr(": truncated header: 10 bytes, expected 16"));
}

TEST_F(IdxTest, TruncatedData) {
  const Bytes cut(kImages.begin(), kImages.end() - 7);
  EXPECT_THAT(read_error(cut, 3),
              HasSubstr(": truncated: header says 3x2x2 = 12 bytes of data, file has 5"));
}

TEST_F(IdxTest, TruncatedGzipContent) {
  const Bytes cut(kImages.begin(), kImages.end() - 7);
  EXPECT_THAT(read_error(gzip(cut), 3),
              HasSubstr(": truncated: header says 3x2x2 = 12 bytes of data, gzip content has 5"));
}

TEST_F(IdxTest, HeaderPromisingATerabyteIsRejectedWithoutAllocatingIt) {
  const Bytes lying = idx_bytes(0x08, {1000000, 1000, 1000}, kPixels);
  EXPECT_THAT(read_error(lying, 3), HasSubstr(": truncated: header says 1000000x1000x1000 = "
                                              "1000000000000 bytes of data, file has 12"));
  EXPECT_THAT(read_error(gzip(lying), 3), HasSubstr("gzip content has 12"));
}

TEST_F(IdxTest, TrailingData) {
  Bytes longer = kImages;
  longer.push_back(0);
  EXPECT_THAT(read_error(longer, 3),
              HasSubstr(": trailing data: header says 3x2x2 = 12 bytes of data, file has 13"));
  EXPECT_THAT(
      read_error(gzip(longer), 3),
      HasSubstr(": trailing data: header says 3x2x2 = 12 bytes of data, gzip content is longer"));
}

TEST_F(IdxTest, DimensionsThatOverflow) {
  EXPECT_THAT(read_error(idx_bytes(0x08, {0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}, kPixels), 3),
              HasSubstr(": dimensions 4294967295x4294967295x4294967295 overflow"));
  // 2^64 - 2^33 + 1 fits in uint64 but not in the int64 sizes a Dataset uses.
  EXPECT_THAT(read_error(idx_bytes(0x08, {0xFFFFFFFF, 0xFFFFFFFF, 1}, kPixels), 3),
              HasSubstr(": dimensions 4294967295x4294967295x1 overflow"));
}

TEST_F(IdxTest, TruncatedGzipStream) {
  const Bytes gz = gzip(kImages);
  EXPECT_THAT(read_error(Bytes(gz.begin(), gz.end() - 6), 3), HasSubstr(": truncated gzip stream"));
}

TEST_F(IdxTest, TrailingGarbageAfterGzipStream) {
  Bytes gz = gzip(kImages);
  gz.insert(gz.end(), {'j', 'u', 'n', 'k'});
  EXPECT_THAT(read_error(gz, 3), HasSubstr(": 4 bytes of trailing garbage after the gzip stream"));
}

TEST_F(IdxTest, CorruptGzipData) {
  Bytes gz = gzip(kImages);
  gz[3] = 0xFF;  // reserved flag bits in the gzip header
  EXPECT_THAT(read_error(gz, 3), HasSubstr(": corrupt gzip data"));
}

TEST_F(IdxTest, MissingFile) {
  try {
    read_idx(dir_.path() / "absent", 3);
    FAIL() << "no InputError";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("absent: cannot open: No such file or directory"));
  }
}

TEST_F(IdxTest, ImageAndLabelCountsDiffer) {
  const std::string message = dataset_error(kImages, idx_bytes(0x08, {2}, {1, 2}));
  EXPECT_THAT(message, HasSubstr("images: 3 images but 2 labels in "));
}

TEST_F(IdxTest, LabelOutsideTheClasses) {
  EXPECT_THAT(dataset_error(kImages, idx_bytes(0x08, {3}, {1, 10, 2})),
              HasSubstr("labels: label 10 at index 1 is outside [0, 9]"));
}

}  // namespace
}  // namespace bnlab
