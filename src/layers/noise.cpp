#include "bnlab/layers/noise.h"

#include <fmt/format.h>


#include "bnlab/core/error.h"

namespace bnlab {

ShiftScaleNoise::ShiftScaleNoise(ShiftScaleNoiseOptions options) : options_(options) {
  if (!(options.shift >= 0.0f && options.shift < 1e6f))
    throw InputError(fmt::format("noise: shift must be in [0, 1e6), got {}", options.shift));
  if (!(options.scale >= 1.0f && options.scale < 1e6f))
    throw InputError(fmt::format("noise: scale must be in [1, 1e6), got {}", options.scale));
}

std::string ShiftScaleNoise::spec() const { return fmt::format("noise:shift={}:scale={}", options_.shift, options_.scale); }

Shape ShiftScaleNoise::build(const Shape& in, Rng& rng) {
  if (in.rank() != 1) throw InputError(fmt::format("noise: needs (N, C) inputs, got {} dimensions per sample", in.rank()));
  rng_ = rng.split(0x5C4E);
  return in;
}

void ShiftScaleNoise::forward(const Tensor& x, Tensor& y, Mode mode) {
  last_mode_ = mode;
  y.resize(x.shape());
  if (mode == Mode::Eval) {
    const float a = mean_scale(), b = options_.shift;
    for (int64_t i = 0; i < x.numel(); ++i) y[i] = a * x[i] + b;
    return;
  }
  const int64_t N = x.dim(0), C = x.dim(1);
  scale_.resize(Shape{C});
  shift_.resize(Shape{C});
  for (int64_t j = 0; j < C; ++j) {
    scale_[j] = static_cast<float>(1.0 + (options_.scale - 1.0) * rng_.uniform());
    shift_[j] = static_cast<float>(2.0 * options_.shift * rng_.uniform());
  }
  // x, y: (N, C)
  for (int64_t n = 0; n < N; ++n)
    for (int64_t j = 0; j < C; ++j) y[n * C + j] = scale_[j] * x[n * C + j] + shift_[j];
}

void ShiftScaleNoise::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx) {
  if (!dx) return;
  dx->resize(x.shape());
  if (last_mode_ == Mode::Eval) {
    for (int64_t i = 0; i < dy.numel(); ++i) (*dx)[i] = mean_scale() * dy[i];
    return;
  }
  const int64_t N = x.dim(0), C = x.dim(1);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t j = 0; j < C; ++j) (*dx)[n * C + j] = scale_[j] * dy[n * C + j];
}

}  // namespace bnlab
