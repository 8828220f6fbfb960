#include "bnlab/experiments/landscape.h"

#include <algorithm>
#include <stdexcept>

#include "bnlab/experiments/ics.h"
#include "bnlab/model/buffer_snapshot.h"

namespace bnlab::experiments {
namespace {

double norm(const std::vector<double>& v) {
  double sq = 0.0;
  for (double x : v) sq += x * x;
  return std::sqrt(sq);
}

}  // namespace

LandscapeProbe probe_along_gradient(const std::vector<double>& w, LossAndGradient f, const std::vector<double>& etas) {
  LandscapeProbe p;
  std::vector<double> g, g_step, w_step(w.size()), diff(w.size());
  p.loss = f(w, g);
  const double g_norm = norm(g);
  double low = p.loss, high = p.loss;
  p.gradient_predictiveness = 0.0;
  p.beta = 0.0;
  for (double eta : etas) {
    if (!(eta > 0)) throw std::invalid_argument("landscape: every step must be positive");
    for (size_t i = 0; i < w.size(); ++i) w_step[i] = w[i] - eta * g[i];
    const double loss = f(w_step, g_step);
    for (size_t i = 0; i < w.size(); ++i) diff[i] = g_step[i] - g[i];
    const double change = norm(diff);
    p.losses.push_back(loss);
    p.gradient_changes.push_back(change);
    low = std::min(low, loss);
    high = std::max(high, loss);
    p.gradient_predictiveness = std::max(p.gradient_predictiveness, change);
    if (g_norm > 0) p.beta = std::max(p.beta, change / (eta * g_norm));
  }
  p.loss_variation = high - low;
  return p;
}

LandscapeProbe probe_model_along_gradient(Sequential& model, const Tensor& x, const int32_t* labels,
                                          const std::vector<double>& etas) {
  BufferSnapshot buffers(model);
  NoiseSnapshot noise(model);
  const std::vector<ParamRef> params = model.trainable_params();
  std::vector<double> w;
  for (const ParamRef& p : params)
    for (int64_t i = 0; i < p.value->numel(); ++i) w.push_back((*p.value)[i]);
  const std::vector<double> start = w;
  auto set_weights = [&](const std::vector<double>& values) {
    size_t k = 0;
    for (const ParamRef& p : params)
      for (int64_t i = 0; i < p.value->numel(); ++i) (*p.value)[i] = static_cast<float>(values[k++]);
  };
  auto loss_and_gradient = [&](const std::vector<double>& at, std::vector<double>& grad) {
    set_weights(at);
    model.zero_grad();
    const LossResult r = model.forward_backward(x, labels);
    buffers.restore();
    noise.restore();
    grad.clear();
    for (const ParamRef& p : params)
      for (int64_t i = 0; i < p.grad->numel(); ++i) grad.push_back((*p.grad)[i]);
    return r.loss_sum / double(x.dim(0));
  };
  const LandscapeProbe probe = probe_along_gradient(w, loss_and_gradient, etas);
  set_weights(start);
  model.zero_grad();
  return probe;
}

}  // namespace bnlab::experiments
