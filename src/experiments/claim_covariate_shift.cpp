// Claim 0, internal covariate shift: Ioffe & Szegedy's Figure 1 (the input distribution of a sigmoid
// over training), Santurkar et al.'s noisy BN and their gradient-based measure, on two nets.
#include <cmath>

#include "experiments/common.h"
#include "experiments/path.h"

namespace bnlab::experiments {
namespace {

using namespace detail;

// The percentiles of followed unit u at every checkpoint.
std::vector<Percentiles> unit_track(const PathTrace& t, size_t u) {
  std::vector<Percentiles> out;
  for (const Checkpoint& c : t.checkpoints) out.push_back(c.units[u]);
  return out;
}

std::string noise_token(NoiseLevel n) { return fmt::format("noise:shift={}:scale={}", n.shift, n.scale); }

// Runs of one model over seeds; the PathSpec's seed is set per run.
std::vector<PathTrace> run_seeds(const PathNets& nets, PathSpec spec, const std::string& what, const Dataset& train,
                                 const Dataset& valid, Progress& progress) {
  return over_seeds(Budget{nets.seeds}, [&](uint64_t seed) {
    PathSpec s = spec;
    s.seed = seed;
    PathTrace t = follow_path(s, train, valid);
    progress.done(fmt::format("{} seed {}", what, seed),
                  fmt::format("validation {}{}", pct(t.checkpoints.back().val_accuracy), t.diverged ? " (diverged)" : ""));
    return t;
  });
}

// The mean over seeds at each checkpoint of f(checkpoint); a seed that stopped early is left out there.
template <class F>
std::vector<double> curve(const std::vector<PathTrace>& runs, F f) {
  std::vector<double> out;
  for (size_t i = 0; i < runs.front().checkpoints.size(); ++i)
    out.push_back(spread(each(runs, [&](const PathTrace& t) {
                    return i < t.checkpoints.size() ? f(t.checkpoints[i]) : NAN;
                  })).mean);
  return out;
}

template <class F>
double mean_over(const std::vector<Checkpoint>& cs, F f) {
  return spread(each(cs, f)).mean;
}

// Mean of the gradient change over the Dense layers after the first.
double later_layers(const std::vector<GradientShift>& ics, double GradientShift::*field) {
  std::vector<double> v;
  for (size_t l = 1; l < ics.size(); ++l) v.push_back(ics[l].*field);
  return spread(v).mean;
}

double drift(const PathTrace& t) {
  std::vector<double> per_unit;
  for (size_t u = 0; u < t.checkpoints.front().units.size(); ++u)
    per_unit.push_back(percentile_drift(unit_track(t, u)));
  return log10_or_nan(spread(per_unit).mean);
}

ArmShift summarise(const std::string& label, const std::vector<PathTrace>& runs) {
  ArmShift a;
  a.label = label;
  a.final_accuracy = spread(each(runs, [](const PathTrace& t) { return t.diverged ? NAN : t.checkpoints.back().val_accuracy; }));
  a.drift = spread(each(runs, drift));
  a.ics_distance = spread(each(runs, [](const PathTrace& t) {
    return log10_or_nan(mean_over(t.checkpoints, [](const Checkpoint& c) { return later_layers(c.ics, &GradientShift::distance); }));
  }));
  a.ics_cosine = spread(each(runs, [](const PathTrace& t) {
    return mean_over(t.checkpoints, [](const Checkpoint& c) { return later_layers(c.ics, &GradientShift::cosine); });
  }));
  a.steps = each(runs.front().checkpoints, [](const Checkpoint& c) { return double(c.step); });
  a.accuracy = curve(runs, [](const Checkpoint& c) { return c.val_accuracy; });
  a.distance = curve(runs, [](const Checkpoint& c) { return later_layers(c.ics, &GradientShift::distance); });
  a.cosine = curve(runs, [](const Checkpoint& c) { return later_layers(c.ics, &GradientShift::cosine); });
  const PathTrace& first_seed = runs.front();
  for (size_t u = 0; u < first_seed.checkpoints.front().units.size(); ++u)
    a.units.push_back(unit_track(first_seed, u));
  return a;
}

NetShift run_net(const CovariateShiftConfig& c, const std::string& net, PathSpec base, std::string (*spec)(Normalisation, NoiseLevel),
                 const Dataset& train, const Dataset& valid, Progress& progress) {
  NetShift n;
  n.net = net;
  ArmShift* arms[] = {&n.no_bn, &n.bn, &n.noisy};
  const Normalisation kinds[] = {Normalisation::None, Normalisation::BN, Normalisation::NoisyBN};
  const char* labels[] = {"no BN", "BN", "noisy BN"};
  for (int k = 0; k < 3; ++k) {
    PathSpec s = base;
    s.model = spec(kinds[k], c.noise);
    *arms[k] = summarise(labels[k], run_seeds(c.nets, s, net + " " + labels[k], train, valid, progress));
  }
  return n;
}

constexpr double kMinLogEffect = 0.1;      // decades: a factor of 1.26
constexpr double kMinCosineEffect = 0.02;
constexpr double kMinAccuracyGain = 0.005;  // noisy BN above no BN
constexpr double kMaxAccuracyLoss = 0.01;   // noisy BN below BN

std::string decades(const Spread& s) { return fmt::format("{:.3g}", std::pow(10.0, s.mean)); }

nlohmann::json percentiles_json(const std::vector<std::vector<Percentiles>>& units) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& track : units) {
    nlohmann::json u = {{"p15", nlohmann::json::array()}, {"p50", nlohmann::json::array()}, {"p85", nlohmann::json::array()}};
    for (const Percentiles& p : track) {
      u["p15"].push_back(p.p15);
      u["p50"].push_back(p.p50);
      u["p85"].push_back(p.p85);
    }
    out.push_back(u);
  }
  return out;
}

