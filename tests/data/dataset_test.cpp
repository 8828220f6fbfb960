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

// Float data (a user's float32 images) are gathered as they are, by index and by range, across
// the threading threshold; a divisor other than 1 divides them in double, rounded once.
TEST(Gather, FloatValuesAreUsedAsTheyAre) {
  Dataset d;
  d.name = "floats";
  d.sample_shape = {2, 128};
  d.divide_by = 1.0;
  for (int image = 0; image < 70; ++image) {
    for (int k = 0; k < 256; ++k) d.values.push_back(static_cast<float>(image) - k * 0.37f);
    d.labels.push_back(image % 10);
  }
  const int64_t f = d.features(), n = d.size();
  std::vector<int64_t> order(n);
  std::iota(order.rbegin(), order.rend(), 0);
  std::vector<float> by_index(n * f), by_range(n * f);
  std::vector<int32_t> labels(n);
  d.gather(by_index.data(), labels.data(), order.data(), n);
  d.gather_range(by_range.data(), nullptr, 0, n);
  for (int64_t i = 0; i < n; ++i) {
    ASSERT_EQ(labels[i], d.labels[order[i]]);
    for (int64_t k = 0; k < f; ++k) {
      expect_bits_equal(by_index[i * f + k], d.values[order[i] * f + k], i * f + k);
      expect_bits_equal(by_range[i * f + k], d.values[i * f + k], i * f + k);
    }
  }
  d.divide_by = 3.0;
  d.gather_range(by_range.data(), nullptr, 0, 1);
  expect_bits_equal(by_range[5], static_cast<float>(double(d.values[5]) / 3.0), 5);
  const Dataset tail = d.slice(60, 10, "[tail]");
  EXPECT_EQ(tail.values.size(), static_cast<size_t>(10 * f));
  EXPECT_EQ(tail.values[0], d.values[60 * f]);
  EXPECT_TRUE(tail.pixels.empty());
}

// A sample as grey levels: uint8 pixels as they are, channels averaged; floats stretched.
TEST(GreyLevels, ShowAnySampleAsOnePlane) {
  Dataset bytes;
  bytes.sample_shape = {2, 1, 2};  // (C, H, W)
  bytes.pixels = {10, 20, 30, 41};
  bytes.labels = {0};
  EXPECT_EQ(bytes.grey_levels(0), (std::vector<uint8_t>{20, 30}));
  Dataset floats;
  floats.sample_shape = {1, 3};
  floats.values = {-1.0f, 0.0f, 1.0f};
  floats.labels = {0};
  EXPECT_EQ(floats.grey_levels(0), (std::vector<uint8_t>{0, 127, 255}));
  floats.values = {2.0f, 2.0f, 2.0f};
  EXPECT_EQ(floats.grey_levels(0), (std::vector<uint8_t>{0, 0, 0}));
}

}  // namespace
}  // namespace bnlab
