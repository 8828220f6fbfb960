#pragma once
// BatchNormalization over the feature axis of (N, C) inputs (formulas: kernels/batchnorm.h), and
// over the channel axis of (N, C, H, W) images, channels first (kernels/batchnorm2d.h): one
// statistic per channel over N, H and W, as PyTorch's BatchNorm2d and Keras's
// BatchNormalization(axis=1). The axis follows from the input's rank at build; everything below
// holds for both, with N * H * W values per channel where it says N.
//
// Training normalises with the batch mean and biased batch variance and updates the moving
// statistics; inference uses the moving statistics, folded into one scale and shift per feature.
// Two conventions, each exact:
//   Keras (default, the notebook's framework): momentum 0.99 is the weight of the OLD value,
//     moving = moving * momentum + batch * (1 - momentum); eps 1e-3; biased moving variance.
//   PyTorch (nn.BatchNorm1d): momentum 0.1 is the weight of the NEW batch,
//     running = running * (1 - momentum) + batch * momentum; eps 1e-5; the running variance takes
//     the unbiased batch variance (x N / (N - 1)); with momentum unset, the cumulative average
//     (momentum = 1 / num_batches_tracked).
// Training on one value per feature is an error (the variance is undefined), as in PyTorch.
//
// Batch Renormalization (Ioffe 2017, `renorm`): training corrects the batch statistics towards the
// moving ones by r and d, clipped to [1/rmax, rmax] and [-dmax, dmax] (kernels/batchnorm.h), so the
// training output approaches the inference output even when batches are small. The moving
// statistics are updated as in the chosen convention; inference is unchanged.
#include <optional>

#include "bnlab/layers/layer.h"

namespace bnlab {

enum class BnConvention { Keras, Torch };

struct BatchNormOptions {
  BnConvention convention = BnConvention::Keras;
  // Keras: weight of the old value (0.99). Torch: weight of the new batch (0.1), or unset for the
  // cumulative moving average.
  std::optional<double> momentum = 0.99;
  float eps = 1e-3f;
  bool center = true;  // learn beta
  bool scale = true;   // learn gamma
  bool renorm = false;  // Batch Renormalization
  float rmax = 3.0f;    // renorm: r in [1/rmax, rmax], rmax >= 1
  float dmax = 5.0f;    // renorm: d in [-dmax, dmax], dmax >= 0

  static BatchNormOptions keras() { return {}; }
  static BatchNormOptions torch() { return {BnConvention::Torch, 0.1, 1e-5f, true, true}; }
};

class BatchNormalization : public Layer {
 public:
  explicit BatchNormalization(BatchNormOptions options = {});

  std::string type_name() const override { return "BatchNormalization"; }
  std::string spec() const override;
  std::string default_name() const override { return "batch_normalization"; }
  Shape build(const Shape& in, Rng& rng) override;
  void forward(const Tensor& x, Tensor& y, Mode mode) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) override;
  std::vector<ParamRef> params() override;
  std::vector<CounterRef> counters() override { return {{"num_batches_tracked", &num_batches_tracked}}; }

  const BatchNormOptions& options() const { return options_; }
  // InputError unless a training batch of N has more than one value per feature.
  void check_training_batch(int N) const;
  // Folds a training batch's mean and biased variance, (C) each, over `count` values per feature,
  // into the moving statistics by the layer's convention; once per training forward (forward does
  // it, and so does a plan's step that normalises for this layer: model/plan.h).
  void update_moving_statistics(const double* mean, const double* var, int64_t count);
  // The weight the moving statistics still give their starting values (mean 0, variance 1) after
  // `updates` training steps: momentum^updates (Keras), (1 - momentum)^updates (PyTorch), 0 for
  // PyTorch's cumulative average once it has a batch. Inference normalises with these statistics,
  // so while the share is large (a short run at Keras's 0.99) its outputs stray from training's.
  double moving_start_share(int64_t updates) const;

  // gamma, beta (PyTorch: weight, bias) and the moving statistics (running_mean, running_var).
  Tensor weight, bias, weight_grad, bias_grad, running_mean, running_var;
  int64_t num_batches_tracked = 0;

 private:
  void forward_images(const Tensor& x, Tensor& y, const float* gamma, const float* beta);
  void backward_images(const Tensor& x, const Tensor& dy, Tensor* dx, float* dgamma, float* dbeta);

  BatchNormOptions options_;
  int C_ = 0;
  int HW_ = 1;                      // H * W for (N, C, H, W) input, 1 for (N, C)
  std::vector<double> mean_, var_;  // batch statistics of the last training forward
  std::vector<double> sum_, sumsq_;  // images: per-channel sums (forward), then those of the backward
  Tensor pivot_;                     // images: the shift of the sums, x[0, c, 0] (kernels/batchnorm2d.h)
  Tensor invstd_;
  Tensor renorm_r_, renorm_d_;  // Batch Renormalization's corrections of the last training forward
  Tensor scale_, shift_;        // folded moving statistics of the last inference forward
};

}  // namespace bnlab
