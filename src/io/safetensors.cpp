#include "bnlab/io/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <limits>
#include <optional>
#include <set>
#include <stdexcept>
#include <string_view>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "bnlab/core/error.h"
#include "bnlab/io/atomic_file.h"

// Tensor bytes are copied to and from memory as they are: the file format is little-endian.
static_assert(std::endian::native == std::endian::little, "bnlab assumes a little-endian host");

namespace bnlab {

namespace {

using Json = nlohmann::ordered_json;  // keeps the header's tensor order

// The reference implementation refuses headers above 100 MB; so do we, before allocating.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;
constexpr size_t kLengthFieldBytes = 8;
constexpr std::string_view kMetadataKey = "__metadata__";

constexpr DType kAllDTypes[] = {DType::F32, DType::F64, DType::I64, DType::I32, DType::U8};

std::optional<DType> dtype_from_name(std::string_view name) {
  for (DType d : kAllDTypes)
    if (name == dtype_name(d)) return d;
  return std::nullopt;
}

std::string errno_text(int err) { return std::strerror(err); }

// ---------------------------------------------------------------------------------------------
// Reading

class SafetensorsParser {
 public:
  SafetensorsParser(const uint8_t* data, size_t size, const std::string& source)
      : data_(data), size_(size), source_(source) {}

  SafetensorsFile parse() {
    const uint64_t header_bytes = header_length();
    const Json header = parse_json(header_bytes);
    data_begin_ = kLengthFieldBytes + header_bytes;
    data_bytes_ = size_ - data_begin_;

    SafetensorsFile file;
    std::vector<Range> ranges;
    for (const auto& [name, entry] : header.items()) {
      if (name == kMetadataKey) {
        file.metadata = parse_metadata(entry);
        continue;
      }
      Range range = parse_entry(name, entry, file.tensors.emplace_back());
      range.tensor = file.tensors.size() - 1;
      ranges.push_back(range);
    }
    check_coverage(ranges, file.tensors);
    return file;
  }

 private:
  struct Range {
    uint64_t begin, end;
    size_t tensor;  // index into SafetensorsFile::tensors
  };

  [[noreturn]] void fail(const std::string& what) const { throw InputError(source_ + ": " + what); }
  [[noreturn]] void fail_tensor(const std::string& name, const std::string& what) const {
    fail(fmt::format("tensor \"{}\": {}", name, what));
  }

  uint64_t header_length() const {
    if (size_ < kLengthFieldBytes)
      fail(fmt::format("file is {} bytes, too short for the 8-byte header length", size_));
    uint64_t length = 0;
    std::memcpy(&length, data_, sizeof length);
    if (length > kMaxHeaderBytes)
      fail(fmt::format("header length {} exceeds the limit of {} bytes", length, kMaxHeaderBytes));
    if (length > size_ - kLengthFieldBytes)
      fail(fmt::format("header length {} exceeds the {} bytes after the length field", length,
                       size_ - kLengthFieldBytes));
    return length;
  }

  // nlohmann keeps the last of duplicate keys silently, so the parser callback watches every
  // object's keys as they are read.
  Json parse_json(uint64_t header_bytes) const {
    const char* begin = reinterpret_cast<const char*>(data_ + kLengthFieldBytes);
    std::vector<std::set<std::string>> open_objects;
    auto reject_duplicates = [&](int, Json::parse_event_t event, Json& parsed) {
      if (event == Json::parse_event_t::object_start) {
        open_objects.emplace_back();
      } else if (event == Json::parse_event_t::object_end) {
        open_objects.pop_back();
      } else if (event == Json::parse_event_t::key) {
        const auto& key = parsed.get_ref<const std::string&>();
        if (!open_objects.back().insert(key).second) {
          if (open_objects.size() == 1) fail(fmt::format("duplicate tensor name \"{}\"", key));
          fail(fmt::format("duplicate key \"{}\" in the header", key));
        }
      }
      return true;
    };
    Json header;
    try {
      header = Json::parse(begin, begin + header_bytes, reject_duplicates);
    } catch (const Json::exception& e) {  // parse_error, or out_of_range for a number beyond double
      std::string what = e.what();
      // "[json.exception.parse_error.101] parse error at ..." -> "parse error at ..."
      if (const size_t bracket = what.find("] "); what.starts_with("[") && bracket != what.npos)
        what.erase(0, bracket + 2);
      fail("header is not valid JSON: " + what);
    }
    if (!header.is_object())
      fail(fmt::format("header is a JSON {}, not an object", header.type_name()));
    return header;
  }

