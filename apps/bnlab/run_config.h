#pragma once
// RunConfig: the settings of one training run, their checks, and RUN/config.json.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "bnlab/model/fit.h"
#include "bnlab/model/sequential.h"
#include "bnlab/optim/optimizer.h"

namespace bnlab::cli {

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
  std::string channels = "auto";        // channel axis of an .npz's rank-4 images
  std::optional<int64_t> valid;         // validation images, when not the default
  int64_t subset = 0;                   // train on the first N training images only (0: all)
  std::optional<std::string> init_from;
  std::string on_nan = "stop";          // stop or skip-batch
  std::string denormals = "flush";      // flush or keep (bnlab/core/denormals.h)
  int ranks = 1;                        // processes (mpirun -np N) that trained it
  std::string bn_sync = "global";       // BatchNorm across them: global or local (model/fit.h)
  std::vector<int64_t> predict_indices = {5, 6, 7, 8, 9, 10, 11};
};

// RUN/config.json: the settings `bnlab train --resume RUN` continues with.
nlohmann::json config_json(const RunConfig& config);
// Reads it strictly: a missing, unknown or mistyped setting is an InputError naming the file.
RunConfig read_config_json(const std::filesystem::path& file);

// The notebook's epochs and batch size for its presets; 1 epoch and Keras' batch 32 otherwise.
RunConfig default_config(const std::string& model);

// Checks every option and builds the model once, before anything is written or loaded.
void validate_config(const RunConfig& config);

// The config's optimizer; a bad name or setting is an InputError naming --optimizer.
std::unique_ptr<Optimizer> make_run_optimizer(const RunConfig& c);
// --on-nan's policy by name (stop, skip-batch); any other is an InputError naming --on-nan.
NonFinitePolicy non_finite_policy(const std::string& name);
// --bn-sync's mode by name (global, local); any other is an InputError naming --bn-sync.
BatchNormSync bn_sync_mode(const std::string& name);

}  // namespace bnlab::cli
