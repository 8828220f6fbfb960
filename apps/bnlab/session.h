#pragma once
// What train and compare share: loading the data, training one model and writing its run folder.
#include <atomic>
#include <csignal>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "bnlab/data/splits.h"
#include "bnlab/model/checkpoint.h"
#include "bnlab/model/fit.h"
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
  std::optional<std::string> data_dir;  // cache root, when not the default
  int64_t subset = 0;                   // train on the first N training images only (0: all)
  std::optional<std::string> init_from;
  std::string on_nan = "stop";          // stop or skip-batch
  std::vector<int64_t> predict_indices = {5, 6, 7, 8, 9, 10, 11};
};

// RUN/config.json: the settings `bnlab train --resume RUN` continues with.
nlohmann::json config_json(const RunConfig& config);
// Reads it strictly: a missing, unknown or mistyped setting is an InputError naming the file.
RunConfig read_config_json(const std::filesystem::path& file);

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

// How `bnlab train` makes a run survive interruption: the training state is saved at the end of
// every epoch and on a stop request, and a resumed run continues from it.
struct Checkpointing {
  std::filesystem::path state_file;  // RUN/train_state.safetensors
  bool resume = false;               // continue from state_file, if it exists yet
  const std::atomic<bool>* stop_requested = nullptr;
  std::function<void()> on_saved;    // after each save
};

// Trains config's model on data and evaluates it. With checkpointing, fit may throw
// TrainingStopped after saving the state (a stop request), or with the last save kept (a non-finite
// loss or gradient).
TrainedRun train_and_evaluate(const RunConfig& config, const DatasetSplits& data, const Console& console,
                              bool unscaled_test = false, const Checkpointing* checkpointing = nullptr);

// While alive, SIGINT and SIGTERM ask training to stop at the next step boundary (after a
// checkpoint) instead of killing the process; a second signal kills it at once.
class StopOnSignals {
 public:
  StopOnSignals();
  ~StopOnSignals();
  StopOnSignals(const StopOnSignals&) = delete;
  StopOnSignals& operator=(const StopOnSignals&) = delete;
  const std::atomic<bool>* flag() const;
  int received() const;  // the signal's number, 0 before one arrives

 private:
  struct sigaction old_int_ {}, old_term_{};
};

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
// model.safetensors, history.csv, summary.txt, metrics.json (the last one: its presence marks a
// finished run).
void write_run_dir(const std::filesystem::path& dir, TrainedRun& run);
nlohmann::json run_metrics_json(const TrainedRun& run);
// Atomic (io/atomic_file.h): InputError "cannot write PATH: reason" on failure, no partial file.
void write_text_atomic(const std::filesystem::path& path, const std::string& text);

// Keras' evaluate line: "313/313 ━━━━━━━━━━━━━━━━━━━━ 0s 1ms/step - accuracy: 0.9800 - loss: 0.0700".
std::string evaluate_line(const Metrics& m, int64_t steps, double seconds);
void apply_threads(int threads);

}  // namespace bnlab::cli
