#pragma once
// The loss landscape along the gradient, as Santurkar et al. (2018, Figure 4) measured it. At a point
// w with gradient g = dL/dw on a batch, step to w - eta * g for each eta of a stated set, and record
//   loss variation          max - min of L over w and every w - eta * g
//   gradient predictiveness max over eta of ||dL/dw(w - eta * g) - g||_2
//   effective beta          max over eta of ||dL/dw(w - eta * g) - g||_2 / (eta * ||g||_2)
// The last is the largest ratio of the gradient's change to the distance moved: on a quadratic
// L = w'Aw / 2 it is at most A's largest eigenvalue, and equal to it when g is an eigenvector of that
// eigenvalue.
#include <cmath>
#include <cstdint>
#include <vector>

#include "bnlab/core/function_ref.h"
#include "bnlab/model/sequential.h"

namespace bnlab::experiments {

struct LandscapeProbe {
  std::vector<double> losses;            // L(w - eta * g) for each eta, in order
  std::vector<double> gradient_changes;  // ||dL/dw(w - eta * g) - g|| for each eta
  double loss = NAN;                     // L(w)
  double loss_variation = NAN, gradient_predictiveness = NAN, beta = NAN;
};

// The loss at w, its gradient written into grad (resized to w's size).
using LossAndGradient = FunctionRef<double(const std::vector<double>& w, std::vector<double>& grad)>;

// The measures above for any differentiable f, at w, for steps etas (each positive). A zero gradient
// gives zero variation, change and beta.
LandscapeProbe probe_along_gradient(const std::vector<double>& w, LossAndGradient f, const std::vector<double>& etas);

// The same for a model's training loss on the batch x: (N, ...) with these labels, over all its
// trainable parameters. Training-mode forwards; the model is left as it was (weights, zeroed
// gradients, moving statistics, noise generators: every forward of the probe draws the same noise).
LandscapeProbe probe_model_along_gradient(Sequential& model, const Tensor& x, const int32_t* labels,
                                          const std::vector<double>& etas);

}  // namespace bnlab::experiments
