#include "bnlab/layers/groupnorm.h"

#include <fmt/format.h>

#include "bnlab/core/error.h"
#include "bnlab/kernels/groupnorm.h"
#include "layers/affine.h"

namespace bnlab {

GroupNormalization::GroupNormalization(GroupNormOptions options) : options_(options) {
  if (options_.groups < 1) throw InputError(fmt::format("gn: groups must be at least 1, got {}", options_.groups));
  if (!(options_.eps > 0.0f)) throw InputError(fmt::format("gn: eps must be positive, got {}", options_.eps));
}

std::string GroupNormalization::spec() const {
  std::string s = fmt::format("gn:{}", options_.groups);
  if (options_.eps != GroupNormOptions{}.eps) s += fmt::format(":eps={}", options_.eps);
  if (!options_.center) s += ":center=0";
  if (!options_.scale) s += ":scale=0";
  return s;
}

Shape GroupNormalization::build(const Shape& in, Rng&) {
  if (in.rank() != 1 && in.rank() != 3)
    throw InputError("gn needs flat (N, C) or image (N, C, H, W) input, got shape " + in.str());
  if (in[0] % options_.groups != 0)
    throw InputError(fmt::format("gn:{}: {} channels do not split into {} equal groups", options_.groups, in[0],
                                 options_.groups));
  C_ = static_cast<int>(in[0]);
  HW_ = in.rank() == 3 ? static_cast<int>(in[1] * in[2]) : 1;
  build_affine(C_, options_.scale, options_.center, weight, weight_grad, bias, bias_grad);
  return in;
}

void GroupNormalization::forward(const Tensor& x, Tensor& y, Mode mode) {
  last_mode_ = mode;
  const int N = static_cast<int>(x.dim(0));
  y.resize(x.shape());
  mean_.resize({N, options_.groups});
  invstd_.resize({N, options_.groups});
  groupnorm_forward(y.data(), mean_.data(), invstd_.data(), x.data(), options_.scale ? weight.data() : nullptr,
                    options_.center ? bias.data() : nullptr, N, C_, HW_, options_.groups, options_.eps);
}

void GroupNormalization::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx) {
  const int N = static_cast<int>(x.dim(0));
  if (dx) dx->resize(x.shape());
  groupnorm_backward(dx ? dx->data() : nullptr, options_.scale ? weight_grad.data() : nullptr,
                     options_.center ? bias_grad.data() : nullptr, dy.data(), x.data(), mean_.data(), invstd_.data(),
                     options_.scale ? weight.data() : nullptr, N, C_, HW_, options_.groups);
}

std::vector<ParamRef> GroupNormalization::params() {
  std::vector<ParamRef> p;
  if (options_.scale) p.push_back({"weight", &weight, &weight_grad, true});
  if (options_.center) p.push_back({"bias", &bias, &bias_grad, true});
  return p;
}

}  // namespace bnlab
