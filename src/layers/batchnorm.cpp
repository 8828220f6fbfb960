#include "bnlab/layers/batchnorm.h"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

#include "bnlab/core/error.h"
#include "bnlab/kernels/batchnorm.h"
#include "bnlab/kernels/batchnorm2d.h"
#include "layers/affine.h"

namespace bnlab {

BatchNormalization::BatchNormalization(BatchNormOptions options) : options_(options) {
  if (!(options_.eps > 0.0f)) throw InputError(fmt::format("bn: eps must be positive, got {}", options_.eps));
  if (options_.momentum && !(*options_.momentum >= 0.0 && *options_.momentum <= 1.0))
    throw InputError(fmt::format("bn: momentum must be in [0, 1], got {}", *options_.momentum));
  if (!options_.momentum && options_.convention == BnConvention::Keras)
    throw InputError("bn: the keras convention needs a momentum (the cumulative average is torch's)");
  if (!(options_.rmax >= 1.0f)) throw InputError(fmt::format("bn: rmax must be at least 1, got {}", options_.rmax));
  if (!(options_.dmax >= 0.0f)) throw InputError(fmt::format("bn: dmax must be non-negative, got {}", options_.dmax));
}

std::string BatchNormalization::spec() const {
  const BatchNormOptions defaults =
      options_.convention == BnConvention::Keras ? BatchNormOptions::keras() : BatchNormOptions::torch();
  std::string s = "bn";
  if (options_.convention == BnConvention::Torch) s += ":torch";
  if (options_.momentum != defaults.momentum)
    s += options_.momentum ? fmt::format(":momentum={}", *options_.momentum) : ":momentum=none";
  if (options_.renorm) s += ":renorm";
  if (options_.renorm && options_.rmax != defaults.rmax) s += fmt::format(":rmax={}", options_.rmax);
  if (options_.renorm && options_.dmax != defaults.dmax) s += fmt::format(":dmax={}", options_.dmax);
  if (options_.eps != defaults.eps) s += fmt::format(":eps={}", options_.eps);
  if (!options_.center) s += ":center=0";
  if (!options_.scale) s += ":scale=0";
  return s;
}

Shape BatchNormalization::build(const Shape& in, Rng&) {
  if (in.rank() != 1 && in.rank() != 3)
    throw InputError("bn needs flat (N, C) or image (N, C, H, W) input, got shape " + in.str());
  C_ = static_cast<int>(in[0]);
  HW_ = in.rank() == 3 ? static_cast<int>(in[1] * in[2]) : 1;
  build_affine(C_, options_.scale, options_.center, weight, weight_grad, bias, bias_grad);
  running_mean = Tensor({C_});
  running_var = Tensor({C_});
  running_var.fill(1.0f);
  for (std::vector<double>* v : {&mean_, &var_, &sum_, &sumsq_}) v->assign(C_, 0.0);
  for (Tensor* t : {&invstd_, &renorm_r_, &renorm_d_, &scale_, &shift_, &pivot_}) *t = Tensor({C_});
  return in;
}

void BatchNormalization::check_training_batch(int N) const {
  if (static_cast<int64_t>(N) * HW_ < 2)
    throw InputError(fmt::format(
        "{}: training needs more than 1 value per feature, got a batch of {} (use a larger batch)", name, N));
}

void BatchNormalization::forward(const Tensor& x, Tensor& y, Mode mode) {
  last_mode_ = mode;
  const int N = static_cast<int>(x.dim(0));
  y.resize(x.shape());
  const float* gamma = options_.scale ? weight.data() : nullptr;
  const float* beta = options_.center ? bias.data() : nullptr;
  if (mode == Mode::Eval) {
    batchnorm_fold(scale_.data(), shift_.data(), running_mean.data(), running_var.data(), gamma, beta,
                   C_, options_.eps);
    if (x.shape().rank() == 4)
      batchnorm2d_forward_eval(y.data(), x.data(), scale_.data(), shift_.data(), N, C_, HW_);
    else
      batchnorm_forward_eval(y.data(), x.data(), scale_.data(), shift_.data(), N, C_);
    return;
  }
  check_training_batch(N);
  if (x.shape().rank() == 4) {
    forward_images(x, y, gamma, beta);
    return;
  }
  if (options_.renorm)
    batchnorm_renorm_forward_train(y.data(), nullptr, mean_.data(), invstd_.data(), var_.data(), renorm_r_.data(),
                                   renorm_d_.data(), x.data(), gamma, beta, running_mean.data(),
                                   running_var.data(), options_.rmax, options_.dmax, N, C_, options_.eps);
  else
    batchnorm_forward_train(y.data(), nullptr, mean_.data(), invstd_.data(), var_.data(), x.data(), gamma, beta, N,
                            C_, options_.eps);
  update_moving_statistics(mean_.data(), var_.data(), N);
}

// (N, C, H, W): the two phases of kernels/batchnorm2d.h, the sums shifted by each channel's first value.
void BatchNormalization::forward_images(const Tensor& x, Tensor& y, const float* gamma, const float* beta) {
  const int N = static_cast<int>(x.dim(0));
  const int64_t count = static_cast<int64_t>(N) * HW_;
  for (int c = 0; c < C_; ++c) pivot_[c] = x[static_cast<int64_t>(c) * HW_];
  batchnorm2d_sums(sum_.data(), sumsq_.data(), pivot_.data(), x.data(), N, C_, HW_);
  batchnorm2d_moments(mean_.data(), var_.data(), sum_.data(), sumsq_.data(), pivot_.data(), count, C_);
  const float* r = nullptr;
  const float* d = nullptr;
  if (options_.renorm) {
    batchnorm2d_renorm_corrections(renorm_r_.data(), renorm_d_.data(), mean_.data(), var_.data(), running_mean.data(),
                                   running_var.data(), options_.rmax, options_.dmax, C_, options_.eps);
    r = renorm_r_.data();
    d = renorm_d_.data();
  }
  batchnorm2d_normalise(y.data(), invstd_.data(), x.data(), mean_.data(), var_.data(), r, d, gamma, beta, N, C_, HW_,
                        options_.eps);
  update_moving_statistics(mean_.data(), var_.data(), count);
}

void BatchNormalization::backward_images(const Tensor& x, const Tensor& dy, Tensor* dx, float* dgamma, float* dbeta) {
  const int N = static_cast<int>(x.dim(0));
  const float* r = options_.renorm ? renorm_r_.data() : nullptr;
  const float* d = options_.renorm ? renorm_d_.data() : nullptr;
  // sum_ and sumsq_ now hold sum(dy) and sum(dy * (x - mean)).
  batchnorm2d_backward_sums(sum_.data(), sumsq_.data(), dy.data(), x.data(), mean_.data(), N, C_, HW_);
  batchnorm2d_param_grads(dgamma, dbeta, sum_.data(), sumsq_.data(), invstd_.data(), r, d, C_);
  if (dx)
    batchnorm2d_backward_input(dx->data(), dy.data(), x.data(), mean_.data(), invstd_.data(), r,
                               options_.scale ? weight.data() : nullptr, sum_.data(), sumsq_.data(),
                               static_cast<int64_t>(N) * HW_, N, C_, HW_);
}

void BatchNormalization::update_moving_statistics(const double* mean, const double* var, int64_t count) {
  ++num_batches_tracked;
  if (options_.convention == BnConvention::Keras) {
    // moving = moving * momentum + batch * (1 - momentum), biased variance
    const float m = static_cast<float>(*options_.momentum), one_m = 1.0f - m;
    for (int c = 0; c < C_; ++c) {
      running_mean[c] = running_mean[c] * m + static_cast<float>(mean[c]) * one_m;
      running_var[c] = running_var[c] * m + static_cast<float>(var[c]) * one_m;
    }
    return;
  }
  // running = running * (1 - momentum) + batch * momentum, unbiased variance
  const double m = options_.momentum ? *options_.momentum : 1.0 / num_batches_tracked;
  const double unbias = static_cast<double>(count) / (count - 1);
  for (int c = 0; c < C_; ++c) {
    running_mean[c] = static_cast<float>((1.0 - m) * running_mean[c] + m * mean[c]);
    running_var[c] = static_cast<float>((1.0 - m) * running_var[c] + m * (var[c] * unbias));
  }
}

double BatchNormalization::moving_start_share(int64_t updates) const {
  if (!options_.momentum) return updates > 0 ? 0.0 : 1.0;
  const double keep = options_.convention == BnConvention::Keras ? *options_.momentum : 1.0 - *options_.momentum;
  return std::pow(keep, static_cast<double>(updates));
}

void BatchNormalization::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx) {
  const int N = static_cast<int>(x.dim(0));
  if (dx) dx->resize(x.shape());
  float* dgamma = options_.scale ? weight_grad.data() : nullptr;
  float* dbeta = options_.center ? bias_grad.data() : nullptr;
  if (last_mode_ == Mode::Eval && x.shape().rank() == 4) {
    batchnorm2d_backward_eval(dx ? dx->data() : nullptr, dgamma, dbeta, dy.data(), x.data(), running_mean.data(),
                              running_var.data(), scale_.data(), N, C_, HW_, options_.eps);
    return;
  }
  if (last_mode_ == Mode::Eval) {
    batchnorm_backward_eval(dx ? dx->data() : nullptr, dgamma, dbeta, dy.data(), x.data(),
                            running_mean.data(), running_var.data(), scale_.data(), N, C_, options_.eps);
    return;
  }
  if (x.shape().rank() == 4) {
    backward_images(x, dy, dx, dgamma, dbeta);
    return;
  }
  const float* gamma = options_.scale ? weight.data() : nullptr;
  if (options_.renorm)
    batchnorm_renorm_backward_train(dx ? dx->data() : nullptr, dgamma, dbeta, dy.data(), x.data(), mean_.data(),
                                    invstd_.data(), renorm_r_.data(), renorm_d_.data(), gamma, N, C_);
  else
    batchnorm_backward_train(dx ? dx->data() : nullptr, dgamma, dbeta, dy.data(), x.data(), mean_.data(),
                             invstd_.data(), gamma, N, C_);
}

std::vector<ParamRef> BatchNormalization::params() {
  std::vector<ParamRef> p;
  if (options_.scale) p.push_back({"weight", &weight, &weight_grad, true});
  if (options_.center) p.push_back({"bias", &bias, &bias_grad, true});
  p.push_back({"running_mean", &running_mean, nullptr, false});
  p.push_back({"running_var", &running_var, nullptr, false});
  return p;
}

}  // namespace bnlab
