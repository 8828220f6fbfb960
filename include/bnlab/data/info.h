#pragma once
// What `bnlab data info` reports about a dataset: its files, sizes, label histograms and pixel
// statistics after scaling.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "bnlab/data/dataset.h"
#include "bnlab/data/splits.h"
#include "bnlab/data/user_data.h"

namespace bnlab {

struct PixelStats {
  double mean = 0.0;  // mean over all pixels of pixel / divide_by (float data: of the values)
  double std = 0.0;   // population standard deviation (numpy's default) of the same values
};

struct SplitInfo {
  std::string name;  // e.g. "mnist/train"
  SplitFiles files;
  int64_t size = 0;
  std::vector<int64_t> sample_shape;  // e.g. {28, 28}
  std::vector<int64_t> label_counts;  // (num_classes): label_counts[c] = #samples labelled c
  PixelStats pixels;
};

struct DataInfo {
  std::string dataset;  // e.g. "mnist"
  std::filesystem::path dir;
  double divide_by = 255.0;              // the scaling the pixel statistics are taken after
  int64_t valid_size = kValidationSize;  // the first valid_size training images form valid
  SplitInfo train;                       // all training images, before the validation split
  SplitInfo test;
  std::string layout;                    // data of the user's own: how the image axes were read
  bool floats = false;                   // float32 images, used as they are
};

// Mean and std of pixel / d.divide_by over every pixel of d, computed exactly from a histogram
// (float data: over the values, in double).
PixelStats pixel_stats(const Dataset& d);

// counts[c] = number of samples of d labelled c, for c in [0, d.num_classes).
std::vector<int64_t> label_histogram(const Dataset& d);

// Loads the train and test splits from dir and describes them. Throws InputError as load_split.
DataInfo data_info(const std::filesystem::path& dir, const std::string& dataset_name);

// Describes a dataset of the user's own; valid_size as user_splits takes it.
DataInfo data_info(const UserDataset& data, std::optional<int64_t> valid);

}  // namespace bnlab
