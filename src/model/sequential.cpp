#include "bnlab/model/sequential.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "bnlab/core/error.h"
#include "bnlab/core/rng.h"
#include "bnlab/kernels/batchnorm_dense.h"
#include "bnlab/layers/basic.h"
#include "bnlab/layers/batchnorm.h"
#include "bnlab/layers/dense.h"
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
  // forward_backward sets the gradients: no zeroing pass per step, and the weight-gradient
  // products write their results without reading the old ones.
  for (auto& l : layers_) l->set_accumulate_grads(false);
  built_ = true;
  trainable_ = trainable_params();
  grad_sizes_.clear();
  for (const ParamRef& p : trainable_) grad_sizes_.push_back(p.grad->numel());
  set_fused_input_batchnorm(true);
}

void Sequential::set_fused_input_batchnorm(bool on) {
  if (!built_) throw std::logic_error("Sequential::set_fused_input_batchnorm before build");
  const size_t i = first_trainable_;
  auto* bn = i + 1 < layers_.size() ? dynamic_cast<BatchNormalization*>(layers_[i].get()) : nullptr;
  auto* dense = bn ? dynamic_cast<Dense*>(layers_[i + 1].get()) : nullptr;
  fused_input_bn_ = on && dense != nullptr;
  if (bn) bn->set_keep_normalized(fused_input_bn_);
  if (fused_input_bn_) {
    const int C = static_cast<int>(output_shapes_[i][0]), K = dense->units();
    fused_h_ = Tensor({K, C});
    fused_s_ = Tensor({K});
    fused_partials_ = Tensor({batchnorm_dense_partials(C, K)});
  } else {
    fused_h_ = Tensor();
    fused_s_ = Tensor();
    fused_partials_ = Tensor();
  }
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

// The BatchNormalization right after Dense layer i whose training forward runs inside the Dense
// layer's parallel region, block by block (kernels/dense.h's ColumnBlockFn); null when there is none.
// Not the model's last layer (that one goes through forward_logits).
BatchNormalization* Sequential::bn_after_dense(size_t i) const {
  if (!fused_bn_columns_ || i + 2 >= layers_.size()) return nullptr;
  const auto* dense = dynamic_cast<const Dense*>(layers_[i].get());
  auto* bn = dynamic_cast<BatchNormalization*>(layers_[i + 1].get());
  if (!dense || !bn || dense->activation() == Activation::Softmax || !bn->columnwise()) return nullptr;
  return bn;
}

// The BatchNormalization right before Dense layer i whose training backward runs inside the Dense
// layer's input-gradient region, block by block; null when there is none, or when nothing before
// the BN needs a gradient.
BatchNormalization* Sequential::bn_before_dense(size_t i) const {
  if (!fused_bn_columns_ || i < 1 || i - 1 <= first_trainable_ || !dynamic_cast<const Dense*>(layers_[i].get()))
    return nullptr;
  auto* bn = dynamic_cast<BatchNormalization*>(layers_[i - 1].get());
  return bn && bn->columnwise() ? bn : nullptr;
}

// How many threads gather the whole batch, each for itself, at the start of a training step: the
// threads of the Dense layer's region after the fused input BatchNorm (plain BN), when that Dense
// layer is not the last, its activation is elementwise, and only Flatten layers come before the BN
// (so the BN's input is the batch itself). 0 when the batch is gathered once. (For a Dense layer
// first, without the BN, copies of the batch measured 2% slower: docs/performance.md.)
int Sequential::input_copies(int N) const {
  const size_t i = first_trainable_;
  if (!fused_input_bn_ || i + 2 >= layers_.size()) return 0;
  for (size_t k = 0; k < i; ++k)
    if (!dynamic_cast<const Flatten*>(layers_[k].get())) return 0;
  const auto& dense = static_cast<const Dense&>(*layers_[i + 1]);
  if (dense.activation() == Activation::Softmax) return 0;
  if (static_cast<const BatchNormalization&>(*layers_[i]).options().renorm) return 0;
  const int threads = column_block_threads(2LL * N * output_shapes_[i][0] * dense.units());
  return threads > 1 ? threads : 0;
}

// batch_x_ and one more copy of the batch per thread after the first, each written by its own
// thread with fill (core/parallel.h: for_each_copy writes them, own_copy reads them).
ThreadCopies Sequential::gather_copies(int copies, const BatchFillFn& fill) {
  if (static_cast<int>(batch_copies_.size()) < copies - 1) batch_copies_.resize(copies - 1);
  batch_copy_ptrs_.assign(1, batch_x_.data());
  for (int t = 1; t < copies; ++t) {
    batch_copies_[t - 1].resize(batch_x_.shape());
    batch_copy_ptrs_.push_back(batch_copies_[t - 1].data());
  }
  for_each_copy(copies, [&](int c) { fill(c == 0 ? batch_x_.data() : batch_copies_[c - 1].data(), c); });
  return {batch_copy_ptrs_.data(), copies};
}

const Tensor& Sequential::forward_to_logits(const Tensor& x, Mode mode, const BatchFillFn& fill) {
  const size_t L = layers_.size();
  const Tensor* in = &x;
  // Copies of *in, one per thread: of the batch up to the first trainable layer, then of the input
  // BatchNorm's output.
  ThreadCopies in_copies;
  if (fill) {
    const int copies = mode == Mode::Train ? input_copies(static_cast<int>(x.dim(0))) : 0;
    if (copies)
      in_copies = gather_copies(copies, fill);
    else
      fill(batch_x_.data(), 0);
  }
  for (size_t i = 0; i + 1 < L; ++i) {
    if (i < first_trainable_) {  // no parameters (with copies of the batch: Flatten, views of them)
      layers_[i]->forward(*in, acts_[i + 1], mode);
      in = &acts_[i + 1];
      continue;
    }
    if (in_copies.count && fused_input_bn_ && i == first_trainable_) {
      // Each thread normalises its own copy of the whole batch.
      auto& bn = static_cast<BatchNormalization&>(*layers_[i]);
      bn.forward_train_copies(*in, acts_[i + 1], in_copies.count, in_copies);
      in_copies = bn.output_copies();
      in = &acts_[i + 1];
      continue;
    }
    if (BatchNormalization* bn = mode == Mode::Train ? bn_after_dense(i) : nullptr) {
      // Dense i, and the BN after it on each block of columns the Dense layer's threads produce.
      Tensor& a = acts_[i + 1];
      Tensor& y = acts_[i + 2];
      a.resize(output_shapes_[i].with_batch(in->dim(0)));  // the BN sizes its output from it
      bn->begin_forward_train(a, y);
      static_cast<Dense&>(*layers_[i]).forward_then(
          *in, a, mode, [&](int c0, int w) { bn->forward_train_columns(a, y, c0, w); }, in_copies);
      bn->end_forward_train(a);
      in = &acts_[i + 2];
      in_copies = {};
      ++i;
      continue;
    }
    if (in_copies.count)
      static_cast<Dense&>(*layers_[i]).forward_then(*in, acts_[i + 1], mode, {}, in_copies);
    else
      layers_[i]->forward(*in, acts_[i + 1], mode);
    in = &acts_[i + 1];
    in_copies = {};
  }
  Layer& last = *layers_[L - 1];
  if (last.has_softmax_output())
    last.forward_logits(*in, acts_[L], mode);
  else
    last.forward(*in, acts_[L], mode);
  return acts_[L];
}

const Tensor& Sequential::forward(const Tensor& x, Mode mode) {
  const Tensor* in = &x;
  for (size_t i = 0; i < layers_.size(); ++i) {
    layers_[i]->forward(*in, acts_[i + 1], mode);
    in = &acts_[i + 1];
  }
  return *in;
}

LossResult Sequential::forward_backward(int N, const int32_t* labels, const BatchFillFn& fill) {
  batch_x_.resize(input_shape_.with_batch(N));
  return forward_backward(batch_x_, labels, fill);
}

LossResult Sequential::forward_backward(const Tensor& x, const int32_t* labels) { return forward_backward(x, labels, {}); }

LossResult Sequential::forward_backward(const Tensor& x, const int32_t* labels, const BatchFillFn& fill) {
  const size_t L = layers_.size();
  const int N = static_cast<int>(x.dim(0));
  const int K = num_classes();
  const Tensor& logits = forward_to_logits(x, Mode::Train, fill);
  probs_.resize({N, K});
  dlogits_.resize({N, K});
  const LossResult r = softmax_cross_entropy_forward(probs_.data(), logits.data(), labels, N, K);
  softmax_cross_entropy_backward(dlogits_.data(), probs_.data(), labels, N, K, 1.0f / N);

  // Walk back; gradients ping-pong between two buffers (a third for a BN fused into the Dense layer
  // after it). No dx at or before first_trainable_.
  const Tensor* dy = &dlogits_;
  Tensor* bufs[2] = {&grad_a_, &grad_b_};
  for (size_t i = L; i-- > 0;) {
    const bool logits = i == L - 1 && layers_[i]->has_softmax_output();
    if (fused_input_bn_ && i == first_trainable_ + 1) {
      // Dense i and the BatchNorm before it, without the Dense layer's input gradient.
      auto& dense = static_cast<Dense&>(*layers_[i]);
      auto& bn = static_cast<BatchNormalization&>(*layers_[i - 1]);
      const bool scale = bn.options().scale, center = bn.options().center;
      // dz through the activation inside the kernel, unless it is the softmax (row-wise) or none
      const bool elementwise = !logits && dense.activation() != Activation::Softmax;
      const Tensor& dz = logits ? *dy : elementwise ? dense.dz_buffer(N) : dense.backward_activation(acts_[i + 1], *dy);
      batchnorm_dense_backward(fused_h_.data(), fused_s_.data(), fused_partials_.data(), dense.weight_grad.data(),
                               dense.use_bias() ? dense.bias_grad.data() : nullptr,
                               scale ? bn.weight_grad.data() : nullptr, center ? bn.bias_grad.data() : nullptr,
                               const_cast<float*>(dz.data()), elementwise ? dy->data() : nullptr,
                               elementwise ? acts_[i + 1].data() : nullptr, dense.activation(), bn.normalized().data(),
                               dense.weight.data(), scale ? bn.weight.data() : nullptr,
                               center ? bn.bias.data() : nullptr, N, static_cast<int>(fused_h_.dim(1)), dense.units(),
                               dense.accumulates_grads(), bn.normalized_copies());
      break;
    }
    const Tensor& in = i == 0 ? x : acts_[i];
    Tensor* dx = i > first_trainable_ ? bufs[i % 2] : nullptr;
    if (BatchNormalization* bn = bn_before_dense(i)) {
      // Dense i, and the BN before it on each block of columns of the Dense layer's dx.
      auto& dense = static_cast<Dense&>(*layers_[i]);
      const Tensor& bn_in = acts_[i - 1];
      // Neither dy (still to be read when the BN's dx is sized) nor the Dense layer's dx.
      Tensor& bn_dx = dy != &grad_c_ ? grad_c_ : *bufs[(i + 1) % 2];
      bn->begin_backward_train(bn_in, bn_dx);
      const auto bn_backward = [&](int c0, int w) { bn->backward_train_columns(bn_in, *dx, bn_dx, c0, w); };
      if (logits)
        dense.backward_logits_then(in, *dy, dx, bn_backward);
      else
        dense.backward_then(in, acts_[i + 1], *dy, dx, bn_backward);
      dy = &bn_dx;
      --i;  // the BN is done
      continue;
    }
    if (logits)
      layers_[i]->backward_logits(in, *dy, dx);
    else
      layers_[i]->backward(in, acts_[i + 1], *dy, dx);
    if (!dx) break;
    dy = dx;
  }
  return r;
}

LossResult Sequential::train_step(const Tensor& x, const int32_t* labels, TrainingCallback* callback, int64_t step) {
  if (!optimizer_) throw std::logic_error("Sequential::train_step before compile");
  const LossResult r = forward_backward(x, labels);
  if (callback) callback->on_gradients(*this, step);
  optimizer_->step(trainable_);
  return r;
}

LossResult Sequential::train_step(int N, const int32_t* labels, const BatchFillFn& fill) {
  if (!optimizer_) throw std::logic_error("Sequential::train_step before compile");
  const LossResult r = forward_backward(N, labels, fill);
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
  const Tensor& logits = forward_to_logits(x, Mode::Eval);
  probs_.resize({N, K});
  return softmax_cross_entropy_forward(probs_.data(), logits.data(), labels, N, K);
}

Metrics Sequential::evaluate(const Dataset& data, int batch_size) {
  if (!built_) throw std::logic_error("Sequential::evaluate before build");
  if (batch_size <= 0) throw InputError(fmt::format("batch size must be positive, got {}", batch_size));
  check_labels(data);
  Metrics m;
  Tensor x(input_shape_.with_batch(batch_size));
  std::vector<int32_t> y(batch_size);
  double loss_sum = 0.0;
  int64_t correct = 0;
  for (int64_t begin = 0; begin < data.size(); begin += batch_size) {
    const int64_t bs = std::min<int64_t>(batch_size, data.size() - begin);
    x.resize_batch(bs);
    data.gather_range(x.data(), y.data(), begin, bs);
    const LossResult r = eval_batch(x, y.data());
    loss_sum += r.loss_sum;
    correct += r.correct;
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
