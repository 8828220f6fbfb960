#include "bnlab/data/npy.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <optional>

#include "bnlab/core/error.h"

namespace bnlab {

static_assert(std::endian::native == std::endian::little, "the .npy reader copies little-endian data as it is");

namespace {
constexpr std::array<uint8_t, 6> kMagic = {0x93, 'N', 'U', 'M', 'P', 'Y'};
constexpr size_t kMaxRank = 32;  // numpy's own limit (NPY_MAXDIMS)
constexpr size_t kGrowthChunk = size_t{1} << 20;

[[noreturn]] void fail(const std::string& source, const std::string& what) {
  throw InputError(fmt::format("{}: {}", source, what));
}

// A value of the header's dict literal: a string, True / False, or a tuple of whole numbers.
struct HeaderValue {
  enum class Kind { String, Bool, Tuple } kind = Kind::String;
  std::string text;
  bool flag = false;
  std::vector<int64_t> numbers;
};

// A recursive-descent reader of the one dict literal numpy writes (Python syntax, ASCII).
class HeaderParser {
 public:
  HeaderParser(const std::string& text, const std::string& source) : s_(text), source_(source) {}

  std::map<std::string, HeaderValue> dict() {
    std::map<std::string, HeaderValue> entries;
    expect('{');
    while (!take('}')) {
      const std::string key = string_literal();
      expect(':');
      if (entries.count(key)) bad(fmt::format("key '{}' appears twice", key));
      entries[key] = value(key);
      if (!take(',')) {
        expect('}');
        break;
      }
    }
    skip_space();
    if (pos_ != s_.size()) bad("text after the closing '}'");
    return entries;
  }

 private:
  [[noreturn]] void bad(const std::string& what) const { fail(source_, fmt::format("bad .npy header: {}", what)); }

  void skip_space() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }
  bool take(char c) {
    skip_space();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!take(c)) bad(pos_ < s_.size() ? fmt::format("expected '{}' at offset {}", c, pos_) : fmt::format("expected '{}', found the end", c));
  }

  std::string string_literal() {
    skip_space();
    if (pos_ >= s_.size() || (s_[pos_] != '\'' && s_[pos_] != '"')) bad(fmt::format("expected a quoted string at offset {}", pos_));
    const char quote = s_[pos_++];
    const size_t end = s_.find(quote, pos_);
    if (end == std::string::npos) bad("unterminated string");
    std::string text = s_.substr(pos_, end - pos_);
    if (text.find('\\') != std::string::npos) bad("escapes in strings are not supported");
    pos_ = end + 1;
    return text;
  }

  int64_t whole_number() {
    skip_space();
    const size_t begin = pos_;
    int64_t n = 0;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
      if (__builtin_mul_overflow(n, 10, &n) || __builtin_add_overflow(n, s_[pos_] - '0', &n))
        bad(fmt::format("shape size at offset {} overflows", begin));
      ++pos_;
    }
    if (pos_ == begin) bad(fmt::format("expected a non-negative whole number at offset {}", begin));
    if (pos_ < s_.size() && s_[pos_] == 'L') ++pos_;  // Python 2's long suffix, as old numpy wrote it
    return n;
  }

  HeaderValue value(const std::string& key) {
    skip_space();
    HeaderValue v;
    if (pos_ < s_.size() && (s_[pos_] == '\'' || s_[pos_] == '"')) {
      v.kind = HeaderValue::Kind::String;
      v.text = string_literal();
    } else if (s_.compare(pos_, 4, "True") == 0 || s_.compare(pos_, 5, "False") == 0) {
      v.kind = HeaderValue::Kind::Bool;
      v.flag = s_[pos_] == 'T';
      pos_ += v.flag ? 4 : 5;
    } else if (take('(')) {
      v.kind = HeaderValue::Kind::Tuple;
      while (!take(')')) {
        if (v.numbers.size() == kMaxRank) bad(fmt::format("more than {} dimensions", kMaxRank));
        v.numbers.push_back(whole_number());
        if (!take(',')) {
          expect(')');
          break;
        }
      }
    } else if (pos_ < s_.size() && s_[pos_] == '[' && key == "descr") {
      fail(source_, "structured dtypes (a list of fields) are not supported; save a plain uint8, float32 or integer array");
    } else {
      bad(fmt::format("unexpected value for '{}' at offset {}", key, pos_));
    }
    return v;
  }

  const std::string& s_;
  const std::string& source_;
  size_t pos_ = 0;
};

std::optional<NpyType> type_of(char kind, char size) {
  switch (kind) {
    case 'u':
      return size == '1' ? NpyType::UInt8 : size == '2' ? NpyType::UInt16 : size == '4' ? NpyType::UInt32 : size == '8' ? std::optional(NpyType::UInt64) : std::nullopt;
    case 'i':
      return size == '1' ? NpyType::Int8 : size == '2' ? NpyType::Int16 : size == '4' ? NpyType::Int32 : size == '8' ? std::optional(NpyType::Int64) : std::nullopt;
    case 'f':
      return size == '4' ? std::optional(NpyType::Float32) : std::nullopt;
    default:
      return std::nullopt;
  }
}

