#pragma once
// A Keras-like Sequential model: layers in order, sparse categorical cross-entropy on the output,
// an optimiser, and fit / evaluate / predict / summary.
//
// The loss is fused with the output softmax (log-sum-exp), so it is stable for any logits; when
// the last layer has no softmax, its output is taken as logits (PyTorch's CrossEntropyLoss).
// Training metrics are running averages over the epoch, weighted by batch size, as in Keras.
#include <array>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "bnlab/core/function_ref.h"
#include "bnlab/data/dataset.h"
#include "bnlab/kernels/dense.h"
#include "bnlab/kernels/loss.h"
#include "bnlab/layers/layer.h"
#include "bnlab/optim/optimizer.h"

namespace bnlab {

class BatchNormalization;
class Sequential;

struct EpochLogs {
  int epoch = 0;  // 1-based
  double loss = NAN, accuracy = NAN;
  double val_loss = NAN, val_accuracy = NAN;  // NaN without validation data
  double seconds = 0.0;                       // wall time, validation included
  int64_t steps = 0;
  int64_t skipped = 0;                        // steps skipped for a non-finite loss or gradient
};

struct History {
  std::vector<EpochLogs> epochs;
};

struct Metrics {
  double loss = NAN, accuracy = NAN;
  int64_t samples = 0;
};

class TrainingCallback {
 public:
  virtual ~TrainingCallback() = default;
  virtual void on_epoch_begin(int epoch, int epochs, int64_t steps) {}
  // After the backward pass of a training step, before the optimiser updates the weights: the
  // model's parameter gradients are those of this batch (e.g. to record gradient norms).
  virtual void on_gradients(Sequential& model, int64_t step) {}
  // Running averages over the epoch so far.
  virtual void on_batch_end(int64_t step, int64_t steps, double loss, double accuracy) {}
  virtual void on_epoch_end(const EpochLogs& logs) {}
};

// Where a run stands between two steps of fit. Together with the model's state (weights, moving
// statistics, dropout generators) and the optimiser's (moments, step count) it is everything fit
// needs to continue as if it had never stopped: the same seed and threads then give the same
// weights, bit for bit.
struct TrainingPosition {
  int epoch = 1;            // the epoch in progress, 1-based
  int64_t step = 0;         // its steps already taken
  int64_t total_steps = 0;  // steps taken in all epochs
  // The data order and its generator as they were when `epoch` began, before its shuffle (each
  // epoch shuffles the previous epoch's order).
  std::vector<int64_t> order;
  std::array<uint64_t, 4> order_rng{};
  // The epoch's running sums so far.
  double loss_sum = 0.0;
  int64_t correct = 0, seen = 0, skipped = 0;
  double seconds = 0.0;  // wall time spent in the epoch so far
  History history;       // the epochs completed
};

// What fit does with a batch whose loss or gradient holds NaN or Inf. Either way the batch leaves
// no trace: weights, moving statistics and optimiser stay as the last good step left them.
enum class NonFinitePolicy {
  Stop,       // throw TrainingStopped
  SkipBatch,  // count it in EpochLogs::skipped and go on with the next batch
};

// fit ended early: a non-finite loss or gradient, or a stop request. what() is one line naming the
// epoch and step (and, for a non-finite value, the layer).
class TrainingStopped : public std::runtime_error {
 public:
  enum class Reason { NonFinite, StopRequested };
  TrainingStopped(Reason reason, const std::string& what) : std::runtime_error(what), reason(reason) {}
  Reason reason;
};

struct FitOptions {
  int epochs = 1;
  int batch_size = 32;
  bool shuffle = true;
  uint64_t seed = 0;                   // data order
  const Dataset* validation = nullptr;
  int64_t max_steps = -1;              // stop after this many steps in all (-1: no limit)
  TrainingCallback* callback = nullptr;
  // Continue from this position instead of epoch 1; the model's and optimiser's state must have
  // been restored to what they were there (training_state.h does both).
  const TrainingPosition* resume = nullptr;
  // Called with the position at the end of every epoch (validation done) and before fit stops on
  // a stop request, so that the caller can save a checkpoint.
  std::function<void(const TrainingPosition&)> checkpoint;
  // Polled between steps (e.g. set by a signal handler): once true, fit calls checkpoint and
  // throws TrainingStopped.
  const std::atomic<bool>* stop_requested = nullptr;
  NonFinitePolicy on_non_finite = NonFinitePolicy::Stop;
};

// One entry of the PyTorch-compatible state_dict: "2.weight" -> the tensor, or an int64 counter.
struct StateEntry {
  std::string key;
  Tensor* tensor = nullptr;
  int64_t* counter = nullptr;
  bool trainable = false;
};

class FitLoop;

// Writes a batch's input rows into x (and labels, for copy 0), for thread `copy` of the region that
// gathers one copy of the batch per thread (Sequential::forward_backward's second form).
using BatchFillFn = FunctionRef<void(float* x, int copy)>;

class Sequential {
 public:
  Sequential() = default;
  explicit Sequential(std::vector<std::unique_ptr<Layer>> layers);
  Sequential(Sequential&&) = default;
  Sequential& operator=(Sequential&&) = default;

  void add(std::unique_ptr<Layer> layer);
  // Names the layers (Keras style, unless named already) and creates their parameters from seed.
  void build(const Shape& input_shape, uint64_t seed);
  void compile(std::unique_ptr<Optimizer> optimizer);

