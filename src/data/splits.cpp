#include "bnlab/data/splits.h"

#include <fmt/format.h>

#include "bnlab/core/error.h"
#include "bnlab/data/idx.h"

namespace bnlab {

namespace {
const char* split_name(Split split) { return split == Split::Train ? "train" : "test"; }

std::filesystem::path require_idx_file(const std::filesystem::path& dir, const std::string& name) {
  if (auto file = find_idx_file(dir, name)) return *file;
  throw InputError(fmt::format("{}: no {} or {}.gz", dir.string(), name, name));
}

// Drops the first n rows in place, so that the training set never exists twice in memory.
void drop_front(Dataset& d, int64_t n) {
  if (d.holds_floats())
    d.values.erase(d.values.begin(), d.values.begin() + n * d.features());
  else
    d.pixels.erase(d.pixels.begin(), d.pixels.begin() + n * d.features());
  d.labels.erase(d.labels.begin(), d.labels.begin() + n);
}
}  // namespace

std::optional<std::filesystem::path> find_idx_file(const std::filesystem::path& dir,
                                                   const std::string& file_name) {
  for (const std::string& candidate : {file_name, file_name + ".gz"}) {
    const std::filesystem::path file = dir / candidate;
    if (std::filesystem::is_regular_file(file)) return file;
  }
  return std::nullopt;
}

SplitFiles find_split_files(const std::filesystem::path& dir, Split split) {
  const std::string prefix = split == Split::Train ? "train" : "t10k";
  return {require_idx_file(dir, prefix + "-images-idx3-ubyte"),
          require_idx_file(dir, prefix + "-labels-idx1-ubyte")};
}

Dataset load_split(const std::filesystem::path& dir, const std::string& dataset_name, Split split) {
  const SplitFiles files = find_split_files(dir, split);
  return read_idx_dataset(files.images, files.labels,
                          fmt::format("{}/{}", dataset_name, split_name(split)));
}

int64_t default_validation_size(int64_t train_size) {
  constexpr int64_t kLargeTrainingSet = 50000;
  return train_size >= kLargeTrainingSet ? kValidationSize : train_size / 10;
}

void check_validation_size(int64_t valid, int64_t n, bool valid_flag, const std::string& source) {
  if (valid_flag && valid <= 0) throw InputError(fmt::format("--valid: must be positive, got {}", valid));
  if (valid_flag && valid >= n)
    throw InputError(fmt::format("--valid: {} leaves no training images of the {} in {}", valid, n, source));
  if (valid <= 0)
    throw InputError(fmt::format("{}: {} training images are too few to split off a validation set", source, n));
  if (valid >= n)
    throw InputError(fmt::format("{}: {} training images, but the validation set alone takes {}", source, n, valid));
}

void split_off_validation(DatasetSplits& splits, int64_t valid, bool valid_flag, const std::string& dataset_name,
                          const std::string& source) {
  check_validation_size(valid, splits.train.size(), valid_flag, source);
  splits.valid = splits.train.slice(0, valid, "");
  splits.valid.name = dataset_name + "/valid";
  drop_front(splits.train, valid);
}

DatasetSplits load_splits(const std::filesystem::path& dir, const std::string& dataset_name,
                          std::optional<int64_t> valid) {
  const SplitFiles train_files = find_split_files(dir, Split::Train);
  DatasetSplits splits;
  splits.train = read_idx_dataset(train_files.images, train_files.labels, dataset_name + "/train");
  split_off_validation(splits, valid.value_or(kValidationSize), valid.has_value(), dataset_name,
                       train_files.images.string());
  splits.test = load_split(dir, dataset_name, Split::Test);
  return splits;
}

}  // namespace bnlab
