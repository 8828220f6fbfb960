#pragma once
// What train and compare share: loading the data, training one model and writing its run folder.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "bnlab/data/splits.h"
#include "bnlab/model/checkpoint.h"
#include "bnlab/model/sequential.h"
#include "commands.h"
#include "console.h"

namespace bnlab::cli {

// Loads the dataset's splits from its cache folder, fetching it first if it is not there.
DatasetSplits load_data(const DataOptions& o, const Console& console);
Dataset load_split_by_name(const DataOptions& o, const std::string& split, const Console& console);

struct RunConfig {
  std::string model;  // preset name or spec
  int epochs = 1, batch_size = 32;
  std::string optimizer = "adam";
  double lr = 1e-3, momentum = 0.0;
  uint64_t seed = 1;
  int threads = 0;
  int64_t max_steps = -1;
  bool shuffle = true;
  std::string dataset = "mnist";
  std::optional<std::string> init_from;
  std::vector<int64_t> predict_indices = {5, 6, 7, 8, 9, 10, 11};
};

// The seed notebook's epochs and batch size for its presets; 1 epoch and Keras' batch 32 otherwise.
RunConfig default_config(const std::string& model);

struct TrainedRun {
  RunConfig config;
  Sequential model;
  std::string summary;
  History history;
  InputStats train_inputs;
  Metrics valid, test;
  std::optional<Metrics> test_unscaled;
  double train_seconds = 0.0;
  nlohmann::json predictions;
};

TrainedRun train_and_evaluate(const RunConfig& config, const DatasetSplits& data, const Console& console,
                              bool unscaled_test = false);

// Checks every option and builds the model once, before anything is written or loaded.
void validate_config(const RunConfig& config);

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
// model.safetensors, history.csv, summary.txt, metrics.json.
void write_run_dir(const std::filesystem::path& dir, TrainedRun& run);
nlohmann::json run_metrics_json(const TrainedRun& run);
void write_text_atomic(const std::filesystem::path& path, const std::string& text);

// Keras' evaluate line: "313/313 ━━━━━━━━━━━━━━━━━━━━ 0s 1ms/step - accuracy: 0.9800 - loss: 0.0700".
std::string evaluate_line(const Metrics& m, int64_t steps, double seconds);
void apply_threads(int threads);

}  // namespace bnlab::cli
