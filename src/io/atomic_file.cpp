#include "bnlab/io/atomic_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "bnlab/core/error.h"

namespace bnlab {
namespace {

// 0, or the errno of the failure. Some file systems cannot sync a directory (EINVAL); the rename
// itself has still happened then.
int fsync_directory(const std::filesystem::path& directory) {
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno;
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  return rc != 0 && err != EINVAL ? err : 0;
}

}  // namespace

AtomicFile::AtomicFile(const std::filesystem::path& path)
    : path_(path), directory_(path.has_parent_path() ? path.parent_path() : ".") {
  static std::atomic<unsigned> counter{0};
  for (;;) {
    temp_ = directory_ / fmt::format(".{}.tmp.{}.{}", path.filename().string(), ::getpid(), counter++);
    // Mode 0666 less the umask, like any other file the program writes.
    fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd_ >= 0) return;
    if (errno != EEXIST) {
      const int err = errno;
      temp_.clear();
      fail(err);
    }
  }
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!temp_.empty()) ::unlink(temp_.c_str());
}

void AtomicFile::fail(int err) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (!temp_.empty()) ::unlink(temp_.c_str());
  temp_.clear();
  throw InputError(fmt::format("cannot write {}: {}", path_.string(), std::strerror(err)));
}

void AtomicFile::write(const void* data, size_t size) {
  if (fd_ < 0) throw std::logic_error("AtomicFile::write after commit");
  const auto* p = static_cast<const uint8_t*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd_, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(errno);
    p += n;
    size -= static_cast<size_t>(n);
  }
}

void AtomicFile::commit() {
  if (fd_ < 0) throw std::logic_error("AtomicFile::commit twice");
  if (::fsync(fd_) != 0) fail(errno);
  const int rc = ::close(fd_);
  fd_ = -1;
  if (rc != 0) fail(errno);
  if (::rename(temp_.c_str(), path_.c_str()) != 0) fail(errno);
  temp_.clear();
  if (const int err = fsync_directory(directory_)) fail(err);
}

void write_file_atomic(const std::filesystem::path& path, std::string_view bytes) {
  AtomicFile file(path);
  file.write(bytes.data(), bytes.size());
  file.commit();
}

}  // namespace bnlab
