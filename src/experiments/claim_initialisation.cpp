// Claim 5, robustness to initialisation: every Dense weight scaled from 0.01x to 10x Glorot.
#include <algorithm>
#include <cmath>

#include "experiments/common.h"

namespace bnlab::experiments {
namespace {

using namespace detail;

Spread run_scale(const InitialisationConfig& c, const std::string& model, double scale, const Dataset& train,
                 const Dataset& valid, Progress& progress) {
  return spread(over_seeds(c.budget, [&](uint64_t seed) {
    TrainSpec s = base_spec(c.budget, model, seed);
    s.steps = steps_for_epochs(train, c.budget.batch_size, c.epochs);
    s.init_scale = scale;
    const RunTrace t = train_new_model(s, train, valid);
    progress.done(fmt::format("{} weights x{:g} seed {}", model, scale, seed),
                  t.diverged ? "diverged" : "validation " + pct(t.last().val_accuracy));
    return t.diverged ? 0.0 : t.last().val_accuracy;
  }));
}

const ScalePoint& worst(const std::vector<ScalePoint>& points, bool bn) {
  return *std::min_element(points.begin(), points.end(), [&](const ScalePoint& a, const ScalePoint& b) {
    return (bn ? a.bn_accuracy : a.no_bn_accuracy).mean < (bn ? b.bn_accuracy : b.no_bn_accuracy).mean;
  });
}

double range(const std::vector<ScalePoint>& points, bool bn) {
  const double lo = (bn ? worst(points, bn).bn_accuracy : worst(points, bn).no_bn_accuracy).mean;
  double hi = lo;
  for (const ScalePoint& p : points) hi = std::max(hi, (bn ? p.bn_accuracy : p.no_bn_accuracy).mean);
  return hi - lo;
}

// One point of validation accuracy.
constexpr double kMinAccuracyEffect = 0.01;

std::string scale_figure(const std::vector<ScalePoint>& points, bool bn) {
  const ScalePoint& w = worst(points, bn);
  const Spread& acc = bn ? w.bn_accuracy : w.no_bn_accuracy;
  return fmt::format("worst {} at x{:g}; range {:.2f} points", pct(acc), w.scale, 100 * range(points, bn));
}

}  // namespace

InitialisationMeasure measure_initialisation(const InitialisationConfig& c, const Dataset& train, const Dataset& valid,
                                             const Log& log) {
  const Dataset data = first(train, c.budget.train_size);
  Progress progress(log, "5/7 initialisation", 2 * c.budget.seeds * static_cast<int>(c.scales.size()));
  InitialisationMeasure m;
  for (double scale : c.scales) {
    ScalePoint p;
    p.scale = scale;
    p.bn_accuracy = run_scale(c, "mlp-bn", scale, data, valid, progress);
    p.no_bn_accuracy = run_scale(c, "mlp", scale, data, valid, progress);
    m.points.push_back(p);
  }
  return m;
}

Judgement judge_initialisation(const InitialisationMeasure& m) {
  const Spread& bn_worst = worst(m.points, true).bn_accuracy;
  const Spread& no_bn_worst = worst(m.points, false).no_bn_accuracy;
  const double noise = 2.0 * standard_error(bn_worst, no_bn_worst);
  const double bn_range = range(m.points, true), no_bn_range = range(m.points, false);
  return judge({{fmt::format("BN's worst accuracy over the weight scales is higher ({} vs {})", pct(bn_worst.mean),
                             pct(no_bn_worst.mean)),
                 compare(bn_worst, no_bn_worst, kMinAccuracyEffect) == Direction::Higher},
                {fmt::format("BN's accuracy varies less over the weight scales ({:.2f} vs {:.2f} points)", 100 * bn_range,
                             100 * no_bn_range),
                 no_bn_range - bn_range > std::max(kMinAccuracyEffect, noise)}});
}

ClaimResult report_initialisation(const InitialisationMeasure& m) {
  ClaimResult r;
  r.number = 5;
  r.claim = "Robust to weight initialisation";
  r.measured = fmt::format("final validation accuracy with every Dense weight scaled x{:g} to x{:g} of Glorot",
                           m.points.front().scale, m.points.back().scale);
  r.bn = scale_figure(m.points, true);
  r.no_bn = scale_figure(m.points, false);
  r.judgement = judge_initialisation(m);

  plot::LineChart chart{"Claim 5: validation accuracy against the initial weight scale", "log10(scale x Glorot)",
                        "Validation accuracy (mean over seeds)", {}};
  const std::vector<double> x = each(m.points, [](const ScalePoint& p) { return std::log10(p.scale); });
  chart.series.push_back(line("With BN", x, each(m.points, [](const ScalePoint& p) { return p.bn_accuracy.mean; }), kBlue));
  chart.series.push_back(
      line("Without BN", x, each(m.points, [](const ScalePoint& p) { return p.no_bn_accuracy.mean; }), kOrange));
  r.charts.push_back({"claim5_initialisation", chart});
  nlohmann::json points = nlohmann::json::array();
  for (const ScalePoint& p : m.points)
    points.push_back({{"scale", p.scale}, {"bn_val_accuracy", to_json(p.bn_accuracy)},
                      {"no_bn_val_accuracy", to_json(p.no_bn_accuracy)}});
  r.data = {{"points", points}};
  return r;
}

}  // namespace bnlab::experiments
