// Integration tests on the real datasets. MNIST is read from the cache (resolve_data_root(), so
// $BNLAB_DATA is honoured; `bnlab data fetch` puts it there); Fashion-MNIST is fetched from
// Debian's dataset-fashion-mnist into a temporary cache. Missing data skip the tests, unless
// BNLAB_REQUIRE_DATA=1 makes them fail.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "bnlab/data/cache.h"
#include "bnlab/data/fetch.h"
#include "bnlab/data/info.h"
#include "bnlab/data/splits.h"
#include "support/data_files.h"

namespace bnlab {
namespace {

namespace fs = std::filesystem;

bool data_required() {
  const char* value = std::getenv("BNLAB_REQUIRE_DATA");
  return value != nullptr && std::strcmp(value, "1") == 0;
}

bool has_all_idx_files(const fs::path& dir) {
  return std::all_of(kIdxFileNames.begin(), kIdxFileNames.end(),
                     [&](const char* name) { return find_idx_file(dir, name).has_value(); });
}

#define SKIP_OR_FAIL_WITHOUT(condition, message)                                 \
  if (!(condition)) {                                                            \
    if (data_required()) FAIL() << (message);                                    \
    GTEST_SKIP() << (message) << " (BNLAB_REQUIRE_DATA=1 makes this a failure)"; \
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

TEST(RealFashionMnist, DebianFilesMatchTheKnownChecksums) {
  SKIP_OR_FAIL_WITHOUT(
      has_all_idx_files(kDebianFashionMnistDir),
      std::string("Debian's dataset-fashion-mnist is not installed in ") + kDebianFashionMnistDir);
  test::TempDir root;
  FetchOptions options;
  const FetchResult result = fetch_dataset("fashion-mnist", root.path(), options);
  const DataInfo info = data_info(result.dir, "fashion-mnist");
  EXPECT_EQ(info.train.size, 60000);
  EXPECT_EQ(info.test.size, 10000);
  EXPECT_EQ(info.train.label_counts, std::vector<int64_t>(10, 6000));
  EXPECT_EQ(info.test.label_counts, std::vector<int64_t>(10, 1000));
}

}  // namespace
}  // namespace bnlab
