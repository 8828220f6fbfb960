#pragma once
// A labelled image dataset held as uint8 pixels, scaled to float on the fly per batch, or as
// float32 values (a user's .npz of float32 images) used as they are.
#include <cstdint>
#include <string>
#include <vector>

namespace bnlab {

struct Dataset {
  std::string name;                    // e.g. "mnist/train"
  std::vector<int64_t> sample_shape;   // e.g. {28, 28}
  std::vector<uint8_t> pixels;         // (size, prod(sample_shape)), row-major; empty for float data
  std::vector<float> values;           // (size, prod(sample_shape)) float32 images; empty for uint8 data
  std::vector<int32_t> labels;         // (size)
  int32_t num_classes = 10;
  // Each pixel is divided by this when a batch is gathered: 255 gives [0, 1] (the notebook's
  // x / 255.), 1 reproduces the notebook's unscaled test set. Float data have 1: their values are
  // used as they are.
  double divide_by = 255.0;

  int64_t size() const { return static_cast<int64_t>(labels.size()); }
  int64_t features() const;  // prod(sample_shape)
  bool holds_floats() const { return !values.empty(); }

  // out: (n, features) = pixels[indices[i]] / divide_by, rounded once from double to float as
  // numpy's float32(x / 255.) does (float data: values[indices[i]], divided the same way unless
  // divide_by is 1). labels_out: (n) (may be null). Rows split across threads,
  // unless called from inside a parallel region (then the calling thread gathers them all).
  // next: the next batch's n_next indices (or null): whichever thread gathers row i also asks the
  // CPU to fetch the pixels of row next[i], so that a shuffled epoch's next batch comes from cache,
  // not memory. It changes no value.
  void gather(float* out, int32_t* labels_out, const int64_t* indices, int64_t n, const int64_t* next = nullptr,
              int64_t n_next = 0) const;
  // The same for the contiguous range [begin, begin + n), split across threads the same way.
  void gather_range(float* out, int32_t* labels_out, int64_t begin, int64_t n) const;

  // Sample `row` as (H, W) grey levels 0..255, its last two axes: uint8 pixels as they are (the
  // mean of the channels, rounded down, for (C, H, W) samples), float values stretched from the
  // sample's own range (all 0 when the sample is constant).
  std::vector<uint8_t> grey_levels(int64_t row) const;

  // Rows [begin, begin + n) as a new dataset (same divide_by), named name + suffix.
  Dataset slice(int64_t begin, int64_t n, const std::string& suffix) const;
};

}  // namespace bnlab
