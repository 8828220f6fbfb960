#pragma once
// Optimisers over a model's trainable parameters (formulas: kernels/optim.h). Moving statistics
// and other non-trainable state are never passed to them.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bnlab/layers/layer.h"

namespace bnlab {

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual std::string name() const = 0;  // "adam", "sgd"
  // One update of every parameter from its gradient. params: trainable ones, in a fixed order.
  // All parameters in one parallel region, each parameter cut into one contiguous share per thread
  // (core/parallel.h's for_slices).
  void step(const std::vector<ParamRef>& params);
  // step(), unless a gradient holds a NaN or Inf: then nothing changes, bad[i] is set to 1 for
  // every such parameter i (bad is resized to params.size()) and the result is false. The check
  // and the update share one parallel region: each thread checks its share, then updates the same
  // share while those gradients are still in its cache.
  bool step_if_finite(const std::vector<ParamRef>& params, std::vector<uint8_t>& bad);
  // Named state tensors (moments), for checkpoints; created on the first step or by init_state.
  virtual std::vector<std::pair<std::string, Tensor*>> state() = 0;
  virtual void init_state(const std::vector<ParamRef>& params) = 0;

  double learning_rate = 1e-3;
  int64_t iterations = 0;  // steps taken

 protected:
  // Creates the state on the first step.
  virtual void ensure_state(const std::vector<ParamRef>& params) = 0;
  // Updates elements [begin, begin + n) of parameter i at step t (1-based); called from threads.
  virtual void update(const ParamRef& p, size_t i, int64_t begin, int64_t n, int64_t t) = 0;

 private:
  // ensure_state and the slice sizes; returns the step number t of the update to come.
  int64_t prepare_step(const std::vector<ParamRef>& params);
  std::vector<int64_t> slice_sizes_;  // scratch, reused: no allocation per step
};

enum class AdamStyle { Keras, Torch };

struct AdamOptions {
  double learning_rate = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double epsilon = 1e-7;  // Keras' default; torch.optim.Adam's is 1e-8
  AdamStyle style = AdamStyle::Keras;
};

class Adam : public Optimizer {
 public:
  explicit Adam(AdamOptions options = {});
  std::string name() const override { return "adam"; }
  std::vector<std::pair<std::string, Tensor*>> state() override;
  void init_state(const std::vector<ParamRef>& params) override;
  const AdamOptions& options() const { return options_; }

 protected:
  void ensure_state(const std::vector<ParamRef>& params) override;
  void update(const ParamRef& p, size_t i, int64_t begin, int64_t n, int64_t t) override;

 private:
  AdamOptions options_;
  std::vector<Tensor> m_, v_;
};

class SGD : public Optimizer {
 public:
  explicit SGD(double learning_rate = 0.01, double momentum = 0.0);
  std::string name() const override { return "sgd"; }
  std::vector<std::pair<std::string, Tensor*>> state() override;
  void init_state(const std::vector<ParamRef>& params) override;
  double momentum() const { return momentum_; }

 protected:
  void ensure_state(const std::vector<ParamRef>& params) override;
  void update(const ParamRef& p, size_t i, int64_t begin, int64_t n, int64_t t) override;

 private:
  double momentum_;
  std::vector<Tensor> u_;
};

// "adam" (the Keras form with its defaults) or "sgd" (with momentum), at this learning rate; any
// other name is an InputError: "unknown optimizer 'rmsprop' (adam, sgd)".
std::unique_ptr<Optimizer> make_optimizer(const std::string& name, double learning_rate, double momentum = 0.0);

}  // namespace bnlab
