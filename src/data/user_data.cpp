#include "bnlab/data/user_data.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "bnlab/core/error.h"
#include "bnlab/data/catalog.h"
#include "bnlab/data/idx.h"
#include "bnlab/data/npz.h"

namespace bnlab {

namespace fs = std::filesystem;

namespace {
bool is_channel_count(int64_t n) { return n == 1 || n == 3 || n == 4; }

std::string shape_text(const std::vector<int64_t>& shape) {
  return shape.size() == 1 ? fmt::format("({},)", shape[0]) : fmt::format("({})", fmt::join(shape, ", "));
}

// out: (N, C, H, W) from in: (N, H, W, C).
template <class T>
std::vector<T> channels_last_to_first(const T* in, int64_t N, int64_t H, int64_t W, int64_t C) {
  std::vector<T> out(static_cast<size_t>(N * H * W * C));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t w = 0; w < W; ++w)
        for (int64_t c = 0; c < C; ++c) out[((n * C + c) * H + h) * W + w] = in[((n * H + h) * W + w) * C + c];
  return out;
}

void check_image_type(const NpyArray& x, const std::string& source) {
  if (x.type != NpyType::UInt8 && x.type != NpyType::Float32)
    throw InputError(fmt::format("{}: images are {}; uint8 or float32 images are needed", source, npy_type_name(x.type)));
}

// The images of x (checked against layout) as a dataset without labels yet.
Dataset images_of(NpyArray x, const ImageLayout& layout, const std::string& name, const std::string& source) {
  check_image_type(x, source);
  const int64_t N = x.shape[0];
  if (N == 0) throw InputError(fmt::format("{}: no images (shape {})", source, shape_text(x.shape)));
  Dataset d;
  d.name = name;
  d.sample_shape = layout.sample;
  const int64_t H = x.shape[1], W = x.shape[2], C = x.shape.size() == 4 ? x.shape[3] : 1;
  if (x.type == NpyType::UInt8) {
    d.divide_by = 255.0;
    d.pixels = layout.channels_last ? channels_last_to_first(x.bytes.data(), N, H, W, C) : std::move(x.bytes);
  } else {
    d.divide_by = 1.0;
    std::vector<float> values = npy_floats(x);
    x.bytes = {};
    const auto bad = std::find_if(values.begin(), values.end(), [](float v) { return !std::isfinite(v); });
    if (bad != values.end())
      throw InputError(fmt::format("{}: value {} at flat index {}; images must be finite", source, *bad, bad - values.begin()));
    d.values = layout.channels_last ? channels_last_to_first(values.data(), N, H, W, C) : std::move(values);
  }
  return d;
}

// y's labels for the n images of d, checked.
void attach_labels(Dataset& d, const NpyArray& y, const std::string& source, const std::string& images_source) {
  const bool column = y.shape.size() == 2 && y.shape[1] == 1;
  if (y.shape.size() != 1 && !column)
    throw InputError(fmt::format("{}: labels of shape {}; one label per image is needed, shape (N,) or (N, 1)", source,
                                 shape_text(y.shape)));
  const std::vector<int64_t> labels = npy_integers(y, source);
  const int64_t images = d.features() ? static_cast<int64_t>((d.holds_floats() ? d.values.size() : d.pixels.size()) / d.features()) : 0;
  if (static_cast<int64_t>(labels.size()) != images)
    throw InputError(fmt::format("{}: {} labels, but {} holds {} images", source, labels.size(), images_source, images));
  d.labels.resize(labels.size());
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0 || labels[i] >= kMaxClasses)
      throw InputError(fmt::format("{}: label {} at index {} is outside [0, {}]", source, labels[i], i, kMaxClasses - 1));
    d.labels[i] = static_cast<int32_t>(labels[i]);
  }
}

// num_classes of both sets: the largest label of either, plus one.
void set_num_classes(Dataset& train, Dataset& test) {
  int32_t top = 0;
  for (const Dataset* d : {&train, &test})
    for (int32_t y : d->labels) top = std::max(top, y);
  train.num_classes = test.num_classes = top + 1;
}

UserDataset read_npz_dataset(const fs::path& file, ChannelAxis axis) {
  const std::string path = file.string();
  auto arrays = read_npz(file, {"x_train", "y_train", "x_test", "y_test"});
  const auto source = [&](const char* key) { return fmt::format("{}: {}.npy", path, key); };
  UserDataset u;
  u.name = file.filename().string();
  check_image_type(arrays["x_train"], source("x_train"));
  const ImageLayout layout = image_layout(arrays["x_train"].shape, axis, source("x_train"));
  const NpyArray& x_test = arrays["x_test"];
  const NpyArray& x_train = arrays["x_train"];
  const std::vector<int64_t> train_sample(x_train.shape.begin() + 1, x_train.shape.end());
  const std::vector<int64_t> test_sample(x_test.shape.begin() + std::min<size_t>(1, x_test.shape.size()), x_test.shape.end());
  if (x_test.shape.empty() || test_sample != train_sample)
    throw InputError(fmt::format("{}: images of shape {}, but x_train's are {} (each image must have the shape of the training images)",
                                 source("x_test"), shape_text(x_test.shape), shape_text(x_train.shape)));
  if (x_test.type != x_train.type)
    throw InputError(fmt::format("{}: images are {}, but x_train's are {}", source("x_test"), npy_type_name(x_test.type),
                                 npy_type_name(x_train.type)));
  u.train = images_of(std::move(arrays["x_train"]), layout, u.name + "/train", source("x_train"));
  u.test = images_of(std::move(arrays["x_test"]), layout, u.name + "/test", source("x_test"));
  attach_labels(u.train, arrays["y_train"], source("y_train"), "x_train");
  attach_labels(u.test, arrays["y_test"], source("y_test"), "x_test");
  set_num_classes(u.train, u.test);
  u.train_files = {fmt::format("{} (x_train.npy)", path), fmt::format("{} (y_train.npy)", path)};
  u.test_files = {fmt::format("{} (x_test.npy)", path), fmt::format("{} (y_test.npy)", path)};
  u.layout = "x_train " + layout.description;
  return u;
}

