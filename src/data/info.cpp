#include "bnlab/data/info.h"

#include <array>
#include <cmath>

#include "bnlab/core/error.h"

namespace bnlab {

namespace {
SplitInfo describe_split(const std::filesystem::path& dir, const std::string& dataset_name,
                         Split split) {
  SplitInfo info;
  info.files = find_split_files(dir, split);
  const Dataset d = load_split(dir, dataset_name, split);
  info.name = d.name;
  info.size = d.size();
  info.sample_shape = d.sample_shape;
  info.label_counts = label_histogram(d);
  info.pixels = pixel_stats(d);
  return info;
}
}  // namespace

PixelStats pixel_stats(const Dataset& d) {
  std::array<int64_t, 256> counts{};
  for (uint8_t p : d.pixels) ++counts[p];
  const auto n = static_cast<double>(d.pixels.size());
  PixelStats stats;
  if (n == 0) return stats;
  for (int v = 0; v < 256; ++v) stats.mean += static_cast<double>(counts[v]) * (v / d.divide_by);
  stats.mean /= n;
  double sum_sq = 0.0;
  for (int v = 0; v < 256; ++v) {
    const double centred = v / d.divide_by - stats.mean;
    sum_sq += static_cast<double>(counts[v]) * centred * centred;
  }
  stats.std = std::sqrt(sum_sq / n);
  return stats;
}

std::vector<int64_t> label_histogram(const Dataset& d) {
  std::vector<int64_t> counts(static_cast<size_t>(d.num_classes), 0);
  for (int32_t y : d.labels) {
    if (y < 0 || y >= d.num_classes)
      throw InputError("dataset " + d.name + ": label " + std::to_string(y) + " is outside [0, " +
                       std::to_string(d.num_classes - 1) + "]");
    ++counts[static_cast<size_t>(y)];
  }
  return counts;
}

DataInfo data_info(const std::filesystem::path& dir, const std::string& dataset_name) {
  DataInfo info;
  info.dataset = dataset_name;
  info.dir = dir;
  info.train = describe_split(dir, dataset_name, Split::Train);
  info.test = describe_split(dir, dataset_name, Split::Test);
  return info;
}

}  // namespace bnlab
