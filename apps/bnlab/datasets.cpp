#include "datasets.h"

#include <fmt/format.h>

#include <filesystem>
#include <optional>
#include <utility>

#include "bnlab/core/error.h"
#include "bnlab/data/cache.h"
#include "bnlab/data/fetch.h"

namespace bnlab::cli {
namespace fs = std::filesystem;

DatasetSplits load_data(const DataOptions& o, const Console& console) {
  const fs::path root = resolve_data_root(o.data_dir ? std::optional<fs::path>(*o.data_dir) : std::nullopt);
  const fs::path dir = dataset_dir(root, o.dataset);
  if (!find_idx_file(dir, "train-images-idx3-ubyte")) {
    console.print("{} is not in {} yet: fetching it\n", o.dataset, dir.string());
    FetchOptions fo;
    fo.progress = [&](const std::string& line) { console.print("  {}\n", line); };
    fetch_dataset(o.dataset, root, fo);
  }
  return load_splits(dir, o.dataset);
}

Dataset load_split_by_name(const DataOptions& o, const std::string& split, const Console& console) {
  if (split != "train" && split != "valid" && split != "test")
    throw InputError(fmt::format("--split: unknown split '{}' (train, valid, test)", split));
  DatasetSplits s = load_data(o, console);
  return split == "train" ? std::move(s.train) : split == "valid" ? std::move(s.valid) : std::move(s.test);
}

}  // namespace bnlab::cli
