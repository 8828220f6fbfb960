#include "bnlab/experiments/ics.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "bnlab/layers/basic.h"
#include "bnlab/layers/dense.h"
#include "bnlab/layers/noise.h"
#include "bnlab/model/buffer_snapshot.h"

namespace bnlab::experiments {

double percentile(std::vector<double> values, double q) {
  if (values.empty()) throw std::invalid_argument("percentile of no values");
  std::sort(values.begin(), values.end());
  const double rank = q / 100.0 * double(values.size() - 1);
  const size_t below = static_cast<size_t>(std::floor(rank));
  const size_t above = std::min(below + 1, values.size() - 1);
  return values[below] + (rank - double(below)) * (values[above] - values[below]);
}

Percentiles unit_percentiles(const Tensor& x, int64_t unit) {
  const int64_t N = x.dim(0), C = x.dim(1);
  std::vector<double> column(N);
  for (int64_t n = 0; n < N; ++n) column[n] = x[n * C + unit];
  return {percentile(column, 15), percentile(column, 50), percentile(column, 85)};
}

double percentile_drift(const std::vector<Percentiles>& track) {
  if (track.size() < 2) return 0.0;
  double path = 0.0, spread = 0.0;
  for (size_t t = 0; t + 1 < track.size(); ++t)
    path += (std::fabs(track[t + 1].p15 - track[t].p15) + std::fabs(track[t + 1].p50 - track[t].p50) +
             std::fabs(track[t + 1].p85 - track[t].p85)) / 3.0;
  for (const Percentiles& p : track) spread += p.p85 - p.p15;
  spread /= double(track.size());
  return spread > 0 ? path / spread : NAN;
}

NoiseSnapshot::NoiseSnapshot(Sequential& model) {
  for (const auto& layer : model.layers()) {
    Rng* rng = nullptr;
    if (auto* noise = dynamic_cast<ShiftScaleNoise*>(layer.get())) rng = &noise->rng();
    if (auto* dropout = dynamic_cast<Dropout*>(layer.get())) rng = &dropout->rng();
    if (rng) saved_.emplace_back(rng, rng->state());
  }
}

void NoiseSnapshot::restore() {
  for (auto& [rng, state] : saved_) rng->set_state(state);
}

namespace {

// Every trainable tensor of layers [0, end) with its gradient.
std::vector<ParamRef> trainable_before(Sequential& model, size_t end) {
  std::vector<ParamRef> out;
  for (size_t l = 0; l < end; ++l)
    for (const ParamRef& p : model.layer(l).params())
      if (p.trainable) out.push_back(p);
  return out;
}

std::vector<float> copy_of(const Tensor& t) { return std::vector<float>(t.data(), t.data() + t.numel()); }

GradientShift shift_between(const std::vector<float>& g, const Tensor& g_after) {
  double diff = 0.0, dot = 0.0, gg = 0.0, hh = 0.0;
  for (size_t i = 0; i < g.size(); ++i) {
    const double a = g[i], b = g_after[static_cast<int64_t>(i)];
    diff += (a - b) * (a - b);
    dot += a * b;
    gg += a * a;
    hh += b * b;
  }
  GradientShift s;
  s.distance = std::sqrt(diff);
  s.cosine = gg == 0.0 && hh == 0.0 ? 1.0 : gg == 0.0 || hh == 0.0 ? 0.0 : dot / std::sqrt(gg * hh);
  return s;
}

}  // namespace

std::vector<GradientShift> gradient_ics(Sequential& model, const Tensor& x, const int32_t* labels, double lr) {
  BufferSnapshot buffers(model);
  NoiseSnapshot noise(model);
  auto gradients = [&] {
    model.zero_grad();
    model.forward_backward(x, labels);
    buffers.restore();
    noise.restore();
  };
  gradients();
  const std::vector<ParamRef> all = trainable_before(model, model.layers().size());
  std::vector<std::vector<float>> values, grads;
  for (const ParamRef& p : all) {
    values.push_back(copy_of(*p.value));
    grads.push_back(copy_of(*p.grad));
  }
  std::vector<size_t> dense_layers;
  for (size_t l = 0; l < model.layers().size(); ++l)
    if (dynamic_cast<Dense*>(&model.layer(l))) dense_layers.push_back(l);
  std::vector<std::vector<float>> before;  // G of each Dense weight
  for (size_t l : dense_layers) before.push_back(copy_of(dynamic_cast<Dense&>(model.layer(l)).weight_grad));

  std::vector<GradientShift> out;
  for (size_t d = 0; d < dense_layers.size(); ++d) {
    const size_t earlier = trainable_before(model, dense_layers[d]).size();  // the first `earlier` of `all`
    for (size_t k = 0; k < earlier; ++k)
      for (int64_t i = 0; i < all[k].value->numel(); ++i)
        (*all[k].value)[i] = static_cast<float>(values[k][i] - lr * grads[k][i]);  // SGD: w - lr * g
    gradients();
    out.push_back(shift_between(before[d], dynamic_cast<Dense&>(model.layer(dense_layers[d])).weight_grad));
    for (size_t k = 0; k < earlier; ++k) std::copy(values[k].begin(), values[k].end(), all[k].value->data());
  }
  model.zero_grad();
  return out;
}

}  // namespace bnlab::experiments
