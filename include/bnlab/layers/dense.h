#pragma once
// Dense (fully connected) layer with a fused activation:  y = act(x W^T + b)  (kernels/dense.h).
// W is stored as PyTorch's nn.Linear weight, (units, in); Keras' kernel is its transpose.
// Defaults follow Keras: Glorot-uniform W (limit sqrt(6 / (in + units))), zero bias.
#include "bnlab/kernels/activation.h"
#include "bnlab/layers/layer.h"

namespace bnlab {

class Dense : public Layer {
 public:
  explicit Dense(int units, Activation activation = Activation::Linear, bool use_bias = true);

  std::string type_name() const override { return "Dense"; }
  std::string spec() const override;
  std::string default_name() const override { return "dense"; }
  Shape build(const Shape& in, Rng& rng) override;
  void forward(const Tensor& x, Tensor& y, Mode mode) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) override;
  std::vector<ParamRef> params() override;

  bool has_softmax_output() const override { return activation_ == Activation::Softmax; }
  void forward_logits(const Tensor& x, Tensor& z, Mode mode) override;
  void backward_logits(const Tensor& x, const Tensor& dz, Tensor* dx) override;
  int torch_modules() const override { return activation_ == Activation::Linear ? 1 : 2; }

  int units() const { return units_; }
  int inputs() const { return in_; }
  bool use_bias() const { return use_bias_; }
  Activation activation() const { return activation_; }
  Tensor weight, bias, weight_grad, bias_grad;

 private:
  int units_, in_ = 0;
  Activation activation_;
  bool use_bias_;
  Tensor dz_;  // gradient before the activation, reused across steps
};

}  // namespace bnlab