nlohmann::json arm_json(const ArmShift& a) {
  return {{"final_val_accuracy", to_json(a.final_accuracy)}, {"log10_drift", to_json(a.drift)},
          {"log10_ics_distance", to_json(a.ics_distance)},   {"ics_cosine", to_json(a.ics_cosine)},
          {"val_accuracy", a.accuracy},                      {"ics_distance_curve", a.distance},
          {"ics_cosine_curve", a.cosine},                    {"seed1_unit_percentiles", percentiles_json(a.units)}};
}

nlohmann::json net_json(const NetShift& n) {
  return {{"net", n.net}, {"steps", n.bn.steps}, {"no_bn", arm_json(n.no_bn)}, {"bn", arm_json(n.bn)}, {"noisy_bn", arm_json(n.noisy)}};
}

const NetShift* nets(const CovariateShiftMeasure& m, int i) { return i == 0 ? &m.ioffe : &m.mlp; }

plot::LineChart accuracy_chart(const NetShift& n) {
  plot::LineChart chart{"Claim 0: validation accuracy while training, " + n.net, "Training step",
                        "Validation accuracy (mean over seeds)", {}};
  chart.series.push_back(line("With BN", n.bn.steps, n.bn.accuracy, kBlue, plot::Dash::Solid, false));
  chart.series.push_back(line("With noisy BN", n.noisy.steps, n.noisy.accuracy, kGreen, plot::Dash::Solid, false));
  chart.series.push_back(line("Without BN", n.no_bn.steps, n.no_bn.accuracy, kOrange, plot::Dash::Solid, false));
  return chart;
}

// Ioffe & Szegedy's Figure 1b/1c: the 15th, 50th and 85th percentiles of each followed unit's input.
plot::LineChart percentile_chart(const NetShift& n, const ArmShift& a) {
  plot::LineChart chart{fmt::format("Claim 0: input of last hidden layer's nonlinearity, {} {} (seed 1; 15/50/85th percentiles)", n.net,
                                    a.label),
                        "Training step", "Input value", {}};
  const plot::Rgb colours[] = {kBlue, kRed, kPurple, kBrown, kGreen, kOrange};
  for (size_t u = 0; u < a.units.size(); ++u) {
    const plot::Rgb colour = colours[u % 6];
    const auto at = [&](double Percentiles::*p) { return each(a.units[u], [&](const Percentiles& x) { return x.*p; }); };
    chart.series.push_back(line(fmt::format("Unit {} median", u), a.steps, at(&Percentiles::p50), colour, plot::Dash::Solid, false));
    chart.series.push_back(line(fmt::format("Unit {} 15th, 85th", u), a.steps, at(&Percentiles::p15), colour, plot::Dash::Dashed, false));
    chart.series.push_back(line("", a.steps, at(&Percentiles::p85), colour, plot::Dash::Dashed, false));
  }
  return chart;
}

