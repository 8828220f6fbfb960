#pragma once
// Central-difference gradient checks of L = sum(dy * layer(x)) against every input and parameter.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "bnlab/core/rng.h"
#include "bnlab/layers/layer.h"

namespace bnlab::testing {

inline Tensor random_tensor(const Shape& shape, Rng& rng, float lo = -1.0f, float hi = 1.0f) {
  Tensor t(shape);
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = static_cast<float>(lo + (hi - lo) * rng.uniform());
  return t;
}

inline double dot(const Tensor& a, const Tensor& b) {
  double s = 0.0;
  for (int64_t i = 0; i < a.numel(); ++i) s += (double)a[i] * b[i];
  return s;
}

// Where two outputs differ in which entries are exactly zero, a ReLU kink lies between them.
inline bool crosses_kink(const Tensor& a, const Tensor& b) {
  for (int64_t i = 0; i < a.numel(); ++i)
    if ((a[i] == 0.0f) != (b[i] == 0.0f)) return true;
  return false;
}

struct GradCheckOptions {
  Mode mode = Mode::Train;
  double h = 1e-3;
  double rtol = 2e-2, atol = 2e-3;
  // Called before every forward (e.g. to replay a dropout mask).
  std::function<void()> before_forward = [] {};
};

// Checks dx (overwritten) and every trainable parameter gradient (accumulated onto a sentinel of 8).
inline void check_layer_gradients(Layer& layer, Tensor x, const GradCheckOptions& o = {}) {
  Rng rng(99);
  Tensor y;
  o.before_forward();
  layer.forward(x, y, o.mode);
  const Tensor dy = random_tensor(y.shape(), rng);

  std::vector<ParamRef> params;
  for (ParamRef& p : layer.params())
    if (p.trainable) params.push_back(p);
  constexpr float kSentinel = 8.0f;
  for (ParamRef& p : params) p.grad->fill(kSentinel);
  Tensor dx(x.shape());
  dx.fill(kSentinel);
  layer.backward(x, y, dy, &dx);

  auto loss = [&]() {
    Tensor out;
    o.before_forward();
    layer.forward(x, out, o.mode);
    return std::make_pair(dot(out, dy), out);
  };
  auto check = [&](float* value, int64_t n, const std::function<double(int64_t)>& analytic, const std::string& what) {
    int checked = 0;
    for (int64_t i = 0; i < n; ++i) {
      const float saved = value[i];
      value[i] = static_cast<float>(saved + o.h);
      const auto [lp, yp] = loss();
      value[i] = static_cast<float>(saved - o.h);
      const auto [lm, ym] = loss();
      value[i] = saved;
      if (crosses_kink(yp, ym)) continue;
      const double numeric = (lp - lm) / (2 * o.h);
      const double a = analytic(i);
      EXPECT_NEAR(a, numeric, o.atol + o.rtol * std::fabs(numeric)) << what << "[" << i << "]";
      ++checked;
    }
    EXPECT_GT(checked, n / 2) << what << ": too many points skipped at kinks";
  };
  check(x.data(), x.numel(), [&](int64_t i) { return dx[i]; }, "dx");
  for (ParamRef& p : params)
    check(p.value->data(), p.value->numel(), [&](int64_t i) { return (*p.grad)[i] - kSentinel; }, "d" + p.name);
}

// Builds `layer` for samples of shape `in`, moves its trainable parameters off their initial values
// and checks its gradients on a batch of N random inputs in [lo, hi).
template <class L>
void built_check(L& layer, const Shape& in, int N, const GradCheckOptions& o = {}, float lo = -1, float hi = 1) {
  Rng rng(1);
  layer.build(in, rng);
  // Non-trivial gamma and beta, so their gradients and the dx path through gamma are exercised.
  for (ParamRef& p : layer.params())
    if (p.trainable && p.value->numel())
      for (int64_t i = 0; i < p.value->numel(); ++i) (*p.value)[i] += static_cast<float>(0.5 * rng.uniform() - 0.25);
  check_layer_gradients(layer, random_tensor(in.with_batch(N), rng, lo, hi), o);
}

}  // namespace bnlab::testing
