#include "bnlab/optim/optimizer.h"

#include <fmt/format.h>

#include <cmath>

#include "bnlab/error.h"
#include "bnlab/kernels/optim.h"
#include "core/parallel.h"

namespace bnlab {
namespace {
void check_learning_rate(double lr) {
  if (!(lr > 0.0f) || !std::isfinite(lr))
    throw InputError(fmt::format("learning rate must be a positive finite number, got {}", lr));
}

// One parallel region for all tensors (core/parallel.h); elementwise, so the split cannot change
// the results. slice(i, begin, n) updates elements [begin, begin + n) of tensor i.
// sizes: scratch, reused across steps.
template <class SliceFn>
void for_param_slices(const std::vector<ParamRef>& params, std::vector<int64_t>& sizes, SliceFn slice) {
  sizes.clear();
  for (const ParamRef& p : params) sizes.push_back(p.value->numel());
  for_slices(sizes, slice);
}
}  // namespace

Adam::Adam(AdamOptions options) : options_(options) {
  check_learning_rate(options.learning_rate);
  learning_rate = options.learning_rate;
  if (!(options.beta1 >= 0 && options.beta1 < 1 && options.beta2 >= 0 && options.beta2 < 1))
    throw InputError("adam: beta1 and beta2 must be in [0, 1)");
  if (!(options.epsilon > 0)) throw InputError("adam: epsilon must be positive");
}

void Adam::init_state(const std::vector<ParamRef>& params) {
  m_.clear();
  v_.clear();
  for (const ParamRef& p : params) {
    m_.emplace_back(p.value->shape());
    v_.emplace_back(p.value->shape());
  }
}

void Adam::step(const std::vector<ParamRef>& params) {
  if (m_.size() != params.size()) init_state(params);
  ++iterations;
  auto update = options_.style == AdamStyle::Keras ? adam_keras_update : adam_torch_update;
  for_param_slices(params, slice_sizes_, [&](size_t i, int64_t begin, int64_t n) {
    update(params[i].value->data() + begin, m_[i].data() + begin, v_[i].data() + begin, params[i].grad->data() + begin,
           n, learning_rate, options_.beta1, options_.beta2, options_.epsilon, iterations);
  });
}

std::vector<std::pair<std::string, Tensor*>> Adam::state() {
  std::vector<std::pair<std::string, Tensor*>> s;
  for (size_t i = 0; i < m_.size(); ++i) {
    s.emplace_back(fmt::format("m.{}", i), &m_[i]);
    s.emplace_back(fmt::format("v.{}", i), &v_[i]);
  }
  return s;
}

SGD::SGD(double lr, double momentum) : momentum_(momentum) {
  check_learning_rate(lr);
  learning_rate = lr;
  if (!(momentum >= 0.0 && momentum < 1.0)) throw InputError(fmt::format("sgd: momentum must be in [0, 1), got {}", momentum));
}

void SGD::init_state(const std::vector<ParamRef>& params) {
  u_.clear();
  if (momentum_ == 0.0) return;
  for (const ParamRef& p : params) u_.emplace_back(p.value->shape());
}

void SGD::step(const std::vector<ParamRef>& params) {
  if (momentum_ != 0.0 && u_.size() != params.size()) init_state(params);
  ++iterations;
  for_param_slices(params, slice_sizes_, [&](size_t i, int64_t begin, int64_t n) {
    sgd_update(params[i].value->data() + begin, momentum_ != 0.0 ? u_[i].data() + begin : nullptr,
               params[i].grad->data() + begin, n, static_cast<float>(learning_rate), static_cast<float>(momentum_));
  });
}

std::vector<std::pair<std::string, Tensor*>> SGD::state() {
  std::vector<std::pair<std::string, Tensor*>> s;
  for (size_t i = 0; i < u_.size(); ++i) s.emplace_back(fmt::format("u.{}", i), &u_[i]);
  return s;
}

}  // namespace bnlab
