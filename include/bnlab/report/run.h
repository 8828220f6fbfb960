#pragma once
// A run directory as `bnlab train --out RUN` and `bnlab compare --out RUN` write it, read back
// and checked for the report and its charts.
//
//   single run:   RUN/history.csv   epoch,loss,accuracy,val_loss,val_accuracy[,seconds], epoch from 1
//                 RUN/summary.txt   the Keras-style model summary
//                 RUN/metrics.json  {"model", "spec", "dataset", "epochs", ..., "train_seconds",
//                                    "params": {"total", "trainable", "non_trainable"},
//                                    "test": {"loss", "accuracy"[, "unscaled": {"loss", "accuracy"}]},
//                                    "valid": {"loss", "accuracy"},
//                                    "predictions": {"split", "indices", "probabilities",
//                                                    "predicted", "actual", "images"}}
//   comparison:   RUN/comparison.json {"models": ["mlp", "mlp-bn"], "dataset", "wall_seconds"}
//                 RUN/<model>/ for each model, a single run as above
//
// Only "model" is required in metrics.json; every other entry is optional, but one that is present
// must have the right type. Anything missing or malformed throws InputError naming the file.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace bnlab::report {

struct EpochRecord {
  int epoch = 0;
  double loss = 0, accuracy = 0, val_loss = 0, val_accuracy = 0;
  double seconds = 0;  // NaN when history.csv has no seconds column
};

struct Evaluation {
  double loss = 0, accuracy = 0;
};

struct ParamCounts {
  int64_t total = 0, trainable = 0, non_trainable = 0;
};

struct PredictionSample {
  int64_t index = 0;                  // position in the split
  std::vector<double> probabilities;  // one per class
  int predicted = 0, actual = 0;
  int rows = 0, cols = 0;      // the image is square: rows = cols = sqrt(pixel count)
  std::vector<uint8_t> image;  // (rows, cols)
};

struct Predictions {
  std::string split;  // "test"
  std::vector<PredictionSample> samples;
};

struct Run {
  std::filesystem::path dir;
  std::string model, spec, dataset;
  // Every scalar entry of metrics.json in file order, as it should be shown ("lr" -> "0.001").
  std::vector<std::pair<std::string, std::string>> config;
  std::optional<double> train_seconds;
  std::optional<ParamCounts> params;
  std::optional<Evaluation> test, test_unscaled, valid;
  std::optional<Predictions> predictions;
  std::vector<EpochRecord> history;  // at least one epoch
  std::string summary;

  // A BatchNorm layer in the spec ("...,bn,..."), or, without a spec, a model name ending "-bn".
  bool uses_batchnorm() const;
};

struct RunDir {
  std::filesystem::path dir;
  bool comparison = false;
  std::string dataset;  // comparison.json's, else the run's
  std::optional<double> wall_seconds;
  std::vector<Run> runs;  // one for a single run; comparison.json's models in its order
  // Experiments run into this directory (`bnlab claims|sweep|notebook-bug --out DIR/NAME`): each
  // subdirectory's section.html, a self-contained <section>, by folder name.
  std::vector<std::pair<std::string, std::string>> experiment_sections;
};

std::vector<EpochRecord> read_history_csv(const std::filesystem::path& file);
Run load_run(const std::filesystem::path& dir);
// A comparison if dir/comparison.json exists, else a single run.
RunDir load_run_dir(const std::filesystem::path& dir);

}  // namespace bnlab::report
