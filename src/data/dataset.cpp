#include "bnlab/data/dataset.h"

#include <array>
#include <cstring>

#include "bnlab/error.h"

namespace bnlab {

int64_t Dataset::features() const {
  int64_t f = 1;
  for (int64_t d : sample_shape) f *= d;
  return f;
}

namespace {
// The 256 possible scaled pixel values, float(double(p) / divide_by), made once per gather call.
std::array<float, 256> scaled_table(double divide_by) {
  std::array<float, 256> t{};
  for (int p = 0; p < 256; ++p) t[p] = static_cast<float>(p / divide_by);
  return t;
}
}  // namespace

void Dataset::gather(float* out, int32_t* labels_out, const int64_t* indices, int64_t n) const {
  const int64_t f = features();
  const std::array<float, 256> table = scaled_table(divide_by);
  // Rows split across threads (a batch of 64 MNIST images is 50,176 pixels).
#pragma omp parallel for schedule(static) if (n * f > 16384)
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t* src = pixels.data() + indices[i] * f;
    float* dst = out + i * f;
    for (int64_t k = 0; k < f; ++k) dst[k] = table[src[k]];  // dst[k] = src[k] / divide_by
    if (labels_out) labels_out[i] = labels[indices[i]];
  }
}

void Dataset::gather_range(float* out, int32_t* labels_out, int64_t begin, int64_t n) const {
  const int64_t f = features();
  const std::array<float, 256> table = scaled_table(divide_by);
  const uint8_t* src = pixels.data() + begin * f;
  for (int64_t k = 0; k < n * f; ++k) out[k] = table[src[k]];  // out[k] = src[k] / divide_by
  if (labels_out) std::memcpy(labels_out, labels.data() + begin, n * sizeof(int32_t));
}

Dataset Dataset::slice(int64_t begin, int64_t n, const std::string& suffix) const {
  if (begin < 0 || n < 0 || begin + n > size())
    throw InputError("dataset " + name + ": slice [" + std::to_string(begin) + ", " +
                     std::to_string(begin + n) + ") is outside its " + std::to_string(size()) +
                     " samples");
  Dataset d;
  d.name = name + suffix;
  d.sample_shape = sample_shape;
  d.num_classes = num_classes;
  d.divide_by = divide_by;
  const int64_t f = features();
  d.pixels.assign(pixels.begin() + begin * f, pixels.begin() + (begin + n) * f);
  d.labels.assign(labels.begin() + begin, labels.begin() + begin + n);
  return d;
}

}  // namespace bnlab
