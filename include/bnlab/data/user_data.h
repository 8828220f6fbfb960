#pragma once
// The user's own data, named by --dataset instead of a dataset bnlab knows: a numpy .npz file with
// x_train, y_train, x_test and y_test (the layout of Keras's mnist.npz), or a folder of IDX files
// (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-..., raw or gzip'd).
//
// Images are uint8 (divided by 255 as MNIST's) or float32 (used as they are: divide_by 1), of
// shape (N, H, W), (N, H, W, C) or (N, C, H, W); bnlab's samples are channels first, so
// channels-last images are transposed to (N, C, H, W) on load. Labels are integers of any width,
// shape (N) or (N, 1); num_classes is the largest label + 1.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "bnlab/data/dataset.h"
#include "bnlab/data/splits.h"

namespace bnlab {

// Which axis of rank-4 images holds the channels. Auto: channels last when the last size is 1, 3
// or 4 and the second is not; otherwise channels first. Rank-3 images are (N, H, W), one channel.
enum class ChannelAxis { Auto, First, Last };

// "auto", "first", "last"; anything else is an InputError naming --channels.
ChannelAxis parse_channel_axis(const std::string& text);

// Labels above this are refused (a model with that many outputs is not what the file meant).
inline constexpr int64_t kMaxClasses = 65536;

// Whether --dataset names a path of the user's own (a name ending in .npz, holding a '/', or an
// existing folder) rather than one of known_datasets().
bool is_user_dataset(const std::string& dataset);

// How the axes of an images array of `shape` map to samples, by the rule above.
struct ImageLayout {
  bool channels_last = false;     // stored (N, H, W, C): transposed on load
  std::vector<int64_t> sample;    // a sample's shape as bnlab holds it: (H, W) or (C, H, W)
  std::string description;        // e.g. "(N, H, W, C) = (600, 28, 28, 3): channels last (auto), transposed to (N, C, H, W)"
};
ImageLayout image_layout(const std::vector<int64_t>& shape, ChannelAxis axis, const std::string& source);

struct UserDataset {
  std::string name;    // the file or folder name, e.g. "mnist.npz"
  Dataset train;       // every training image, before the validation split
  Dataset test;
  SplitFiles train_files, test_files;  // where each came from ("FILE.npz (x_train.npy)" for an .npz)
  std::string layout;  // how the image axes were read, for the user
};

// Reads and checks an .npz file or IDX folder. Throws InputError with one line naming the file
// (and member) when anything is wrong: the archive or .npy checks (npz.h, npy.h), images that are
// not uint8 or float32 of rank 3 or 4, empty sets or images, non-finite float pixels, labels that
// are not integers of shape (N) or (N, 1), negative or above kMaxClasses - 1, image and label
// counts that differ, or training and test samples of different shapes or dtypes.
UserDataset read_user_dataset(const std::filesystem::path& path, ChannelAxis axis);

// Train, valid (the first `valid` training images; default default_validation_size) and test.
DatasetSplits user_splits(UserDataset data, std::optional<int64_t> valid);

}  // namespace bnlab
