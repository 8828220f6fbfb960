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

// The validation set's default size for a training set of your own of n images: kValidationSize,
// or a tenth of n when n is under 50,000.
int64_t default_validation_size(int64_t train_size);

// Throws InputError (naming --valid when valid_flag, else source, the training images' file)
// unless 0 < valid < train_size.
void check_validation_size(int64_t valid, int64_t train_size, bool valid_flag, const std::string& source);

// Moves the first `valid` images of splits.train into splits.valid, named "<dataset_name>/valid",
// after check_validation_size.
void split_off_validation(DatasetSplits& splits, int64_t valid, bool valid_flag, const std::string& dataset_name,
                          const std::string& source);

// Train, valid and test as above, named "<dataset_name>/train", ".../valid", ".../test"; valid
// holds the first `valid` training images (default kValidationSize). Throws InputError when the
// training set has no more images than that.
DatasetSplits load_splits(const std::filesystem::path& dir, const std::string& dataset_name,
                          std::optional<int64_t> valid = std::nullopt);

}  // namespace bnlab
