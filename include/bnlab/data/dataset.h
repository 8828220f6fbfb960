#pragma once
// A labelled image dataset held as uint8 pixels, scaled to float on the fly per batch.
#include <cstdint>
#include <string>
#include <vector>

namespace bnlab {

struct Dataset {
  std::string name;                    // e.g. "mnist/train"
  std::vector<int64_t> sample_shape;   // e.g. {28, 28}
  std::vector<uint8_t> pixels;         // (size, prod(sample_shape)), row-major
  std::vector<int32_t> labels;         // (size)
  int32_t num_classes = 10;
  // Each pixel is divided by this when a batch is gathered: 255 gives [0, 1] (the notebook's
  // x / 255.), 1 reproduces the notebook's unscaled test set.
  double divide_by = 255.0;

  int64_t size() const { return static_cast<int64_t>(labels.size()); }
  int64_t features() const;  // prod(sample_shape)

  // out: (n, features) = pixels[indices[i]] / divide_by, rounded once from double to float as
  // numpy's float32(x / 255.) does. labels_out: (n) (may be null). Rows split across threads,
  // unless called from inside a parallel region (then the calling thread gathers them all).
  // next: the next batch's n_next indices (or null): whichever thread gathers row i also asks the
  // CPU to fetch the pixels of row next[i], so that a shuffled epoch's next batch comes from cache,
  // not memory. It changes no value.
  void gather(float* out, int32_t* labels_out, const int64_t* indices, int64_t n, const int64_t* next = nullptr,
              int64_t n_next = 0) const;
  // The same for the contiguous range [begin, begin + n), split across threads the same way.
  void gather_range(float* out, int32_t* labels_out, int64_t begin, int64_t n) const;

  // Rows [begin, begin + n) as a new dataset (same divide_by), named name + suffix.
  Dataset slice(int64_t begin, int64_t n, const std::string& suffix) const;
};

}  // namespace bnlab
