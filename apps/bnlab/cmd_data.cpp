// bnlab data fetch | info
#include <nlohmann/json.hpp>

#include "bnlab/data/cache.h"
#include "bnlab/data/fetch.h"
#include "bnlab/data/info.h"
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
  const DataInfo info = data_info(dataset_dir(root_of(o), o.dataset), o.dataset);
  json out = {{"dataset", info.dataset}, {"dir", info.dir.string()}, {"divide_by", info.divide_by}, {"valid_size", info.valid_size}};
  for (const SplitInfo* s : {&info.train, &info.test}) {
    out[s == &info.train ? "train" : "test"] = {{"images", s->files.images.string()}, {"labels", s->files.labels.string()},
                                                {"size", s->size}, {"sample_shape", s->sample_shape},
                                                {"label_counts", s->label_counts}, {"pixel_mean", s->pixels.mean},
                                                {"pixel_std", s->pixels.std}};
    console.print("{} ({} images of {}x{})\n", s->name, s->size, s->sample_shape.at(0), s->sample_shape.at(1));
    console.print("  files:  {}\n          {}\n", s->files.images.string(), s->files.labels.string());
    std::string counts;
    for (size_t c = 0; c < s->label_counts.size(); ++c) counts += fmt::format("{}{}:{}", c ? " " : "", c, s->label_counts[c]);
    console.print("  labels: {}\n", counts);
    console.print("  pixels / {:g}: mean {:.4f}, std {:.4f}\n", info.divide_by, s->pixels.mean, s->pixels.std);
  }
  console.print("split as the notebook: valid = the first {} training images, train = the remaining {}, test = {}\n",
                info.valid_size, info.train.size - info.valid_size, info.test.size);
  if (as_json) fmt::print("{}\n", out.dump(2));
  return 0;
}

}  // namespace bnlab::cli
