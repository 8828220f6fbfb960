// Data of the user's own: which axis is taken as channels, channels-last images transposed to
// channels first, float32 images kept as they are, labels and classes, the validation split, IDX
// folders, and the refusals a user would meet.
#include "bnlab/data/user_data.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>

#include "bnlab/core/error.h"
#include "support/npz_files.h"

namespace bnlab {
namespace {

namespace fs = std::filesystem;
using test::Bytes;
using test::npy_bytes;
using ::testing::HasSubstr;

TEST(ImageLayout, TheAutoRule) {
  const auto last = [](std::vector<int64_t> shape) { return image_layout(shape, ChannelAxis::Auto, "f").channels_last; };
  EXPECT_EQ(image_layout({5, 28, 28}, ChannelAxis::Auto, "f").sample, (std::vector<int64_t>{28, 28}));
  EXPECT_TRUE(last({5, 28, 28, 1}));
  EXPECT_TRUE(last({5, 32, 32, 3}));
  EXPECT_TRUE(last({5, 32, 32, 4}));
  EXPECT_FALSE(last({5, 1, 28, 28}));
  EXPECT_FALSE(last({5, 3, 32, 32}));
  EXPECT_FALSE(last({5, 3, 8, 3}));   // both could be channels: first, as bnlab holds them
  EXPECT_FALSE(last({5, 2, 8, 8}));   // two channels
  EXPECT_FALSE(last({5, 8, 8, 8}));
  EXPECT_EQ(image_layout({5, 32, 32, 3}, ChannelAxis::Auto, "f").sample, (std::vector<int64_t>{3, 32, 32}));
  EXPECT_THAT(image_layout({5, 32, 32, 3}, ChannelAxis::Auto, "f").description,
              HasSubstr("channels last (auto), transposed to (N, C, H, W)"));
}

TEST(ImageLayout, TheFlagDecides) {
  EXPECT_TRUE(image_layout({5, 1, 28, 3}, ChannelAxis::Last, "f").channels_last);
  EXPECT_FALSE(image_layout({5, 28, 28, 1}, ChannelAxis::First, "f").channels_last);
  EXPECT_EQ(image_layout({5, 28, 28, 1}, ChannelAxis::First, "f").sample, (std::vector<int64_t>{28, 28, 1}));
  EXPECT_EQ(parse_channel_axis("last"), ChannelAxis::Last);
  EXPECT_THROW(parse_channel_axis("middle"), InputError);
}

TEST(UserData, KnowsPathsFromNames) {
  EXPECT_FALSE(is_user_dataset("mnist"));
  EXPECT_FALSE(is_user_dataset("fashion-mnist"));
  EXPECT_FALSE(is_user_dataset("cifar"));  // refused later as an unknown dataset
  EXPECT_TRUE(is_user_dataset("mnist.npz"));
  EXPECT_TRUE(is_user_dataset("data/mine"));
}

class UserDataTest : public ::testing::Test {
 protected:
  fs::path write(const test::NpzMembers& members) {
    const fs::path file = dir_.path() / "mine.npz";
    test::write_npz(file, members, true);
    return file;
  }
  std::string error_of(const test::NpzMembers& members) {
    try {
      read_user_dataset(write(members), ChannelAxis::Auto);
    } catch (const InputError& e) {
      return e.what();
    }
    ADD_FAILURE() << "no InputError";
    return "";
  }
  // image_set with member `key` replaced.
  static test::NpzMembers with(const std::string& key, const Bytes& member) {
    test::NpzMembers m = test::image_set(20, 4, {3, 3});
    for (auto& [name, content] : m)
      if (name == key + ".npy") content = member;
    return m;
  }
  test::TempDir dir_;
};

TEST_F(UserDataTest, ReadsUint8ImagesAsMnistIsRead) {
  const UserDataset u = read_user_dataset(write(test::image_set(20, 4, {3, 3})), ChannelAxis::Auto);
  EXPECT_EQ(u.name, "mine.npz");
  EXPECT_EQ(u.train.name, "mine.npz/train");
  EXPECT_EQ(u.train.sample_shape, (std::vector<int64_t>{3, 3}));
  EXPECT_EQ(u.train.size(), 20);
  EXPECT_EQ(u.test.size(), 4);
  EXPECT_EQ(u.train.divide_by, 255.0);
  EXPECT_FALSE(u.train.holds_floats());
  EXPECT_EQ(u.train.pixels[9 * 1 + 2], (1 + 3 * 2) % 256);
  EXPECT_EQ(u.train.labels[5], 2);
  EXPECT_EQ(u.train.num_classes, 3);
  EXPECT_EQ(u.test.num_classes, 3);
  EXPECT_THAT(u.layout, HasSubstr("(N, H, W) = (20, 3, 3): one channel"));
}

TEST_F(UserDataTest, TransposesChannelsLastToChannelsFirst) {
  // Image 0 of (1, 2, 2, 3): pixel (h, w, c) = 100 * c + 10 * h + w.
  Bytes hwc;
  for (int h = 0; h < 2; ++h)
    for (int w = 0; w < 2; ++w)
      for (int c = 0; c < 3; ++c) hwc.push_back(static_cast<uint8_t>(100 * c + 10 * h + w));
  Bytes two = hwc;
  two.insert(two.end(), hwc.begin(), hwc.end());
  const Bytes labels = test::bytes_of(std::vector<int64_t>{0, 1});
  const UserDataset u = read_user_dataset(write({{"x_train.npy", npy_bytes("|u1", {2, 2, 2, 3}, two)},
                                                 {"y_train.npy", npy_bytes("<i8", {2}, labels)},
                                                 {"x_test.npy", npy_bytes("|u1", {1, 2, 2, 3}, hwc)},
                                                 {"y_test.npy", npy_bytes("<i8", {1}, Bytes(8))}}),
                                          ChannelAxis::Auto);
  EXPECT_EQ(u.train.sample_shape, (std::vector<int64_t>{3, 2, 2}));
  const Bytes chw = {0, 1, 10, 11, 100, 101, 110, 111, 200, 201, 210, 211};
  EXPECT_EQ(Bytes(u.test.pixels.begin(), u.test.pixels.end()), chw);
  EXPECT_EQ(Bytes(u.train.pixels.begin() + 12, u.train.pixels.end()), chw);
  EXPECT_THAT(u.layout, HasSubstr("channels last (auto)"));
}

TEST_F(UserDataTest, KeepsFloatImagesAsTheyAre) {
  const std::vector<float> values = {0.5f, -2.0f, 1e-3f, 7.0f};
  const Bytes x = npy_bytes("<f4", {1, 2, 2}, test::bytes_of(values));
  const Bytes y = npy_bytes("|u1", {1, 1}, {4});  // (N, 1) labels, as Keras's CIFAR-10 has them
  const UserDataset u =
      read_user_dataset(write({{"x_train.npy", x}, {"y_train.npy", y}, {"x_test.npy", x}, {"y_test.npy", y}}), ChannelAxis::Auto);
  EXPECT_TRUE(u.train.holds_floats());
  EXPECT_EQ(u.train.divide_by, 1.0);
  EXPECT_EQ(u.train.values, values);
  EXPECT_EQ(u.train.num_classes, 5);
  std::vector<float> batch(4);
  int32_t label = -1;
  u.test.gather_range(batch.data(), &label, 0, 1);
  EXPECT_EQ(batch, values);
  EXPECT_EQ(label, 4);
}

TEST_F(UserDataTest, SplitsOffTheValidationSetAsForMnist) {
  UserDataset u = read_user_dataset(write(test::image_set(20, 4, {3, 3})), ChannelAxis::Auto);
  const DatasetSplits tenth = user_splits(u, std::nullopt);
  EXPECT_EQ(tenth.valid.size(), 2);  // 10% of fewer than 50,000
  EXPECT_EQ(tenth.train.size(), 18);
  EXPECT_EQ(tenth.valid.name, "mine.npz/valid");
  EXPECT_EQ(tenth.train.labels[0], u.train.labels[2]);
  EXPECT_EQ(user_splits(u, 7).valid.size(), 7);
  EXPECT_THROW(user_splits(u, 20), InputError);
  EXPECT_THROW(user_splits(u, 0), InputError);
  EXPECT_EQ(default_validation_size(60000), 5000);
  EXPECT_EQ(default_validation_size(50000), 5000);
  EXPECT_EQ(default_validation_size(49990), 4999);
}

TEST_F(UserDataTest, RefusesWhatCannotBeTrainedOn) {
  EXPECT_THAT(error_of(with("y_train", npy_bytes("<i8", {19}, Bytes(19 * 8)))),
              HasSubstr("mine.npz: y_train.npy: 19 labels, but x_train holds 20 images"));
  EXPECT_THAT(error_of(with("y_test", npy_bytes("|i1", {4}, {0, 1, 0xff, 0}))), HasSubstr("y_test.npy: label -1 at index 2"));
  EXPECT_THAT(error_of(with("y_test", npy_bytes("<i4", {4}, test::bytes_of(std::vector<int32_t>{0, 1, 70000, 0})))),
              HasSubstr("label 70000 at index 2 is outside [0, 65535]"));
  EXPECT_THAT(error_of(with("y_train", npy_bytes("|u1", {10, 2}, Bytes(20)))), HasSubstr("labels of shape (10, 2)"));
  EXPECT_THAT(error_of(with("x_train", npy_bytes("<i8", {20, 3, 3}, Bytes(20 * 9 * 8)))),
              HasSubstr("x_train.npy: images are int64; uint8 or float32 images are needed"));
  EXPECT_THAT(error_of(with("x_test", npy_bytes("|u1", {4, 3, 4}, Bytes(48)))),
              HasSubstr("x_test.npy: images of shape (4, 3, 4), but x_train's are (20, 3, 3)"));
  EXPECT_THAT(error_of(with("x_test", npy_bytes("<f4", {4, 3, 3}, Bytes(4 * 9 * 4)))),
              HasSubstr("x_test.npy: images are float32, but x_train's are uint8"));
  EXPECT_THAT(error_of(with("x_train", npy_bytes("|u1", {20, 9}, Bytes(180)))), HasSubstr("images of shape (20, 9)"));
  EXPECT_THAT(error_of(with("x_test", npy_bytes("|u1", {0, 3, 3}, {}))), HasSubstr("x_test.npy: no images"));
  const std::vector<float> nan = {0.0f, std::numeric_limits<float>::quiet_NaN()};
  test::NpzMembers floats = test::image_set(1, 1, {1, 2});
  floats[0].second = npy_bytes("<f4", {1, 1, 2}, test::bytes_of(nan));
  floats[2].second = npy_bytes("<f4", {1, 1, 2}, Bytes(8));
  EXPECT_THAT(error_of(floats), HasSubstr("x_train.npy: value nan at flat index 1; images must be finite"));
}

TEST_F(UserDataTest, ReadsAFolderOfIdxFiles) {
  test::write_dataset(test::make_fake_dataset(30, 10), dir_.path(), true);
  const UserDataset u = read_user_dataset(dir_.path(), ChannelAxis::Auto);
  EXPECT_EQ(u.train.size(), 30);
  EXPECT_EQ(u.test.size(), 10);
  EXPECT_EQ(u.train.sample_shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(user_splits(u, std::nullopt).valid.size(), 3);
  EXPECT_THAT(u.layout, HasSubstr("IDX images"));
}

// Files numpy itself wrote (tests/fixtures/npz/make_npz.py says what they hold).
const fs::path kNumpyFiles = fs::path(BNLAB_SOURCE_DIR) / "tests/fixtures/npz";

TEST(UserDataFiles, ReadsKerasLayoutAsNumpySavezWritesIt) {
  const UserDataset u = read_user_dataset(kNumpyFiles / "keras_layout.npz", ChannelAxis::Auto);
  EXPECT_EQ(u.train.sample_shape, (std::vector<int64_t>{3, 3}));
  EXPECT_EQ(u.train.pixels[5 * 9 + 4], 54);
  EXPECT_EQ(u.test.pixels[9 + 8], 118);
  EXPECT_EQ(u.train.labels, (std::vector<int32_t>{0, 1, 2, 3, 0, 1}));
  EXPECT_EQ(u.test.labels, (std::vector<int32_t>{3, 2}));
  EXPECT_EQ(u.train.num_classes, 4);
}

TEST(UserDataFiles, ReadsFloatChannelsLastAsNumpySavezCompressedWritesIt) {
  const UserDataset u = read_user_dataset(kNumpyFiles / "float_channels_last.npz", ChannelAxis::Auto);
  ASSERT_EQ(u.train.sample_shape, (std::vector<int64_t>{3, 2, 2}));
  for (int i = 0; i < 4; ++i)
    for (int c = 0; c < 3; ++c)
      for (int h = 0; h < 2; ++h)
        for (int w = 0; w < 2; ++w)
          EXPECT_EQ(u.train.values[((i * 3 + c) * 2 + h) * 2 + w], static_cast<float>(i + h / 10.0 + w / 100.0 + c / 1000.0));
  EXPECT_EQ(u.test.values[11], 2 * static_cast<float>(1 + 0.1 + 0.01 + 0.002));
  EXPECT_EQ(u.test.labels, (std::vector<int32_t>{5}));
  EXPECT_EQ(u.train.num_classes, 6);
}

TEST(UserDataFiles, NamesAMissingPath) {
  EXPECT_THROW(read_user_dataset("/nonexistent/mine.npz", ChannelAxis::Auto), InputError);
}

}  // namespace
}  // namespace bnlab
