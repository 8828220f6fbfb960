#pragma once
// GroupNormalization (Wu and He 2018) over (N, C, H, W) images, channels first, or flat (N, C)
// input (formulas: kernels/groupnorm.h): the C channels cut into `groups` groups of consecutive
// channels, each sample normalised per group by its own mean and biased variance over the group's
// channels and pixels, then scaled and shifted per channel. Training and inference compute the same
// thing and the batch size does not matter; groups = 1 is LayerNorm over (C, H, W).
// PyTorch's defaults and names (nn.GroupNorm(groups, C), eps 1e-5, `weight` and `bias` of (C)), so
// checkpoints load into it with strict=True; Keras's GroupNormalization uses eps 1e-3 (gn:G:eps=0.001).
// Building refuses a channel count that `groups` does not divide.
#include "bnlab/layers/layer.h"

namespace bnlab {

struct GroupNormOptions {
  int groups = 1;
  float eps = 1e-5f;
  bool center = true;  // learn beta (PyTorch: affine)
  bool scale = true;   // learn gamma
};

class GroupNormalization : public Layer {
 public:
  explicit GroupNormalization(GroupNormOptions options);

  std::string type_name() const override { return "GroupNormalization"; }
  std::string spec() const override;
  std::string default_name() const override { return "group_normalization"; }
  Shape build(const Shape& in, Rng& rng) override;
  void forward(const Tensor& x, Tensor& y, Mode mode) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) override;
  std::vector<ParamRef> params() override;

  const GroupNormOptions& options() const { return options_; }
  // gamma and beta per channel (PyTorch: weight, bias).
  Tensor weight, bias, weight_grad, bias_grad;

 private:
  GroupNormOptions options_;
  int C_ = 0, HW_ = 1;
  Tensor mean_, invstd_;  // (N, groups): statistics of the last forward
};

}  // namespace bnlab
