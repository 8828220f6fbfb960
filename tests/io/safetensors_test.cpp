// Writing and reading safetensors files: round trips, the writer's layout and failures, the reader's
// errors naming the path, and random corruptions that must give only InputError.
#include "bnlab/io/safetensors.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "bnlab/core/error.h"
#include "support/safetensors_bytes.h"

namespace bnlab {
namespace {

namespace fs = std::filesystem;
using testing::file_with_header;
using testing::parse_error;

std::vector<uint8_t> read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

template <typename T>
NamedTensor tensor(const std::string& name, DType dtype, std::vector<int64_t> shape,
                   const std::vector<T>& values) {
  NamedTensor t{name, dtype, std::move(shape), {}};
  t.bytes.resize(values.size() * sizeof(T));
  if (!values.empty()) std::memcpy(t.bytes.data(), values.data(), t.bytes.size());
  return t;
}

SafetensorsFile sample_file() {
  SafetensorsFile file;
  // Deliberately not in alphabetical order: the file must keep the caller's order.
  file.tensors.push_back(
      tensor<float>("zeta.weight", DType::F32, {2, 3}, {1.5f, -2.f, 3.f, 0.f, 1e-30f, -0.f}));
  file.tensors.push_back(tensor<double>("alpha", DType::F64, {3}, {0.1, -1e300, 42.0}));
  file.tensors.push_back(tensor<int64_t>("steps", DType::I64, {}, {-(int64_t{1} << 40)}));
  file.tensors.push_back(tensor<int32_t>("labels", DType::I32, {1, 4}, {0, 9, -1, 7}));
  file.tensors.push_back(tensor<uint8_t>("pixels", DType::U8, {5}, {0, 1, 128, 254, 255}));
  file.tensors.push_back(tensor<float>("empty", DType::F32, {0, 3}, {}));
  file.metadata = {{"format", "pt"}, {"note", "ünïcode ok"}};
  return file;
}

class SafetensorsFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("bnlab-io-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_))
      names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

  fs::path dir_;
};

TEST_F(SafetensorsFiles, RoundTripKeepsOrderDtypesShapesBytesAndMetadata) {
  const SafetensorsFile original = sample_file();
  const fs::path path = dir_ / "model.safetensors";
  write_safetensors(path, original);
  const SafetensorsFile back = read_safetensors(path);

  ASSERT_EQ(back.tensors.size(), original.tensors.size());
  for (size_t i = 0; i < original.tensors.size(); ++i) {
    SCOPED_TRACE(original.tensors[i].name);
    EXPECT_EQ(back.tensors[i].name, original.tensors[i].name);
    EXPECT_EQ(back.tensors[i].dtype, original.tensors[i].dtype);
    EXPECT_EQ(back.tensors[i].shape, original.tensors[i].shape);
    EXPECT_EQ(back.tensors[i].bytes, original.tensors[i].bytes);
  }
  EXPECT_EQ(back.metadata, original.metadata);
  ASSERT_NE(back.find("labels"), nullptr);
  EXPECT_EQ(back.find("labels")->shape, (std::vector<int64_t>{1, 4}));
  EXPECT_EQ(back.find("missing"), nullptr);
  EXPECT_EQ(entries(), std::vector<std::string>{"model.safetensors"});
}

TEST_F(SafetensorsFiles, WriterPadsHeaderWithSpacesAndLaysTensorsOutInOrder) {
  const SafetensorsFile original = sample_file();
  const fs::path path = dir_ / "model.safetensors";
  write_safetensors(path, original);
  const std::vector<uint8_t> bytes = read_bytes(path);

  uint64_t header_length = 0;
  std::memcpy(&header_length, bytes.data(), 8);
  EXPECT_EQ(header_length % 8, 0u);
  const std::string header(bytes.begin() + 8, bytes.begin() + 8 + static_cast<long>(header_length));
  const size_t json_end = header.find_last_not_of(' ');
  EXPECT_EQ(header[json_end], '}');
  EXPECT_LT(header.size() - json_end - 1, 8u);
  EXPECT_EQ(header.rfind("{\"__metadata__\":", 0), 0u) << header;
  EXPECT_NE(
      header.find("\"zeta.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}"),
      std::string::npos)
      << header;
  EXPECT_NE(header.find("\"alpha\":{\"dtype\":\"F64\",\"shape\":[3],\"data_offsets\":[24,48]}"),
            std::string::npos)
      << header;

  std::vector<uint8_t> expected_data;
  for (const NamedTensor& t : original.tensors)
    expected_data.insert(expected_data.end(), t.bytes.begin(), t.bytes.end());
  EXPECT_EQ(std::vector<uint8_t>(bytes.begin() + 8 + static_cast<long>(header_length), bytes.end()),
            expected_data);
}

TEST_F(SafetensorsFiles, OverwritesAnExistingFile) {
  const fs::path path = dir_ / "model.safetensors";
  write_bytes(path, {1, 2, 3});
  write_safetensors(path, sample_file());
  EXPECT_EQ(read_safetensors(path).tensors.size(), sample_file().tensors.size());
  EXPECT_EQ(entries(), std::vector<std::string>{"model.safetensors"});
}

TEST_F(SafetensorsFiles, WritesToARelativePathInTheCurrentDirectory) {
  const fs::path previous = fs::current_path();
  fs::current_path(dir_);
  write_safetensors("relative.safetensors", sample_file());
  fs::current_path(previous);
  EXPECT_EQ(read_safetensors(dir_ / "relative.safetensors").tensors.size(),
            sample_file().tensors.size());
}

TEST_F(SafetensorsFiles, WriteFailsWhenTheParentIsARegularFile) {
  // Tests run as root, so permissions cannot make a directory unwritable; a file in the way can.
  write_bytes(dir_ / "not_a_dir", {0});
  const fs::path path = dir_ / "not_a_dir" / "model.safetensors";
  try {
    write_safetensors(path, sample_file());
    FAIL() << "write succeeded";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), "cannot write " + path.string() + ": Not a directory");
  }
  EXPECT_EQ(entries(), std::vector<std::string>{"not_a_dir"});
  EXPECT_EQ(read_bytes(dir_ / "not_a_dir"), std::vector<uint8_t>{0});
}

