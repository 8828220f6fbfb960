#include "bnlab/optim/optimizer.h"

#include <fmt/format.h>

#include <atomic>
#include <cmath>

#include "bnlab/core/error.h"
#include "bnlab/kernels/optim.h"
#include "core/parallel.h"

namespace bnlab {
namespace {
void check_learning_rate(double lr) {
  if (!(lr > 0.0f) || !std::isfinite(lr))
    throw InputError(fmt::format("learning rate must be a positive finite number, got {}", lr));
}
}  // namespace

// Elementwise updates, so the split across threads (core/parallel.h) cannot change the results.
int64_t Optimizer::prepare_step(const std::vector<ParamRef>& params) {
  ensure_state(params);
  slice_sizes_.clear();
  for (const ParamRef& p : params) slice_sizes_.push_back(p.value->numel());
  return iterations + 1;
}

void Optimizer::step(const std::vector<ParamRef>& params) {
  const int64_t t = prepare_step(params);
  for_slices(slice_sizes_, [&](size_t i, int64_t begin, int64_t n) { update(params[i], i, begin, n, t); });
  iterations = t;
}

bool Optimizer::step_if_finite(const std::vector<ParamRef>& params, std::vector<uint8_t>& bad) {
  const int64_t t = prepare_step(params);
  bad.assign(params.size(), 0);
  std::atomic<bool> any_bad{false};
  for_slices_in_two_phases(
      slice_sizes_,
      [&](size_t i, int64_t begin, int64_t n) {
        if (!all_finite(params[i].grad->data() + begin, n)) {
          std::atomic_ref<uint8_t>(bad[i]).store(1, std::memory_order_relaxed);
          any_bad.store(true, std::memory_order_relaxed);
        }
      },
      [&](size_t i, int64_t begin, int64_t n) {
        if (!any_bad.load(std::memory_order_relaxed)) update(params[i], i, begin, n, t);
      });
  if (any_bad.load()) return false;
  iterations = t;
  return true;
}

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

void Adam::ensure_state(const std::vector<ParamRef>& params) {
  if (m_.size() != params.size()) init_state(params);
}

void Adam::update(const ParamRef& p, size_t i, int64_t begin, int64_t n, int64_t t) {
  auto kernel = options_.style == AdamStyle::Keras ? adam_keras_update : adam_torch_update;
  kernel(p.value->data() + begin, m_[i].data() + begin, v_[i].data() + begin, p.grad->data() + begin, n, learning_rate,
         options_.beta1, options_.beta2, options_.epsilon, t);
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

void SGD::ensure_state(const std::vector<ParamRef>& params) {
  if (momentum_ != 0.0 && u_.size() != params.size()) init_state(params);
}

void SGD::update(const ParamRef& p, size_t i, int64_t begin, int64_t n, int64_t) {
  sgd_update(p.value->data() + begin, momentum_ != 0.0 ? u_[i].data() + begin : nullptr, p.grad->data() + begin, n,
             static_cast<float>(learning_rate), static_cast<float>(momentum_));
}

std::vector<std::pair<std::string, Tensor*>> SGD::state() {
  std::vector<std::pair<std::string, Tensor*>> s;
  for (size_t i = 0; i < u_.size(); ++i) s.emplace_back(fmt::format("u.{}", i), &u_[i]);
  return s;
}

std::unique_ptr<Optimizer> make_optimizer(const std::string& name, double learning_rate, double momentum) {
  if (name == "adam") {
    AdamOptions o;
    o.learning_rate = learning_rate;
    return std::make_unique<Adam>(o);
  }
  if (name == "sgd") return std::make_unique<SGD>(learning_rate, momentum);
  throw InputError(fmt::format("unknown optimizer '{}' (adam, sgd)", name));
}

}  // namespace bnlab
