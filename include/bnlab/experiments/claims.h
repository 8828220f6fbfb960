#pragma once
// The notebook's claims about Batch Normalization, one experiment each. Every experiment has
//   a Config   what is run (models, grid, budget, seeds), with fast and full presets;
//   a Measure  every number it measured, each over seeds as a Spread;
//   measure_*  which runs it (on any train / valid data: MNIST, or tiny data in the tests);
//   judge_*    the stated tests that turn a Measure into a verdict, decided by the numbers alone;
//   report_*   the verdict table's row, the charts and the JSON of a Measure.
// "BN" is the notebook's model with BatchNormalization, "no BN" the same model without it; both get
// the same optimiser, learning rate, batch size and steps unless the experiment varies them.
// A difference counts only when it passes stats.h's compare(): larger than a minimum effect and
// than twice its standard error over seeds.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bnlab/data/dataset.h"
#include "bnlab/experiments/ics.h"
#include "bnlab/experiments/stats.h"
#include "bnlab/experiments/training.h"
#include "bnlab/experiments/verdict.h"
#include "bnlab/plot/line_chart.h"

namespace bnlab::experiments {

struct NamedChart {
  std::string name;  // file stem, e.g. "claim1_convergence"
  plot::LineChart chart;
};

// One row of the verdict table, with its evidence.
struct ClaimResult {
  int number = 0;
  std::string claim;     // the notebook's claim, briefly
  std::string measured;  // what was measured
  std::string bn, no_bn; // the figures that decide, with BN and without
  Judgement judgement;
  std::vector<NamedChart> charts;
  nlohmann::json data;   // every measured number
  double seconds = 0.0;  // wall time of the experiment
};

// The parts every experiment shares.
struct Budget {
  int seeds = 3;             // seeds 1..seeds, for initialisation and data order
  int64_t train_size = 0;    // first images of the training data used (0: all)
  int batch_size = 64;
  double lr = 1e-3;          // Adam's, unless the experiment varies it
};

// The nets of claims 0 and 8, trained with plain SGD along a path followed step by step
// (measurements at checkpoints every record_every steps, from step 0 to the last).
enum class Normalisation { None, BN, NoisyBN };
struct NoiseLevel {
  float shift = 1.0f, scale = 2.0f;  // layers/noise.h: shift ~ U(0, 2 * shift), scale ~ U(1, scale)
};
// Ioffe & Szegedy's MNIST net: 3 hidden Dense layers of 100 sigmoid units and a softmax output, BN
// (PyTorch's: momentum 0.1, so that inference follows training within a few checkpoints) before each
// sigmoid, and for NoisyBN the noise after each BN. Activations are layers of their own so that their
// inputs can be followed.
std::string ioffe_spec(Normalisation n, NoiseLevel noise = {});
// The notebook's two models with their ReLUs as layers of their own (the same functions as mlp and
// mlp-bn); NoisyBN puts the noise after each of mlp-bn's BN layers.
std::string notebook_mlp_spec(Normalisation n, NoiseLevel noise = {});

struct PathNets {
  int seeds = 3;
  int64_t steps = 2000, record_every = 100;
  int ioffe_batch = 60;          // Ioffe & Szegedy's mini-batch
  double ioffe_lr = 0.5;
  double ioffe_init_sd = 0.1;    // "small random Gaussian values": N(0, sd^2) for every Dense weight
  int mlp_batch = 64;            // the notebook's MLP, Glorot initialisation as the notebook
  double mlp_lr = 0.05;
  int64_t train_size = 0;        // first images of the training data used (0: all)
};

// 0. "Reduces internal covariate shift" (the notebook's first sentence), three ways:
//   Ioffe's sense   the input distribution of the last hidden layer's nonlinearity stays stable
//                   (ics.h's drift of its 15/50/85th percentiles over a fixed probe batch);
//   Santurkar's     a layer's gradient changes less when the layers before it take their step
//                   (ics.h's gradient_ics, averaged over the Dense layers after the first, which have
//                   trainable layers before them in every model, and over the checkpoints);
//   noisy BN        BN followed by noise that shifts every unit's distribution at every step.
struct CovariateShiftConfig {
  PathNets nets;
  int units = 3;              // units of the layer followed
  int64_t probe_size = 1000;  // the probe batch: the first validation images
  NoiseLevel noise;
};
struct ArmShift {
  std::string label;  // "no BN", "BN", "noisy BN"
  // Per seed: the final validation accuracy, the drift (mean over the followed units), the gradient
  // change (mean over the checkpoints and the Dense layers after the first) as l2 distance and cosine.
  Spread final_accuracy, drift, ics_distance, ics_cosine;
  std::vector<double> steps, accuracy;          // mean validation accuracy over seeds at each checkpoint
  std::vector<std::vector<Percentiles>> units;  // seed 1's percentiles of each followed unit
  std::vector<double> distance, cosine;         // mean over layers (after the first) and seeds, per checkpoint
};
struct NetShift {
  std::string net;
  ArmShift no_bn, bn, noisy;
};
struct CovariateShiftMeasure {
  NetShift ioffe, mlp;
};
CovariateShiftMeasure measure_covariate_shift(const CovariateShiftConfig& c, const Dataset& train, const Dataset& valid,
                                              const Log& log);
// Tests, one per net (drift and distance compared as log10, by at least 0.1 decades, a factor 1.26):
//   stability   BN's drift is smaller than no BN's;
//   gradients   BN's gradient change is smaller: its cosine higher (by at least 0.02) and, a second
//               test, its l2 distance smaller;
//   noisy BN    noisy BN's final accuracy is higher than no BN's (by at least 0.5 points) and, a second
//               test, not lower than BN's by more than 1 point.
Judgement judge_stability(const CovariateShiftMeasure& m);
Judgement judge_gradient_shift(const CovariateShiftMeasure& m);
Judgement judge_noisy_bn(const CovariateShiftMeasure& m);
// Three rows numbered 0, one per sense, each with its verdict and charts; the data in the first.
std::vector<ClaimResult> report_covariate_shift(const CovariateShiftMeasure& m);

// 8. "Makes the optimisation landscape smoother": landscape.h's probe at every checkpoint, on the
// batch of the next step, for steps eta = lr * each of lr_multiples.
struct LandscapeConfig {
  PathNets nets;
  std::vector<double> lr_multiples = {0.25, 0.5, 1.0, 2.0, 4.0};
};
struct ArmLandscape {
  // Per seed: the final validation accuracy; the mean over checkpoints of the loss variation, the
  // gradient predictiveness and the effective beta, each as log10.
  Spread final_accuracy, variation, predictiveness, beta;
  std::vector<double> steps, loss_low, loss_high;       // mean over seeds of the loss range at each checkpoint
  std::vector<double> predictiveness_curve, beta_curve;  // mean over seeds at each checkpoint
};
struct NetLandscape {
  std::string net;
  ArmLandscape no_bn, bn;
};
struct LandscapeMeasure {
  NetLandscape ioffe, mlp;
};
LandscapeMeasure measure_landscape(const LandscapeConfig& c, const Dataset& train, const Dataset& valid, const Log& log);
// Tests, per net and per measure (six): it is smaller with BN, by at least 0.1 decades.
Judgement judge_landscape(const LandscapeMeasure& m);
ClaimResult report_landscape(const LandscapeMeasure& m);

// 1. "Faster convergence": steps to a target validation accuracy.
struct ConvergenceConfig {
  Budget budget;
  double epochs = 3;
  double target = 0.97;
  int64_t eval_every = 100;  // steps; the resolution of "steps to target"
};
struct ConvergenceMeasure {
  double target = 0.97;
  int64_t budget_steps = 0, eval_every = 0;
  // Steps and training seconds to the first evaluation at or above target; a seed that never gets
  // there counts as budget_steps + eval_every (and its seconds as the whole run's).
  Spread bn_steps, no_bn_steps, bn_seconds, no_bn_seconds;
  int bn_reached = 0, no_bn_reached = 0;
  Spread bn_final, no_bn_final;  // final validation accuracy
  std::vector<double> steps, bn_curve, no_bn_curve;  // mean validation accuracy at each evaluation
};
ConvergenceMeasure measure_convergence(const ConvergenceConfig& c, const Dataset& train, const Dataset& valid, const Log& log);
// Tests: BN needs fewer steps; BN needs less training time (its steps cost more).
Judgement judge_convergence(const ConvergenceMeasure& m);
ClaimResult report_convergence(const ConvergenceMeasure& m);

// 2. "Higher learning rates": a grid of rates per optimiser, best validation accuracy and
// divergence at each.
struct LearningRateConfig {
  Budget budget;
  double epochs = 2;
  std::vector<double> sgd_rates = {1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 3.0};
  std::vector<double> adam_rates = {1e-3, 3e-3, 1e-2, 3e-2, 0.1};
  double usable_accuracy = 0.90;  // a rate "trains" when no seed diverges and the mean best accuracy reaches this
  int evaluations = 4;            // per run, evenly spaced
};
struct RatePoint {
  double lr = 0;
  Spread bn_accuracy, no_bn_accuracy;  // best validation accuracy over the run
  int bn_diverged = 0, no_bn_diverged = 0;
};
struct OptimizerGrid {
  std::string optimizer;
  std::vector<RatePoint> points;
};
struct LearningRateMeasure {
  double usable_accuracy = 0.90;
  std::vector<OptimizerGrid> grids;
};
// The highest rate of the grid at which the model trains (see usable_accuracy); NaN if none.
double highest_usable_rate(const OptimizerGrid& grid, bool bn, double usable_accuracy);
LearningRateMeasure measure_learning_rates(const LearningRateConfig& c, const Dataset& train, const Dataset& valid, const Log& log);
// Tests, one per optimiser: the highest rate that trains is higher with BN.
Judgement judge_learning_rates(const LearningRateMeasure& m);
ClaimResult report_learning_rates(const LearningRateMeasure& m);

// 3. "Reduces overfitting, even without dropout": train/validation gap, with and without BN, with
// and without Dropout, on a training set small enough to overfit.
struct RegularisationConfig {
  Budget budget{3, 5000};
  double epochs = 20;
  double dropout = 0.3;  // after each hidden Dense
};
struct GapMeasure {
  // Accuracy gap = training accuracy - validation accuracy, both in inference mode at the end;
  // loss gap = validation loss - training loss.
  Spread gap, loss_gap, train_accuracy, val_accuracy;
  std::vector<double> epochs, gap_curve;  // mean accuracy gap at the end of each epoch
};
struct RegularisationMeasure {
  GapMeasure no_bn, bn, no_bn_dropout, bn_dropout;
};
RegularisationMeasure measure_regularisation(const RegularisationConfig& c, const Dataset& train, const Dataset& valid, const Log& log);
// Tests: BN's accuracy gap is smaller than no BN's, without Dropout and with it.
Judgement judge_regularisation(const RegularisationMeasure& m);
ClaimResult report_regularisation(const RegularisationMeasure& m);

// 4. "Improved gradient flow": per-layer weight-gradient norms over training, in the notebook's MLP
// (Adam) and in a deep sigmoid MLP (SGD) where plain training stalls.
struct GradientFlowConfig {
  Budget budget{3, 10000};
  double epochs = 3;
  int deep_layers = 10;  // Dense layers of the deep net, the output layer included
  int deep_width = 128;
  double deep_sgd_lr = 0.1;
  int64_t record_every = 10;  // steps between gradient-norm records
};
struct NetGradients {
  std::string net;  // "notebook MLP (Adam)", "10-layer sigmoid MLP (SGD)"
  // Attenuation: log10(first Dense layer's gradient norm / last one's), each the geometric mean
  // over the recorded steps; 0 is even flow, -3 a thousandfold vanishing towards the input.
  Spread bn_attenuation, no_bn_attenuation;
  Spread bn_accuracy, no_bn_accuracy;  // final validation accuracy
  std::vector<Spread> bn_layers, no_bn_layers;  // log10 gradient norm per Dense layer
  std::vector<double> steps, bn_first, no_bn_first, bn_last, no_bn_last;  // log10 norms over training
};
struct GradientFlowMeasure {
  NetGradients seed_mlp, deep_sigmoid;
};
// The deep net's spec: Dense(width) [+ BN] + sigmoid, layers - 1 times, then Dense(10, softmax).
std::string deep_sigmoid_spec(int layers, int width, bool bn);
GradientFlowMeasure measure_gradient_flow(const GradientFlowConfig& c, const Dataset& train, const Dataset& valid, const Log& log);
// Tests, one per net: |attenuation| is smaller with BN (by at least 0.3, a factor of 2).
Judgement judge_gradient_flow(const GradientFlowMeasure& m);
ClaimResult report_gradient_flow(const GradientFlowMeasure& m);

// 5. "Better initialisation robustness": every Dense weight scaled from 0.01x to 10x Glorot.
struct InitialisationConfig {
  Budget budget{3, 10000};
  double epochs = 2;
  std::vector<double> scales = {0.01, 0.1, 0.3, 1.0, 3.0, 10.0};
};
struct ScalePoint {
  double scale = 1.0;
  Spread bn_accuracy, no_bn_accuracy;  // final validation accuracy
};
struct InitialisationMeasure {
  std::vector<ScalePoint> points;
};
InitialisationMeasure measure_initialisation(const InitialisationConfig& c, const Dataset& train, const Dataset& valid, const Log& log);
// Tests: BN's worst accuracy over the scales is higher; its range over the scales is narrower
// (by at least 0.01 and twice the worst points' standard error).
Judgement judge_initialisation(const InitialisationMeasure& m);
ClaimResult report_initialisation(const InitialisationMeasure& m);

// 6. "Requires a sufficiently large mini-batch": batch sizes 2 to 256 with BatchNorm, LayerNorm
// (batch-independent) and Batch Renormalization, the same number of steps at every size.
struct SmallBatchConfig {
  Budget budget{3, 20000};
  std::vector<int> batch_sizes = {2, 4, 8, 16, 64, 256};
  int reference_batch = 64;
  int64_t steps = 600;
};
struct BatchPoint {
  int batch_size = 0;
  // Validation accuracy in inference mode (moving statistics), as a user gets it.
  Spread bn, ln, renorm;
  // BN's and renorm's validation accuracy when normalising by the statistics of batches of the
  // training size, as training saw them.
  Spread bn_batch_stats, renorm_batch_stats;
  Spread bn_minus_ln;  // per seed
  // |bn_batch_stats - bn| per seed: how far inference strays from what training optimised.
  Spread bn_mismatch;
};
struct SmallBatchMeasure {
  int reference_batch = 64;
  std::vector<BatchPoint> points;  // batch sizes ascending
};
std::string ln_model_spec();      // the notebook's BN model with LayerNormalization instead
std::string renorm_model_spec();  // ... with Batch Renormalization
SmallBatchMeasure measure_small_batches(const SmallBatchConfig& c, const Dataset& train, const Dataset& valid, const Log& log);
// Tests: at the smallest batch BN falls further behind LayerNorm than at the reference batch; its
// train/inference mismatch (bn_mismatch) is larger at the smallest batch than at the reference.
Judgement judge_small_batches(const SmallBatchMeasure& m);
ClaimResult report_small_batches(const SmallBatchMeasure& m);

// 7. "Training overhead": milliseconds per training step with and without BN.
struct OverheadConfig {
  Budget budget{3, 4096};
  std::vector<int> batch_sizes = {16, 64, 256};
  int steps = 50;       // per timing window
  int windows = 5;      // per seed and model, BN and no BN alternating; the median counts
  double min_effect = 0.03;  // relative: BN must cost at least 3% more
};
struct OverheadPoint {
  int batch_size = 0;
  Spread bn_ms, no_bn_ms;  // per seed, the median window
};
struct OverheadMeasure {
  double min_effect = 0.03;
  std::vector<OverheadPoint> points;
};
OverheadMeasure measure_overhead(const OverheadConfig& c, const Dataset& train, const Log& log);
// Tests, one per batch size: a BN step costs more, by at least min_effect.
Judgement judge_overhead(const OverheadMeasure& m);
ClaimResult report_overhead(const OverheadMeasure& m);

// All nine, with presets: fast (subsets and short runs) and full (the whole training set, longer
// runs, 5 seeds); docs/experiments.md gives their times.
struct ClaimsProtocol {
  ConvergenceConfig convergence;
  LearningRateConfig learning_rates;
  RegularisationConfig regularisation;
  GradientFlowConfig gradient_flow;
  InitialisationConfig initialisation;
  SmallBatchConfig small_batches;
  OverheadConfig overhead;
  CovariateShiftConfig covariate_shift;
  LandscapeConfig landscape;
  int64_t valid_size = 2000;  // validation images used by every experiment (0: all)

  static ClaimsProtocol fast();
  static ClaimsProtocol full();
  void set_seeds(int seeds);  // every experiment's
  // Claims 0 and 8's training steps, with a checkpoint at least every steps / 4.
  void set_path_steps(int64_t steps);
};

// Every setting of the protocol, for the run's JSON.
nlohmann::json protocol_json(const ClaimsProtocol& p);

inline constexpr int kFirstClaim = 0, kLastClaim = 8;

// Runs the claims numbered in `which` (0..8; empty: all) in ascending order. log gets a line per run.
// Claim 0 gives three rows (report_covariate_shift).
std::vector<ClaimResult> run_claims(const ClaimsProtocol& p, const std::vector<int>& which, const Dataset& train,
                                    const Dataset& valid, const Log& log);

}  // namespace bnlab::experiments