TEST_F(SafetensorsFiles, WriteOntoADirectoryFailsAndRemovesTheTemporaryFile) {
  const fs::path path = dir_ / "model.safetensors";
  fs::create_directory(path);
  try {
    write_safetensors(path, sample_file());
    FAIL() << "write succeeded";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), "cannot write " + path.string() + ": Is a directory");
  }
  EXPECT_EQ(entries(), std::vector<std::string>{"model.safetensors"});
  EXPECT_TRUE(fs::is_directory(path));
}

// A file size limit makes write() fail half way, as a full disk would, after the temporary file
// exists: the existing file must survive untouched and the temporary file must be gone.
TEST_F(SafetensorsFiles, FailedWriteLeavesTheExistingFileAndNoTemporaryFile) {
  const fs::path path = dir_ / "model.safetensors";
  write_safetensors(path, sample_file());
  const std::vector<uint8_t> before = read_bytes(path);

  SafetensorsFile big;
  big.tensors.push_back(tensor<float>("big", DType::F32, {65536}, std::vector<float>(65536, 1.f)));

  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  rlimit limited = saved;
  limited.rlim_cur = 4096;
  const auto saved_handler = std::signal(SIGXFSZ, SIG_IGN);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &limited), 0);
  std::string message = "(no error)";
  try {
    write_safetensors(path, big);
  } catch (const InputError& e) {
    message = e.what();
  }
  setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, saved_handler);

  EXPECT_EQ(message, "cannot write " + path.string() + ": File too large");
  EXPECT_EQ(read_bytes(path), before);
  EXPECT_EQ(entries(), std::vector<std::string>{"model.safetensors"});
}

TEST(SafetensorsWriter, RejectsATensorWhoseBytesDoNotMatchItsShape) {
  SafetensorsFile file;
  file.tensors.push_back(tensor<float>("w", DType::F32, {2, 3}, {1.f, 2.f}));
  EXPECT_THROW(
      write_safetensors(fs::temp_directory_path() / "bnlab-never-written.safetensors", file),
      std::invalid_argument);
  EXPECT_FALSE(fs::exists(fs::temp_directory_path() / "bnlab-never-written.safetensors"));
}

