// bnlab data fetch | info
#include <fmt/ranges.h>

#include <nlohmann/json.hpp>

#include "bnlab/core/error.h"
#include "bnlab/data/cache.h"
#include "bnlab/data/fetch.h"
#include "bnlab/data/info.h"
#include "bnlab/data/user_data.h"
#include "commands.h"
#include "console.h"

namespace bnlab::cli {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {
fs::path root_of(const DataOptions& o) {
  return resolve_data_root(o.data_dir ? std::optional<fs::path>(*o.data_dir) : std::nullopt);
}
}  // namespace

int run_data_fetch(const DataOptions& o) {
  const Console console;
  if (is_user_dataset(o.dataset))
    throw InputError(fmt::format("--dataset {}: a file or folder of your own has nothing to fetch (bnlab data info describes it)", o.dataset));
  FetchOptions fo;
  fo.progress = [&](const std::string& line) { console.print("{}\n", line); };
  const FetchResult r = fetch_dataset(o.dataset, root_of(o), fo);
  if (r.already_cached)
    console.print("{}: already in {} (verified)\n", o.dataset, r.dir.string());
  else
    console.print("{}: fetched from {} into {} (SHA-256 verified)\n", o.dataset, r.source, r.dir.string());
  return 0;
}

int run_data_info(const DataOptions& o, bool as_json) {
  const Console console(as_json);
  const bool own_data = is_user_dataset(o.dataset);
  DataInfo info = own_data ? data_info(read_user_dataset(o.dataset, parse_channel_axis(o.channels)), o.valid)
                           : data_info(dataset_dir(root_of(o), o.dataset), o.dataset);
  if (o.valid) info.valid_size = *o.valid;
  if (own_data || o.valid) check_validation_size(info.valid_size, info.train.size, o.valid.has_value(), info.train.files.images.string());
  json out = {{"dataset", info.dataset}, {"dir", info.dir.string()}, {"divide_by", info.divide_by}, {"valid_size", info.valid_size}};
  if (!info.layout.empty()) {
    out["layout"] = info.layout;
    out["dtype"] = info.floats ? "float32" : "uint8";
    console.print("{}: {}\n", o.dataset, info.layout);
  }
  for (const SplitInfo* s : {&info.train, &info.test}) {
    out[s == &info.train ? "train" : "test"] = {{"images", s->files.images.string()}, {"labels", s->files.labels.string()},
                                                {"size", s->size}, {"sample_shape", s->sample_shape},
                                                {"label_counts", s->label_counts}, {"pixel_mean", s->pixels.mean},
                                                {"pixel_std", s->pixels.std}};
    out[s == &info.train ? "train" : "test"]["num_classes"] = s->label_counts.size();
    console.print("{} ({} images of {})\n", s->name, s->size, fmt::join(s->sample_shape, "x"));
    console.print("  files:  {}\n          {}\n", s->files.images.string(), s->files.labels.string());
    std::string counts;
    for (size_t c = 0; c < s->label_counts.size(); ++c) counts += fmt::format("{}{}:{}", c ? " " : "", c, s->label_counts[c]);
    console.print("  labels: {}\n", counts);
    if (info.floats)
      console.print("  float32 values, used as they are: mean {:.4f}, std {:.4f}\n", s->pixels.mean, s->pixels.std);
    else
      console.print("  pixels / {:g}: mean {:.4f}, std {:.4f}\n", info.divide_by, s->pixels.mean, s->pixels.std);
  }
  console.print("split{}: valid = the first {} training images, train = the remaining {}, test = {}\n",
                info.layout.empty() && info.valid_size == kValidationSize ? " as the notebook" : "", info.valid_size,
                info.train.size - info.valid_size, info.test.size);
  if (as_json) fmt::print("{}\n", out.dump(2));
  return 0;
}

}  // namespace bnlab::cli