UserDataset read_idx_folder(const fs::path& dir) {
  UserDataset u;
  u.name = fs::absolute(dir).lexically_normal().filename().string();
  if (u.name.empty()) u.name = fs::absolute(dir).lexically_normal().parent_path().filename().string();
  u.train_files = find_split_files(dir, Split::Train);
  u.test_files = find_split_files(dir, Split::Test);
  u.train = read_idx_dataset(u.train_files.images, u.train_files.labels, u.name + "/train");
  u.test = read_idx_dataset(u.test_files.images, u.test_files.labels, u.name + "/test");
  if (u.train.size() == 0) throw InputError(fmt::format("{}: no images", u.train_files.images.string()));
  if (u.test.size() == 0) throw InputError(fmt::format("{}: no images", u.test_files.images.string()));
  if (u.test.sample_shape != u.train.sample_shape)
    throw InputError(fmt::format("{}: images of {}, but the training images are {}", u.test_files.images.string(),
                                 shape_text(u.test.sample_shape), shape_text(u.train.sample_shape)));
  set_num_classes(u.train, u.test);
  u.layout = fmt::format("IDX images (N, H, W) = ({}, {}, {}): one channel", u.train.size(), u.train.sample_shape[0],
                         u.train.sample_shape[1]);
  return u;
}
}  // namespace

ChannelAxis parse_channel_axis(const std::string& text) {
  if (text == "auto") return ChannelAxis::Auto;
  if (text == "first") return ChannelAxis::First;
  if (text == "last") return ChannelAxis::Last;
  throw InputError(fmt::format("--channels: unknown choice '{}' (first, last, auto)", text));
}

bool is_user_dataset(const std::string& dataset) {
  const std::vector<std::string>& known = known_datasets();
  if (std::find(known.begin(), known.end(), dataset) != known.end()) return false;
  const fs::path path(dataset);
  std::error_code ec;
  return path.extension() == ".npz" || dataset.find('/') != std::string::npos || fs::is_directory(path, ec);
}

ImageLayout image_layout(const std::vector<int64_t>& shape, ChannelAxis axis, const std::string& source) {
  if (shape.size() != 3 && shape.size() != 4)
    throw InputError(fmt::format("{}: images of shape {}; (N, H, W), (N, H, W, C) or (N, C, H, W) is needed", source,
                                 shape_text(shape)));
  for (size_t i = 1; i < shape.size(); ++i)
    if (shape[i] == 0) throw InputError(fmt::format("{}: images of shape {} have no pixels", source, shape_text(shape)));
  ImageLayout l;
  if (shape.size() == 3) {
    l.sample = {shape[1], shape[2]};
    l.description = fmt::format("(N, H, W) = {}: one channel", shape_text(shape));
    return l;
  }
  const char* how = axis == ChannelAxis::Auto ? "auto" : "--channels";
  l.channels_last = axis == ChannelAxis::Last ||
                    (axis == ChannelAxis::Auto && is_channel_count(shape[3]) && !is_channel_count(shape[1]));
  if (l.channels_last) {
    l.sample = {shape[3], shape[1], shape[2]};
    l.description = fmt::format("(N, H, W, C) = {}: channels last ({}), transposed to (N, C, H, W)", shape_text(shape), how);
  } else {
    l.sample = {shape[1], shape[2], shape[3]};
    l.description = fmt::format("(N, C, H, W) = {}: channels first ({})", shape_text(shape), how);
  }
  return l;
}

UserDataset read_user_dataset(const fs::path& path, ChannelAxis axis) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return read_idx_folder(path);
  if (!fs::exists(path, ec)) throw InputError(fmt::format("--dataset {}: no such file or folder", path.string()));
  return read_npz_dataset(path, axis);
}

DatasetSplits user_splits(UserDataset data, std::optional<int64_t> valid) {
  DatasetSplits s;
  s.train = std::move(data.train);
  s.test = std::move(data.test);
  const int64_t n = valid.value_or(default_validation_size(s.train.size()));
  split_off_validation(s, n, valid.has_value(), data.name, data.train_files.images.string());
  return s;
}

}  // namespace bnlab
