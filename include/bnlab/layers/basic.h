#pragma once
// Parameter-free layers: Flatten, a standalone activation (ReLU, Softmax, ...) and Dropout.
#include "bnlab/kernels/activation.h"
#include "bnlab/layers/layer.h"

namespace bnlab {

// (N, d1, d2, ...) -> (N, d1 * d2 * ...); the data are already contiguous, so the output is a view
// of the input (Tensor::view), not a copy.
class Flatten : public Layer {
 public:
  std::string type_name() const override { return "Flatten"; }
  std::string spec() const override { return "flatten"; }
  std::string default_name() const override { return "flatten"; }
  Shape build(const Shape& in, Rng& rng) override;
  void forward(const Tensor& x, Tensor& y, Mode mode) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) override;

 private:
  Shape in_;
};

// y = act(x), elementwise (relu, sigmoid, tanh) or row-wise (softmax).
class ActivationLayer : public Layer {
 public:
  explicit ActivationLayer(Activation activation);
  std::string type_name() const override;
  std::string spec() const override { return activation_name(activation_); }
  std::string default_name() const override { return activation_name(activation_); }
  Shape build(const Shape& in, Rng& rng) override;
  void forward(const Tensor& x, Tensor& y, Mode mode) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) override;
  bool has_softmax_output() const override { return activation_ == Activation::Softmax; }
  void forward_logits(const Tensor& x, Tensor& z, Mode mode) override;
  void backward_logits(const Tensor& x, const Tensor& dz, Tensor* dx) override;

 private:
  Activation activation_;
};

// Inverted dropout. Train: y = x * mask / (1 - rate), mask[i] ~ Bernoulli(1 - rate), drawn from the
// layer's own generator (seeded at build). Eval: y = x.
class Dropout : public Layer {
 public:
  explicit Dropout(float rate);
  std::string type_name() const override { return "Dropout"; }
  std::string spec() const override;
  std::string default_name() const override { return "dropout"; }
  Shape build(const Shape& in, Rng& rng) override;
  void forward(const Tensor& x, Tensor& y, Mode mode) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) override;

  float rate() const { return rate_; }
  Rng& rng() { return rng_; }

 private:
  float rate_;
  Rng rng_;
  Tensor mask_;  // 0 or 1 / (1 - rate), from the last training forward
};

}  // namespace bnlab
