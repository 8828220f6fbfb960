// Batches from a Dataset: gather (rows by index, the shuffled path) and gather_range give each
// pixel p as p / divide_by rounded once from double to float, for every byte value and divisor,
// whichever way they convert (vector division where it is exact, else a table).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <numeric>

#include "bnlab/data/dataset.h"

namespace bnlab {
namespace {

Dataset every_byte_value(double divide_by) {
  Dataset d;
  d.name = "bytes";
  d.sample_shape = {16, 16};  // 256 pixels per image: each image holds every value once
  d.num_classes = 10;
  d.divide_by = divide_by;
  for (int image = 0; image < 70; ++image) {  // 70 x 256 pixels: above the threading threshold
    for (int p = 0; p < 256; ++p) d.pixels.push_back(static_cast<uint8_t>((p + 37 * image) % 256));
    d.labels.push_back(image % 10);
  }
  return d;
}

void expect_bits_equal(float got, float want, int64_t at) {
  uint32_t a, b;
  std::memcpy(&a, &got, 4);
  std::memcpy(&b, &want, 4);
  ASSERT_EQ(a, b) << "element " << at << ": " << got << " vs " << want;
}

TEST(Gather, EveryPixelIsDividedAndRoundedOnce) {
  for (double divide_by : {255.0, 1.0, 3.7, 254.9, 1e-3}) {
    SCOPED_TRACE(divide_by);
    const Dataset d = every_byte_value(divide_by);
    const int64_t f = d.features(), n = d.size();
    std::vector<int64_t> order(n);
    std::iota(order.rbegin(), order.rend(), 0);  // reversed
    std::vector<float> by_index(n * f), by_range(n * f);
    std::vector<int32_t> labels(n);
    d.gather(by_index.data(), labels.data(), order.data(), n);
    d.gather_range(by_range.data(), nullptr, 0, n);
    for (int64_t i = 0; i < n; ++i) {
      EXPECT_EQ(labels[i], d.labels[order[i]]);
      for (int64_t k = 0; k < f; ++k) {
        expect_bits_equal(by_index[i * f + k], static_cast<float>(d.pixels[order[i] * f + k] / divide_by), i * f + k);
        expect_bits_equal(by_range[i * f + k], static_cast<float>(d.pixels[i * f + k] / divide_by), i * f + k);
      }
    }
  }
}

// Prefetching the next batch (fit passes the next batch's indices) changes nothing gathered,
// whether the next batch is longer, shorter (the epoch's last) or empty, and at the data's edges.
TEST(Gather, PrefetchingTheNextBatchChangesNothing) {
  const Dataset d = every_byte_value(255.0);
  const int64_t f = d.features(), n = d.size();
  std::vector<int64_t> order(n);
  std::iota(order.rbegin(), order.rend(), 0);
  std::vector<float> plain((n + 1) * f), prefetched((n + 1) * f);  // all n rows: above the threading threshold
  std::vector<int32_t> labels_plain(n), labels_prefetched(n);
  d.gather(plain.data(), labels_plain.data(), order.data(), n);
  for (int64_t n_next : {int64_t{0}, int64_t{1}, int64_t{30}, n}) {
    SCOPED_TRACE(n_next);
    std::vector<int64_t> next(n_next);  // the last row (its pixels end the buffer) and the first, in turn
    for (int64_t i = 0; i < n_next; ++i) next[i] = i % 2 ? 0 : n - 1;
    std::fill(prefetched.begin(), prefetched.end(), -1.0f);
    d.gather(prefetched.data(), labels_prefetched.data(), order.data(), n, next.data(), n_next);
    EXPECT_EQ(std::memcmp(prefetched.data(), plain.data(), n * f * sizeof(float)), 0);
    EXPECT_EQ(labels_prefetched, labels_plain);
    EXPECT_EQ(prefetched[n * f], -1.0f) << "wrote past the batch";
  }
}

}  // namespace
}  // namespace bnlab
