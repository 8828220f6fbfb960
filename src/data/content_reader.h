#pragma once
// Reads a file's content, inflating it on the fly when the file is gzip'd (detected by the
// magic bytes 1f 8b, not by the name), so that callers see raw and gzip'd copies alike.
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <vector>

namespace bnlab {

class ContentReader {
 public:
  // Throws InputError naming the file when it cannot be opened.
  explicit ContentReader(const std::filesystem::path& file);
  ~ContentReader();
  ContentReader(const ContentReader&) = delete;
  ContentReader& operator=(const ContentReader&) = delete;

  // Reads up to n bytes of content into dst; returns fewer only at the end of the content.
  // Throws InputError naming the file on a read error, corrupt or truncated gzip data, or bytes
  // after the end of the gzip stream.
  size_t read(uint8_t* dst, size_t n);

  bool gzipped() const { return gzipped_; }
  uint64_t file_size() const { return file_size_; }

 private:
  size_t read_file(uint8_t* dst, size_t n);
  size_t inflate_some(uint8_t* dst, size_t n);
  void check_no_trailing_garbage();

  std::filesystem::path file_;
  std::ifstream in_;
  uint64_t file_size_ = 0;
  uint64_t file_offset_ = 0;  // bytes taken from the file so far
  bool gzipped_ = false;
  bool stream_ended_ = false;
  z_stream zs_{};
  std::vector<uint8_t> compressed_;  // inflate's input buffer
};

}  // namespace bnlab
