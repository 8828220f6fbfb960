#pragma once
// The real datasets in the data tests. MNIST is read from the cache (resolve_data_root(), so
// $BNLAB_DATA is honoured; `bnlab data fetch` puts it there); Fashion-MNIST is fetched from
// Debian's dataset-fashion-mnist into a temporary cache. Missing data skip the tests, unless
// BNLAB_REQUIRE_DATA=1 makes them fail.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "bnlab/data/catalog.h"
#include "bnlab/data/splits.h"

namespace bnlab::test {

inline bool data_required() {
  const char* value = std::getenv("BNLAB_REQUIRE_DATA");
  return value != nullptr && std::strcmp(value, "1") == 0;
}

inline bool has_all_idx_files(const std::filesystem::path& dir) {
  return std::all_of(kIdxFileNames.begin(), kIdxFileNames.end(),
                     [&](const char* name) { return find_idx_file(dir, name).has_value(); });
}

}  // namespace bnlab::test

// Skips the test when `condition` does not hold, or fails it under BNLAB_REQUIRE_DATA=1.
#define SKIP_OR_FAIL_WITHOUT(condition, message)                                 \
  if (!(condition)) {                                                            \
    if (::bnlab::test::data_required()) FAIL() << (message);                     \
    GTEST_SKIP() << (message) << " (BNLAB_REQUIRE_DATA=1 makes this a failure)"; \
  }
