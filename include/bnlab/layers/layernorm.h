#pragma once
// LayerNormalization over the feature axis of (N, C) inputs (formulas: kernels/layernorm.h): each
// sample is normalised by its own mean and biased variance, so training and inference compute the
// same thing and the batch size does not matter. eps: Keras 1e-3 (default), PyTorch 1e-5.
#include "bnlab/layers/layer.h"

namespace bnlab {

struct LayerNormOptions {
  float eps = 1e-3f;
  bool center = true;
  bool scale = true;
};

class LayerNormalization : public Layer {
 public:
  explicit LayerNormalization(LayerNormOptions options = {});

  std::string type_name() const override { return "LayerNormalization"; }
  std::string spec() const override;
  std::string default_name() const override { return "layer_normalization"; }
  Shape build(const Shape& in, Rng& rng) override;
  void forward(const Tensor& x, Tensor& y, Mode mode) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) override;
  std::vector<ParamRef> params() override;

  const LayerNormOptions& options() const { return options_; }
  Tensor weight, bias, weight_grad, bias_grad;

 private:
  LayerNormOptions options_;
  int C_ = 0;
  Tensor mean_, invstd_;  // per-sample statistics of the last forward
};

}  // namespace bnlab
