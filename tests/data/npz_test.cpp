// The .npz reader: archives with stored and deflated members, written by libarchive here and by
// Python's zipfile (numpy.savez's writer) in tests/corpus/npz, and the message for each broken one.
#include "bnlab/data/npz.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "bnlab/core/error.h"
#include "support/npz_files.h"

namespace bnlab {
namespace {

using test::Bytes;
using test::npy_bytes;
using ::testing::HasSubstr;

const std::filesystem::path kCorpus = std::filesystem::path(BNLAB_SOURCE_DIR) / "tests/corpus/npz";

class NpzTest : public ::testing::TestWithParam<bool> {
 protected:
  std::filesystem::path write(const test::NpzMembers& members) {
    const std::filesystem::path file = dir_.path() / "data.npz";
    test::write_npz(file, members, GetParam());
    return file;
  }

  std::string error_of(const test::NpzMembers& members, const std::vector<std::string>& keys) {
    const std::filesystem::path file = write(members);
    try {
      read_npz(file, keys);
    } catch (const InputError& e) {
      EXPECT_THAT(e.what(), ::testing::StartsWith(file.string() + ": "));
      return e.what();
    }
    ADD_FAILURE() << "no InputError";
    return "";
  }

  test::TempDir dir_;
};

TEST_P(NpzTest, ReadsTheArraysAskedFor) {
  const Bytes pixels = {1, 2, 3, 4, 5, 6};
  const auto arrays = read_npz(write({{"readme.txt", {'h', 'i'}},
                                      {"x.npy", npy_bytes("|u1", {2, 3}, pixels)},
                                      {"y.npy", npy_bytes("<i8", {2}, test::bytes_of(std::vector<int64_t>{4, 9}))},
                                      {"unused.npy", npy_bytes("<f4", {1}, Bytes(4))}}),
                               {"x", "y"});
  ASSERT_EQ(arrays.size(), 2u);
  EXPECT_EQ(arrays.at("x").shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(arrays.at("x").bytes, pixels);
  EXPECT_EQ(npy_integers(arrays.at("y"), "y"), (std::vector<int64_t>{4, 9}));
}

TEST_P(NpzTest, ReadsAMemberLargerThanOneReadBlock) {
  Bytes pixels(300000);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i * 7 % 251);
  EXPECT_EQ(read_npz(write({{"x.npy", npy_bytes("|u1", {300, 1000}, pixels)}}), {"x"}).at("x").bytes, pixels);
}

TEST_P(NpzTest, NamesTheMissingKeyAndWhatTheArchiveHolds) {
  EXPECT_THAT(error_of({{"a.npy", npy_bytes("|u1", {1}, {0})}, {"b.npy", npy_bytes("|u1", {1}, {0})}}, {"a", "y_test"}),
              HasSubstr("no array 'y_test' (it holds: a, b)"));
  EXPECT_THAT(error_of({{"notes.txt", {'x'}}}, {"x_train"}), HasSubstr("no array 'x_train' (it holds: no arrays)"));
}

TEST_P(NpzTest, RefusesADuplicateKey) {
  const Bytes member = npy_bytes("|u1", {1}, {0});
  EXPECT_THAT(error_of({{"a.npy", member}, {"a.npy", member}}, {"a"}), HasSubstr("member a.npy appears twice"));
}

TEST_P(NpzTest, NamesTheBrokenMember) {
  EXPECT_THAT(error_of({{"x_train.npy", npy_bytes(">f4", {1}, Bytes(4))}}, {"x_train"}),
              HasSubstr("data.npz: x_train.npy: dtype '>f4' is not supported"));
  EXPECT_THAT(error_of({{"x_train.npy", npy_bytes("|u1", {1000, 1000}, Bytes(10))}}, {"x_train"}),
              HasSubstr("x_train.npy: truncated: shape (1000, 1000) of uint8 needs 1000000 bytes of data, found 10"));
}

INSTANTIATE_TEST_SUITE_P(StoredAndDeflated, NpzTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) { return info.param ? "Deflated" : "Stored"; });

TEST(Npz, ReadsArchivesWrittenByPythonsZipfile) {
  for (const char* name : {"valid.npz", "valid_deflated.npz"}) {
    SCOPED_TRACE(name);
    const auto arrays = read_npz(kCorpus / name, {"x_train", "y_train", "x_test", "y_test"});
    EXPECT_EQ(arrays.at("x_train").shape, (std::vector<int64_t>{12, 4, 4}));
    EXPECT_EQ(arrays.at("x_train").bytes[100], 100);
    EXPECT_EQ(npy_integers(arrays.at("y_test"), "y"), (std::vector<int64_t>{0, 1, 2}));
  }
}

TEST(Npz, RefusesWhatIsNotAZipArchive) {
  test::TempDir dir;
  EXPECT_THROW(read_npz(dir.path() / "nowhere.npz", {"x"}), InputError);
  EXPECT_THROW(read_npz(kCorpus / "not_a_zip.npz", {"x_train"}), InputError);
  EXPECT_THROW(read_npz(kCorpus / "truncated_zip.npz", {"x_train"}), InputError);
  try {
    read_npz(kCorpus / "corrupt_deflate.npz", {"x_train", "y_train", "x_test", "y_test"});
    ADD_FAILURE() << "no InputError";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("corrupt_deflate.npz: "));
  }
}

}  // namespace
}  // namespace bnlab
