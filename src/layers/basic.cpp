#include "bnlab/layers/basic.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "bnlab/core/error.h"
#include "core/parallel.h"

namespace bnlab {

Shape Flatten::build(const Shape& in, Rng&) {
  in_ = in;
  return Shape{in.numel()};
}

void Flatten::forward(const Tensor& x, Tensor& y, Mode mode) {
  last_mode_ = mode;
  y = Tensor::view(x.data(), {x.dim(0), in_.numel()});  // the same floats: no copy
}

void Flatten::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx) {
  if (!dx) return;
  dx->resize(x.shape());
  std::memcpy(dx->data(), dy.data(), dy.numel() * sizeof(float));
}

ActivationLayer::ActivationLayer(Activation activation) : activation_(activation) {
  if (activation == Activation::Linear) throw InputError("activation layer: 'linear' does nothing");
}

std::string ActivationLayer::type_name() const {
  switch (activation_) {
    case Activation::ReLU: return "ReLU";
    case Activation::Softmax: return "Softmax";
    default: return "Activation";
  }
}

Shape ActivationLayer::build(const Shape& in, Rng&) {
  if (activation_ == Activation::Softmax && in.rank() != 1)
    throw InputError("softmax needs flat (N, K) input, got shape " + in.str());
  return in;
}

void ActivationLayer::forward(const Tensor& x, Tensor& y, Mode mode) {
  last_mode_ = mode;
  y.resize(x.shape());
  if (activation_ == Activation::Softmax)
    softmax_forward(y.data(), x.data(), static_cast<int>(x.dim(0)), static_cast<int>(x.dim(1)));
  else  // each element alone, so the slices a thread count gives change no bits
    for_slices({x.numel()}, [&](size_t, int64_t begin, int64_t n) {
      activation_forward(y.data() + begin, x.data() + begin, n, activation_);
    });
}

void ActivationLayer::backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) {
  if (!dx) return;
  dx->resize(x.shape());
  if (activation_ == Activation::Softmax)
    softmax_backward(dx->data(), dy.data(), y.data(), static_cast<int>(x.dim(0)), static_cast<int>(x.dim(1)));
  else
    for_slices({x.numel()}, [&](size_t, int64_t begin, int64_t n) {
      activation_backward(dx->data() + begin, dy.data() + begin, y.data() + begin, n, activation_);
    });
}

void ActivationLayer::forward_logits(const Tensor& x, Tensor& z, Mode mode) {
  last_mode_ = mode;
  z = x;
}

void ActivationLayer::backward_logits(const Tensor&, const Tensor& dz, Tensor* dx) {
  if (dx) *dx = dz;
}

Dropout::Dropout(float rate) : rate_(rate) {
  if (!(rate >= 0.0f && rate < 1.0f)) throw InputError(fmt::format("dropout: rate must be in [0, 1), got {}", rate));
}

std::string Dropout::spec() const { return fmt::format("dropout:{}", rate_); }

Shape Dropout::build(const Shape& in, Rng& rng) {
  rng_ = rng.split(0xD50);
  return in;
}

void Dropout::forward(const Tensor& x, Tensor& y, Mode mode) {
  last_mode_ = mode;
  y.resize(x.shape());
  if (mode == Mode::Eval || rate_ == 0.0f) {
    std::memcpy(y.data(), x.data(), x.numel() * sizeof(float));
    return;
  }
  mask_.resize(x.shape());
  const float keep_scale = 1.0f / (1.0f - rate_);
  for (int64_t i = 0; i < x.numel(); ++i) mask_[i] = rng_.uniform() >= rate_ ? keep_scale : 0.0f;
  for (int64_t i = 0; i < x.numel(); ++i) y[i] = x[i] * mask_[i];
}

void Dropout::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx) {
  if (!dx) return;
  dx->resize(x.shape());
  const bool identity = last_mode_ == Mode::Eval || rate_ == 0.0f;
  for (int64_t i = 0; i < x.numel(); ++i) (*dx)[i] = identity ? dy[i] : dy[i] * mask_[i];
}

}  // namespace bnlab
