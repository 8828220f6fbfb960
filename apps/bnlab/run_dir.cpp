#include "run_dir.h"

#include <fmt/format.h>

#include <unistd.h>

#include <cstdint>
#include <system_error>

#include "bnlab/core/denormals.h"
#include "bnlab/core/error.h"
#include "bnlab/core/threads.h"
#include "bnlab/io/atomic_file.h"

namespace bnlab::cli {
namespace fs = std::filesystem;
using json = nlohmann::json;

RunDirGuard::RunDirGuard(const fs::path& dir, const std::string& flag) : dir_(dir) {
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    if (!fs::is_directory(dir, ec)) throw InputError(fmt::format("{} {}: exists and is not a directory", flag, dir.string()));
    if (!fs::is_empty(dir, ec))
      throw InputError(fmt::format("{} {}: directory is not empty; choose a new one (an earlier run is never overwritten)", flag, dir.string()));
  } else {
    fs::path top = fs::absolute(dir, ec);
    while (top.has_parent_path() && top.parent_path() != top && !fs::exists(top.parent_path(), ec)) top = top.parent_path();
    fs::create_directories(dir, ec);
    if (ec) throw InputError(fmt::format("{} {}: cannot create directory: {}", flag, dir.string(), ec.message()));
    created_ = top;
  }
  if (access(dir.c_str(), W_OK) != 0) throw InputError(fmt::format("{} {}: directory is not writable", flag, dir.string()));
}

RunDirGuard::~RunDirGuard() {
  if (keep_) return;
  std::error_code ec;
  if (!created_.empty()) {
    fs::remove_all(created_, ec);
    return;
  }
  for (const auto& entry : fs::directory_iterator(dir_, ec)) fs::remove_all(entry.path(), ec);  // it was empty
}

void write_text_atomic(const fs::path& path, const std::string& text) { write_file_atomic(path, text); }

namespace {
json metrics(const Metrics& m) { return {{"loss", m.loss}, {"accuracy", m.accuracy}}; }

std::string history_csv(const History& h) {
  std::string s = "epoch,loss,accuracy,val_loss,val_accuracy,seconds\n";
  for (const EpochLogs& e : h.epochs)
    s += fmt::format("{},{:.8g},{:.8g},{:.8g},{:.8g},{:.4f}\n", e.epoch, e.loss, e.accuracy, e.val_loss, e.val_accuracy, e.seconds);
  return s;
}
}  // namespace

json run_metrics_json(const TrainedRun& run) {
  const RunConfig& c = run.config;
  json test = metrics(run.test);
  if (run.test_unscaled) test["unscaled"] = metrics(*run.test_unscaled);
  Sequential& model = const_cast<Sequential&>(run.model);
  json history = json::array();
  for (const EpochLogs& e : run.history.epochs)
    history.push_back({{"epoch", e.epoch}, {"loss", e.loss}, {"accuracy", e.accuracy}, {"val_loss", e.val_loss},
                       {"val_accuracy", e.val_accuracy}, {"seconds", e.seconds}});
  json out = {{"model", c.model},
              {"spec", model.spec()},
              {"dataset", c.dataset},
              {"epochs", c.epochs},
              {"epochs_run", run.history.epochs.size()},
              {"batch_size", c.batch_size},
              {"optimizer", c.optimizer},
              {"lr", c.lr},
              {"seed", c.seed},
              {"threads", num_threads()},
              {"ranks", c.ranks},
              {"bn_sync", c.bn_sync},
              {"denormals", denormals_name(denormals())},
              {"train_seconds", run.train_seconds},
              {"params", {{"total", model.count_params(true) + model.count_params(false)},
                          {"trainable", model.count_params(true)},
                          {"non_trainable", model.count_params(false)}}},
              {"test", test},
              {"valid", metrics(run.valid)},
              {"history", history},
              {"predictions", run.predictions}};
  // Only runs with --on-nan skip-batch that met a bad batch say so.
  if (const int64_t skipped = skipped_batches(run.history)) out["skipped_batches"] = skipped;
  return out;
}

void write_run_dir(const fs::path& dir, TrainedRun& run) {
  save_checkpoint(dir / "model.safetensors", run.model, run.train_inputs, run.config.dataset);
  write_text_atomic(dir / "history.csv", history_csv(run.history));
  write_text_atomic(dir / "summary.txt", run.summary);
  write_text_atomic(dir / "metrics.json", run_metrics_json(run).dump(2) + "\n");
}

}  // namespace bnlab::cli