TEST(SafetensorsWriter, RejectsDuplicateAndReservedNames) {
  SafetensorsFile twice;
  twice.tensors.push_back(tensor<float>("w", DType::F32, {1}, {1.f}));
  twice.tensors.push_back(tensor<float>("w", DType::F32, {1}, {2.f}));
  EXPECT_THROW(
      write_safetensors(fs::temp_directory_path() / "bnlab-never-written.safetensors", twice),
      std::invalid_argument);
  SafetensorsFile reserved;
  reserved.tensors.push_back(tensor<float>("__metadata__", DType::F32, {1}, {1.f}));
  EXPECT_THROW(
      write_safetensors(fs::temp_directory_path() / "bnlab-never-written.safetensors", reserved),
      std::invalid_argument);
}

TEST_F(SafetensorsFiles, ReadErrorsNameThePath) {
  const fs::path missing = dir_ / "missing.safetensors";
  try {
    read_safetensors(missing);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              "cannot open " + missing.string() + ": No such file or directory");
  }
  try {
    read_safetensors(dir_);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), "cannot read " + dir_.string() + ": Is a directory");
  }
  const fs::path corrupt = dir_ / "corrupt.safetensors";
  write_bytes(corrupt, {1, 2, 3});
  try {
    read_safetensors(corrupt);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              corrupt.string() + ": file is 3 bytes, too short for the 8-byte header length");
  }
}

TEST(SafetensorsReader, AcceptsAnEmptyFileHeaderAndSurroundingWhitespace) {
  EXPECT_EQ(parse_error(file_with_header("{}", 0)), "(parsed without error)");
  EXPECT_EQ(parse_error(file_with_header("  \n{}     ", 0)), "(parsed without error)");
}

TEST(SafetensorsReader, KeepsHeaderOrderEvenWhenDataIsInAnotherOrder) {
  const auto bytes = file_with_header(R"({"b":{"dtype":"U8","shape":[2],"data_offsets":[3,5]},)"
                                      R"("a":{"dtype":"U8","shape":[3],"data_offsets":[0,3]}})",
                                      5);
  const SafetensorsFile file = parse_safetensors(bytes.data(), bytes.size(), "case.safetensors");
  ASSERT_EQ(file.tensors.size(), 2u);
  EXPECT_EQ(file.tensors[0].name, "b");
  EXPECT_EQ(file.tensors[0].bytes, (std::vector<uint8_t>{3, 4}));
  EXPECT_EQ(file.tensors[1].name, "a");
  EXPECT_EQ(file.tensors[1].bytes, (std::vector<uint8_t>{0, 1, 2}));
}

TEST(SafetensorsReader, AcceptsZeroSizedTensorsAtTheBoundaries) {
  const auto bytes = file_with_header(R"({"e0":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},)"
                                      R"("w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                      R"("e1":{"dtype":"F64","shape":[3,0],"data_offsets":[4,4]}})",
                                      4);
  EXPECT_EQ(parse_error(bytes), "(parsed without error)");
}

// Flipped bytes anywhere in a valid file must give either a file or an InputError: never a crash,
// an out-of-range read, or another exception type escaping from the JSON library.
TEST_F(SafetensorsFiles, RandomByteCorruptionsThrowOnlyInputError) {
  const fs::path path = dir_ / "model.safetensors";
  write_safetensors(path, sample_file());
  const std::vector<uint8_t> valid = read_bytes(path);
  std::mt19937 rng(12345);
  int rejected = 0;
  for (int trial = 0; trial < 5000; ++trial) {
    std::vector<uint8_t> bytes = valid;
    const int flips = 1 + static_cast<int>(rng() % 3);
    for (int f = 0; f < flips && !bytes.empty(); ++f) {
      // Mostly within the header, where the structure is; sometimes truncate the file instead.
      const size_t at = rng() % std::min<size_t>(bytes.size(), 8 + 400);
      if (rng() % 8 == 0) {
        bytes.resize(at);
      } else {
        bytes[at] = static_cast<uint8_t>(rng());
      }
    }
    try {
      parse_safetensors(bytes.data(), bytes.size(), "fuzz.safetensors");
    } catch (const InputError& e) {
      ++rejected;
      ASSERT_EQ(std::string(e.what()).rfind("fuzz.safetensors: ", 0), 0u) << e.what();
    }
  }
  EXPECT_GT(rejected, 4000);
}

}  // namespace
}  // namespace bnlab
