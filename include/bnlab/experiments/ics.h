#pragma once
// Internal covariate shift, measured two ways.
//
// Ioffe & Szegedy (2015, Figure 1): the distribution of a unit's input over a fixed probe batch,
// followed through training by its 15th, 50th and 85th percentiles. Its drift is stated here, before
// any run: the path length of the three percentiles between consecutive checkpoints, averaged over
// the three, divided by the unit's mean 15-85 spread over the checkpoints,
//   drift = sum_t mean_k |p_k(t+1) - p_k(t)|  /  mean_t (p85(t) - p15(t)).
// It counts every movement of the distribution (of its centre and of its width), in units of the
// distribution's own width: a unit whose inputs wander by their own width over training drifts by 1.
// Dividing by the width makes the measure blind to the scale of the units, which BN fixes and plain
// networks do not: without it a plain network whose pre-activations are simply larger would seem to
// drift more. The total variation of the median alone would miss a distribution that widens.
//
// Santurkar et al. (2018, Definition 2.1): for layer i, G = dL/dW_i on a batch at the current
// weights, and G' = the same gradient after every layer before i has taken its SGD step on that same
// batch (W_j - lr * dL/dW_j for all parameters of layers before i; layer i and those after it
// unchanged). ICS is ||G - G'||_2 and cos(G, G'): zero and one when earlier layers' updates do not
// change what layer i is asked to do.
#include <array>
#include <cstdint>
#include <utility>
#include <vector>

#include "bnlab/core/tensor.h"
#include "bnlab/model/sequential.h"

namespace bnlab::experiments {

// The q-th percentile (0 to 100) of values, interpolating linearly between the closest ranks (as
// numpy.percentile's default). values must not be empty.
double percentile(std::vector<double> values, double q);

struct Percentiles {
  double p15 = 0.0, p50 = 0.0, p85 = 0.0;
};

// The percentiles of column `unit` of x: (N, C).
Percentiles unit_percentiles(const Tensor& x, int64_t unit);

// The drift above over a unit's checkpoints, in order; 0 with fewer than two checkpoints, NaN when
// the spread is zero throughout.
double percentile_drift(const std::vector<Percentiles>& track);

struct GradientShift {
  double distance = 0.0;  // ||G - G'||_2
  double cosine = 1.0;    // cos(G, G'); 1 when both are zero
};

// The gradient-based ICS of every Dense layer's weight, input side first, on the batch x: (N, ...)
// with these labels, for an SGD step of learning rate lr. Training-mode forwards. The model is
// left as it was: weights, gradients (zeroed), moving statistics and the generators of its
// ShiftScaleNoise and Dropout layers, which replay the same draws in every forward of the
// measurement so that only the earlier layers' updates change G'.
std::vector<GradientShift> gradient_ics(Sequential& model, const Tensor& x, const int32_t* labels, double lr);

// Saves and restores the generators of a model's ShiftScaleNoise and Dropout layers, so that
// repeated training-mode forwards draw the same noise.
class NoiseSnapshot {
 public:
  explicit NoiseSnapshot(Sequential& model);
  void restore();

 private:
  std::vector<std::pair<Rng*, std::array<uint64_t, 4>>> saved_;
};

}  // namespace bnlab::experiments
