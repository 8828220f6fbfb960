#pragma once
// A Keras-like Sequential model: layers in order, sparse categorical cross-entropy on the output,
// an optimiser, and fit / evaluate / predict / summary.
//
// The loss is fused with the output softmax (log-sum-exp), so it is stable for any logits; when
// the last layer has no softmax, its output is taken as logits (PyTorch's CrossEntropyLoss).
//
// Training has two paths to the same gradients. forward_backward below is the plain loop, the
// reference: every layer's forward in order, the loss, every layer's backward in reverse. fit and
// bnlab bench run a TrainingPlan instead (model/plan.h), which groups neighbouring layers into
// fused steps and is checked against this loop bit for bit.
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bnlab/data/dataset.h"
#include "bnlab/kernels/loss.h"
#include "bnlab/layers/layer.h"
#include "bnlab/optim/optimizer.h"

namespace bnlab {

class Communicator;
struct FitOptions;
struct History;

struct Metrics {
  double loss = NAN, accuracy = NAN;
  int64_t samples = 0;
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

  // The model output (probabilities for a softmax output) for a float batch x: (N, input shape...).
  const Tensor& forward(const Tensor& x, Mode mode);
  // forward up to the loss's input: for a softmax output, its logits (the loss applies the softmax).
  const Tensor& forward_logits(const Tensor& x, Mode mode);
  // The plain training pass: forward_logits in Train mode, the loss (the mean over the batch), and
  // backward through every layer in reverse, no input gradient at or before first_trainable().
  // Parameter gradients ACCUMULATE (+=): zero_grad first for this batch's own gradient.
  LossResult forward_backward(const Tensor& x, const int32_t* labels);
  void zero_grad();
  // One plain training step: zero_grad, forward_backward, the optimiser's step.
  LossResult train_step(const Tensor& x, const int32_t* labels);

  // Trains for options.epochs (model/fit.h).
  History fit(const Dataset& train, const FitOptions& options);
  // With ranks (a data-parallel run, dist/communicator.h), each rank evaluates its contiguous shard
  // of data and every rank gets the sums of all shards, added in rank order.
  Metrics evaluate(const Dataset& data, int batch_size = 32, Communicator* ranks = nullptr);
  // Model outputs (probabilities for a softmax output), (n, K), for the given samples.
  Tensor predict(const Dataset& data, const std::vector<int64_t>& indices);

  std::string summary(const std::string& model_name = "sequential");
  std::string spec() const;  // the compact spec that rebuilds these layers

  std::vector<ParamRef> trainable_params();
  std::vector<StateEntry> state_dict();  // PyTorch nn.Sequential names and order
  int64_t count_params(bool trainable);

  const std::vector<std::unique_ptr<Layer>>& layers() const { return layers_; }
  Layer& layer(size_t i) { return *layers_[i]; }
  const Shape& input_shape() const { return input_shape_; }
  const Shape& output_shape() const { return output_shapes_.back(); }
  const Shape& output_shape(size_t layer) const { return output_shapes_[layer]; }  // without the batch
  // Layer `layer`'s output in the last forward (for the last layer in forward_logits: the logits).
  const Tensor& output(size_t layer) const { return acts_[layer + 1]; }
  // The first layer with trainable parameters: no layer at or before it needs its input gradient.
  size_t first_trainable() const { return first_trainable_; }
  // The trainable parameters, gathered at build (the order of trainable_params()).
  const std::vector<ParamRef>& trainable() const { return trainable_; }
  int num_classes() const;
  // InputError unless data's samples have the input shape and its labels are classes of the output.
  void check_labels(const Dataset& data) const;
  Optimizer* optimizer() { return optimizer_.get(); }
  bool built() const { return built_; }

 private:
  LossResult eval_batch(const Tensor& x, const int32_t* labels);

  std::vector<std::unique_ptr<Layer>> layers_;
  std::vector<Shape> output_shapes_;
  Shape input_shape_;
  std::unique_ptr<Optimizer> optimizer_;
  bool built_ = false;
  size_t first_trainable_ = 0;
  std::vector<ParamRef> trainable_;
  std::vector<int64_t> grad_sizes_;  // their sizes, for zero_grad

  // Buffers reused across batches: no allocation in a loop of steps of one size.
  std::vector<Tensor> acts_;  // acts_[i + 1] = output of layer i
  Tensor probs_, dlogits_, grads_[2];
};

}  // namespace bnlab
