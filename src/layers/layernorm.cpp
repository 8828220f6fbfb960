#include "bnlab/layers/layernorm.h"

#include <fmt/format.h>

#include "bnlab/core/error.h"
#include "bnlab/kernels/layernorm.h"
#include "layers/affine.h"

namespace bnlab {

LayerNormalization::LayerNormalization(LayerNormOptions options) : options_(options) {
  if (!(options_.eps > 0.0f)) throw InputError(fmt::format("ln: eps must be positive, got {}", options_.eps));
}

std::string LayerNormalization::spec() const {
  std::string s = "ln";
  if (options_.eps != LayerNormOptions{}.eps) s += fmt::format(":eps={}", options_.eps);
  if (!options_.center) s += ":center=0";
  if (!options_.scale) s += ":scale=0";
  return s;
}

Shape LayerNormalization::build(const Shape& in, Rng&) {
  if (in.rank() != 1) throw InputError("ln needs flat (N, C) input, got shape " + in.str());
  C_ = static_cast<int>(in[0]);
  build_affine(C_, options_.scale, options_.center, weight, weight_grad, bias, bias_grad);
  return in;
}

void LayerNormalization::forward(const Tensor& x, Tensor& y, Mode mode) {
  last_mode_ = mode;
  const int N = static_cast<int>(x.dim(0));
  y.resize(x.shape());
  mean_.resize({N});
  invstd_.resize({N});
  layernorm_forward(y.data(), mean_.data(), invstd_.data(), x.data(), options_.scale ? weight.data() : nullptr,
                    options_.center ? bias.data() : nullptr, N, C_, options_.eps);
}

void LayerNormalization::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx) {
  const int N = static_cast<int>(x.dim(0));
  if (dx) dx->resize(x.shape());
  layernorm_backward(dx ? dx->data() : nullptr, options_.scale ? weight_grad.data() : nullptr,
                     options_.center ? bias_grad.data() : nullptr, dy.data(), x.data(), mean_.data(),
                     invstd_.data(), options_.scale ? weight.data() : nullptr, N, C_);
}

std::vector<ParamRef> LayerNormalization::params() {
  std::vector<ParamRef> p;
  if (options_.scale) p.push_back({"weight", &weight, &weight_grad, true});
  if (options_.center) p.push_back({"bias", &bias, &bias_grad, true});
  return p;
}

}  // namespace bnlab
