#pragma once
// 2-D convolution with a fused activation, channels first:  y = act(conv(x, W) + b)
// (kernels/conv2d.h). x: (N, C, H, W), or (N, H, W) taken as one channel; y: (N, F, HO, WO).
// W is stored as PyTorch's nn.Conv2d weight, (F, C, KH, KW), and b as its bias, (F), so a
// checkpoint loads into nn.Conv2d unchanged (Keras' kernel is (KH, KW, C, F)).
// Padding: valid (no zeros; HO = (H - KH) / SH + 1) or same (HO = ceil(H / SH), with
// TensorFlow's SAME zeros: max((HO - 1) SH + KH - H, 0) rows in all, half of them before the image,
// the odd one after; at stride 1 that is (KH - 1) / 2 before, as Keras and PyTorch's padding='same').
// Defaults follow Keras: Glorot-uniform W (limit sqrt(6 / (C KH KW + F KH KW))), zero bias.
#include "bnlab/kernels/activation.h"
#include "bnlab/kernels/conv2d.h"
#include "bnlab/layers/layer.h"

namespace bnlab {

enum class Padding { Valid, Same };

struct Conv2DOptions {
  int kernel_h = 3, kernel_w = 3;
  int stride_h = 1, stride_w = 1;
  Padding padding = Padding::Valid;
  Activation activation = Activation::Linear;  // elementwise: linear, relu, sigmoid, tanh
  bool use_bias = true;
};

class Conv2D : public Layer {
 public:
  Conv2D(int filters, const Conv2DOptions& options);

  std::string type_name() const override { return "Conv2D"; }
  std::string spec() const override;
  std::string default_name() const override { return "conv2d"; }
  Shape build(const Shape& in, Rng& rng) override;
  void forward(const Tensor& x, Tensor& y, Mode mode) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) override;
  std::vector<ParamRef> params() override;
  // nn.Conv2d, then the activation's module unless linear.
  int torch_modules() const override { return options_.activation == Activation::Linear ? 1 : 2; }

  // The output shape (F, HO, WO) for samples of shape in, (C, H, W) or (H, W), without building;
  // InputError when the kernel does not fit.
  Shape output_shape(const Shape& in) const;
  // The sizes of this layer's convolution for a batch of N (once built).
  Conv2DGeometry geometry(int N) const;
  int filters() const { return filters_; }
  int in_channels() const { return geometry_.C; }
  const Conv2DOptions& options() const { return options_; }
  Tensor weight, bias, weight_grad, bias_grad;

 private:
  int filters_;
  Conv2DOptions options_;
  Conv2DGeometry geometry_;  // of one sample (N = 1)
  Tensor scratch_;           // the kernels' patches and partial sums, reused across steps
};

}  // namespace bnlab
