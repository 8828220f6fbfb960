// Malformed safetensors files: each violation has its own one-line message naming the file.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "bnlab/io/safetensors.h"
#include "support/safetensors_bytes.h"

namespace bnlab {
namespace {

using testing::file_with_header;
using testing::parse_error;

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

}  // namespace
}  // namespace bnlab
