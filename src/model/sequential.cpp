#include "bnlab/model/sequential.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "bnlab/core/error.h"
#include "bnlab/core/rng.h"
#include "bnlab/dist/communicator.h"
#include "bnlab/model/fit.h"
#include "core/parallel.h"

namespace bnlab {

Sequential::Sequential(std::vector<std::unique_ptr<Layer>> layers) : layers_(std::move(layers)) {}

void Sequential::add(std::unique_ptr<Layer> layer) {
  if (built_) throw std::logic_error("Sequential::add after build");
  layers_.push_back(std::move(layer));
}

void Sequential::build(const Shape& input_shape, uint64_t seed) {
  if (layers_.empty()) throw InputError("model: no layers");
  input_shape_ = input_shape;
  output_shapes_.clear();
  std::map<std::string, int> used;
  for (auto& l : layers_)
    if (!l->name.empty()) used[l->name] = 1;
  Rng rng(seed);
  Shape shape = input_shape;
  int64_t params = 0;
  for (size_t i = 0; i < layers_.size(); ++i) {
    Layer& l = *layers_[i];
    if (l.name.empty()) {
      const std::string base = l.default_name();
      for (int k = 0;; ++k) {
        std::string candidate = k == 0 ? base : fmt::format("{}_{}", base, k);
        if (!used.count(candidate)) {
          l.name = candidate;
          used[candidate] = 1;
          break;
        }
      }
    }
    Rng layer_rng = rng.split(i);
    shape = l.build(shape, layer_rng);
    output_shapes_.push_back(shape);
    params += l.count_params(true) + l.count_params(false);
    if (params > kMaxParams) throw InputError(fmt::format("model: more than the limit of {} parameters", kMaxParams));
  }
  if (output_shape().rank() != 1) throw InputError("model: the output must be flat (N, classes), got " + output_shape().str());
  first_trainable_ = layers_.size();
  for (size_t i = 0; i < layers_.size(); ++i)
    if (layers_[i]->count_params(true) > 0) {
      first_trainable_ = i;
      break;
    }
  acts_.assign(layers_.size() + 1, Tensor());
  built_ = true;
  trainable_ = trainable_params();
  grad_sizes_.clear();
  for (const ParamRef& p : trainable_) grad_sizes_.push_back(p.grad->numel());
}

void Sequential::compile(std::unique_ptr<Optimizer> optimizer) {
  optimizer_ = std::move(optimizer);
  if (built_) optimizer_->init_state(trainable_params());
}

int Sequential::num_classes() const { return static_cast<int>(output_shape()[0]); }

void Sequential::check_labels(const Dataset& data) const {
  if (data.sample_shape != input_shape_.dims())
    throw InputError(fmt::format("{}: samples do not have the model's input shape {}", data.name, input_shape_.str()));
  const int K = num_classes();
  for (size_t i = 0; i < data.labels.size(); ++i)
    if (data.labels[i] < 0 || data.labels[i] >= K)
      throw InputError(fmt::format("{}: label {} at index {} is outside [0, {}) for a model with {} outputs",
                                   data.name, data.labels[i], i, K, K));
}

const Tensor& Sequential::forward(const Tensor& x, Mode mode) {
  const Tensor* in = &x;
  for (size_t i = 0; i < layers_.size(); ++i) {
    layers_[i]->forward(*in, acts_[i + 1], mode);
    in = &acts_[i + 1];
  }
  return *in;
}

const Tensor& Sequential::forward_logits(const Tensor& x, Mode mode) {
  const size_t L = layers_.size();
  const Tensor* in = &x;
  for (size_t i = 0; i < L; ++i) {
    Layer& l = *layers_[i];
    if (i + 1 == L && l.has_softmax_output())
      l.forward_logits(*in, acts_[i + 1], mode);
    else
      l.forward(*in, acts_[i + 1], mode);
    in = &acts_[i + 1];
  }
  return *in;
}

LossResult Sequential::forward_backward(const Tensor& x, const int32_t* labels) {
  const size_t L = layers_.size();
  const int N = static_cast<int>(x.dim(0));
  const int K = num_classes();
  const Tensor& logits = forward_logits(x, Mode::Train);
  probs_.resize({N, K});
  dlogits_.resize({N, K});
  const LossResult r = softmax_cross_entropy_forward(probs_.data(), logits.data(), labels, N, K);
  softmax_cross_entropy_backward(dlogits_.data(), probs_.data(), labels, N, K, 1.0f / N);
  const Tensor* dy = &dlogits_;
  for (size_t i = L; i-- > 0;) {
    Layer& l = *layers_[i];
    const Tensor& in = i == 0 ? x : acts_[i];
    Tensor* dx = i > first_trainable_ ? &grads_[i % 2] : nullptr;
    if (i + 1 == L && l.has_softmax_output())
      l.backward_logits(in, *dy, dx);
    else
      l.backward(in, acts_[i + 1], *dy, dx);
    if (!dx) break;
    dy = dx;
  }
  return r;
}

LossResult Sequential::train_step(const Tensor& x, const int32_t* labels) {
  if (!optimizer_) throw std::logic_error("Sequential::train_step before compile");
  zero_grad();
  const LossResult r = forward_backward(x, labels);
  optimizer_->step(trainable_);
  return r;
}

void Sequential::zero_grad() {
  if (!built_) return;
  // Every trainable parameter's gradient, in one parallel region (core/parallel.h).
  for_slices(grad_sizes_, [&](size_t i, int64_t begin, int64_t n) {
    std::fill_n(trainable_[i].grad->data() + begin, n, 0.0f);
  });
}

LossResult Sequential::eval_batch(const Tensor& x, const int32_t* labels) {
  const int N = static_cast<int>(x.dim(0));
  const int K = num_classes();
  const Tensor& logits = forward_logits(x, Mode::Eval);
  probs_.resize({N, K});
  return softmax_cross_entropy_forward(probs_.data(), logits.data(), labels, N, K);
}

History Sequential::fit(const Dataset& train, const FitOptions& options) { return bnlab::fit(*this, train, options); }

Metrics Sequential::evaluate(const Dataset& data, int batch_size, Communicator* ranks) {
  if (!built_) throw std::logic_error("Sequential::evaluate before build");
  if (batch_size <= 0) throw InputError(fmt::format("batch size must be positive, got {}", batch_size));
  check_labels(data);
  Metrics m;
  Tensor x(input_shape_.with_batch(batch_size));
  std::vector<int32_t> y(batch_size);
  double loss_sum = 0.0;
  int64_t correct = 0;
  const Shard shard = ranks ? shard_of(data.size(), ranks->rank(), ranks->size()) : Shard{0, data.size()};
  for (int64_t begin = shard.begin; begin < shard.end; begin += batch_size) {
    const int64_t bs = std::min<int64_t>(batch_size, shard.end - begin);
    x.resize_batch(bs);
    data.gather_range(x.data(), y.data(), begin, bs);
    const LossResult r = eval_batch(x, y.data());
    loss_sum += r.loss_sum;
    correct += r.correct;
  }
  if (ranks && ranks->size() > 1) {
    const double mine[2] = {loss_sum, static_cast<double>(correct)};
    std::vector<double> all(2 * ranks->size());
    ranks->allgather(mine, all.data(), 2);
    loss_sum = 0.0;
    correct = 0;
    for (int r = 0; r < ranks->size(); ++r) {
      loss_sum += all[2 * r];
      correct += static_cast<int64_t>(all[2 * r + 1]);
    }
  }
  m.samples = data.size();
  if (m.samples) {
    m.loss = loss_sum / m.samples;
    m.accuracy = double(correct) / m.samples;
  }
  return m;
}

Tensor Sequential::predict(const Dataset& data, const std::vector<int64_t>& indices) {
  if (!built_) throw std::logic_error("Sequential::predict before build");
  for (int64_t i : indices)
    if (i < 0 || i >= data.size())
      throw InputError(fmt::format("{}: index {} is outside [0, {})", data.name, i, data.size()));
  const int64_t n = static_cast<int64_t>(indices.size());
  Tensor x(input_shape_.with_batch(n));
  data.gather(x.data(), nullptr, indices.data(), n);
  return forward(x, Mode::Eval);
}

std::string Sequential::spec() const {
  std::string s;
  for (const auto& l : layers_) {
    if (!s.empty()) s += ',';
    s += l->spec();
  }
  return s;
}

std::vector<ParamRef> Sequential::trainable_params() {
  std::vector<ParamRef> out;
  for (auto& l : layers_)
    for (ParamRef& p : l->params())
      if (p.trainable) out.push_back(p);
  return out;
}

std::vector<StateEntry> Sequential::state_dict() {
  std::vector<StateEntry> out;
  int module = 0;
  for (auto& l : layers_) {
    for (ParamRef& p : l->params()) out.push_back({fmt::format("{}.{}", module, p.name), p.value, nullptr, p.trainable});
    for (Layer::CounterRef& c : l->counters()) out.push_back({fmt::format("{}.{}", module, c.name), nullptr, c.value, false});
    module += l->torch_modules();
  }
  return out;
}

int64_t Sequential::count_params(bool trainable) {
  int64_t n = 0;
  for (auto& l : layers_) n += l->count_params(trainable);
  return n;
}

}  // namespace bnlab
