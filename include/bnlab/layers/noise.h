#pragma once
// Noise that moves each unit's distribution from one training step to the next, for Santurkar et al.
// (2018)'s "noisy BatchNorm": placed after a BatchNormalization layer, it re-injects covariate shift
// that the network cannot learn to undo.
//   Train: y[n, j] = a[j] * x[n, j] + b[j],  a[j] ~ U(1, scale),  b[j] ~ U(0, 2 * shift)
//          a and b drawn anew at every training forward from the layer's own generator (seeded at
//          build), one pair per unit, shared by the batch's samples: the unit's input distribution
//          is scaled by a mean of (1 + scale) / 2 and shifted by a mean of `shift`, differently at
//          every step.
//   Eval:  y = E[a] * x + E[b] = (1 + scale) / 2 * x + shift, the transform on average, so that
//          inference sees what training saw on average (as inverted dropout's inference is its
//          training on average); an identity here would leave a trained network off by the noise's
//          mean, which is not zero.
//   Backward: dx[n, j] = a[j] * dy[n, j] (Eval: E[a] * dy[n, j]).
// Spec token: noise[:shift=M][:scale=S] (defaults 1 and 2).
#include "bnlab/layers/layer.h"

namespace bnlab {

struct ShiftScaleNoiseOptions {
  float shift = 1.0f;  // mean of the shift; it is drawn from U(0, 2 * shift)
  float scale = 2.0f;  // the scale is drawn from U(1, scale)
};

class ShiftScaleNoise : public Layer {
 public:
  explicit ShiftScaleNoise(ShiftScaleNoiseOptions options = {});
  std::string type_name() const override { return "ShiftScaleNoise"; }
  std::string spec() const override;
  std::string default_name() const override { return "shift_scale_noise"; }
  Shape build(const Shape& in, Rng& rng) override;
  void forward(const Tensor& x, Tensor& y, Mode mode) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) override;

  const ShiftScaleNoiseOptions& options() const { return options_; }
  Rng& rng() { return rng_; }
  float mean_scale() const { return 0.5f * (1.0f + options_.scale); }
  // The last training forward's draws, (C,) each.
  const Tensor& last_scale() const { return scale_; }
  const Tensor& last_shift() const { return shift_; }

 private:
  ShiftScaleNoiseOptions options_;
  Rng rng_;
  Tensor scale_, shift_;
};

}  // namespace bnlab
