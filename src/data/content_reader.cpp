#include "content_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "bnlab/core/error.h"

namespace bnlab {

namespace {
constexpr size_t kCompressedChunk = 1 << 16;
constexpr int kGzipWindowBits = 15 + 16;  // 32 KiB window, gzip wrapper only

bool starts_with_gzip_magic(std::ifstream& in) {
  std::array<char, 2> magic{};
  in.read(magic.data(), magic.size());
  const bool gzip = in.gcount() == 2 && static_cast<uint8_t>(magic[0]) == 0x1f &&
                    static_cast<uint8_t>(magic[1]) == 0x8b;
  in.clear();
  in.seekg(0);
  return gzip;
}
}  // namespace

ContentReader::ContentReader(const std::filesystem::path& file) : file_(file) {
  std::error_code ec;
  file_size_ = std::filesystem::file_size(file, ec);
  if (ec) throw InputError(fmt::format("{}: cannot open: {}", file.string(), ec.message()));
  in_.open(file, std::ios::binary);
  if (!in_)
    throw InputError(fmt::format("{}: cannot open: {}", file.string(), std::strerror(errno)));
  gzipped_ = starts_with_gzip_magic(in_);
  if (gzipped_) {
    if (inflateInit2(&zs_, kGzipWindowBits) != Z_OK)
      throw InputError(fmt::format("{}: cannot start gzip decompression", file.string()));
    compressed_.resize(kCompressedChunk);
  }
}

ContentReader::~ContentReader() {
  if (gzipped_) inflateEnd(&zs_);
}

size_t ContentReader::read(uint8_t* dst, size_t n) {
  size_t total = 0;
  while (total < n) {
    const size_t want = std::min<size_t>(n - total, 1u << 30);  // zlib counts in 32-bit uInt
    const size_t got = gzipped_ ? inflate_some(dst + total, want) : read_file(dst + total, want);
    total += got;
    if (got < want) break;
  }
  return total;
}

size_t ContentReader::read_file(uint8_t* dst, size_t n) {
  in_.read(reinterpret_cast<char*>(dst), static_cast<std::streamsize>(n));
  if (in_.bad()) throw InputError(fmt::format("{}: read error", file_.string()));
  const auto got = static_cast<size_t>(in_.gcount());
  file_offset_ += got;
  return got;
}

size_t ContentReader::inflate_some(uint8_t* dst, size_t n) {
  zs_.next_out = dst;
  zs_.avail_out = static_cast<uInt>(n);
  while (zs_.avail_out > 0 && !stream_ended_) {
    if (zs_.avail_in == 0) {
      zs_.avail_in = static_cast<uInt>(read_file(compressed_.data(), compressed_.size()));
      zs_.next_in = compressed_.data();
      if (zs_.avail_in == 0)
        throw InputError(fmt::format("{}: truncated gzip stream", file_.string()));
    }
    const int rc = inflate(&zs_, Z_NO_FLUSH);
    if (rc == Z_STREAM_END) {
      stream_ended_ = true;
      check_no_trailing_garbage();
    } else if (rc != Z_OK) {
      throw InputError(fmt::format("{}: corrupt gzip data ({})", file_.string(),
                                   zs_.msg ? zs_.msg : zError(rc)));
    }
  }
  return n - zs_.avail_out;
}

void ContentReader::check_no_trailing_garbage() {
  const uint64_t consumed = file_offset_ - zs_.avail_in;
  if (consumed < file_size_)
    throw InputError(fmt::format("{}: {} bytes of trailing garbage after the gzip stream",
                                 file_.string(), file_size_ - consumed));
}

}  // namespace bnlab