  // Trains for options.epochs (src/model/fit.cpp). Throws InputError for bad options or data,
  // TrainingStopped when stopped early.
  History fit(const Dataset& train, const FitOptions& options);
  Metrics evaluate(const Dataset& data, int batch_size = 32);
  // Model outputs (probabilities for a softmax output), (n, K), for the given samples.
  Tensor predict(const Dataset& data, const std::vector<int64_t>& indices);
  // Eval-mode forward of a float batch x: (N, input shape...) -> the model output.
  const Tensor& forward(const Tensor& x, Mode mode);

  // Forward in Train mode, loss, and backward; no optimiser step. Sets every trainable gradient
  // (the model's layers overwrite rather than accumulate, layers/layer.h), so no zero_grad is needed.
  LossResult forward_backward(const Tensor& x, const int32_t* labels);
  // forward_backward on N rows that fill writes: fill(x, copy) writes the batch's input into x
  // (N, input shape...) and, for copy 0, its labels into `labels`. Called once from the calling
  // thread, or, when the first trainable layer is an input BatchNorm before a Dense layer whose
  // region has more than one thread, once by each thread into a copy of its own: every thread then
  // reads only the batch it gathered and normalised (BatchNormalization::forward_train_copies).
  // fill must not start parallel regions or throw.
  LossResult forward_backward(int N, const int32_t* labels, const BatchFillFn& fill);
  // forward_backward, (callback's on_gradients), optimiser step. Returns the batch's loss sum and
  // correct count.
  LossResult train_step(const Tensor& x, const int32_t* labels, TrainingCallback* callback = nullptr, int64_t step = 0);
  // train_step on N rows that fill writes (forward_backward's second form).
  LossResult train_step(int N, const int32_t* labels, const BatchFillFn& fill);
  void zero_grad();

  // The input-BatchNorm shortcut (kernels/batchnorm_dense.h): when the first layer with parameters
  // is a BatchNormalization feeding a Dense layer, its gradients come from the Dense side without
  // the Dense layer's input gradient. On by default where the model has that shape; off gives the
  // plain layer-by-layer backward (same gradients, different rounding), for tests and benchmarks.
  void set_fused_input_batchnorm(bool on);
  bool fused_input_batchnorm() const { return fused_input_bn_; }

  // BatchNormalizations next to Dense layers in training: a BN's forward runs inside the parallel
  // region of the Dense layer before it, on each thread's block of columns, and its backward inside
  // the input-gradient region of the Dense layer after it (kernels/dense.h's ColumnBlockFn). Plain BN
  // only (not renorm). The same bits as the separate layers; on by default, off for tests.
  void set_fused_batchnorm_columns(bool on) { fused_bn_columns_ = on; }
  bool fused_batchnorm_columns() const { return fused_bn_columns_; }

  std::string summary(const std::string& model_name = "sequential");
  std::string spec() const;  // the compact spec that rebuilds these layers

  std::vector<ParamRef> trainable_params();
  std::vector<StateEntry> state_dict();  // PyTorch nn.Sequential names and order
  int64_t count_params(bool trainable);

  const std::vector<std::unique_ptr<Layer>>& layers() const { return layers_; }
  Layer& layer(size_t i) { return *layers_[i]; }
  const Shape& input_shape() const { return input_shape_; }
  const Shape& output_shape() const { return output_shapes_.back(); }
  Optimizer* optimizer() { return optimizer_.get(); }
  bool built() const { return built_; }

 private:
  friend class FitLoop;  // fit's loop, in its own file
  int num_classes() const;
  void check_labels(const Dataset& data) const;
  // Runs layers [0, L-1) and the last up to its logits; returns the logits.
  // fill: x is batch_x_, sized, and fill writes it (forward_backward's second form).
  const Tensor& forward_to_logits(const Tensor& x, Mode mode, const BatchFillFn& fill = {});
  LossResult forward_backward(const Tensor& x, const int32_t* labels, const BatchFillFn& fill);
  BatchNormalization* bn_after_dense(size_t i) const;
  BatchNormalization* bn_before_dense(size_t i) const;
  LossResult eval_batch(const Tensor& x, const int32_t* labels);

  std::vector<std::unique_ptr<Layer>> layers_;
  std::vector<Shape> output_shapes_;
  Shape input_shape_;
  std::unique_ptr<Optimizer> optimizer_;
  bool built_ = false;
  size_t first_trainable_ = 0;  // no input gradient is needed at or before this layer
  bool fused_input_bn_ = false;  // layers first_trainable_, first_trainable_ + 1 are BN, Dense
  int input_copies(int N) const;
  ThreadCopies gather_copies(int copies, const BatchFillFn& fill);
  std::vector<Tensor> batch_copies_;  // gather_copies: the batch, once per thread after the first
  std::vector<const float*> batch_copy_ptrs_;
  bool fused_bn_columns_ = true;

  // Buffers reused across steps: no allocation inside the training loop.
  std::vector<Tensor> acts_;  // acts_[i + 1] = output of layer i
  Tensor probs_, dlogits_, grad_a_, grad_b_, grad_c_, batch_x_;  // grad_c_: a fused BN's dx (forward_backward)
  Tensor fused_h_, fused_s_, fused_partials_;  // the input-BatchNorm shortcut's scratch
  std::vector<ParamRef> trainable_;  // trainable_params(), gathered once at build
  std::vector<int64_t> grad_sizes_;  // their sizes, for zero_grad
  std::vector<int32_t> batch_y_;
};

}  // namespace bnlab
