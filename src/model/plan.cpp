// TrainingPlan: the pattern tables, matched once when the plan is made, and the walk that runs the
// steps they chose (model/plan/steps.h).
#include "bnlab/model/plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "bnlab/core/error.h"
#include "bnlab/layers/batchnorm.h"
#include "bnlab/model/sequential.h"
#include "core/parallel.h"
#include "model/plan/steps.h"

namespace bnlab {
namespace {

using plan::BackwardStep;
using plan::ForwardStep;

// Tried in order at each layer; the first that applies takes its layers. A layer no row takes is
// a step of its own (plan::LayerForward, plan::LayerBackward).
using ForwardPattern = std::unique_ptr<ForwardStep> (*)(Sequential&, size_t);
using BackwardPattern = std::unique_ptr<BackwardStep> (*)(Sequential&, size_t);

constexpr ForwardPattern kForwardPatterns[] = {
    plan::input_batchnorm_forward_step,  // input BN (keeps u; a copy of the batch per thread)
    plan::dense_batchnorm_forward_step,  // Dense, BN
    plan::dense_forward_step,            // Dense
    plan::batchnorm_forward_step,        // BN
};

// Matched at a step's last layer, walking from the output down.
constexpr BackwardPattern kBackwardPatterns[] = {
    plan::input_batchnorm_dense_backward_step,  // input BN, Dense: the shortcut
    plan::batchnorm_dense_backward_step,        // BN, Dense
    plan::dense_backward_step,                  // Dense
    plan::batchnorm_backward_step,              // BN
};

template <class Step, class Pattern, size_t n>
std::unique_ptr<Step> first_match(const Pattern (&patterns)[n], Sequential& model, size_t i) {
  for (Pattern p : patterns)
    if (std::unique_ptr<Step> step = p(model, i)) return step;
  return nullptr;
}

std::string describe(const char* name, size_t first, size_t last) {
  return first == last ? fmt::format("{}: layer {}", name, first) : fmt::format("{}: layers {}-{}", name, first, last);
}

}  // namespace

TrainingPlan::TrainingPlan(Sequential& model, PlanOptions options)
    : model_(model), state_(std::make_unique<plan::StepState>()) {
  if (!model.built()) throw std::logic_error("TrainingPlan of a model not built");
  const size_t L = model.layers().size();
  if (options.sync_batchnorm) {
    for (const auto& l : model.layers())
      if (const auto* bn = dynamic_cast<const BatchNormalization*>(l.get()); bn && bn->options().renorm)
        throw InputError(fmt::format("{}: Batch Renormalization cannot be synchronised across processes "
                                     "(use --bn-sync local)", bn->name));
    reducer_ = std::make_unique<plan::BatchNormReducer>(*options.sync_batchnorm);
    state_->reducer = reducer_.get();
  }
  for (size_t i = 0; i < L;) {
    std::unique_ptr<ForwardStep> step;
    if (options.fuse) step = first_match<ForwardStep>(kForwardPatterns, model, i);
    if (!step && reducer_) step = plan::batchnorm_forward_step(model, i);
    if (!step) step = std::make_unique<plan::LayerForward>(model, i);
    i = step->last + 1;
    forward_.push_back(std::move(step));
  }
  // Down to the first layer with parameters: nothing below it needs a gradient.
  for (size_t i = L; i-- > model.first_trainable();) {
    std::unique_ptr<BackwardStep> step;
    if (options.fuse) step = first_match<BackwardStep>(kBackwardPatterns, model, i);
    if (!step && reducer_) step = plan::batchnorm_backward_step(model, i);
    if (!step) step = std::make_unique<plan::LayerBackward>(model, i);
    i = step->first;
    backward_.push_back(std::move(step));
  }
  state_->out.resize(L);
  state_->out_copies.resize(L);
  state_->stats.resize(L);
}

TrainingPlan::~TrainingPlan() = default;

LossResult TrainingPlan::forward_backward(int N, const int32_t* labels, const BatchFillFn& fill, int64_t mean_over) {
  if (N == 0) return take_part_empty();
  batch_.resize(model_.input_shape().with_batch(N));
  int copies = 0;
  for (const auto& step : forward_) copies = std::max(copies, step->batch_copies(N));
  if (copies == 0) {
    fill(batch_.data(), 0);
    state_->x_copies = {};
    return run(batch_, labels, mean_over);
  }
  // The batch and one more copy per thread after the first, each written by its own thread
  // (core/parallel.h: for_each_copy writes them, own_copy reads them).
  if (static_cast<int>(batch_copies_.size()) < copies - 1) batch_copies_.resize(copies - 1);
  batch_copy_ptrs_.assign(1, batch_.data());
  for (int t = 1; t < copies; ++t) {
    batch_copies_[t - 1].resize(batch_.shape());
    batch_copy_ptrs_.push_back(batch_copies_[t - 1].data());
  }
  for_each_copy(copies, [&](int c) { fill(c == 0 ? batch_.data() : batch_copies_[c - 1].data(), c); });
  state_->x_copies = {batch_copy_ptrs_.data(), copies};
  return run(batch_, labels, mean_over);
}

LossResult TrainingPlan::forward_backward(const Tensor& x, const int32_t* labels) {
  state_->x_copies = {};
  return run(x, labels, 0);
}

LossResult TrainingPlan::run(const Tensor& x, const int32_t* labels, int64_t mean_over) {
  plan::StepState& s = *state_;
  const int N = static_cast<int>(x.dim(0));
  const int K = model_.num_classes();
  s.x = &x;
  std::fill(s.out_copies.begin(), s.out_copies.end(), ThreadCopies{});
  for (const auto& step : forward_) step->run(s);
  probs_.resize({N, K});
  dlogits_.resize({N, K});
  const LossResult r = softmax_cross_entropy_forward(probs_.data(), s.out.back().data(), labels, N, K);
  softmax_cross_entropy_backward(dlogits_.data(), probs_.data(), labels, N, K,
                                 1.0f / static_cast<float>(mean_over > 0 ? mean_over : N));
  // Gradients ping-pong between two buffers; a fused step keeps the ones inside its group.
  const Tensor* dy = &dlogits_;
  int next = 0;
  for (const auto& step : backward_) {
    Tensor* dx = step->first > model_.first_trainable() ? &grads_[next ^= 1] : nullptr;
    step->run(s, *dy, dx);
    if (!dx) break;
    dy = dx;
  }
  return r;
}

LossResult TrainingPlan::take_part_empty() {
  model_.zero_grad();
  if (!reducer_) return {};
  plan::StepState& s = *state_;
  for (const auto& step : forward_) step->take_part_empty(s);
  for (const auto& step : backward_) {
    const bool dx_needed = step->first > model_.first_trainable();
    step->take_part_empty(s, dx_needed);
    if (!dx_needed) break;
  }
  return {};
}

LossResult TrainingPlan::train_step(int N, const int32_t* labels, const BatchFillFn& fill) {
  if (!model_.optimizer()) throw std::logic_error("TrainingPlan::train_step before compile");
  const LossResult r = forward_backward(N, labels, fill);
  model_.optimizer()->step(model_.trainable());
  return r;
}

LossResult TrainingPlan::train_step(const Tensor& x, const int32_t* labels) {
  if (!model_.optimizer()) throw std::logic_error("TrainingPlan::train_step before compile");
  const LossResult r = forward_backward(x, labels);
  model_.optimizer()->step(model_.trainable());
  return r;
}

const Tensor& TrainingPlan::output(size_t layer) const { return state_->out[layer]; }
ThreadCopies TrainingPlan::output_copies(size_t layer) const { return state_->out_copies[layer]; }

std::vector<std::string> TrainingPlan::forward_steps() const {
  std::vector<std::string> out;
  for (const auto& s : forward_) out.push_back(describe(s->name, s->first, s->last));
  return out;
}

std::vector<std::string> TrainingPlan::backward_steps() const {
  std::vector<std::string> out;
  for (const auto& s : backward_) out.push_back(describe(s->name, s->first, s->last));
  return out;
}

double TrainingPlan::product_flops(int N) const {
  double flops = 0.0;
  for (const auto& s : forward_) flops += s->product_flops(N);
  for (const auto& s : backward_) flops += s->product_flops(N);
  return flops;
}

}  // namespace bnlab