// '<f4', '|u1', ...: byte order, kind, size. Byte-sized types take any byte order mark.
NpyType parse_descr(const std::string& descr, const std::string& source) {
  const auto unsupported = [&](const char* why) {
    fail(source, fmt::format("dtype '{}' is not supported ({}; bnlab reads uint8 or float32 images and integer labels)", descr, why));
  };
  if (descr.size() != 3 || (descr[0] != '<' && descr[0] != '>' && descr[0] != '|' && descr[0] != '='))
    unsupported("not a plain numeric type");
  const std::optional<NpyType> type = type_of(descr[1], descr[2]);
  if (!type) unsupported("unknown or unsupported kind and size");
  if (npy_type_size(*type) > 1 && descr[0] == '>') unsupported(fmt::format("big-endian: save it as '<{}'", descr.substr(1)).c_str());
  if (npy_type_size(*type) > 1 && descr[0] == '|') unsupported("no byte order for a multi-byte type");
  return *type;
}

NpyHeader interpret(const std::map<std::string, HeaderValue>& dict, const std::string& source) {
  for (const char* key : {"descr", "fortran_order", "shape"})
    if (!dict.count(key)) fail(source, fmt::format("bad .npy header: no '{}'", key));
  if (dict.size() != 3) {
    for (const auto& [key, value] : dict)
      if (key != "descr" && key != "fortran_order" && key != "shape")
        fail(source, fmt::format("bad .npy header: unknown key '{}'", key));
  }
  const HeaderValue& descr = dict.at("descr");
  const HeaderValue& fortran = dict.at("fortran_order");
  const HeaderValue& shape = dict.at("shape");
  if (descr.kind != HeaderValue::Kind::String) fail(source, "bad .npy header: 'descr' is not a string");
  if (fortran.kind != HeaderValue::Kind::Bool) fail(source, "bad .npy header: 'fortran_order' is not True or False");
  if (shape.kind != HeaderValue::Kind::Tuple) fail(source, "bad .npy header: 'shape' is not a tuple");
  NpyHeader h;
  h.type = parse_descr(descr.text, source);
  if (fortran.flag)
    fail(source, "Fortran-ordered arrays are not supported; save it with numpy.ascontiguousarray(...) (C order)");
  h.shape = shape.numbers;
  uint64_t count = 1;
  for (int64_t d : h.shape)
    if (__builtin_mul_overflow(count, static_cast<uint64_t>(d), &count))
      fail(source, fmt::format("shape ({}) overflows", fmt::join(h.shape, ", ")));
  uint64_t bytes = 0;
  if (__builtin_mul_overflow(count, npy_type_size(h.type), &bytes) || bytes > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    fail(source, fmt::format("shape ({}) of {} overflows", fmt::join(h.shape, ", "), npy_type_name(h.type)));
  h.count = count;
  h.data_bytes = bytes;
  return h;
}

// Exactly n bytes, or an InputError saying the input ends inside `what`.
void read_exactly(const ReadBytes& read, uint8_t* dst, size_t n, const std::string& source, const char* what) {
  const size_t got = read(dst, n);
  if (got < n) fail(source, fmt::format("truncated {}: {} of {} bytes", what, got, n));
}
}  // namespace

const char* npy_type_name(NpyType type) {
  switch (type) {
    case NpyType::UInt8: return "uint8";
    case NpyType::Int8: return "int8";
    case NpyType::UInt16: return "uint16";
    case NpyType::Int16: return "int16";
    case NpyType::UInt32: return "uint32";
    case NpyType::Int32: return "int32";
    case NpyType::UInt64: return "uint64";
    case NpyType::Int64: return "int64";
    case NpyType::Float32: return "float32";
  }
  return "?";
}

size_t npy_type_size(NpyType type) {
  switch (type) {
    case NpyType::UInt8:
    case NpyType::Int8: return 1;
    case NpyType::UInt16:
    case NpyType::Int16: return 2;
    case NpyType::UInt32:
    case NpyType::Int32:
    case NpyType::Float32: return 4;
    case NpyType::UInt64:
    case NpyType::Int64: return 8;
  }
  return 1;
}

