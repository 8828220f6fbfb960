#include "bnlab/data/dataset.h"

#include <omp.h>

#include <algorithm>
#include <array>

#include "bnlab/core/error.h"

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

// Whether float division by float(divide_by) gives the table's values (rounded once from double)
// for every pixel value: then rows convert with vector division instead of table lookups. True for
// 255 and 1; checked, not assumed, for any other divisor.
bool float_division_is_exact(const std::array<float, 256>& table, double divide_by) {
  const float d = static_cast<float>(divide_by);
  for (int p = 0; p < 256; ++p)
    if (static_cast<float>(p) / d != table[p]) return false;
  return true;
}

// dst[k] = src[k] / divide_by for one row of f pixels.
void scale_row(float* dst, const uint8_t* src, int64_t f, const std::array<float, 256>& table, bool exact,
               float divide_by) {
  if (exact) {
#pragma omp simd
    for (int64_t k = 0; k < f; ++k) dst[k] = static_cast<float>(src[k]) / divide_by;
  } else {
    for (int64_t k = 0; k < f; ++k) dst[k] = table[src[k]];
  }
}

// The cache lines of the f pixels at row, fetched ahead into this core's cache.
void prefetch_row(const uint8_t* row, int64_t f) {
  constexpr int64_t kLine = 64;
  const auto first = reinterpret_cast<uintptr_t>(row) / kLine, last = reinterpret_cast<uintptr_t>(row + f - 1) / kLine;
  for (uintptr_t line = first; line <= last; ++line) __builtin_prefetch(reinterpret_cast<const void*>(line * kLine), 0, 3);
}

// out[i] = pixels of row source(i) / divide_by, and labels_out[i] its label, for i < n. Rows split
// across threads (a batch of 64 MNIST images is 50,176 pixels), unless the caller is one thread of
// a region (a training plan gathering a batch per thread: model/plan.h). next (n_next indices, or
// null): row next[i] is prefetched by the thread that gathers row i now, which is the thread that
// gathers it in the next call with the same n (static schedule).
// The same for float data: out[i] = values of row source(i), divided by divide_by in double and
// rounded once, unless divide_by is 1 (then copied as they are).
template <class SourceRow>
void gather_float_rows(const Dataset& data, float* out, int32_t* labels_out, int64_t n, SourceRow source) {
  const int64_t f = data.features();
  const double d = data.divide_by;
#pragma omp parallel for schedule(static) if (n * f > 16384 && !omp_in_parallel())
  for (int64_t i = 0; i < n; ++i) {
    const int64_t row = source(i);
    const float* src = data.values.data() + row * f;
    if (d == 1.0)
      std::copy(src, src + f, out + i * f);
    else
      for (int64_t k = 0; k < f; ++k) out[i * f + k] = static_cast<float>(src[k] / d);
    if (labels_out) labels_out[i] = data.labels[row];
  }
}

template <class SourceRow>
void gather_rows(const Dataset& data, float* out, int32_t* labels_out, int64_t n, SourceRow source,
                 const int64_t* next = nullptr, int64_t n_next = 0) {
  if (data.holds_floats()) return gather_float_rows(data, out, labels_out, n, source);
  const int64_t f = data.features();
  const std::array<float, 256> table = scaled_table(data.divide_by);
  const bool exact = float_division_is_exact(table, data.divide_by);
  const float d = static_cast<float>(data.divide_by);
#pragma omp parallel for schedule(static) if (n * f > 16384 && !omp_in_parallel())
  for (int64_t i = 0; i < n; ++i) {
    const int64_t row = source(i);
    scale_row(out + i * f, data.pixels.data() + row * f, f, table, exact, d);
    if (labels_out) labels_out[i] = data.labels[row];
    if (i < n_next && f > 0) prefetch_row(data.pixels.data() + next[i] * f, f);
  }
}
}  // namespace

void Dataset::gather(float* out, int32_t* labels_out, const int64_t* indices, int64_t n, const int64_t* next,
                     int64_t n_next) const {
  gather_rows(*this, out, labels_out, n, [&](int64_t i) { return indices[i]; }, next, next ? n_next : 0);
}

void Dataset::gather_range(float* out, int32_t* labels_out, int64_t begin, int64_t n) const {
  gather_rows(*this, out, labels_out, n, [&](int64_t i) { return begin + i; });
}

std::vector<uint8_t> Dataset::grey_levels(int64_t row) const {
  const int64_t f = features();
  const int64_t plane = sample_shape.size() >= 2 ? sample_shape[sample_shape.size() - 2] * sample_shape.back() : f;
  const int64_t channels = plane > 0 ? f / plane : 0;
  std::vector<double> sum(static_cast<size_t>(plane), 0.0);
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t k = 0; k < plane; ++k)
      sum[k] += holds_floats() ? values[row * f + c * plane + k] : pixels[row * f + c * plane + k];
  std::vector<uint8_t> grey(static_cast<size_t>(plane), 0);
  if (!holds_floats()) {
    for (int64_t k = 0; k < plane; ++k) grey[k] = static_cast<uint8_t>(sum[k] / channels);
    return grey;
  }
  const auto [lo, hi] = std::minmax_element(sum.begin(), sum.end());
  if (plane == 0 || *hi == *lo) return grey;
  for (int64_t k = 0; k < plane; ++k) grey[k] = static_cast<uint8_t>(255.0 * (sum[k] - *lo) / (*hi - *lo));
  return grey;
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
  if (holds_floats())
    d.values.assign(values.begin() + begin * f, values.begin() + (begin + n) * f);
  else
    d.pixels.assign(pixels.begin() + begin * f, pixels.begin() + (begin + n) * f);
  d.labels.assign(labels.begin() + begin, labels.begin() + begin + n);
  return d;
}

}  // namespace bnlab
