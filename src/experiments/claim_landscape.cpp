// Claim 8, a smoother landscape: Santurkar et al.'s loss variation, gradient predictiveness and
// effective beta-smoothness along the training path, with and without BN, on two nets.
#include <algorithm>
#include <cmath>

#include "experiments/common.h"
#include "experiments/path.h"

namespace bnlab::experiments {
namespace {

using namespace detail;

template <class F>
std::vector<double> curve(const std::vector<PathTrace>& runs, F f) {
  std::vector<double> out;
  for (size_t i = 0; i < runs.front().checkpoints.size(); ++i)
    out.push_back(spread(each(runs, [&](const PathTrace& t) {
                    return i < t.checkpoints.size() ? f(t.checkpoints[i].landscape) : NAN;
                  })).mean);
  return out;
}

// log10 of the mean over the run's checkpoints of f(probe).
template <class F>
double log_mean(const PathTrace& t, F f) {
  return log10_or_nan(spread(each(t.checkpoints, [&](const Checkpoint& c) { return f(c.landscape); })).mean);
}

double lowest(const LandscapeProbe& p) { return std::min(p.loss, *std::min_element(p.losses.begin(), p.losses.end())); }
double highest(const LandscapeProbe& p) { return std::max(p.loss, *std::max_element(p.losses.begin(), p.losses.end())); }

ArmLandscape run_arm(const PathNets& nets, PathSpec spec, const std::string& what, const Dataset& train,
                     const Dataset& valid, Progress& progress) {
  const std::vector<PathTrace> runs = over_seeds(Budget{nets.seeds}, [&](uint64_t seed) {
    PathSpec s = spec;
    s.seed = seed;
    PathTrace t = follow_path(s, train, valid);
    progress.done(fmt::format("{} seed {}", what, seed),
                  fmt::format("beta {:.3g}, validation {}{}", std::pow(10.0, log_mean(t, [](const LandscapeProbe& p) { return p.beta; })),
                              pct(t.checkpoints.back().val_accuracy), t.diverged ? " (diverged)" : ""));
    return t;
  });
  ArmLandscape a;
  a.final_accuracy = spread(each(runs, [](const PathTrace& t) { return t.diverged ? NAN : t.checkpoints.back().val_accuracy; }));
  a.variation = spread(each(runs, [](const PathTrace& t) { return log_mean(t, [](const LandscapeProbe& p) { return p.loss_variation; }); }));
  a.predictiveness = spread(
      each(runs, [](const PathTrace& t) { return log_mean(t, [](const LandscapeProbe& p) { return p.gradient_predictiveness; }); }));
  a.beta = spread(each(runs, [](const PathTrace& t) { return log_mean(t, [](const LandscapeProbe& p) { return p.beta; }); }));
  a.steps = each(runs.front().checkpoints, [](const Checkpoint& c) { return double(c.step); });
  a.loss_low = curve(runs, lowest);
  a.loss_high = curve(runs, highest);
  a.predictiveness_curve = curve(runs, [](const LandscapeProbe& p) { return p.gradient_predictiveness; });
  a.beta_curve = curve(runs, [](const LandscapeProbe& p) { return p.beta; });
  return a;
}

NetLandscape run_net(const LandscapeConfig& c, const std::string& net, PathSpec base,
                     std::string (*spec)(Normalisation, NoiseLevel), const Dataset& train, const Dataset& valid,
                     Progress& progress) {
  for (double k : c.lr_multiples) base.landscape_etas.push_back(k * base.lr);
  NetLandscape n;
  n.net = net;
  base.model = spec(Normalisation::BN, {});
  n.bn = run_arm(c.nets, base, net + " BN", train, valid, progress);
  base.model = spec(Normalisation::None, {});
  n.no_bn = run_arm(c.nets, base, net + " no BN", train, valid, progress);
  return n;
}

constexpr double kMinLogEffect = 0.1;  // decades: a factor of 1.26

const NetLandscape* nets(const LandscapeMeasure& m, int i) { return i == 0 ? &m.ioffe : &m.mlp; }

std::string value(const Spread& log10) { return fmt::format("{:.3g}", std::pow(10.0, log10.mean)); }

std::string figure(const LandscapeMeasure& m, const ArmLandscape NetLandscape::*arm) {
  std::string s;
  for (int i = 0; i < 2; ++i) {
    const ArmLandscape& a = nets(m, i)->*arm;
    s += fmt::format("{}{}: loss variation {}, gradient change {}, beta {}", i ? "; " : "", nets(m, i)->net,
                     value(a.variation), value(a.predictiveness), value(a.beta));
  }
  return s;
}

nlohmann::json arm_json(const ArmLandscape& a) {
  return {{"final_val_accuracy", to_json(a.final_accuracy)},
          {"log10_loss_variation", to_json(a.variation)},
          {"log10_gradient_predictiveness", to_json(a.predictiveness)},
          {"log10_beta", to_json(a.beta)},
          {"loss_low", a.loss_low},
          {"loss_high", a.loss_high},
          {"gradient_predictiveness_curve", a.predictiveness_curve},
          {"beta_curve", a.beta_curve}};
}

// Santurkar et al.'s Figure 4a: the range of the loss along the gradient at each point of the path.
plot::LineChart loss_range_chart(const NetLandscape& n) {
  plot::LineChart chart{"Claim 8: loss range along the gradient, " + n.net + " (lowest and highest over the steps)",
                        "Training step", "Training loss on the batch (mean over seeds)", {}};
  chart.series.push_back(line("With BN", n.bn.steps, n.bn.loss_high, kBlue, plot::Dash::Solid, false));
  chart.series.push_back(line("", n.bn.steps, n.bn.loss_low, kBlue, plot::Dash::Solid, false));
  chart.series.push_back(line("Without BN", n.no_bn.steps, n.no_bn.loss_high, kOrange, plot::Dash::Solid, false));
  chart.series.push_back(line("", n.no_bn.steps, n.no_bn.loss_low, kOrange, plot::Dash::Solid, false));
  return chart;
}

plot::LineChart measure_chart(const LandscapeMeasure& m, bool beta) {
  plot::LineChart chart{beta ? "Claim 8: effective beta-smoothness along the path (largest gradient change per distance)"
                             : "Claim 8: gradient predictiveness along the path (largest l2 change of the gradient)",
                        "Training step", beta ? "beta (mean over seeds)" : "l2 gradient change (mean over seeds)", {}};
  for (int i = 0; i < 2; ++i) {
    const NetLandscape& n = *nets(m, i);
    const plot::Dash dash = i == 0 ? plot::Dash::Solid : plot::Dash::Dashed;
    chart.series.push_back(line(n.net + " with BN", n.bn.steps, beta ? n.bn.beta_curve : n.bn.predictiveness_curve, kBlue, dash, false));
    chart.series.push_back(
        line(n.net + " without BN", n.no_bn.steps, beta ? n.no_bn.beta_curve : n.no_bn.predictiveness_curve, kOrange, dash, false));
  }
  return chart;
}

}  // namespace

LandscapeMeasure measure_landscape(const LandscapeConfig& c, const Dataset& train, const Dataset& valid, const Log& log) {
  const Dataset data = first(train, c.nets.train_size);
  Progress progress(log, "8 landscape", 4 * c.nets.seeds);
  const NetPaths paths = net_paths(PathSpec{}, c.nets);
  LandscapeMeasure m;
  m.ioffe = run_net(c, "Ioffe's sigmoid net", paths.ioffe, ioffe_spec, data, valid, progress);
  m.mlp = run_net(c, "the notebook's MLP", paths.mlp, notebook_mlp_spec, data, valid, progress);
  return m;
}

Judgement judge_landscape(const LandscapeMeasure& m) {
  std::vector<Test> tests;
  for (int i = 0; i < 2; ++i) {
    const NetLandscape& n = *nets(m, i);
    const struct {
      const char* what;
      const Spread ArmLandscape::*field;
    } measures[] = {{"loss variation", &ArmLandscape::variation},
                    {"gradient predictiveness (l2 change of the gradient)", &ArmLandscape::predictiveness},
                    {"effective beta-smoothness", &ArmLandscape::beta}};
    for (const auto& x : measures)
      tests.push_back({fmt::format("in {}, the {} is smaller with BN ({} vs {})", n.net, x.what, value(n.bn.*x.field),
                                   value(n.no_bn.*x.field)),
                       compare(n.bn.*x.field, n.no_bn.*x.field, kMinLogEffect) == Direction::Lower});
  }
  return judge(std::move(tests));
}

ClaimResult report_landscape(const LandscapeMeasure& m) {
  ClaimResult r;
  r.number = 8;
  r.claim = "Makes the optimisation landscape smoother (Santurkar et al.)";
  r.measured = "along the gradient at points of the training path: loss variation, largest gradient change, effective "
               "beta (mean over the path)";
  r.bn = figure(m, &NetLandscape::bn);
  r.no_bn = figure(m, &NetLandscape::no_bn);
  r.judgement = judge_landscape(m);
  r.charts.push_back({"claim8_loss_range_ioffe", loss_range_chart(m.ioffe)});
  r.charts.push_back({"claim8_loss_range_mlp", loss_range_chart(m.mlp)});
  r.charts.push_back({"claim8_gradient_predictiveness", measure_chart(m, false)});
  r.charts.push_back({"claim8_beta", measure_chart(m, true)});
  for (int i = 0; i < 2; ++i)
    r.data[i == 0 ? "ioffe" : "mlp"] = {{"net", nets(m, i)->net}, {"steps", nets(m, i)->bn.steps},
                                        {"bn", arm_json(nets(m, i)->bn)}, {"no_bn", arm_json(nets(m, i)->no_bn)}};
  return r;
}

}  // namespace bnlab::experiments
