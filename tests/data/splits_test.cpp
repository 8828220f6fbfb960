#include "bnlab/data/splits.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "bnlab/core/error.h"
#include "bnlab/data/info.h"
#include "support/data_files.h"

namespace bnlab {
namespace {

using ::testing::HasSubstr;

constexpr uint32_t kTrainSize = kValidationSize + 20;
constexpr uint32_t kTestSize = 30;

class SplitsTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    test::write_dataset(test::make_fake_dataset(kTrainSize, kTestSize), dir_.path(), GetParam());
  }
  test::TempDir dir_;
};

TEST_P(SplitsTest, ValidIsTheFirst5000TrainingImages) {
  const Dataset full = load_split(dir_.path(), "toy", Split::Train);
  const DatasetSplits s = load_splits(dir_.path(), "toy");
  ASSERT_EQ(s.valid.size(), kValidationSize);
  ASSERT_EQ(s.train.size(), kTrainSize - kValidationSize);
  EXPECT_EQ(s.test.size(), kTestSize);
  EXPECT_EQ(s.train.name, "toy/train");
  EXPECT_EQ(s.valid.name, "toy/valid");
  EXPECT_EQ(s.test.name, "toy/test");
  const int64_t f = full.features();
  EXPECT_TRUE(std::equal(s.valid.pixels.begin(), s.valid.pixels.end(), full.pixels.begin()));
  EXPECT_TRUE(std::equal(s.train.pixels.begin(), s.train.pixels.end(),
                         full.pixels.begin() + kValidationSize * f));
  EXPECT_EQ(s.train.labels[0], full.labels[kValidationSize]);
  EXPECT_EQ(s.valid.labels.back(), full.labels[kValidationSize - 1]);
  for (const Dataset* d : {&s.train, &s.valid, &s.test}) {
    EXPECT_EQ(d->divide_by, 255.0);
    EXPECT_EQ(d->sample_shape, (std::vector<int64_t>{2, 2}));
  }
}

TEST_P(SplitsTest, DataInfoDescribesBothSplits) {
  const DataInfo info = data_info(dir_.path(), "toy");
  EXPECT_EQ(info.train.name, "toy/train");
  EXPECT_EQ(info.train.size, kTrainSize);
  EXPECT_EQ(info.test.size, kTestSize);
  EXPECT_EQ(info.valid_size, kValidationSize);
  EXPECT_EQ(info.train.files.images.parent_path(), dir_.path());
  EXPECT_EQ(info.test.label_counts, (std::vector<int64_t>{3, 3, 3, 3, 3, 3, 3, 3, 3, 3}));
  EXPECT_EQ(info.train.label_counts[0], kTrainSize / 10);
}

INSTANTIATE_TEST_SUITE_P(RawAndGzip, SplitsTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Gzip" : "Raw"; });

TEST(Splits, PrefersRawFilesAndFallsBackToGzip) {
  test::TempDir dir;
  test::write_file(dir.path() / "t10k-images-idx3-ubyte.gz", {1});
  EXPECT_EQ(find_idx_file(dir.path(), "t10k-images-idx3-ubyte"),
            dir.path() / "t10k-images-idx3-ubyte.gz");
  test::write_file(dir.path() / "t10k-images-idx3-ubyte", {1});
  EXPECT_EQ(find_idx_file(dir.path(), "t10k-images-idx3-ubyte"),
            dir.path() / "t10k-images-idx3-ubyte");
  EXPECT_EQ(find_idx_file(dir.path(), "t10k-labels-idx1-ubyte"), std::nullopt);
}

TEST(Splits, MissingFileNamesTheDirectoryAndBothNames) {
  test::TempDir dir;
  try {
    load_splits(dir.path(), "toy");
    FAIL() << "no InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              dir.path().string() + ": no train-images-idx3-ubyte or train-images-idx3-ubyte.gz");
  }
}

TEST(Splits, TrainingSetTooSmallToSplit) {
  test::TempDir dir;
  test::write_dataset(test::make_fake_dataset(kValidationSize, 10), dir.path(), false);
  EXPECT_THROW(load_splits(dir.path(), "toy"), InputError);
}

TEST(PixelStats, MeanAndPopulationStdAfterScaling) {
  Dataset d;
  d.sample_shape = {2};
  d.pixels = {0, 255, 0, 255};
  d.labels = {0, 1};
  d.divide_by = 255.0;
  const PixelStats stats = pixel_stats(d);
  EXPECT_DOUBLE_EQ(stats.mean, 0.5);
  EXPECT_DOUBLE_EQ(stats.std, 0.5);
  d.divide_by = 1.0;
  EXPECT_DOUBLE_EQ(pixel_stats(d).mean, 127.5);
}

TEST(LabelHistogram, RejectsLabelsOutsideTheClasses) {
  Dataset d;
  d.name = "bad";
  d.labels = {1, 12};
  EXPECT_THROW(label_histogram(d), InputError);
}

}  // namespace
}  // namespace bnlab
