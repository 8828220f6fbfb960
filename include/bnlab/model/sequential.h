#pragma once
// A Keras-like Sequential model: layers in order, sparse categorical cross-entropy on the output,
// an optimiser, and fit / evaluate / predict / summary.
//
// The loss is fused with the output softmax (log-sum-exp), so it is stable for any logits; when
// the last layer has no softmax, its output is taken as logits (PyTorch's CrossEntropyLoss).
// Training metrics are running averages over the epoch, weighted by batch size, as in Keras.
#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bnlab/data/dataset.h"
#include "bnlab/kernels/loss.h"
#include "bnlab/layers/layer.h"
#include "bnlab/optim/optimizer.h"

namespace bnlab {

class Sequential;

struct EpochLogs {
  int epoch = 0;  // 1-based
  double loss = NAN, accuracy = NAN;
  double val_loss = NAN, val_accuracy = NAN;  // NaN without validation data
  double seconds = 0.0;                       // wall time, validation included
  int64_t steps = 0;
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

struct FitOptions {
  int epochs = 1;
  int batch_size = 32;
  bool shuffle = true;
  uint64_t seed = 0;                   // data order
  const Dataset* validation = nullptr;
  int64_t max_steps = -1;              // stop after this many steps in all (-1: no limit)
  TrainingCallback* callback = nullptr;
};

// One entry of the PyTorch-compatible state_dict: "2.weight" -> the tensor, or an int64 counter.
struct StateEntry {
  std::string key;
  Tensor* tensor = nullptr;
  int64_t* counter = nullptr;
  bool trainable = false;
};

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

  History fit(const Dataset& train, const FitOptions& options);
  Metrics evaluate(const Dataset& data, int batch_size = 32);
  // Model outputs (probabilities for a softmax output), (n, K), for the given samples.
  Tensor predict(const Dataset& data, const std::vector<int64_t>& indices);
  // Eval-mode forward of a float batch x: (N, input shape...) -> the model output.
  const Tensor& forward(const Tensor& x, Mode mode);

  // Forward in Train mode, loss, and backward (gradients accumulate); no optimiser step.
  LossResult forward_backward(const Tensor& x, const int32_t* labels);
  // zero_grad, forward_backward, (callback's on_gradients), optimiser step. Returns the batch's loss
  // sum and correct count.
  LossResult train_step(const Tensor& x, const int32_t* labels, TrainingCallback* callback = nullptr, int64_t step = 0);
  void zero_grad();

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
  int num_classes() const;
  void check_labels(const Dataset& data) const;
  // Runs layers [0, L-1) and the last up to its logits; returns the logits.
  const Tensor& forward_to_logits(const Tensor& x, Mode mode);
  LossResult eval_batch(const Tensor& x, const int32_t* labels);

  std::vector<std::unique_ptr<Layer>> layers_;
  std::vector<Shape> output_shapes_;
  Shape input_shape_;
  std::unique_ptr<Optimizer> optimizer_;
  bool built_ = false;
  size_t first_trainable_ = 0;  // no input gradient is needed at or before this layer

  // Buffers reused across steps: no allocation inside the training loop.
  std::vector<Tensor> acts_;  // acts_[i + 1] = output of layer i
  Tensor probs_, dlogits_, grad_a_, grad_b_, batch_x_;
  std::vector<int32_t> batch_y_;
};

}  // namespace bnlab
