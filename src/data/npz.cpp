#include "bnlab/data/npz.h"

#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <memory>

#include "bnlab/core/error.h"

namespace bnlab {

namespace {
using Archive = std::unique_ptr<archive, decltype(&archive_read_free)>;
constexpr size_t kBlockSize = 1 << 16;
constexpr const char* kSuffix = ".npy";

Archive open_zip(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec))
    throw InputError(fmt::format("{}: no such file", file.string()));
  Archive a(archive_read_new(), &archive_read_free);
  if (!a) throw std::bad_alloc();
  archive_read_support_format_zip(a.get());
  if (archive_read_open_filename(a.get(), file.c_str(), kBlockSize) != ARCHIVE_OK)
    throw InputError(fmt::format("{}: not a readable .npz (zip) archive: {}", file.string(), archive_error_string(a.get())));
  return a;
}

// The key a member holds ("x_train" for "x_train.npy"), or "" for a member that is no array.
std::string key_of(const std::string& member) {
  const size_t n = std::char_traits<char>::length(kSuffix);
  if (member.size() <= n || member.compare(member.size() - n, n, kSuffix) != 0) return "";
  return member.substr(0, member.size() - n);
}

// Reads the current member, its content handed out in read_npy's pieces; libarchive's errors
// (corrupt deflate data, a bad CRC) become InputErrors naming the member.
NpyArray read_member(archive* a, archive_entry* entry, const std::string& source) {
  la_int64_t recorded = archive_entry_size_is_set(entry) ? archive_entry_size(entry) : -1;
  uint64_t delivered = 0;
  NpyArray array = read_npy(
      [&](uint8_t* dst, size_t n) {
        size_t got = 0;
        while (got < n) {
          const la_ssize_t k = archive_read_data(a, dst + got, n - got);
          if (k < 0) throw InputError(fmt::format("{}: corrupt member: {}", source, archive_error_string(a)));
          if (k == 0) break;
          got += static_cast<size_t>(k);
        }
        delivered += got;
        return got;
      },
      source);
  if (recorded >= 0 && static_cast<uint64_t>(recorded) != delivered)
    throw InputError(fmt::format("{}: the archive records {} bytes but the member holds {}", source, recorded, delivered));
  return array;
}
}  // namespace

std::map<std::string, NpyArray> read_npz(const std::filesystem::path& file, const std::vector<std::string>& keys) {
  const std::string name = file.string();
  Archive a = open_zip(file);
  std::map<std::string, NpyArray> arrays;
  std::vector<std::string> present;
  archive_entry* entry = nullptr;
  int rc = ARCHIVE_OK;
  while ((rc = archive_read_next_header(a.get(), &entry)) == ARCHIVE_OK) {
    const char* path = archive_entry_pathname(entry);
    const std::string key = key_of(path ? path : "");
    if (key.empty()) continue;
    if (std::find(present.begin(), present.end(), key) != present.end())
      throw InputError(fmt::format("{}: member {}{} appears twice", name, key, kSuffix));
    present.push_back(key);
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) continue;
    arrays.emplace(key, read_member(a.get(), entry, fmt::format("{}: {}{}", name, key, kSuffix)));
  }
  if (rc != ARCHIVE_EOF)
    throw InputError(fmt::format("{}: corrupt .npz (zip) archive: {}", name, archive_error_string(a.get())));
  for (const std::string& key : keys)
    if (!arrays.count(key))
      throw InputError(fmt::format("{}: no array '{}' (it holds: {})", name, key,
                                   present.empty() ? std::string("no arrays") : fmt::format("{}", fmt::join(present, ", "))));
  return arrays;
}

}  // namespace bnlab
