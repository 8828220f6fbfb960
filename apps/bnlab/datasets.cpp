#include "datasets.h"

#include <fmt/format.h>

#include <filesystem>
#include <optional>
#include <utility>

#include "bnlab/core/error.h"
#include "bnlab/data/cache.h"
#include "bnlab/data/fetch.h"
#include "bnlab/data/user_data.h"

namespace bnlab::cli {
namespace fs = std::filesystem;

namespace {
// The cache folder of a known dataset, fetched first if it is not there.
fs::path fetched_dir(const DataOptions& o, const Console& console) {
  const fs::path root = resolve_data_root(o.data_dir ? std::optional<fs::path>(*o.data_dir) : std::nullopt);
  const fs::path dir = dataset_dir(root, o.dataset);
  if (!find_idx_file(dir, "train-images-idx3-ubyte")) {
    console.print("{} is not in {} yet: fetching it\n", o.dataset, dir.string());
    FetchOptions fo;
    fo.progress = [&](const std::string& line) { console.print("  {}\n", line); };
    fetch_dataset(o.dataset, root, fo);
  }
  return dir;
}

UserDataset read_user_data(const DataOptions& o, const Console& console) {
  UserDataset u = read_user_dataset(o.dataset, parse_channel_axis(o.channels));
  console.print("{}: {}\n", o.dataset, u.layout);
  return u;
}
}  // namespace

void add_data_options(CLI::App* cmd, DataOptions& d) {
  cmd->add_option("--dataset", d.dataset, "mnist, fashion-mnist, an .npz file (x_train, y_train, x_test, y_test) or a folder of IDX files")
      ->capture_default_str();
  cmd->add_option("--data-dir", d.data_dir, "cache root (else $BNLAB_DATA, $XDG_CACHE_HOME/bnlab, ~/.cache/bnlab)");
  cmd->add_option("--channels", d.channels, "channel axis of (N, ., ., .) images in an .npz: first, last or auto")
      ->capture_default_str();
  cmd->add_option("--valid", d.valid, "validation images taken from the front of the training set (default: 5000, or 10% of fewer than 50,000 of one's own)");
}

DatasetSplits load_data(const DataOptions& o, const Console& console) {
  if (o.valid && *o.valid <= 0) throw InputError(fmt::format("--valid: must be positive, got {}", *o.valid));
  if (is_user_dataset(o.dataset)) return user_splits(read_user_data(o, console), o.valid);
  parse_channel_axis(o.channels);
  return load_splits(fetched_dir(o, console), o.dataset, o.valid);
}

Dataset load_split_by_name(const DataOptions& o, const std::string& split, const Console& console) {
  if (split != "train" && split != "valid" && split != "test")
    throw InputError(fmt::format("--split: unknown split '{}' (train, valid, test)", split));
  DatasetSplits s = load_data(o, console);
  return split == "train" ? std::move(s.train) : split == "valid" ? std::move(s.valid) : std::move(s.test);
}

std::pair<Dataset, Dataset> load_train_and_test(const DataOptions& o, const Console& console) {
  if (is_user_dataset(o.dataset)) {
    UserDataset u = read_user_data(o, console);
    return {std::move(u.train), std::move(u.test)};
  }
  const fs::path dir = fetched_dir(o, console);
  return {load_split(dir, o.dataset, Split::Train), load_split(dir, o.dataset, Split::Test)};
}

}  // namespace bnlab::cli
