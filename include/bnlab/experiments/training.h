#pragma once
// One training run of an experiment: a model built from a spec and a seed, trained for a number of
// steps with Sequential::fit, and watched on the way (validation accuracy, per-layer gradient norms,
// divergence). Every experiment in claims.h and batch_size_sweep.h is made of these runs.
#include <cmath>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bnlab/data/dataset.h"
#include "bnlab/model/buffer_snapshot.h"
#include "bnlab/model/fit.h"
#include "bnlab/model/sequential.h"

namespace bnlab::experiments {

// Progress lines for the user ("[2/7] learning rates: run 5/72 ...").
using Log = std::function<void(const std::string&)>;

struct TrainSpec {
  std::string model = "mlp";       // preset or spec (model/spec.h)
  std::string optimizer = "adam";  // adam (Keras form) or sgd
  double lr = 1e-3;
  int batch_size = 64;
  int64_t steps = 1;               // training steps; the data are cycled in shuffled epochs
  uint64_t seed = 1;               // initialisation and data order
  double init_scale = 1.0;         // multiplies every Dense weight after Glorot initialisation
  double init_normal_sd = 0.0;     // > 0: every Dense weight drawn from N(0, sd^2) instead (from the seed)
  int64_t eval_every = 0;          // steps between validation evaluations (0: only after the last)
  int64_t grad_norm_every = 0;     // steps between per-layer gradient norm records (0: none)
  bool eval_train = false;         // also evaluate the training set (inference mode) each time
};

// One evaluation during training. Losses and accuracies are of the model in inference mode.
struct Evaluation {
  int64_t step = 0;
  double epoch = 0.0;                     // steps * batch_size / training set size
  double seconds = 0.0;                   // training time so far, evaluations excluded
  double val_loss = NAN, val_accuracy = NAN;
  double train_loss = NAN, train_accuracy = NAN;  // NaN unless eval_train
};

// ||dL/dW|| of every Dense layer's weight, input side first, for one training step.
struct GradNorms {
  int64_t step = 0;
  std::vector<double> per_layer;
};

struct RunTrace {
  std::vector<Evaluation> evaluations;  // in step order; the last one is after the last step
  std::vector<GradNorms> grad_norms;
  int64_t steps = 0;                    // steps taken
  double train_seconds = 0.0;           // training only, evaluations excluded
  bool diverged = false;                // stopped by a non-finite loss or gradient

  // The evaluation after the last step taken (there is always one, a diverged run included).
  const Evaluation& last() const { return evaluations.back(); }
  double best_val_accuracy() const;
  // The first evaluation whose validation accuracy is at least target.
  std::optional<Evaluation> first_reaching(double target) const;
};

// Steps in `epochs` passes over `train` at this batch size (the last batch may be smaller).
int64_t steps_for_epochs(const Dataset& train, int batch_size, double epochs);

// The model of spec, built for train's samples from spec.seed, its Dense weights redrawn from a
// Gaussian if spec.init_normal_sd is set and scaled by spec.init_scale, compiled with the spec's optimiser. Throws InputError for a bad spec.
Sequential build_model(const TrainSpec& spec, const Dataset& train);

// Trains model (from build_model) for spec.steps steps and returns what was watched. A non-finite
// loss or gradient ends the run early with diverged set.
RunTrace run_training(Sequential& model, const TrainSpec& spec, const Dataset& train, const Dataset& valid);

// build_model and run_training together.
RunTrace train_new_model(const TrainSpec& spec, const Dataset& train, const Dataset& valid);

// Accuracy and loss of the model on data with every BatchNormalization layer normalising by the
// statistics of each batch of batch_size samples (training-mode forward), as during training; an
// incomplete last batch is left out. The moving statistics are left as they were. For models
// without Dropout (which would drop as in training).
Metrics evaluate_with_batch_statistics(Sequential& model, const Dataset& data, int batch_size);

// The noise of the mini-batch gradient at the model's current weights, over every trainable
// parameter: from `batches` disjoint random batches of batch_size samples (drawn with seed),
//   variance  = 1/(M-1) sum_i ||g_i - g_mean||^2   (the trace of the gradient's covariance)
//   signal    = ||g_mean||^2
// Training-mode forwards (batch statistics); weights and moving statistics are left as they were.
struct GradientNoise {
  double variance = NAN, signal = NAN;
};
GradientNoise gradient_noise(Sequential& model, const Dataset& data, int batch_size, int batches, uint64_t seed);

}  // namespace bnlab::experiments
