#pragma once
// Pooling layers over images (N, C, H, W), or (N, H, W) taken as one channel (kernels/pooling.h).
// Keras' defaults: valid padding (windows wholly inside the image), stride = the pool size.
//   MaxPooling2D(pool)          y = the largest value of each window
//   AveragePooling2D(pool)      y = the mean of each window
//   GlobalAveragePooling2D      y[n, c] = the mean of x[n, c] over (H, W); output (N, C)
// No parameters. In PyTorch: nn.MaxPool2d(pool, stride), nn.AvgPool2d(pool, stride), and
// nn.AdaptiveAvgPool2d(1) followed by nn.Flatten() for the global pooling.
#include "bnlab/kernels/pooling.h"
#include "bnlab/layers/layer.h"

namespace bnlab {

struct Pool2DOptions {
  int pool_h = 2, pool_w = 2;
  int stride_h = 0, stride_w = 0;  // 0: the pool size
};

// What MaxPooling2D and AveragePooling2D share: the window, the stride and the shapes.
class Pooling2D : public Layer {
 public:
  Pooling2D(const char* token, const Pool2DOptions& options);
  std::string spec() const override;
  Shape build(const Shape& in, Rng& rng) override;
  // The output shape (C, HO, WO), or (HO, WO) for (H, W) input; InputError when the window does
  // not fit.
  Shape output_shape(const Shape& in) const;
  const Pool2DOptions& options() const { return options_; }

 protected:
  Pool2DGeometry geometry(const Tensor& x) const;  // for a batch x
  Shape output_of(const Tensor& x) const { return out_.with_batch(x.dim(0)); }

 private:
  const char* token_;  // the spec's name, "maxpool" or "avgpool"
  Pool2DOptions options_;
  Pool2DGeometry geometry_;  // of one sample
  Shape out_;
};

class MaxPooling2D : public Pooling2D {
 public:
  explicit MaxPooling2D(const Pool2DOptions& options) : Pooling2D("maxpool", options) {}
  std::string type_name() const override { return "MaxPooling2D"; }
  std::string default_name() const override { return "max_pooling2d"; }
  void forward(const Tensor& x, Tensor& y, Mode mode) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) override;
};

class AveragePooling2D : public Pooling2D {
 public:
  explicit AveragePooling2D(const Pool2DOptions& options) : Pooling2D("avgpool", options) {}
  std::string type_name() const override { return "AveragePooling2D"; }
  std::string default_name() const override { return "average_pooling2d"; }
  void forward(const Tensor& x, Tensor& y, Mode mode) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) override;
};

class GlobalAveragePooling2D : public Layer {
 public:
  std::string type_name() const override { return "GlobalAveragePooling2D"; }
  std::string spec() const override { return "gap"; }
  std::string default_name() const override { return "global_average_pooling2d"; }
  Shape build(const Shape& in, Rng& rng) override;
  void forward(const Tensor& x, Tensor& y, Mode mode) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx) override;
  int torch_modules() const override { return 2; }  // nn.AdaptiveAvgPool2d(1), nn.Flatten()

 private:
  int64_t channels_ = 0, pixels_ = 0;
};

}  // namespace bnlab
