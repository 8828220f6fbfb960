#include "bnlab/optim/optimizer.h"

#include <fmt/format.h>

#include <omp.h>

#include <algorithm>
#include <cmath>

#include "bnlab/error.h"
#include "bnlab/kernels/optim.h"

namespace bnlab {
namespace {
void check_learning_rate(double lr) {
  if (!(lr > 0.0f) || !std::isfinite(lr))
    throw InputError(fmt::format("learning rate must be a positive finite number, got {}", lr));
}

// Elementwise updates in one parallel region for all tensors: the parameters are laid end to end
// and each thread takes one contiguous range (whole AVX-512 vectors), calling slice(i, begin, n) for
// elements [begin, begin + n) of tensor i. Elementwise, so the split cannot change the results.
template <class SliceFn>
void for_param_slices(const std::vector<ParamRef>& params, SliceFn slice) {
  constexpr int64_t kMinParallel = 32768;
  int64_t total = 0;
  for (const ParamRef& p : params) total += p.value->numel();
  const int threads = total > kMinParallel ? omp_get_max_threads() : 1;
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    const int64_t per = ((total + omp_get_num_threads() - 1) / omp_get_num_threads() + 15) / 16 * 16;
    const int64_t lo = std::min(total, omp_get_thread_num() * per), hi = std::min(total, lo + per);
    int64_t offset = 0;
    for (size_t i = 0; i < params.size() && offset < hi; ++i) {
      const int64_t n = params[i].value->numel();
      const int64_t a = std::max(lo, offset), b = std::min(hi, offset + n);
      if (a < b) slice(i, a - offset, b - a);
      offset += n;
    }
  }
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
  for_param_slices(params, [&](size_t i, int64_t begin, int64_t n) {
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
  for_param_slices(params, [&](size_t i, int64_t begin, int64_t n) {
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
