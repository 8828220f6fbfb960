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
  virtual void step(const std::vector<ParamRef>& params) = 0;
  // Named state tensors (moments), for checkpoints; created on the first step or by init_state.
  virtual std::vector<std::pair<std::string, Tensor*>> state() = 0;
  virtual void init_state(const std::vector<ParamRef>& params) = 0;

  double learning_rate = 1e-3;
  int64_t iterations = 0;  // steps taken

 protected:
  std::vector<int64_t> slice_sizes_;  // step()'s scratch, reused: no allocation per step
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
  void step(const std::vector<ParamRef>& params) override;
  std::vector<std::pair<std::string, Tensor*>> state() override;
  void init_state(const std::vector<ParamRef>& params) override;
  const AdamOptions& options() const { return options_; }

 private:
  AdamOptions options_;
  std::vector<Tensor> m_, v_;
};

class SGD : public Optimizer {
 public:
  explicit SGD(double learning_rate = 0.01, double momentum = 0.0);
  std::string name() const override { return "sgd"; }
  void step(const std::vector<ParamRef>& params) override;
  std::vector<std::pair<std::string, Tensor*>> state() override;
  void init_state(const std::vector<ParamRef>& params) override;
  double momentum() const { return momentum_; }

 private:
  double momentum_;
  std::vector<Tensor> u_;
};

}  // namespace bnlab
