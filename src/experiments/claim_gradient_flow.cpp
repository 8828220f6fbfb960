// Claim 4, gradient flow: per-layer weight-gradient norms over training, in the notebook's MLP and in
// a deep sigmoid MLP where plain training stalls.
#include <cmath>

#include "experiments/common.h"

namespace bnlab::experiments {
namespace {

using namespace detail;

// log10 of every recorded norm of one layer.
std::vector<double> layer_log_norms(const RunTrace& t, size_t layer) {
  return each(t.grad_norms, [&](const GradNorms& g) { return log10_or_nan(g.per_layer[layer]); });
}

double mean_of(const std::vector<double>& v) { return spread(v).mean; }

double attenuation(const RunTrace& t) {
  return mean_of(layer_log_norms(t, 0)) - mean_of(layer_log_norms(t, t.grad_norms.front().per_layer.size() - 1));
}

struct NetSide {
  Spread attenuation, accuracy;
  std::vector<Spread> layers;
  std::vector<double> steps, first, last;
};

NetSide run_side(const GradientFlowConfig& c, const TrainSpec& spec, const std::string& label, const Dataset& train,
                 const Dataset& valid, Progress& progress) {
  const std::vector<RunTrace> runs = over_seeds(c.budget, [&](uint64_t seed) {
    TrainSpec s = spec;
    s.seed = seed;
    RunTrace t = train_new_model(s, train, valid);
    progress.done(fmt::format("{} seed {}", label, seed),
                  fmt::format("attenuation {:+.2f} decades, validation {}", attenuation(t), pct(t.last().val_accuracy)));
    return t;
  });
  NetSide side;
  const size_t layers = runs.front().grad_norms.front().per_layer.size();
  for (size_t l = 0; l < layers; ++l)
    side.layers.push_back(spread(each(runs, [&](const RunTrace& t) { return mean_of(layer_log_norms(t, l)); })));
  side.attenuation = spread(each(runs, attenuation));
  side.accuracy = spread(each(runs, [](const RunTrace& t) { return t.last().val_accuracy; }));
  side.steps = each(runs.front().grad_norms, [](const GradNorms& g) { return double(g.step); });
  for (size_t i = 0; i < side.steps.size(); ++i) {
    side.first.push_back(mean_of(each(runs, [&](const RunTrace& t) { return log10_or_nan(t.grad_norms[i].per_layer[0]); })));
    side.last.push_back(
        mean_of(each(runs, [&](const RunTrace& t) { return log10_or_nan(t.grad_norms[i].per_layer[layers - 1]); })));
  }
  return side;
}

NetGradients run_net(const GradientFlowConfig& c, const std::string& net, TrainSpec bn, TrainSpec no_bn,
                     const Dataset& train, const Dataset& valid, Progress& progress) {
  const NetSide with = run_side(c, bn, net + " with BN", train, valid, progress);
  const NetSide without = run_side(c, no_bn, net + " without BN", train, valid, progress);
  NetGradients g;
  g.net = net;
  g.bn_attenuation = with.attenuation;
  g.no_bn_attenuation = without.attenuation;
  g.bn_accuracy = with.accuracy;
  g.no_bn_accuracy = without.accuracy;
  g.bn_layers = with.layers;
  g.no_bn_layers = without.layers;
  g.steps = with.steps;
  g.bn_first = with.first;
  g.bn_last = with.last;
  g.no_bn_first = without.first;
  g.no_bn_last = without.last;
  return g;
}

TrainSpec flow_spec(const GradientFlowConfig& c, const std::string& model, const Dataset& train) {
  TrainSpec s = base_spec(c.budget, model, 1);
  s.steps = steps_for_epochs(train, c.budget.batch_size, c.epochs);
  s.grad_norm_every = c.record_every;
  return s;
}

TrainSpec deep_spec(const GradientFlowConfig& c, bool bn, const Dataset& train) {
  TrainSpec s = flow_spec(c, deep_sigmoid_spec(c.deep_layers, c.deep_width, bn), train);
  s.optimizer = "sgd";
  s.lr = c.deep_sgd_lr;
  return s;
}

Spread magnitude(const Spread& s) {
  Spread m = s;
  m.mean = std::fabs(s.mean);
  return m;
}

// A factor of two between the first and the last layer's norms.
constexpr double kMinAttenuationEffect = 0.3;

std::string net_figure(const NetGradients& g, bool bn) {
  const Spread& att = bn ? g.bn_attenuation : g.no_bn_attenuation;
  const Spread& acc = bn ? g.bn_accuracy : g.no_bn_accuracy;
  return fmt::format("{}: {:+.2f} ± {:.2f} decades, val {}", g.net, att.mean, att.sd, pct(acc.mean));
}

nlohmann::json net_json(const NetGradients& g) {
  return {{"net", g.net},
          {"bn", {{"attenuation", to_json(g.bn_attenuation)}, {"val_accuracy", to_json(g.bn_accuracy)},
                  {"log10_norm_per_layer", to_json(g.bn_layers)}, {"log10_first", g.bn_first}, {"log10_last", g.bn_last}}},
          {"no_bn", {{"attenuation", to_json(g.no_bn_attenuation)}, {"val_accuracy", to_json(g.no_bn_accuracy)},
                     {"log10_norm_per_layer", to_json(g.no_bn_layers)}, {"log10_first", g.no_bn_first},
                     {"log10_last", g.no_bn_last}}},
          {"steps", g.steps}};
}

std::vector<double> layer_numbers(size_t n) {
  std::vector<double> x;
  for (size_t i = 1; i <= n; ++i) x.push_back(double(i));
  return x;
}

plot::LineChart profile_chart(const GradientFlowMeasure& m) {
  plot::LineChart chart{"Claim 4: weight-gradient norm per Dense layer (geometric mean over training)",
                        "Dense layer (1 = input side)", "log10 gradient norm", {}};
  auto means = [](const std::vector<Spread>& v) { return each(v, [](const Spread& s) { return s.mean; }); };
  for (const NetGradients* g : {&m.seed_mlp, &m.deep_sigmoid}) {
    const plot::Dash dash = g == &m.seed_mlp ? plot::Dash::Dashed : plot::Dash::Solid;
    chart.series.push_back(line(g->net + " with BN", layer_numbers(g->bn_layers.size()), means(g->bn_layers), kBlue, dash));
    chart.series.push_back(
        line(g->net + " without BN", layer_numbers(g->no_bn_layers.size()), means(g->no_bn_layers), kOrange, dash));
  }
  return chart;
}

plot::LineChart over_training_chart(const NetGradients& g) {
  plot::LineChart chart{"Claim 4: first and last layer's gradient norm while training, " + g.net, "Training step",
                        "log10 gradient norm (mean over seeds)", {}};
  chart.series.push_back(line("First layer with BN", g.steps, g.bn_first, kBlue, plot::Dash::Solid, false));
  chart.series.push_back(line("Last layer with BN", g.steps, g.bn_last, kBlue, plot::Dash::Dashed, false));
  chart.series.push_back(line("First layer without BN", g.steps, g.no_bn_first, kOrange, plot::Dash::Solid, false));
  chart.series.push_back(line("Last layer without BN", g.steps, g.no_bn_last, kOrange, plot::Dash::Dashed, false));
  return chart;
}

}  // namespace

std::string deep_sigmoid_spec(int layers, int width, bool bn) {
  std::string s = "flatten";
  for (int i = 0; i + 1 < layers; ++i) s += bn ? fmt::format(",dense:{},bn,sigmoid", width) : fmt::format(",dense:{}:sigmoid", width);
  return s + ",dense:10:softmax";
}

GradientFlowMeasure measure_gradient_flow(const GradientFlowConfig& c, const Dataset& train, const Dataset& valid,
                                          const Log& log) {
  const Dataset data = first(train, c.budget.train_size);
  Progress progress(log, "4/7 gradient flow", 4 * c.budget.seeds);
  GradientFlowMeasure m;
  m.seed_mlp = run_net(c, "notebook MLP (Adam)", flow_spec(c, "mlp-bn", data), flow_spec(c, "mlp", data), data, valid, progress);
  m.deep_sigmoid = run_net(c, fmt::format("{}-layer sigmoid MLP (SGD)", c.deep_layers), deep_spec(c, true, data),
                           deep_spec(c, false, data), data, valid, progress);
  return m;
}

Judgement judge_gradient_flow(const GradientFlowMeasure& m) {
  std::vector<Test> tests;
  for (const NetGradients* g : {&m.seed_mlp, &m.deep_sigmoid})
    tests.push_back({fmt::format("in the {}, gradients keep their size from the last layer to the first better with BN "
                                 "(|attenuation| {:.2f} vs {:.2f} decades)",
                                 g->net, std::fabs(g->bn_attenuation.mean), std::fabs(g->no_bn_attenuation.mean)),
                     compare(magnitude(g->bn_attenuation), magnitude(g->no_bn_attenuation), kMinAttenuationEffect) ==
                         Direction::Lower});
  return judge(std::move(tests));
}

ClaimResult report_gradient_flow(const GradientFlowMeasure& m) {
  ClaimResult r;
  r.number = 4;
  r.claim = "Improved gradient flow";
  r.measured = "attenuation: log10(first / last Dense layer's weight-gradient norm) over training; in the notebook's MLP "
               "and in a deep sigmoid MLP";
  r.bn = net_figure(m.seed_mlp, true) + "; " + net_figure(m.deep_sigmoid, true);
  r.no_bn = net_figure(m.seed_mlp, false) + "; " + net_figure(m.deep_sigmoid, false);
  r.judgement = judge_gradient_flow(m);
  r.charts.push_back({"claim4_gradient_profile", profile_chart(m)});
  r.charts.push_back({"claim4_gradient_deep", over_training_chart(m.deep_sigmoid)});
  r.data = {{"seed_mlp", net_json(m.seed_mlp)}, {"deep_sigmoid", net_json(m.deep_sigmoid)}};
  return r;
}

}  // namespace bnlab::experiments
