#pragma once
// Training one model and evaluating it: what train and compare share, checkpointing for train.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "bnlab/data/splits.h"
#include "bnlab/model/checkpoint.h"
#include "bnlab/model/fit.h"
#include "bnlab/model/sequential.h"
#include "console.h"
#include "run_config.h"

namespace bnlab::cli {

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

// The batches --on-nan skip-batch skipped over all epochs: training warns of them and
// metrics.json records them.
int64_t skipped_batches(const History& h);

}  // namespace bnlab::cli
