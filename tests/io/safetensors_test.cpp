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
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "bnlab/core/error.h"

namespace bnlab {
namespace {

namespace fs = std::filesystem;

// A file made of an 8-byte length, the header text as given, and `data_bytes` bytes of data.
std::vector<uint8_t> file_with_header(const std::string& header, size_t data_bytes) {
  std::vector<uint8_t> bytes(8 + header.size() + data_bytes, 0);
  const uint64_t length = header.size();
  std::memcpy(bytes.data(), &length, 8);
  std::memcpy(bytes.data() + 8, header.data(), header.size());
  for (size_t i = 0; i < data_bytes; ++i) bytes[8 + header.size() + i] = static_cast<uint8_t>(i);
  return bytes;
}

std::string parse_error(const std::vector<uint8_t>& bytes) {
  try {
    parse_safetensors(bytes.data(), bytes.size(), "case.safetensors");
  } catch (const InputError& e) {
    return e.what();
  }
  return "(parsed without error)";
}

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

// ---------------------------------------------------------------------------------------------
// Malformed files: each violation has its own one-line message naming the file.

struct Malformed {
  const char* name;
  std::vector<uint8_t> bytes;
  std::string message;  // expected what(), after "case.safetensors: "
  bool prefix_only = false;
};

void PrintTo(const Malformed& c, std::ostream* os) { *os << c.name; }

std::vector<uint8_t> with_length_field(uint64_t length, size_t total_size) {
  std::vector<uint8_t> bytes(total_size, ' ');
  std::memcpy(bytes.data(), &length, 8);
  return bytes;
}

// One valid 2x3 F32 tensor "w" in 24 bytes, with `entry` replacing its header entry.
std::vector<uint8_t> one_tensor(const std::string& entry, size_t data_bytes = 24) {
  return file_with_header("{\"w\":" + entry + "}", data_bytes);
}

std::vector<Malformed> malformed_cases() {
  return {
      {"EmptyFile", {}, "file is 0 bytes, too short for the 8-byte header length"},
      {"ShortFile", {1, 0, 0, 0, 0}, "file is 5 bytes, too short for the 8-byte header length"},
      {"HeaderLengthOverLimit", with_length_field(200'000'000, 64),
       "header length 200000000 exceeds the limit of 100000000 bytes"},
      {"HeaderLengthLargerThanFile", with_length_field(1000, 28),
       "header length 1000 exceeds the 20 bytes after the length field"},
      {"EmptyHeader", file_with_header("", 0), "header is not valid JSON: parse error", true},
      {"TruncatedJson", file_with_header(R"({"w":{"dtype":"F32")", 0),
       "header is not valid JSON: parse error", true},
      {"TrailingGarbageAfterJson", file_with_header("{} x", 0),
       "header is not valid JSON: parse error", true},
      {"InvalidUtf8Name", file_with_header("{\"\xff\":{}}", 0),
       "header is not valid JSON: parse error", true},
      {"HeaderIsAnArray", file_with_header("[1,2]", 0), "header is a JSON array, not an object"},
      {"EntryNotAnObject", file_with_header(R"({"w":3})", 0),
       "tensor \"w\": entry is a number, not an object"},
      {"EmptyTensorName",
       file_with_header(R"({"":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}})", 0),
       "empty tensor name"},
      {"MissingDataOffsets", one_tensor(R"({"dtype":"F32","shape":[2,3]})"),
       "tensor \"w\": missing \"data_offsets\""},
      {"MissingDtype", one_tensor(R"({"shape":[2,3],"data_offsets":[0,24]})"),
       "tensor \"w\": missing \"dtype\""},
      {"MissingShape", one_tensor(R"({"dtype":"F32","data_offsets":[0,24]})"),
       "tensor \"w\": missing \"shape\""},
      {"UnknownKey",
       one_tensor(R"({"dtype":"F32","shape":[2,3],"data_offsets":[0,24],"stride":[3,1]})"),
       "tensor \"w\": unknown key \"stride\""},
      {"DtypeNotAString", one_tensor(R"({"dtype":4,"shape":[2,3],"data_offsets":[0,24]})"),
       "tensor \"w\": dtype is a number, not a string"},
      {"UnknownDtype", one_tensor(R"({"dtype":"BF16","shape":[2,3],"data_offsets":[0,12]})", 12),
       "tensor \"w\": unknown dtype \"BF16\" (expected F32, F64, I64, I32 or U8)"},
      {"ShapeNotAnArray", one_tensor(R"({"dtype":"F32","shape":6,"data_offsets":[0,24]})"),
       "tensor \"w\": shape is a number, not an array"},
      {"NegativeDimension", one_tensor(R"({"dtype":"F32","shape":[2,-3],"data_offsets":[0,24]})"),
       "tensor \"w\": shape element 1 is negative (-3)"},
      {"FractionalDimension",
       one_tensor(R"({"dtype":"F32","shape":[2.5,3],"data_offsets":[0,24]})"),
       "tensor \"w\": shape element 0 is not an integer"},
      {"DimensionBeyondInt64",
       one_tensor(R"({"dtype":"U8","shape":[9223372036854775808],"data_offsets":[0,24]})"),
       "tensor \"w\": shape element 0 is too large (9223372036854775808)"},
      {"ShapeProductOverflows",
       one_tensor(R"({"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,24]})"),
       "tensor \"w\": shape [4294967296, 4294967296] has more bytes than fit in 64 bits"},
      {"OffsetsNotAPair", one_tensor(R"({"dtype":"F32","shape":[2,3],"data_offsets":[24]})"),
       "tensor \"w\": data_offsets is not a pair [begin, end]"},
      {"NegativeOffset", one_tensor(R"({"dtype":"F32","shape":[2,3],"data_offsets":[-24,0]})"),
       "tensor \"w\": data_offsets element 0 is not a non-negative integer"},
      {"OffsetsReversed", one_tensor(R"({"dtype":"F32","shape":[2,3],"data_offsets":[24,0]})"),
       "tensor \"w\": data_offsets [24, 0] end before they begin"},
      {"ShapeBytesMismatch",
       one_tensor(R"({"dtype":"F32","shape":[2,3],"data_offsets":[0,20]})", 20),
       "tensor \"w\": shape [2, 3] of F32 needs 24 bytes but data_offsets [0, 20] hold 20"},
      {"OffsetsPastDataArea", one_tensor(R"({"dtype":"F32","shape":[2,3],"data_offsets":[8,32]})"),
       "tensor \"w\": data_offsets [8, 32] extend past the 24-byte data area"},
      {"Overlap",
       file_with_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                        R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                        12),
       "tensors \"a\" and \"b\" overlap (data_offsets [0, 8] and [4, 12])"},
      {"Gap",
       file_with_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                        R"("b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}})",
                        20),
       "bytes [8, 12) of the data area belong to no tensor"},
      {"TrailingData", one_tensor(R"({"dtype":"F32","shape":[2,3],"data_offsets":[0,24]})", 30),
       "the data area has 6 bytes after the last tensor ends at 24"},
      {"DataButNoTensors", file_with_header("{}", 8),
       "the data area has 8 bytes after the last tensor ends at 0"},
      {"DuplicateTensorName",
       file_with_header(R"({"w":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
                        R"("w":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}})",
                        8),
       "duplicate tensor name \"w\""},
      {"DuplicateKeyInEntry",
       one_tensor(R"({"dtype":"F32","dtype":"F64","shape":[2,3],"data_offsets":[0,24]})"),
       "duplicate key \"dtype\" in the header"},
      {"MetadataNotAnObject", file_with_header(R"({"__metadata__":["a"]})", 0),
       "\"__metadata__\" is not an object"},
      {"MetadataValueNotAString", file_with_header(R"({"__metadata__":{"epoch":3}})", 0),
       "\"__metadata__\" value of \"epoch\" is a number, not a string"},
  };
}

class MalformedFile : public ::testing::TestWithParam<Malformed> {};

TEST_P(MalformedFile, ThrowsInputErrorWithItsOwnMessage) {
  const Malformed& c = GetParam();
  const std::string expected = "case.safetensors: " + c.message;
  const std::string actual = parse_error(c.bytes);
  if (c.prefix_only) {
    EXPECT_EQ(actual.substr(0, expected.size()), expected) << actual;
  } else {
    EXPECT_EQ(actual, expected);
  }
  EXPECT_EQ(actual.find('\n'), std::string::npos) << "message must be one line: " << actual;
}

INSTANTIATE_TEST_SUITE_P(Safetensors, MalformedFile, ::testing::ValuesIn(malformed_cases()),
                         [](const ::testing::TestParamInfo<Malformed>& info) {
                           return info.param.name;
                         });

TEST(SafetensorsReader, MalformedMessagesAreDistinct) {
  std::set<std::string> messages;
  for (const Malformed& c : malformed_cases()) {
    if (!c.prefix_only) {
      EXPECT_TRUE(messages.insert(c.message).second) << c.name << ": " << c.message;
    }
  }
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