  std::map<std::string, std::string> parse_metadata(const Json& entry) const {
    if (!entry.is_object()) fail("\"__metadata__\" is not an object");
    std::map<std::string, std::string> metadata;
    for (const auto& [key, value] : entry.items()) {
      if (!value.is_string())
        fail(fmt::format("\"__metadata__\" value of \"{}\" is a {}, not a string", key,
                         value.type_name()));
      metadata.emplace(key, value.get<std::string>());
    }
    return metadata;
  }

  Range parse_entry(const std::string& name, const Json& entry, NamedTensor& tensor) const {
    if (name.empty()) fail("empty tensor name");
    if (!entry.is_object())
      fail_tensor(name, fmt::format("entry is a {}, not an object", entry.type_name()));
    for (const auto& [key, value] : entry.items())
      if (key != "dtype" && key != "shape" && key != "data_offsets")
        fail_tensor(name, fmt::format("unknown key \"{}\"", key));
    for (const char* key : {"dtype", "shape", "data_offsets"})
      if (!entry.contains(key)) fail_tensor(name, fmt::format("missing \"{}\"", key));

    tensor.name = name;
    tensor.dtype = parse_dtype(name, entry.at("dtype"));
    tensor.shape = parse_shape(name, entry.at("shape"));
    const Range range = parse_offsets(name, entry.at("data_offsets"));

    const uint64_t needed = byte_count(name, tensor);
    const uint64_t held = range.end - range.begin;
    if (held != needed)
      fail_tensor(name,
                  fmt::format("shape [{}] of {} needs {} bytes but data_offsets [{}, {}] hold {}",
                              fmt::join(tensor.shape, ", "), dtype_name(tensor.dtype), needed,
                              range.begin, range.end, held));
    if (range.end > data_bytes_)
      fail_tensor(name, fmt::format("data_offsets [{}, {}] extend past the {}-byte data area",
                                    range.begin, range.end, data_bytes_));
    const uint8_t* bytes = data_ + data_begin_ + range.begin;
    tensor.bytes.assign(bytes, bytes + held);
    return range;
  }

  DType parse_dtype(const std::string& name, const Json& value) const {
    if (!value.is_string())
      fail_tensor(name, fmt::format("dtype is a {}, not a string", value.type_name()));
    const std::string& text = value.get_ref<const std::string&>();
    const std::optional<DType> dtype = dtype_from_name(text);
    if (!dtype)
      fail_tensor(name,
                  fmt::format("unknown dtype \"{}\" (expected F32, F64, I64, I32 or U8)", text));
    return *dtype;
  }

  std::vector<int64_t> parse_shape(const std::string& name, const Json& value) const {
    if (!value.is_array())
      fail_tensor(name, fmt::format("shape is a {}, not an array", value.type_name()));
    std::vector<int64_t> shape;
    for (size_t i = 0; i < value.size(); ++i) {
      const Json& dim = value[i];
      if (dim.is_number_integer() && !dim.is_number_unsigned())
        fail_tensor(name, fmt::format("shape element {} is negative ({})", i, dim.get<int64_t>()));
      if (!dim.is_number_unsigned())
        fail_tensor(name, fmt::format("shape element {} is not an integer", i));
      const uint64_t extent = dim.get<uint64_t>();
      if (extent > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        fail_tensor(name, fmt::format("shape element {} is too large ({})", i, extent));
      shape.push_back(static_cast<int64_t>(extent));
    }
    return shape;
  }

  Range parse_offsets(const std::string& name, const Json& value) const {
    if (!value.is_array() || value.size() != 2)
      fail_tensor(name, "data_offsets is not a pair [begin, end]");
    for (size_t i = 0; i < 2; ++i)
      if (!value[i].is_number_unsigned())
        fail_tensor(name, fmt::format("data_offsets element {} is not a non-negative integer", i));
    const uint64_t begin = value[0].get<uint64_t>();
    const uint64_t end = value[1].get<uint64_t>();
    if (end < begin)
      fail_tensor(name, fmt::format("data_offsets [{}, {}] end before they begin", begin, end));
    return {begin, end, 0};
  }

  uint64_t byte_count(const std::string& name, const NamedTensor& tensor) const {
    uint64_t count = dtype_size(tensor.dtype);
    for (int64_t extent : tensor.shape)
      if (__builtin_mul_overflow(count, static_cast<uint64_t>(extent), &count))
        fail_tensor(name, fmt::format("shape [{}] has more bytes than fit in 64 bits",
                                      fmt::join(tensor.shape, ", ")));
    return count;
  }

  // Sorted by offset, each range must start where the previous one ended, and the last must end
  // where the data area does: no byte is shared, none is left over.
  void check_coverage(std::vector<Range>& ranges, const std::vector<NamedTensor>& tensors) const {
    std::stable_sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) {
      return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
    });
    uint64_t covered = 0;
    const Range* last = nullptr;
    for (const Range& r : ranges) {
      if (r.begin < covered)
        fail(fmt::format("tensors \"{}\" and \"{}\" overlap (data_offsets [{}, {}] and [{}, {}])",
                         tensors[last->tensor].name, tensors[r.tensor].name, last->begin, last->end,
                         r.begin, r.end));
      if (r.begin > covered)
        fail(fmt::format("bytes [{}, {}) of the data area belong to no tensor", covered, r.begin));
      covered = r.end;
      last = &r;
    }
    if (covered < data_bytes_)
      fail(fmt::format("the data area has {} bytes after the last tensor ends at {}",
                       data_bytes_ - covered, covered));
  }

