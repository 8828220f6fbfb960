#include "bnlab/data/cache.h"

#include <cstdlib>

#include "bnlab/core/error.h"
#include "bnlab/data/catalog.h"

namespace bnlab {

namespace {
std::optional<std::filesystem::path> env_path(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::filesystem::path(value);
}
}  // namespace

std::filesystem::path resolve_data_root(const std::optional<std::filesystem::path>& data_dir) {
  if (data_dir && !data_dir->empty()) return *data_dir;
  if (auto root = env_path("BNLAB_DATA")) return *root;
  // The XDG spec says to ignore a relative XDG_CACHE_HOME.
  if (auto xdg = env_path("XDG_CACHE_HOME"); xdg && xdg->is_absolute()) return *xdg / "bnlab";
  if (auto home = env_path("HOME")) return *home / ".cache" / "bnlab";
  throw InputError(
      "cannot choose a data directory: HOME is not set; pass --data-dir or set BNLAB_DATA");
}

std::filesystem::path dataset_dir(const std::filesystem::path& root,
                                  const std::string& dataset_name) {
  known_checksums(dataset_name);  // rejects unknown names
  return root / dataset_name;
}

}  // namespace bnlab
