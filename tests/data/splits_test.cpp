// Loading the splits of an IDX folder (raw or gzip'd) as the seed notebook splits them, on fake data
// and on the real MNIST.
#include "bnlab/data/splits.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "bnlab/core/error.h"
#include "bnlab/data/cache.h"
#include "support/data_files.h"
#include "support/real_data.h"

namespace bnlab {
namespace {

namespace fs = std::filesystem;
using test::has_all_idx_files;
using ::testing::HasSubstr;

class SplitsTest : public test::FakeDatasetDir {};

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

INSTANTIATE_TEST_SUITE_P(RawAndGzip, SplitsTest, ::testing::Values(false, true), test::raw_or_gzip);

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

TEST(RealMnist, SplitsAsTheSeedNotebook) {
  const fs::path dir = dataset_dir(resolve_data_root(), "mnist");
  SKIP_OR_FAIL_WITHOUT(has_all_idx_files(dir),
                       "MNIST is not in " + dir.string() + ": run `bnlab data fetch`");
  const Dataset full_train = load_split(dir, "mnist", Split::Train);
  const DatasetSplits s = load_splits(dir, "mnist");
  EXPECT_EQ(s.train.size(), 55000);
  EXPECT_EQ(s.valid.size(), 5000);
  EXPECT_EQ(s.test.size(), 10000);
  EXPECT_EQ(std::vector<int32_t>(s.test.labels.begin() + 5, s.test.labels.begin() + 12),
            (std::vector<int32_t>{1, 4, 9, 5, 9, 0, 6}));
  const auto f = static_cast<size_t>(full_train.features());
  EXPECT_TRUE(
      std::equal(s.valid.pixels.begin(), s.valid.pixels.begin() + f, full_train.pixels.begin()));
  EXPECT_EQ(s.valid.labels[0], full_train.labels[0]);
  EXPECT_TRUE(std::equal(s.train.pixels.begin(), s.train.pixels.begin() + f,
                         full_train.pixels.begin() + 5000 * f));
  EXPECT_EQ(s.train.divide_by, 255.0);
  EXPECT_EQ(s.test.divide_by, 255.0);
}

}  // namespace
}  // namespace bnlab
