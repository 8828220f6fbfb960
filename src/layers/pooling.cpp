#include "bnlab/layers/pooling.h"

#include <fmt/format.h>

#include "bnlab/core/error.h"

namespace bnlab {
namespace {

std::string pair_text(int a, int b) { return a == b ? std::to_string(a) : fmt::format("{}x{}", a, b); }

void check_image(const char* what, const Shape& in) {
  if (in.rank() != 2 && in.rank() != 3)
    throw InputError(fmt::format("{} needs image input (C, H, W) or (H, W), got shape {}", what, in.str()));
}

}  // namespace

Pooling2D::Pooling2D(const char* token, const Pool2DOptions& o) : token_(token), options_(o) {
  if (options_.stride_h == 0) options_.stride_h = options_.pool_h;
  if (options_.stride_w == 0) options_.stride_w = options_.pool_w;
  if (o.pool_h <= 0 || o.pool_w <= 0)
    throw InputError(fmt::format("{}: pool size must be positive, got {}", token, pair_text(o.pool_h, o.pool_w)));
  if (options_.stride_h <= 0 || options_.stride_w <= 0)
    throw InputError(fmt::format("{}: stride must be positive, got {}", token,
                                 pair_text(options_.stride_h, options_.stride_w)));
}

std::string Pooling2D::spec() const {
  const Pool2DOptions& o = options_;
  std::string s = fmt::format("{}:{}", token_, pair_text(o.pool_h, o.pool_w));
  if (o.stride_h != o.pool_h || o.stride_w != o.pool_w) s += ":stride=" + pair_text(o.stride_h, o.stride_w);
  return s;
}

Shape Pooling2D::output_shape(const Shape& in) const {
  check_image(token_, in);
  const int64_t H = in[in.rank() - 2], W = in[in.rank() - 1];
  if (H < options_.pool_h || W < options_.pool_w)
    throw InputError(fmt::format("{}: a {} window does not fit in input of shape {}", token_,
                                 pair_text(options_.pool_h, options_.pool_w), in.str()));
  const int64_t HO = (H - options_.pool_h) / options_.stride_h + 1, WO = (W - options_.pool_w) / options_.stride_w + 1;
  return in.rank() == 3 ? Shape{in[0], HO, WO} : Shape{HO, WO};
}

Shape Pooling2D::build(const Shape& in, Rng&) {
  out_ = output_shape(in);
  Pool2DGeometry& g = geometry_;
  g.planes = in.rank() == 3 ? in[0] : 1;
  g.H = static_cast<int>(in[in.rank() - 2]);
  g.W = static_cast<int>(in[in.rank() - 1]);
  g.PH = options_.pool_h;
  g.PW = options_.pool_w;
  g.SH = options_.stride_h;
  g.SW = options_.stride_w;
  g.HO = static_cast<int>(out_[out_.rank() - 2]);
  g.WO = static_cast<int>(out_[out_.rank() - 1]);
  return out_;
}

Pool2DGeometry Pooling2D::geometry(const Tensor& x) const {
  Pool2DGeometry g = geometry_;
  g.planes *= x.dim(0);
  return g;
}

void MaxPooling2D::forward(const Tensor& x, Tensor& y, Mode mode) {
  last_mode_ = mode;
  y.resize(output_of(x));
  maxpool2d_forward(y.data(), x.data(), geometry(x));
}

void MaxPooling2D::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx) {
  if (!dx) return;
  dx->resize(x.shape());
  maxpool2d_backward(dx->data(), dy.data(), x.data(), geometry(x));
}

void AveragePooling2D::forward(const Tensor& x, Tensor& y, Mode mode) {
  last_mode_ = mode;
  y.resize(output_of(x));
  avgpool2d_forward(y.data(), x.data(), geometry(x));
}

void AveragePooling2D::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx) {
  if (!dx) return;
  dx->resize(x.shape());
  avgpool2d_backward(dx->data(), dy.data(), geometry(x));
}

Shape GlobalAveragePooling2D::build(const Shape& in, Rng&) {
  check_image("gap", in);
  channels_ = in.rank() == 3 ? in[0] : 1;
  pixels_ = in[in.rank() - 2] * in[in.rank() - 1];
  return Shape{channels_};
}

void GlobalAveragePooling2D::forward(const Tensor& x, Tensor& y, Mode mode) {
  last_mode_ = mode;
  y.resize({x.dim(0), channels_});
  global_avgpool_forward(y.data(), x.data(), x.dim(0) * channels_, pixels_);
}

void GlobalAveragePooling2D::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx) {
  if (!dx) return;
  dx->resize(x.shape());
  global_avgpool_backward(dx->data(), dy.data(), x.dim(0) * channels_, pixels_);
}

}  // namespace bnlab
