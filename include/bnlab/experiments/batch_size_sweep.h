#pragma once
// The notebook's Q3: both models trained at several batch sizes. Per model and size: validation
// curves, seconds per epoch, steps and epochs to a target validation accuracy, final accuracy, and
// the noise of the mini-batch gradient (gradient_noise in training.h) at initialisation and after
// training. The notebook's two expectations are judged from the numbers like the claims.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bnlab/experiments/claims.h"

namespace bnlab::experiments {

struct SweepConfig {
  std::vector<int> batch_sizes = {16, 64, 256};
  int seeds = 3;
  int64_t train_size = 0;         // first training images used (0: all)
  double epochs = 5;
  double target = 0.97;
  int64_t eval_every_samples = 5000;  // evaluations after the same numbers of samples at every size
  double lr = 1e-3;                   // Adam
  int noise_batches = 16;             // batches per gradient-noise estimate
};

struct SweepPoint {
  std::string model;  // "mlp-bn" or "mlp"
  int batch_size = 0;
  Spread seconds_per_epoch;                                   // training only
  Spread steps_to_target, epochs_to_target, seconds_to_target;  // over the seeds that reached it
  int reached = 0;
  Spread final_accuracy;                       // validation accuracy at the end
  Spread noise_at_init, noise_at_end;          // gradient variance
  Spread signal_at_init, signal_at_end;        // squared norm of the mean gradient
  std::vector<double> epochs, seconds, curve;  // mean validation accuracy at each evaluation
};

struct SweepResult {
  double target = 0.97;
  std::vector<SweepPoint> points;  // mlp-bn then mlp, batch sizes ascending
  Judgement smoother;              // "larger batches give smoother gradients"
  Judgement faster;                // "larger batches converge faster"
  std::vector<NamedChart> charts;
  double seconds = 0.0;
};

SweepResult run_batch_size_sweep(const SweepConfig& c, const Dataset& train, const Dataset& valid, const Log& log);

// Tests, per model: the gradient variance at initialisation falls at every step up in batch size.
Judgement judge_smoother(const std::vector<SweepPoint>& points);
// Tests, per model, largest against smallest batch: fewer epochs to target; less time to target.
Judgement judge_faster(const std::vector<SweepPoint>& points);

nlohmann::json sweep_json(const SweepConfig& c, const SweepResult& r);
// One row per model and batch size.
std::string sweep_csv(const SweepResult& r);

}  // namespace bnlab::experiments
