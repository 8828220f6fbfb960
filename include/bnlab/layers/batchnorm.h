#pragma once
// BatchNormalization over the feature axis of (N, C) inputs (formulas: kernels/batchnorm.h).
//
// Training normalises with the batch mean and biased batch variance and updates the moving
// statistics; inference uses the moving statistics, folded into one scale and shift per feature.
// Two conventions, each exact:
//   Keras (default, the seed's framework): momentum 0.99 is the weight of the OLD value,
//     moving = moving * momentum + batch * (1 - momentum); eps 1e-3; biased moving variance.
//   PyTorch (nn.BatchNorm1d): momentum 0.1 is the weight of the NEW batch,
//     running = running * (1 - momentum) + batch * momentum; eps 1e-5; the running variance takes
//     the unbiased batch variance (x N / (N - 1)); with momentum unset, the cumulative average
//     (momentum = 1 / num_batches_tracked).
// Training on one sample per feature is an error (the variance is undefined), as in PyTorch.
//
// Batch Renormalization (Ioffe 2017, `renorm`): training corrects the batch statistics towards the
// moving ones by r and d, clipped to [1/rmax, rmax] and [-dmax, dmax] (kernels/batchnorm.h), so the
// training output approaches the inference output even when batches are small. The moving
// statistics are updated as in the chosen convention; inference is unchanged.
#include <optional>

#include "bnlab/kernels/dense.h"
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

  // When set, a training forward also keeps the normalised input u (y = u * gamma + beta), for a
  // following Dense layer to give gamma's and beta's gradients (kernels/batchnorm_dense.h).
  void set_keep_normalized(bool keep) { keep_normalized_ = keep; }
  // u of the last training forward: (N, C); empty unless kept.
  const Tensor& normalized() const { return normalized_; }

  // The training forward computed in full by each of `copies` threads at once, each into its own y
  // and u (copy 0: y and normalized(); the others held here), for a following Dense layer whose
  // threads then read only what they wrote themselves (Sequential's input BatchNorm: the threads
  // of the Dense layer's region need the whole normalised batch, and reading another core's half
  // of it costs more than normalising it again). The same results as forward in Mode::Train.
  // Plain BN (not renorm) keeping its normalised input; copies >= 1.
  // x_copies: copies of x, one per thread (each thread reads its own, x when it has none).
  void forward_train_copies(const Tensor& x, Tensor& y, int copies, const ThreadCopies& x_copies = {});
  // The copies of y and of u made by the last training forward (none after a plain forward);
  // valid until the next forward.
  ThreadCopies output_copies() const { return {copy_y_.data(), copies_}; }
  ThreadCopies normalized_copies() const { return {copy_u_.data(), copies_}; }

  // The training forward and backward a block of columns at a time, for a Dense layer next to this
  // BN that calls them from inside its own parallel region (Sequential: a Dense's forward runs the
  // following BN's, a Dense's input gradient the preceding BN's backward; kernels/dense.h):
  //   forward:  begin_forward_train(x, y), forward_train_columns(x, y, c0, w) for every block,
  //             then end_forward_train(x) (the moving statistics);
  //   backward: begin_backward_train(x, dx), then backward_train_columns(x, dy, dx, c0, w).
  // The same results as forward and backward in Mode::Train. Plain BN only: columnwise() is false
  // for Batch Renormalization and when the normalised input is kept.
  bool columnwise() const { return !options_.renorm && !keep_normalized_; }
  void begin_forward_train(const Tensor& x, Tensor& y);
  void forward_train_columns(const Tensor& x, Tensor& y, int c0, int w);
  void end_forward_train(const Tensor& x);
  void begin_backward_train(const Tensor& x, Tensor& dx);
  void backward_train_columns(const Tensor& x, const Tensor& dy, Tensor& dx, int c0, int w);

  // gamma, beta (PyTorch: weight, bias) and the moving statistics (running_mean, running_var).
  Tensor weight, bias, weight_grad, bias_grad, running_mean, running_var;
  int64_t num_batches_tracked = 0;

 private:
  void update_moving_statistics(int N);
  void check_training_batch(int N) const;  // InputError unless N > 1
  // gamma, beta and their gradients for the kernels: null when scale / center is off.
  const float* gamma_or_null() const { return options_.scale ? weight.data() : nullptr; }
  const float* beta_or_null() const { return options_.center ? bias.data() : nullptr; }
  float* dgamma_or_null() { return options_.scale ? weight_grad.data() : nullptr; }
  float* dbeta_or_null() { return options_.center ? bias_grad.data() : nullptr; }

  BatchNormOptions options_;
  int C_ = 0;
  std::vector<double> mean_, var_;  // batch statistics of the last training forward
  Tensor invstd_;
  Tensor renorm_r_, renorm_d_;  // Batch Renormalization's corrections of the last training forward
  Tensor scale_, shift_;        // folded moving statistics of the last inference forward
  bool keep_normalized_ = false;
  Tensor normalized_;
  // forward_train_copies: copies 1.. of y and u, and each copy's batch statistics (copy 0 uses
  // the members above); pointers to every copy's y and u; the number of copies last made.
  struct Copy {
    Tensor y, u, invstd;
    std::vector<double> mean, var;
  };
  std::vector<Copy> copies_held_;
  std::vector<const float*> copy_y_, copy_u_;
  int copies_ = 0;
};

}  // namespace bnlab