  const uint8_t* data_;
  size_t size_;
  const std::string& source_;
  uint64_t data_begin_ = 0;
  uint64_t data_bytes_ = 0;
};

std::vector<uint8_t> read_whole_file(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw InputError(fmt::format("cannot open {}: {}", path.string(), errno_text(errno)));
  std::vector<uint8_t> bytes;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) bytes.reserve(static_cast<size_t>(st.st_size));
  uint8_t chunk[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      throw InputError(fmt::format("cannot read {}: {}", path.string(), errno_text(err)));
    }
    if (n == 0) break;
    bytes.insert(bytes.end(), chunk, chunk + n);
  }
  ::close(fd);
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// Writing

// A file's header: "__metadata__" first (as the reference writer does), then the tensors in the
// caller's order, laid out back to back; padded with spaces to a multiple of 8 bytes so that the
// data area starts aligned.
std::string make_header(const std::filesystem::path& path, const SafetensorsFile& file) {
  Json header = Json::object();
  if (!file.metadata.empty()) header[std::string(kMetadataKey)] = file.metadata;
  std::set<std::string_view> names;
  uint64_t offset = 0;
  for (const NamedTensor& t : file.tensors) {
    const auto invalid = [&](const std::string& what) {
      return std::invalid_argument(
          fmt::format("write_safetensors {}: tensor \"{}\": {}", path.string(), t.name, what));
    };
    if (t.name.empty() || t.name == kMetadataKey) throw invalid("reserved or empty name");
    if (!names.insert(t.name).second) throw invalid("name used twice");
    uint64_t needed = dtype_size(t.dtype);
    for (int64_t extent : t.shape)
      if (extent < 0 || __builtin_mul_overflow(needed, static_cast<uint64_t>(extent), &needed))
        throw invalid(fmt::format("invalid shape [{}]", fmt::join(t.shape, ", ")));
    if (needed != t.bytes.size())
      throw invalid(fmt::format("holds {} bytes but shape [{}] of {} needs {}", t.bytes.size(),
                                fmt::join(t.shape, ", "), dtype_name(t.dtype), needed));
    Json entry = Json::object();
    entry["dtype"] = dtype_name(t.dtype);
    entry["shape"] = t.shape;
    entry["data_offsets"] = {offset, offset + needed};
    header[t.name] = std::move(entry);
    offset += needed;
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const Json::type_error& e) {  // a name or metadata string that is not UTF-8
    throw std::invalid_argument(fmt::format("write_safetensors {}: {}", path.string(), e.what()));
  }
  text.append((8 - text.size() % 8) % 8, ' ');
  return text;
}

}  // namespace

size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::F32:
      return 4;
    case DType::F64:
      return 8;
    case DType::I64:
      return 8;
    case DType::I32:
      return 4;
    case DType::U8:
      return 1;
  }
  throw std::logic_error("dtype_size: invalid DType");
}

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::F32:
      return "F32";
    case DType::F64:
      return "F64";
    case DType::I64:
      return "I64";
    case DType::I32:
      return "I32";
    case DType::U8:
      return "U8";
  }
  throw std::logic_error("dtype_name: invalid DType");
}

const NamedTensor* SafetensorsFile::find(const std::string& name) const {
  for (const NamedTensor& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

SafetensorsFile parse_safetensors(const uint8_t* data, size_t size,
                                  const std::string& source_name) {
  return SafetensorsParser(data, size, source_name).parse();
}

SafetensorsFile read_safetensors(const std::filesystem::path& path) {
  const std::vector<uint8_t> bytes = read_whole_file(path);
  return parse_safetensors(bytes.data(), bytes.size(), path.string());
}

void write_safetensors(const std::filesystem::path& path, const SafetensorsFile& file) {
  const std::string header = make_header(path, file);
  const uint64_t header_length = header.size();
  AtomicFile out(path);
  out.write(&header_length, sizeof header_length);
  out.write(header.data(), header.size());
  for (const NamedTensor& t : file.tensors) out.write(t.bytes.data(), t.bytes.size());
  out.commit();
}

}  // namespace bnlab