NpyHeader read_npy_header(const ReadBytes& read, const std::string& source) {
  std::array<uint8_t, 8> preamble{};
  const size_t got = read(preamble.data(), preamble.size());
  if (got == 0) fail(source, "empty .npy data");
  if (got < kMagic.size() || !std::equal(kMagic.begin(), kMagic.end(), preamble.begin()))
    fail(source, "not a .npy array (bad magic; expected \\x93NUMPY)");
  if (got < preamble.size()) fail(source, "truncated .npy preamble");
  const uint8_t major = preamble[6], minor = preamble[7];
  if ((major != 1 && major != 2 && major != 3) || minor != 0)
    fail(source, fmt::format(".npy format version {}.{} is not supported (1.0, 2.0 or 3.0)", major, minor));
  std::array<uint8_t, 4> length_bytes{};
  const size_t length_size = major == 1 ? 2 : 4;
  read_exactly(read, length_bytes.data(), length_size, source, ".npy header length");
  uint64_t length = 0;
  for (size_t i = 0; i < length_size; ++i) length |= uint64_t{length_bytes[i]} << (8 * i);
  if (length > kMaxNpyHeaderBytes)
    fail(source, fmt::format(".npy header of {} bytes is over the limit of {}", length, kMaxNpyHeaderBytes));
  std::string text(length, '\0');
  read_exactly(read, reinterpret_cast<uint8_t*>(text.data()), length, source, ".npy header");
  if (text.empty() || text.back() != '\n') fail(source, "bad .npy header: not ended by a newline");
  text.pop_back();
  return interpret(HeaderParser(text, source).dict(), source);
}

NpyHeader parse_npy_header(const uint8_t* data, size_t size, const std::string& source) {
  size_t offset = 0;
  return read_npy_header(
      [&](uint8_t* dst, size_t n) {
        const size_t k = std::min(n, size - offset);
        if (k) std::memcpy(dst, data + offset, k);
        offset += k;
        return k;
      },
      source);
}

uint64_t NpyArray::count() const {
  uint64_t n = 1;
  for (int64_t d : shape) n *= static_cast<uint64_t>(d);
  return n;
}

NpyArray read_npy(const ReadBytes& read, const std::string& source) {
  const NpyHeader h = read_npy_header(read, source);
  NpyArray array;
  array.type = h.type;
  array.shape = h.shape;
  uint64_t got = 0;
  while (got < h.data_bytes) {
    array.bytes.resize(std::min<uint64_t>(h.data_bytes, std::max<uint64_t>(2 * got, kGrowthChunk)));
    const size_t n = read(array.bytes.data() + got, array.bytes.size() - got);
    got += n;
    if (got < array.bytes.size()) break;
  }
  if (got < h.data_bytes)
    fail(source, fmt::format("truncated: shape ({}) of {} needs {} bytes of data, found {}", fmt::join(h.shape, ", "),
                             npy_type_name(h.type), h.data_bytes, got));
  uint8_t extra = 0;
  if (read(&extra, 1) != 0)
    fail(source, fmt::format("trailing data after the {} bytes that shape ({}) of {} needs", h.data_bytes,
                             fmt::join(h.shape, ", "), npy_type_name(h.type)));
  return array;
}

NpyArray read_npy_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot open", file.string()));
  return read_npy(
      [&](uint8_t* dst, size_t n) {
        in.read(reinterpret_cast<char*>(dst), static_cast<std::streamsize>(n));
        if (in.bad()) throw InputError(fmt::format("{}: read error", file.string()));
        return static_cast<size_t>(in.gcount());
      },
      file.string());
}

namespace {
template <class T>
void append_integers(std::vector<int64_t>& out, const NpyArray& array, const std::string& source) {
  const size_t n = array.bytes.size() / sizeof(T);
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, array.bytes.data() + i * sizeof(T), sizeof(T));
    if constexpr (std::is_same_v<T, uint64_t>)
      if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        fail(source, fmt::format("value {} at index {} is too large", v, i));
    out.push_back(static_cast<int64_t>(v));
  }
}
}  // namespace

std::vector<int64_t> npy_integers(const NpyArray& array, const std::string& source) {
  std::vector<int64_t> out;
  switch (array.type) {
    case NpyType::UInt8: append_integers<uint8_t>(out, array, source); break;
    case NpyType::Int8: append_integers<int8_t>(out, array, source); break;
    case NpyType::UInt16: append_integers<uint16_t>(out, array, source); break;
    case NpyType::Int16: append_integers<int16_t>(out, array, source); break;
    case NpyType::UInt32: append_integers<uint32_t>(out, array, source); break;
    case NpyType::Int32: append_integers<int32_t>(out, array, source); break;
    case NpyType::UInt64: append_integers<uint64_t>(out, array, source); break;
    case NpyType::Int64: append_integers<int64_t>(out, array, source); break;
    case NpyType::Float32: fail(source, "labels are float32; integer labels are needed (save them with .astype('int64'))");
  }
  return out;
}

std::vector<float> npy_floats(const NpyArray& array) {
  std::vector<float> out(array.bytes.size() / sizeof(float));
  if (!out.empty()) std::memcpy(out.data(), array.bytes.data(), out.size() * sizeof(float));
  return out;
}

}  // namespace bnlab
