#pragma once
// Loading an MNIST-style dataset from a directory of IDX files, and splitting it as the
// notebook does: x_valid, x_train = x_train[:5000], x_train[5000:].
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "bnlab/data/dataset.h"

namespace bnlab {

enum class Split { Train, Test };

// The first kValidationSize training images form the validation set.
inline constexpr int64_t kValidationSize = 5000;

struct SplitFiles {
  std::filesystem::path images;
  std::filesystem::path labels;
};

struct DatasetSplits {
  Dataset train;  // training images [kValidationSize, 60000)
  Dataset valid;  // training images [0, kValidationSize)
  Dataset test;
};

// dir/file_name if it exists, else dir/file_name.gz if that exists.
std::optional<std::filesystem::path> find_idx_file(const std::filesystem::path& dir,
                                                   const std::string& file_name);

// The images and labels files of a split (train-* or t10k-*), raw or gzip'd. Throws InputError
// naming the directory and the missing file.
SplitFiles find_split_files(const std::filesystem::path& dir, Split split);

// The whole split (60,000 training or 10,000 test images for MNIST) as "<dataset_name>/train" or
// "<dataset_name>/test", pixels as uint8 with divide_by = 255.
Dataset load_split(const std::filesystem::path& dir, const std::string& dataset_name, Split split);

// Train, valid and test as above, named "<dataset_name>/train", ".../valid", ".../test". Throws
// InputError when the training set has no more than kValidationSize images.
DatasetSplits load_splits(const std::filesystem::path& dir, const std::string& dataset_name);

}  // namespace bnlab