plot::LineChart gradient_chart(const CovariateShiftMeasure& m, bool cosine) {
  plot::LineChart chart{cosine ? "Claim 0: cos(G, G'), gradient before and after the earlier layers' step"
                               : "Claim 0: ||G - G'||, gradient change after the earlier layers' step",
                        "Training step", cosine ? "Cosine (mean over layers and seeds)" : "l2 distance (mean over layers and seeds)",
                        {}};
  for (int i = 0; i < 2; ++i) {
    const NetShift& n = *nets(m, i);
    const plot::Dash dash = i == 0 ? plot::Dash::Solid : plot::Dash::Dashed;
    for (const ArmShift* a : {&n.bn, &n.noisy, &n.no_bn})
      chart.series.push_back(line(n.net + " " + a->label, a->steps, cosine ? a->cosine : a->distance,
                                  a == &n.bn ? kBlue : a == &n.noisy ? kGreen : kOrange, dash, false));
  }
  return chart;
}

}  // namespace

std::string ioffe_spec(Normalisation n, NoiseLevel noise) {
  std::string s = "flatten";
  for (int i = 0; i < 3; ++i) {
    s += ",dense:100";
    if (n != Normalisation::None) s += ",bn:torch";
    if (n == Normalisation::NoisyBN) s += "," + noise_token(noise);
    s += ",sigmoid";
  }
  return s + ",dense:10:softmax";
}

std::string notebook_mlp_spec(Normalisation n, NoiseLevel noise) {
  const std::string norm = n == Normalisation::None ? "" : n == Normalisation::BN ? "bn," : "bn," + noise_token(noise) + ",";
  return "flatten," + norm + "dense:256,relu," + norm + "dense:128,relu," + norm + "dense:10:softmax";
}

CovariateShiftMeasure measure_covariate_shift(const CovariateShiftConfig& c, const Dataset& train, const Dataset& valid,
                                              const Log& log) {
  const Dataset data = first(train, c.nets.train_size);
  Progress progress(log, "0 covariate shift", 6 * c.nets.seeds);
  PathSpec base;
  base.units = c.units;
  base.probe_size = c.probe_size;
  base.gradient_ics = true;
  const NetPaths paths = net_paths(base, c.nets);
  CovariateShiftMeasure m;
  m.ioffe = run_net(c, "Ioffe's sigmoid net", paths.ioffe, ioffe_spec, data, valid, progress);
  m.mlp = run_net(c, "the notebook's MLP", paths.mlp, notebook_mlp_spec, data, valid, progress);
  return m;
}

Judgement judge_stability(const CovariateShiftMeasure& m) {
  std::vector<Test> tests;
  for (int i = 0; i < 2; ++i) {
    const NetShift& n = *nets(m, i);
    tests.push_back({fmt::format("in {}, the last hidden layer's inputs drift less with BN (drift {} vs {} of their width)",
                                 n.net, decades(n.bn.drift), decades(n.no_bn.drift)),
                     compare(n.bn.drift, n.no_bn.drift, kMinLogEffect) == Direction::Lower});
  }
  return judge(std::move(tests));
}

Judgement judge_gradient_shift(const CovariateShiftMeasure& m) {
  std::vector<Test> tests;
  for (int i = 0; i < 2; ++i) {
    const NetShift& n = *nets(m, i);
    tests.push_back({fmt::format("in {}, a layer's gradient keeps its direction better with BN when the earlier layers "
                                 "step (cosine {:.3f} vs {:.3f})",
                                 n.net, n.bn.ics_cosine.mean, n.no_bn.ics_cosine.mean),
                     compare(n.bn.ics_cosine, n.no_bn.ics_cosine, kMinCosineEffect) == Direction::Higher});
    tests.push_back({fmt::format("in {}, a layer's gradient moves less with BN when the earlier layers step "
                                 "(l2 distance {} vs {})",
                                 n.net, decades(n.bn.ics_distance), decades(n.no_bn.ics_distance)),
                     compare(n.bn.ics_distance, n.no_bn.ics_distance, kMinLogEffect) == Direction::Lower});
  }
  return judge(std::move(tests));
}

