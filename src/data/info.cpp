#include "bnlab/data/info.h"

#include <array>
#include <cmath>

#include "bnlab/core/error.h"

namespace bnlab {

namespace {
SplitInfo describe(const Dataset& d, const SplitFiles& files) {
  SplitInfo info;
  info.files = files;
  info.name = d.name;
  info.size = d.size();
  info.sample_shape = d.sample_shape;
  info.label_counts = label_histogram(d);
  info.pixels = pixel_stats(d);
  return info;
}

SplitInfo describe_split(const std::filesystem::path& dir, const std::string& dataset_name, Split split) {
  return describe(load_split(dir, dataset_name, split), find_split_files(dir, split));
}

PixelStats float_stats(const std::vector<float>& values) {
  PixelStats stats;
  if (values.empty()) return stats;
  double sum = 0.0;
  for (float v : values) sum += v;
  stats.mean = sum / static_cast<double>(values.size());
  double sum_sq = 0.0;
  for (float v : values) sum_sq += (v - stats.mean) * (v - stats.mean);
  stats.std = std::sqrt(sum_sq / static_cast<double>(values.size()));
  return stats;
}
}  // namespace

PixelStats pixel_stats(const Dataset& d) {
  if (d.holds_floats()) return float_stats(d.values);
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

DataInfo data_info(const UserDataset& data, std::optional<int64_t> valid) {
  DataInfo info;
  info.dataset = data.name;
  info.dir = data.train_files.images.parent_path();
  info.divide_by = data.train.divide_by;
  info.valid_size = valid.value_or(default_validation_size(data.train.size()));
  info.train = describe(data.train, data.train_files);
  info.test = describe(data.test, data.test_files);
  info.layout = data.layout;
  info.floats = data.train.holds_floats();
  return info;
}

}  // namespace bnlab
