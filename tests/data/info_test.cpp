// What `bnlab data info` reports: both splits of a fake folder (raw or gzip'd), pixel statistics,
// label histograms, and the real MNIST's known statistics.
#include "bnlab/data/info.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "bnlab/core/error.h"
#include "bnlab/data/cache.h"
#include "support/data_files.h"
#include "support/real_data.h"

namespace bnlab {
namespace {

namespace fs = std::filesystem;
using test::has_all_idx_files;

class DataInfoTest : public test::FakeDatasetDir {};

TEST_P(DataInfoTest, DescribesBothSplits) {
  const DataInfo info = data_info(dir_.path(), "toy");
  EXPECT_EQ(info.train.name, "toy/train");
  EXPECT_EQ(info.train.size, kTrainSize);
  EXPECT_EQ(info.test.size, kTestSize);
  EXPECT_EQ(info.valid_size, kValidationSize);
  EXPECT_EQ(info.train.files.images.parent_path(), dir_.path());
  EXPECT_EQ(info.test.label_counts, (std::vector<int64_t>{3, 3, 3, 3, 3, 3, 3, 3, 3, 3}));
  EXPECT_EQ(info.train.label_counts[0], kTrainSize / 10);
}

INSTANTIATE_TEST_SUITE_P(RawAndGzip, DataInfoTest, ::testing::Values(false, true), test::raw_or_gzip);

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

double round4(double x) { return std::round(x * 1e4) / 1e4; }

TEST(RealMnist, MatchesTheKnownStatistics) {
  const fs::path dir = dataset_dir(resolve_data_root(), "mnist");
  SKIP_OR_FAIL_WITHOUT(has_all_idx_files(dir),
                       "MNIST is not in " + dir.string() + ": run `bnlab data fetch`");
  const DataInfo info = data_info(dir, "mnist");
  EXPECT_EQ(info.train.size, 60000);
  EXPECT_EQ(info.test.size, 10000);
  EXPECT_EQ(info.train.sample_shape, (std::vector<int64_t>{28, 28}));
  EXPECT_EQ(info.train.label_counts,
            (std::vector<int64_t>{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949}));
  EXPECT_EQ(round4(info.train.pixels.mean), 0.1307);
  EXPECT_EQ(round4(info.train.pixels.std), 0.3081);
}

}  // namespace
}  // namespace bnlab