Judgement judge_noisy_bn(const CovariateShiftMeasure& m) {
  std::vector<Test> tests;
  for (int i = 0; i < 2; ++i) {
    const NetShift& n = *nets(m, i);
    tests.push_back({fmt::format("in {}, noisy BN ends more accurate than no BN ({} vs {})", n.net,
                                 pct(n.noisy.final_accuracy.mean), pct(n.no_bn.final_accuracy.mean)),
                     compare(n.noisy.final_accuracy, n.no_bn.final_accuracy, kMinAccuracyGain) == Direction::Higher});
    tests.push_back({fmt::format("in {}, noisy BN ends within 1 point of BN ({} vs {})", n.net,
                                 pct(n.noisy.final_accuracy.mean), pct(n.bn.final_accuracy.mean)),
                     compare(n.noisy.final_accuracy, n.bn.final_accuracy, kMaxAccuracyLoss) != Direction::Lower});
  }
  return judge(std::move(tests));
}

std::vector<ClaimResult> report_covariate_shift(const CovariateShiftMeasure& m) {
  auto figures = [&](const ArmShift NetShift::*arm, auto figure) {
    return fmt::format("{}: {}; {}: {}", m.ioffe.net, figure(m.ioffe.*arm), m.mlp.net, figure(m.mlp.*arm));
  };
  auto drift_figure = [](const ArmShift& a) { return "drift " + decades(a.drift); };
  auto gradient_figure = [](const ArmShift& a) {
    return fmt::format("cos {:.3f}, l2 {}", a.ics_cosine.mean, decades(a.ics_distance));
  };
  auto accuracy_figure = [](const ArmShift& a) { return pct(a.final_accuracy); };

  ClaimResult stability;
  stability.number = 0;
  stability.claim = "Reduces internal covariate shift: layer inputs stay stable (Ioffe & Szegedy)";
  stability.measured = "drift of the 15/50/85th percentiles of the last hidden nonlinearity's input over a probe batch, "
                       "in units of their 15-85 spread";
  stability.bn = figures(&NetShift::bn, drift_figure);
  stability.no_bn = figures(&NetShift::no_bn, drift_figure);
  stability.judgement = judge_stability(m);
  stability.charts.push_back({"claim0_ioffe_accuracy", accuracy_chart(m.ioffe)});
  stability.charts.push_back({"claim0_percentiles_no_bn", percentile_chart(m.ioffe, m.ioffe.no_bn)});
  stability.charts.push_back({"claim0_percentiles_bn", percentile_chart(m.ioffe, m.ioffe.bn)});
  stability.charts.push_back({"claim0_percentiles_noisy_bn", percentile_chart(m.ioffe, m.ioffe.noisy)});
  stability.data = {{"ioffe", net_json(m.ioffe)}, {"mlp", net_json(m.mlp)}};

  ClaimResult gradients;
  gradients.number = 0;
  gradients.claim = "Reduces internal covariate shift: gradients change less (Santurkar et al.)";
  gradients.measured = "cos and l2 distance between a layer's gradient before and after the earlier layers' SGD step on "
                       "the same batch, mean over layers after the first and over training";
  gradients.bn = figures(&NetShift::bn, gradient_figure);
  gradients.no_bn = figures(&NetShift::no_bn, gradient_figure);
  gradients.judgement = judge_gradient_shift(m);
  gradients.charts.push_back({"claim0_gradient_cosine", gradient_chart(m, true)});
  gradients.charts.push_back({"claim0_gradient_distance", gradient_chart(m, false)});

  ClaimResult noisy;
  noisy.number = 0;
  noisy.claim = "BN's benefit survives injected covariate shift (noisy BN, Santurkar et al.)";
  noisy.measured = "final validation accuracy of BN followed by a per-unit random scale and shift drawn every step";
  noisy.bn = figures(&NetShift::noisy, accuracy_figure) + " (noisy BN); " + figures(&NetShift::bn, accuracy_figure) + " (BN)";
  noisy.no_bn = figures(&NetShift::no_bn, accuracy_figure);
  noisy.judgement = judge_noisy_bn(m);
  noisy.charts.push_back({"claim0_mlp_accuracy", accuracy_chart(m.mlp)});
  return {stability, gradients, noisy};
}

}  // namespace bnlab::experiments
