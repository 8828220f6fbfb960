#include "bnlab/layers/dense.h"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

#include "bnlab/core/error.h"
#include "bnlab/kernels/dense.h"

namespace bnlab {

Dense::Dense(int units, Activation activation, bool use_bias)
    : units_(units), activation_(activation), use_bias_(use_bias) {
  if (units <= 0) throw InputError("dense: units must be positive, got " + std::to_string(units));
}

std::string Dense::spec() const {
  std::string s = "dense:" + std::to_string(units_);
  if (activation_ != Activation::Linear) s += std::string(":") + activation_name(activation_);
  if (!use_bias_) s += ":nobias";
  return s;
}

Shape Dense::build(const Shape& in, Rng& rng) {
  if (in.rank() != 1)
    throw InputError("dense needs flat input, got shape " + in.str() + "; put flatten before it");
  if (units_ * in[0] > kMaxParams)
    throw InputError(fmt::format("dense:{} on {} inputs would have {} weights, more than the limit of {}", units_, in[0],
                                 units_ * in[0], kMaxParams));
  in_ = static_cast<int>(in[0]);
  weight = Tensor({units_, in_});
  weight_grad = Tensor({units_, in_});
  const double limit = std::sqrt(6.0 / (in_ + units_));
  for (int64_t i = 0; i < weight.numel(); ++i)
    weight[i] = static_cast<float>((2.0 * rng.uniform() - 1.0) * limit);
  if (use_bias_) {
    bias = Tensor({units_});
    bias_grad = Tensor({units_});
  }
  return Shape{units_};
}

void Dense::forward_logits(const Tensor& x, Tensor& z, Mode mode) {
  last_mode_ = mode;
  const int N = static_cast<int>(x.dim(0));
  z.resize({N, units_});
  dense_forward(z.data(), x.data(), weight.data(), use_bias_ ? bias.data() : nullptr, N, in_, units_);
}

void Dense::forward(const Tensor& x, Tensor& y, Mode mode) {
  if (activation_ == Activation::Softmax) {
    forward_logits(x, y, mode);
    softmax_forward(y.data(), y.data(), static_cast<int>(x.dim(0)), units_);
    return;
  }
  last_mode_ = mode;
  const int N = static_cast<int>(x.dim(0));
  y.resize({N, units_});
  dense_forward(y.data(), x.data(), weight.data(), use_bias_ ? bias.data() : nullptr, N, in_, units_, activation_);
}

void Dense::backward_logits(const Tensor& x, const Tensor& dz, Tensor* dx) {
  const int N = static_cast<int>(x.dim(0));
  if (dx) dx->resize({N, in_});
  dense_backward(dx ? dx->data() : nullptr, weight_grad.data(), use_bias_ ? bias_grad.data() : nullptr, dz.data(),
                 x.data(), weight.data(), N, in_, units_);
}

void Dense::backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) {
  const int N = static_cast<int>(x.dim(0));
  dz_.resize({N, units_});
  if (activation_ == Activation::Softmax) {  // row-wise: dz before the product
    softmax_backward(dz_.data(), dy.data(), y.data(), N, units_);
    backward_logits(x, dz_, dx);
    return;
  }
  // The elementwise activation's backward inside the kernel's parallel region, block by block.
  if (dx) dx->resize({N, in_});
  dense_backward_activation(dx ? dx->data() : nullptr, weight_grad.data(), use_bias_ ? bias_grad.data() : nullptr,
                            dz_.data(), dy.data(), y.data(), activation_, x.data(), weight.data(), N, in_, units_);
}

std::vector<ParamRef> Dense::params() {
  std::vector<ParamRef> p{{"weight", &weight, &weight_grad, true}};
  if (use_bias_) p.push_back({"bias", &bias, &bias_grad, true});
  return p;
}

}  // namespace bnlab
