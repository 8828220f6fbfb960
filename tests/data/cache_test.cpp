// Where the dataset cache is (explicit folder, $BNLAB_DATA, $XDG_CACHE_HOME, ~/.cache) and its folder per dataset.
#include "bnlab/data/cache.h"

#include <gtest/gtest.h>

#include <optional>

#include "bnlab/core/error.h"
#include "support/data_files.h"

namespace bnlab {
namespace {

TEST(DataRoot, ExplicitDirectoryWins) {
  test::ScopedEnv env;
  env.set("BNLAB_DATA", "/from/env");
  EXPECT_EQ(resolve_data_root(std::filesystem::path("/explicit")), "/explicit");
}

TEST(DataRoot, ThenBnlabData) {
  test::ScopedEnv env;
  env.set("BNLAB_DATA", "/from/env");
  env.set("XDG_CACHE_HOME", "/xdg");
  EXPECT_EQ(resolve_data_root(), "/from/env");
}

TEST(DataRoot, ThenXdgCacheHome) {
  test::ScopedEnv env;
  env.set("BNLAB_DATA", "");
  env.set("XDG_CACHE_HOME", "/xdg");
  EXPECT_EQ(resolve_data_root(std::nullopt), "/xdg/bnlab");
}

TEST(DataRoot, ThenHomeCacheIgnoringARelativeXdg) {
  test::ScopedEnv env;
  env.set("BNLAB_DATA", nullptr);
  env.set("XDG_CACHE_HOME", "relative");
  env.set("HOME", "/home/u");
  EXPECT_EQ(resolve_data_root(), "/home/u/.cache/bnlab");
}

TEST(DataRoot, NoHomeIsAnInputError) {
  test::ScopedEnv env;
  env.set("BNLAB_DATA", nullptr);
  env.set("XDG_CACHE_HOME", nullptr);
  env.set("HOME", nullptr);
  EXPECT_THROW(resolve_data_root(), InputError);
}

TEST(DatasetDir, OneFolderPerKnownDataset) {
  EXPECT_EQ(dataset_dir("/root", "mnist"), "/root/mnist");
  EXPECT_EQ(dataset_dir("/root", "fashion-mnist"), "/root/fashion-mnist");
  EXPECT_THROW(dataset_dir("/root", "cifar10"), InputError);
}

}  // namespace
}  // namespace bnlab
