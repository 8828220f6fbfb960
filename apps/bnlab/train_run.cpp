#include "train_run.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "bnlab/core/error.h"
#include "bnlab/core/stopwatch.h"
#include "bnlab/layers/batchnorm.h"
#include "bnlab/model/spec.h"
#include "bnlab/model/training_state.h"
#include "progress.h"
#include "ranks.h"

namespace bnlab::cli {
namespace fs = std::filesystem;
using json = nlohmann::json;

int64_t skipped_batches(const History& h) {
  int64_t n = 0;
  for (const EpochLogs& e : h.epochs) n += e.skipped;
  return n;
}

namespace {
// The run's training state to continue from, or nothing to start afresh.
std::optional<TrainingPosition> resume_position(const Checkpointing* checkpointing, Sequential& model,
                                                const RunConfig& config, const Dataset& train, const Console& console) {
  if (!checkpointing || !checkpointing->resume) return std::nullopt;
  const fs::path& file = checkpointing->state_file;
  if (!fs::exists(file)) {
    console.print("{} holds no checkpoint yet (stopped in its first epoch): training from the start\n",
                  file.parent_path().string());
    return std::nullopt;
  }
  TrainingPosition p = load_training_state(file, model, train.size(), config.batch_size);
  console.print("Resuming from {}: epoch {}, step {}\n", file.string(), p.epoch, p.step);
  return p;
}

void fit_model(TrainedRun& run, const RunConfig& config, const DatasetSplits& data, const Console& console,
               const Checkpointing* checkpointing) {
  const std::optional<TrainingPosition> resumed = resume_position(checkpointing, run.model, config, data.train, console);
  if (config.init_from && !resumed) load_weights(*config.init_from, run.model);
  KerasProgress progress(console);
  FitOptions fit;
  fit.epochs = config.epochs;
  fit.batch_size = config.batch_size;
  fit.shuffle = config.shuffle;
  fit.seed = config.seed;
  fit.validation = &data.valid;
  fit.max_steps = config.max_steps;
  fit.callback = &progress;
  fit.on_non_finite = non_finite_policy(config.on_nan);
  fit.bn_sync = bn_sync_mode(config.bn_sync);
  if (run_ranks().size() > 1) fit.ranks = &run_ranks();
  if (resumed) fit.resume = &*resumed;
  if (checkpointing) {
    fit.stop_requested = checkpointing->stop_requested;
    fit.checkpoint = [&](const TrainingPosition& p) {
      if (!is_lead_rank()) return;  // every rank holds the same state; rank 0 writes it
      save_training_state(checkpointing->state_file, run.model, p);
      if (checkpointing->on_saved) checkpointing->on_saved();
    };
  }
  const Stopwatch watch;
  run.history = run.model.fit(data.train, fit);
  run.train_seconds = watch.seconds();
  if (const int64_t skipped = skipped_batches(run.history); skipped && is_lead_rank())
    fmt::print(stderr, "warning: skipped {} batches with a non-finite loss or gradient (--on-nan skip-batch)\n", skipped);
}

// A note when some BatchNorm layer's moving statistics still give their starting values (mean 0,
// variance 1) 5% or more of their weight: inference normalises with them, so the test figures
// trail the training ones for a reason that is not the model's (a short run at Keras's momentum
// 0.99, such as --quick, or a few hundred steps).
std::string moving_statistics_note(const Sequential& model) {
  const BatchNormalization* worst = nullptr;
  double share = 0.0;
  for (const auto& layer : model.layers())
    if (const auto* bn = dynamic_cast<const BatchNormalization*>(layer.get());
        bn && bn->moving_start_share(bn->num_batches_tracked) > share) {
      worst = bn;
      share = bn->moving_start_share(bn->num_batches_tracked);
    }
  if (share < 0.05) return "";
  const std::optional<double>& momentum = worst->options().momentum;  // unset: a cumulative average
  std::string note = fmt::format(
      "Note: BatchNorm's moving statistics have had {} updates, and {} they still hold {:.0f}% of their "
      "starting values (mean 0, variance 1). Inference normalises with them, so the test figures trail the "
      "training ones",
      worst->num_batches_tracked, momentum ? fmt::format("at momentum {:g}", *momentum) : "as a cumulative average",
      100 * share);
  const double keep = worst->moving_start_share(1);  // the share each update keeps
  if (keep > 0.0 && keep < 1.0) note += fmt::format("; the share falls below 1% after {:.0f} updates", std::ceil(std::log(0.01) / std::log(keep)));
  return note + ".\n";
}

// Test sample `row` as the report's prediction strip shows it: a square of grey levels (bnlab's
// Dataset::grey_levels), a non-square image placed top left on black.
std::vector<int> report_image(const Dataset& test, int64_t row) {
  const std::vector<uint8_t> grey = test.grey_levels(row);
  const size_t rank = test.sample_shape.size();
  const int64_t rows = rank >= 2 ? test.sample_shape[rank - 2] : 1, cols = rank >= 1 ? test.sample_shape.back() : 1;
  if (rows == cols) return std::vector<int>(grey.begin(), grey.end());
  const int64_t side = std::max(rows, cols);
  std::vector<int> square(static_cast<size_t>(side * side), 0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) square[r * side + c] = grey[r * cols + c];
  return square;
}
}  // namespace

TrainedRun train_and_evaluate(const RunConfig& config, const DatasetSplits& data, const Console& console, bool unscaled_test,
                              const Checkpointing* checkpointing) {
  validate_config(config);
  TrainedRun run;
  run.config = config;
  run.model = make_model(config.model);
  try {
    run.model.build(Shape(data.train.sample_shape), config.seed);
  } catch (const InputError& e) {
    throw InputError(fmt::format("--model: {}", e.what()));
  }
  if (data.train.num_classes > run.model.num_classes())
    throw InputError(fmt::format("--model: {} outputs, but {} has labels up to {} ({} classes)", run.model.num_classes(),
                                 data.train.name, data.train.num_classes - 1, data.train.num_classes));
  run.model.compile(make_run_optimizer(config));
  run.summary = run.model.summary(config.model);
  console.print("{}\n", run.summary);
  run.train_inputs = input_stats(data.train);
  fit_model(run, config, data, console, checkpointing);

  // Sharded over the ranks of a data-parallel run, each evaluating its part of the split.
  Communicator* ranks = run_ranks().size() > 1 ? &run_ranks() : nullptr;
  run.valid = run.model.evaluate(data.valid, 32, ranks);
  const Stopwatch test_watch;
  run.test = run.model.evaluate(data.test, 32, ranks);
  console.print("Test ({} images):\n{}\n", data.test.size(), evaluate_line(run.test, (data.test.size() + 31) / 32, test_watch.seconds()));
  console.print("{}", moving_statistics_note(run.model));
  if (unscaled_test) {
    Dataset raw = data.test;
    raw.divide_by = 1.0;
    raw.name += " (not divided by 255)";
    run.test_unscaled = run.model.evaluate(raw, 32, ranks);
    console.print("Test not divided by 255, as the notebook evaluated it:\n{}\n",
                  evaluate_line(*run.test_unscaled, (raw.size() + 31) / 32, 0.0));
  }

  std::vector<int64_t> indices;
  for (int64_t i : config.predict_indices)
    if (i < data.test.size()) indices.push_back(i);
  const Tensor probs = run.model.predict(data.test, indices);
  const int K = static_cast<int>(probs.dim(1));
  json p = {{"split", "test"}, {"indices", indices}, {"probabilities", json::array()}, {"predicted", json::array()},
            {"actual", json::array()}, {"images", json::array()}};
  for (size_t r = 0; r < indices.size(); ++r) {
    std::vector<double> row(probs.data() + r * K, probs.data() + (r + 1) * K);
    p["probabilities"].push_back(row);
    p["predicted"].push_back(std::max_element(row.begin(), row.end()) - row.begin());
    p["actual"].push_back(data.test.labels[indices[r]]);
    p["images"].push_back(report_image(data.test, indices[r]));
  }
  run.predictions = p;
  return run;
}

}  // namespace bnlab::cli
