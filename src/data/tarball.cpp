#include "tarball.h"

#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>

#include <fstream>
#include <memory>
#include <set>

#include "bnlab/data/fetch.h"

namespace bnlab {

namespace {
using Archive = std::unique_ptr<archive, decltype(&archive_read_free)>;
constexpr size_t kBlockSize = 1 << 16;

Archive open_archive(const std::filesystem::path& file) {
  Archive a(archive_read_new(), &archive_read_free);
  archive_read_support_filter_gzip(a.get());
  archive_read_support_format_tar(a.get());
  if (archive_read_open_filename(a.get(), file.c_str(), kBlockSize) != ARCHIVE_OK)
    throw FetchError(fmt::format("{}: cannot open archive: {}", file.filename().string(),
                                 archive_error_string(a.get())));
  return a;
}

void copy_entry_data(archive* a, const std::filesystem::path& archive_file,
                     const std::filesystem::path& dest) {
  std::ofstream out(dest, std::ios::binary);
  const void* block = nullptr;
  size_t size = 0;
  la_int64_t offset = 0;
  int rc = ARCHIVE_OK;
  while ((rc = archive_read_data_block(a, &block, &size, &offset)) == ARCHIVE_OK)
    out.write(static_cast<const char*>(block), static_cast<std::streamsize>(size));
  if (rc != ARCHIVE_EOF)
    throw FetchError(fmt::format("{}: corrupt archive: {}", archive_file.filename().string(),
                                 archive_error_string(a)));
  out.close();
  if (!out) throw FetchError(fmt::format("{}: write error", dest.string()));
}
}  // namespace

void extract_members(const std::filesystem::path& archive_file,
                     const std::map<std::string, std::filesystem::path>& members) {
  Archive a = open_archive(archive_file);
  std::set<std::string> missing;
  for (const auto& [member, dest] : members) missing.insert(member);
  archive_entry* entry = nullptr;
  int rc = ARCHIVE_OK;
  while ((rc = archive_read_next_header(a.get(), &entry)) == ARCHIVE_OK) {
    const char* path = archive_entry_pathname(entry);
    const auto wanted = path ? members.find(path) : members.end();
    if (wanted == members.end()) continue;
    copy_entry_data(a.get(), archive_file, wanted->second);
    missing.erase(wanted->first);
  }
  if (rc != ARCHIVE_EOF)
    throw FetchError(fmt::format("{}: corrupt archive: {}", archive_file.filename().string(),
                                 archive_error_string(a.get())));
  if (!missing.empty())
    throw FetchError(
        fmt::format("{}: no member {}", archive_file.filename().string(), *missing.begin()));
}

}  // namespace bnlab
