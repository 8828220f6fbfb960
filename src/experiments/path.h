#pragma once
// One training run of claims 0 and 8, followed step by step: plain SGD on the model's plain path
// (Sequential::train_step), with measurements at checkpoints along the way (every record_every
// steps, from step 0 to the last). At each checkpoint, before the next step and on the weights as they
// are: the validation accuracy; the percentiles of chosen units' inputs to the last hidden
// nonlinearity over a fixed probe batch (training-mode forward, as training sees them); the
// gradient-based ICS (ics.h) and the landscape probe (landscape.h) on the batch of the next step.
// Measurements leave the run exactly as it would be without them.
#include <cstdint>
#include <string>
#include <vector>

#include "bnlab/data/dataset.h"
#include "bnlab/experiments/claims.h"
#include "bnlab/experiments/ics.h"
#include "bnlab/experiments/landscape.h"

namespace bnlab::experiments::detail {

struct PathSpec {
  std::string model;
  double lr = 0.1;            // plain SGD
  int batch_size = 60;
  int64_t steps = 100;
  uint64_t seed = 1;          // initialisation, data order and noise
  double init_normal_sd = 0;  // > 0: Dense weights from N(0, sd^2) instead of Glorot
  int64_t record_every = 10;
  int units = 0;              // units followed (the first `units` of the layer); 0: none
  int64_t probe_size = 500;   // the probe batch: the first probe_size validation images
  bool gradient_ics = false;
  std::vector<double> landscape_etas;  // steps of the landscape probe (empty: none)
};

struct Checkpoint {
  int64_t step = 0;
  double val_accuracy = NAN;
  std::vector<Percentiles> units;    // per followed unit
  std::vector<GradientShift> ics;    // per Dense layer (if gradient_ics)
  LandscapeProbe landscape;          // if landscape_etas
};

struct PathTrace {
  std::vector<Checkpoint> checkpoints;  // in step order; a diverged run stops early
  bool diverged = false;
};

// The index of the layer whose output feeds the model's last standalone activation layer (the
// last hidden nonlinearity's input). InputError if the model has no standalone activation.
size_t last_hidden_input_layer(const Sequential& model);

PathTrace follow_path(const PathSpec& spec, const Dataset& train, const Dataset& valid);

// The runs of claims 0 and 8's two nets: base (what both measure) with the protocol's steps and
// checkpoints, then Ioffe's net's batch, rate and Gaussian initialisation, and the notebook MLP's
// batch and rate.
struct NetPaths {
  PathSpec ioffe, mlp;
};
NetPaths net_paths(PathSpec base, const PathNets& nets);

}  // namespace bnlab::experiments::detail
