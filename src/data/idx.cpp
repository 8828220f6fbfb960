#include "bnlab/data/idx.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <limits>

#include "bnlab/core/error.h"
#include "content_reader.h"

namespace bnlab {

namespace {
constexpr uint8_t kUnsignedByte = 0x08;
constexpr int kImagesRank = 3;
constexpr int kLabelsRank = 1;
constexpr int32_t kNumClasses = 10;
constexpr size_t kGrowthChunk = size_t{1} << 20;

uint32_t big_endian_u32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

std::string dims_text(const std::vector<uint64_t>& dims) {
  return fmt::format("{}", fmt::join(dims, "x"));
}

void check_magic(const std::string& file, const std::array<uint8_t, 4>& magic, int rank) {
  const uint32_t expected = (uint32_t{kUnsignedByte} << 8) | static_cast<uint32_t>(rank);
  if (magic[0] != 0 || magic[1] != 0)
    throw InputError(fmt::format("{}: bad magic 0x{:08x} (expected 0x{:08x})", file,
                                 big_endian_u32(magic.data()), expected));
  if (magic[2] != kUnsignedByte)
    throw InputError(
        fmt::format("{}: element type 0x{:02x} is not supported (expected 0x08, unsigned byte)",
                    file, magic[2]));
  if (magic[3] != rank)
    throw InputError(fmt::format("{}: rank {} (expected {})", file, magic[3], rank));
}

// Reads the magic and the dimensions.
std::vector<uint64_t> read_header(ContentReader& in, const std::string& file, int rank) {
  std::array<uint8_t, 4> magic{};
  const size_t got = in.read(magic.data(), magic.size());
  if (got == 0) throw InputError(fmt::format("{}: empty file", file));
  const size_t header_size = 4 + 4 * static_cast<size_t>(rank);
  if (got < magic.size())
    throw InputError(
        fmt::format("{}: truncated header: {} bytes, expected {}", file, got, header_size));
  check_magic(file, magic, rank);
  std::vector<uint8_t> raw_dims(4 * static_cast<size_t>(rank));
  const size_t got_dims = in.read(raw_dims.data(), raw_dims.size());
  if (got_dims < raw_dims.size())
    throw InputError(fmt::format("{}: truncated header: {} bytes, expected {}", file,
                                 magic.size() + got_dims, header_size));
  std::vector<uint64_t> dims(static_cast<size_t>(rank));
  for (int i = 0; i < rank; ++i) dims[i] = big_endian_u32(raw_dims.data() + 4 * i);
  return dims;
}

uint64_t checked_product(const std::string& file, const std::vector<uint64_t>& dims) {
  uint64_t product = 1;
  for (uint64_t d : dims)
    if (__builtin_mul_overflow(product, d, &product) ||
        product > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      throw InputError(fmt::format("{}: dimensions {} overflow", file, dims_text(dims)));
  return product;
}

std::string size_mismatch(const std::string& file, const char* what,
                          const std::vector<uint64_t>& dims, uint64_t promised,
                          const std::string& actual) {
  return fmt::format("{}: {}: header says {} = {} bytes of data, {}", file, what, dims_text(dims),
                     promised, actual);
}

// A raw file's size is known: compare it with the header before allocating.
void check_raw_size(const ContentReader& in, const std::string& file,
                    const std::vector<uint64_t>& dims, uint64_t promised) {
  const uint64_t available = in.file_size() - 4 * (dims.size() + 1);
  if (available != promised)
    throw InputError(size_mismatch(file, available < promised ? "truncated" : "trailing data", dims,
                                   promised, fmt::format("file has {}", available)));
}

// Reads the promised bytes, growing the buffer only as data arrive so that a gzip'd file whose
// header lies is never allocated for.
std::vector<uint8_t> read_data(ContentReader& in, const std::string& file,
                               const std::vector<uint64_t>& dims, uint64_t promised) {
  std::vector<uint8_t> data;
  uint64_t got = 0;
  while (got < promised) {
    data.resize(in.gzipped()
                    ? std::min<uint64_t>(promised, std::max<uint64_t>(2 * got, kGrowthChunk))
                    : promised);
    const size_t n = in.read(data.data() + got, data.size() - got);
    got += n;
    if (got < data.size()) break;
  }
  if (got < promised)
    throw InputError(
        size_mismatch(file, "truncated", dims, promised,
                      fmt::format("{} has {}", in.gzipped() ? "gzip content" : "file", got)));
  uint8_t extra = 0;
  if (in.read(&extra, 1) != 0)
    throw InputError(size_mismatch(file, "trailing data", dims, promised,
                                   in.gzipped() ? "gzip content is longer" : "file is longer"));
  return data;
}

std::vector<int32_t> checked_labels(const std::string& file, const std::vector<uint8_t>& raw) {
  std::vector<int32_t> labels(raw.begin(), raw.end());
  const auto bad =
      std::find_if(labels.begin(), labels.end(), [](int32_t y) { return y >= kNumClasses; });
  if (bad != labels.end())
    throw InputError(fmt::format("{}: label {} at index {} is outside [0, {}]", file, *bad,
                                 bad - labels.begin(), kNumClasses - 1));
  return labels;
}
}  // namespace

IdxArray read_idx(const std::filesystem::path& file, int rank) {
  const std::string name = file.string();
  ContentReader in(file);
  const std::vector<uint64_t> dims = read_header(in, name, rank);
  const uint64_t promised = checked_product(name, dims);
  if (!in.gzipped()) check_raw_size(in, name, dims, promised);
  IdxArray array;
  array.dims.assign(dims.begin(), dims.end());
  array.data = read_data(in, name, dims, promised);
  return array;
}

Dataset read_idx_dataset(const std::filesystem::path& images_file,
                         const std::filesystem::path& labels_file, const std::string& name) {
  IdxArray images = read_idx(images_file, kImagesRank);
  const IdxArray labels = read_idx(labels_file, kLabelsRank);
  if (images.dims[0] != labels.dims[0])
    throw InputError(fmt::format("{}: {} images but {} labels in {}", images_file.string(),
                                 images.dims[0], labels.dims[0], labels_file.string()));
  Dataset d;
  d.name = name;
  d.sample_shape = {images.dims[1], images.dims[2]};
  d.pixels = std::move(images.data);
  d.labels = checked_labels(labels_file.string(), labels.data);
  d.num_classes = kNumClasses;
  d.divide_by = 255.0;
  return d;
}

}  // namespace bnlab
