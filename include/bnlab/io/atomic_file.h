#pragma once
// A file that appears at its path whole or not at all, so that a crash, a full disk or a kill
// never leaves a partial file behind: the bytes go to a temporary file beside the target
// (".NAME.tmp.PID.N"), which is fsync'd and renamed over the target, and the directory fsync'd.
#include <cstddef>
#include <filesystem>
#include <string_view>

namespace bnlab {

class AtomicFile {
 public:
  // Creates the temporary file. Every failure, here or later, is an InputError
  // "cannot write PATH: <reason>" naming the target.
  explicit AtomicFile(const std::filesystem::path& path);
  // Without commit(), removes the temporary file: the target is left as it was.
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t size);
  // fsync, rename over the target, fsync the directory.
  void commit();

 private:
  [[noreturn]] void fail(int err);

  std::filesystem::path path_, directory_, temp_;
  int fd_ = -1;
};

// The whole file in one call.
void write_file_atomic(const std::filesystem::path& path, std::string_view bytes);

}  // namespace bnlab
