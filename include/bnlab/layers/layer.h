#pragma once
// The layer interface. A layer owns its parameters and caches; the model owns activations.
//
// Life cycle: build(input shape) once, then forward/backward per batch. Training vs inference is
// an explicit Mode argument, never inferred from the batch size. backward() uses the caches of the
// last forward() and ACCUMULATES parameter gradients (+=); zero_grad() clears them.
#include <cstdint>
#include <string>
#include <vector>

#include "bnlab/core/rng.h"
#include "bnlab/core/tensor.h"

namespace bnlab {

// The most parameters a layer or a model may have (67M, 256 MiB of float32; four times that with
// gradients and Adam's moments): a spec asking for more is a mistake, refused before allocating.
inline constexpr int64_t kMaxParams = int64_t{1} << 26;

enum class Mode { Train, Eval };

// A named view of a parameter or buffer, with the names of PyTorch's state_dict
// ("weight", "bias", "running_mean", ...). grad is null for non-trainable state.
struct ParamRef {
  std::string name;
  Tensor* value = nullptr;
  Tensor* grad = nullptr;
  bool trainable = true;
};

class Layer {
 public:
  virtual ~Layer() = default;

  // Keras class name ("Dense") and the compact spec token that rebuilds this layer ("dense:256:relu").
  virtual std::string type_name() const = 0;
  virtual std::string spec() const = 0;
  // Keras-style default name prefix ("dense", "batch_normalization").
  virtual std::string default_name() const = 0;

  // Creates and initialises parameters for inputs of shape `in` (without the batch dimension);
  // returns the output shape.
  virtual Shape build(const Shape& in, Rng& rng) = 0;

  // x: (N, in...)  y: (N, out...) resized as needed.
  virtual void forward(const Tensor& x, Tensor& y, Mode mode) = 0;
  // x, y: the last forward's input and output  dy: dL/dy  dx: dL/dx, or null when not wanted.
  virtual void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) = 0;

  // Parameters and float buffers in state_dict order.
  virtual std::vector<ParamRef> params() { return {}; }
  // Integer buffers (BatchNorm's num_batches_tracked), after params() in state_dict order.
  struct CounterRef {
    std::string name;
    int64_t* value;
  };
  virtual std::vector<CounterRef> counters() { return {}; }

  // Softmax-output layers let the loss fuse softmax and cross-entropy: forward_logits() stops
  // before the softmax and backward_logits() starts after it.
  virtual bool has_softmax_output() const { return false; }
  virtual void forward_logits(const Tensor& x, Tensor& z, Mode mode);
  virtual void backward_logits(const Tensor& x, const Tensor& dz, Tensor* dx);

  // How many torch.nn modules this layer maps to in the equivalent nn.Sequential
  // (Dense with an activation is nn.Linear followed by the activation module).
  virtual int torch_modules() const { return 1; }

  void zero_grad();
  int64_t count_params(bool trainable);

  std::string name;  // Keras-style layer name, unique in a model

 protected:
  Mode last_mode_ = Mode::Eval;
};

}  // namespace bnlab
