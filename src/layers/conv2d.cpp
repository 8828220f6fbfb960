#include "bnlab/layers/conv2d.h"

#include <fmt/format.h>

#include <cmath>

#include "bnlab/core/error.h"

namespace bnlab {
namespace {

std::string pair_text(int a, int b) { return a == b ? std::to_string(a) : fmt::format("{}x{}", a, b); }

// Output size and zeros before the image along one axis (see the header).
void axis(int in, int kernel, int stride, Padding padding, int& out, int& pad_before) {
  if (padding == Padding::Valid) {
    out = in >= kernel ? (in - kernel) / stride + 1 : 0;
    pad_before = 0;
    return;
  }
  out = (in + stride - 1) / stride;
  pad_before = std::max((out - 1) * stride + kernel - in, 0) / 2;
}

}  // namespace

Conv2D::Conv2D(int filters, const Conv2DOptions& o) : filters_(filters), options_(o) {
  if (filters <= 0) throw InputError(fmt::format("conv: filters must be positive, got {}", filters));
  if (o.kernel_h <= 0 || o.kernel_w <= 0)
    throw InputError(fmt::format("conv: kernel size must be positive, got {}", pair_text(o.kernel_h, o.kernel_w)));
  if (o.stride_h <= 0 || o.stride_w <= 0)
    throw InputError(fmt::format("conv: stride must be positive, got {}", pair_text(o.stride_h, o.stride_w)));
  if (o.activation == Activation::Softmax)
    throw InputError("conv: softmax is not an elementwise activation; put flatten,dense:K:softmax after it");
}

std::string Conv2D::spec() const {
  const Conv2DOptions& o = options_;
  std::string s = fmt::format("conv:{}:{}", filters_, pair_text(o.kernel_h, o.kernel_w));
  if (o.activation != Activation::Linear) s += std::string(":") + activation_name(o.activation);
  if (o.padding == Padding::Same) s += ":same";
  if (o.stride_h != 1 || o.stride_w != 1) s += ":stride=" + pair_text(o.stride_h, o.stride_w);
  if (!o.use_bias) s += ":nobias";
  return s;
}

Shape Conv2D::output_shape(const Shape& in) const {
  if (in.rank() != 2 && in.rank() != 3)
    throw InputError("conv needs image input (C, H, W) or (H, W), got shape " + in.str());
  const int64_t C = in.rank() == 3 ? in[0] : 1, H = in[in.rank() - 2], W = in[in.rank() - 1];
  const int64_t weights = int64_t{filters_} * C * options_.kernel_h * options_.kernel_w;
  if (weights > kMaxParams || H > (1 << 20) || W > (1 << 20))
    throw InputError(fmt::format("conv:{} with a {} kernel on {} would have {} weights, more than the limit of {}",
                                 filters_, pair_text(options_.kernel_h, options_.kernel_w), in.str(), weights, kMaxParams));
  int HO, WO, pad;
  axis(static_cast<int>(H), options_.kernel_h, options_.stride_h, options_.padding, HO, pad);
  axis(static_cast<int>(W), options_.kernel_w, options_.stride_w, options_.padding, WO, pad);
  if (HO <= 0 || WO <= 0)
    throw InputError(fmt::format("conv: a {} kernel does not fit in input of shape {} without padding; use :same",
                                 pair_text(options_.kernel_h, options_.kernel_w), in.str()));
  return Shape{filters_, HO, WO};
}

Shape Conv2D::build(const Shape& in, Rng& rng) {
  const Shape out = output_shape(in);
  Conv2DGeometry& g = geometry_;
  g.N = 1;
  g.C = static_cast<int>(in.rank() == 3 ? in[0] : 1);
  g.H = static_cast<int>(in[in.rank() - 2]);
  g.W = static_cast<int>(in[in.rank() - 1]);
  g.F = filters_;
  g.KH = options_.kernel_h;
  g.KW = options_.kernel_w;
  g.SH = options_.stride_h;
  g.SW = options_.stride_w;
  axis(g.H, g.KH, g.SH, options_.padding, g.HO, g.pad_top);
  axis(g.W, g.KW, g.SW, options_.padding, g.WO, g.pad_left);
  weight = Tensor({g.F, g.C, g.KH, g.KW});
  weight_grad = Tensor(weight.shape());
  const double receptive = double(g.KH) * g.KW;
  const double limit = std::sqrt(6.0 / (receptive * g.C + receptive * g.F));
  for (int64_t i = 0; i < weight.numel(); ++i) weight[i] = static_cast<float>((2.0 * rng.uniform() - 1.0) * limit);
  if (options_.use_bias) {
    bias = Tensor({g.F});
    bias_grad = Tensor({g.F});
  }
  return out;
}

Conv2DGeometry Conv2D::geometry(int N) const {
  Conv2DGeometry g = geometry_;
  g.N = N;
  return g;
}

void Conv2D::forward(const Tensor& x, Tensor& y, Mode mode) {
  last_mode_ = mode;
  const Conv2DGeometry g = geometry(static_cast<int>(x.dim(0)));
  y.resize({g.N, g.F, g.HO, g.WO});
  conv2d_forward(y.data(), x.data(), weight.data(), options_.use_bias ? bias.data() : nullptr, g, options_.activation,
                 scratch_);
}

void Conv2D::backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) {
  const Conv2DGeometry g = geometry(static_cast<int>(x.dim(0)));
  if (dx) dx->resize(x.shape());
  conv2d_backward(dx ? dx->data() : nullptr, weight_grad.data(), options_.use_bias ? bias_grad.data() : nullptr,
                  dy.data(), y.data(), options_.activation, x.data(), weight.data(), g, scratch_);
}

std::vector<ParamRef> Conv2D::params() {
  std::vector<ParamRef> p{{"weight", &weight, &weight_grad, true}};
  if (options_.use_bias) p.push_back({"bias", &bias, &bias_grad, true});
  return p;
}

}  // namespace bnlab
