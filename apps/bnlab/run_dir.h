#pragma once
// A run's output folder: creating it safely and writing a trained run's files into it.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "train_run.h"

namespace bnlab::cli {

// Creates dir (and parents) for a run; an existing non-empty dir is refused so no earlier run is
// overwritten. Unless keep() is called, the destructor removes what this run created, so a failed
// run leaves no partial output behind.
class RunDirGuard {
 public:
  RunDirGuard(const std::filesystem::path& dir, const std::string& flag);
  ~RunDirGuard();
  RunDirGuard(const RunDirGuard&) = delete;
  RunDirGuard& operator=(const RunDirGuard&) = delete;
  void keep() { keep_ = true; }

 private:
  std::filesystem::path dir_;
  std::filesystem::path created_;  // the topmost directory this guard created; empty if dir existed
  bool keep_ = false;
};
// model.safetensors, history.csv, summary.txt, metrics.json (the last one: its presence marks a
// finished run).
void write_run_dir(const std::filesystem::path& dir, TrainedRun& run);
nlohmann::json run_metrics_json(const TrainedRun& run);
// Atomic (io/atomic_file.h): InputError "cannot write PATH: reason" on failure, no partial file.
void write_text_atomic(const std::filesystem::path& path, const std::string& text);

}  // namespace bnlab::cli
