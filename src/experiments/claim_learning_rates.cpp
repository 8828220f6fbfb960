// Claim 2, higher learning rates: a grid of rates with SGD and Adam; best validation accuracy and
// divergence at each rate.
#include <cmath>

#include "experiments/common.h"

namespace bnlab::experiments {
namespace {

using namespace detail;

struct RateRuns {
  Spread accuracy;
  int diverged = 0;
};

RateRuns run_rate(const LearningRateConfig& c, const std::string& model, const std::string& optimizer, double lr,
                  const Dataset& train, const Dataset& valid, Progress& progress) {
  RateRuns out;
  const int64_t steps = steps_for_epochs(train, c.budget.batch_size, c.epochs);
  const std::vector<RunTrace> runs = over_seeds(c.budget, [&](uint64_t seed) {
    TrainSpec s = base_spec(c.budget, model, seed);
    s.optimizer = optimizer;
    s.lr = lr;
    s.steps = steps;
    s.eval_every = std::max<int64_t>(1, steps / c.evaluations);
    RunTrace t = train_new_model(s, train, valid);
    progress.done(fmt::format("{} {} lr={:g} seed {}", model, optimizer, lr, seed),
                  t.diverged ? fmt::format("diverged at step {}", t.steps) : "best " + pct(t.best_val_accuracy()));
    return t;
  });
  for (const RunTrace& t : runs) out.diverged += t.diverged;
  out.accuracy = spread(each(runs, [](const RunTrace& t) { return t.best_val_accuracy(); }));
  return out;
}

OptimizerGrid run_grid(const LearningRateConfig& c, const std::string& optimizer, const std::vector<double>& rates,
                       const Dataset& train, const Dataset& valid, Progress& progress) {
  OptimizerGrid grid{optimizer, {}};
  for (double lr : rates) {
    const RateRuns bn = run_rate(c, "mlp-bn", optimizer, lr, train, valid, progress);
    const RateRuns no_bn = run_rate(c, "mlp", optimizer, lr, train, valid, progress);
    grid.points.push_back({lr, bn.accuracy, no_bn.accuracy, bn.diverged, no_bn.diverged});
  }
  return grid;
}

std::string rate_text(double lr) { return std::isnan(lr) ? "none" : fmt::format("{:g}", lr); }

std::string grid_figure(const OptimizerGrid& g, bool bn, double usable) {
  int diverged = 0;
  for (const RatePoint& p : g.points) diverged += bn ? p.bn_diverged > 0 : p.no_bn_diverged > 0;
  return fmt::format("{}: up to lr {} (diverged at {} of {} rates)", g.optimizer == "sgd" ? "SGD" : "Adam",
                     rate_text(highest_usable_rate(g, bn, usable)), diverged, g.points.size());
}

nlohmann::json grid_json(const OptimizerGrid& g) {
  nlohmann::json points = nlohmann::json::array();
  for (const RatePoint& p : g.points)
    points.push_back({{"lr", p.lr}, {"bn_best_val_accuracy", to_json(p.bn_accuracy)},
                      {"no_bn_best_val_accuracy", to_json(p.no_bn_accuracy)}, {"bn_seeds_diverged", p.bn_diverged},
                      {"no_bn_seeds_diverged", p.no_bn_diverged}});
  return {{"optimizer", g.optimizer}, {"points", points}};
}

}  // namespace

double highest_usable_rate(const OptimizerGrid& grid, bool bn, double usable_accuracy) {
  double best = NAN;
  for (const RatePoint& p : grid.points) {
    const Spread& acc = bn ? p.bn_accuracy : p.no_bn_accuracy;
    const int diverged = bn ? p.bn_diverged : p.no_bn_diverged;
    if (diverged == 0 && acc.n > 0 && acc.mean >= usable_accuracy && !(p.lr <= best)) best = p.lr;
  }
  return best;
}

LearningRateMeasure measure_learning_rates(const LearningRateConfig& c, const Dataset& train, const Dataset& valid,
                                           const Log& log) {
  const Dataset data = first(train, c.budget.train_size);
  const int runs = 2 * c.budget.seeds * static_cast<int>(c.sgd_rates.size() + c.adam_rates.size());
  Progress progress(log, "2/7 learning rates", runs);
  LearningRateMeasure m;
  m.usable_accuracy = c.usable_accuracy;
  m.grids.push_back(run_grid(c, "sgd", c.sgd_rates, data, valid, progress));
  m.grids.push_back(run_grid(c, "adam", c.adam_rates, data, valid, progress));
  return m;
}

Judgement judge_learning_rates(const LearningRateMeasure& m) {
  std::vector<Test> tests;
  for (const OptimizerGrid& g : m.grids) {
    const double bn = highest_usable_rate(g, true, m.usable_accuracy);
    const double no_bn = highest_usable_rate(g, false, m.usable_accuracy);
    const bool higher = !std::isnan(bn) && (std::isnan(no_bn) || bn > no_bn);
    tests.push_back({fmt::format("with {}, the highest rate that trains (no divergence, mean best accuracy >= {}) is "
                                 "higher with BN: {} vs {}",
                                 g.optimizer == "sgd" ? "SGD" : "Adam", pct(m.usable_accuracy, 0), rate_text(bn),
                                 rate_text(no_bn)),
                     higher});
  }
  return judge(std::move(tests));
}

ClaimResult report_learning_rates(const LearningRateMeasure& m) {
  ClaimResult r;
  r.number = 2;
  r.claim = "Higher learning rates";
  r.measured = fmt::format("a learning-rate grid with SGD and Adam: best validation accuracy and divergence per "
                           "rate; the highest rate that trains (>= {})",
                           pct(m.usable_accuracy, 0));
  for (const OptimizerGrid& g : m.grids) {
    r.bn += (r.bn.empty() ? "" : "; ") + grid_figure(g, true, m.usable_accuracy);
    r.no_bn += (r.no_bn.empty() ? "" : "; ") + grid_figure(g, false, m.usable_accuracy);
  }
  r.judgement = judge_learning_rates(m);

  plot::LineChart chart{"Claim 2: best validation accuracy per learning rate (no point where a seed diverged)",
                        "log10(learning rate)", "Best validation accuracy (mean over seeds)", {}};
  for (const OptimizerGrid& g : m.grids) {
    const std::vector<double> x = each(g.points, [](const RatePoint& p) { return std::log10(p.lr); });
    const plot::Dash dash = g.optimizer == "sgd" ? plot::Dash::Solid : plot::Dash::Dashed;
    const std::string name = g.optimizer == "sgd" ? "SGD" : "Adam";
    chart.series.push_back(line(name + " with BN", x,
                                each(g.points, [](const RatePoint& p) { return p.bn_diverged ? NAN : p.bn_accuracy.mean; }),
                                kBlue, dash));
    chart.series.push_back(line(name + " without BN", x, each(g.points, [](const RatePoint& p) {
                                  return p.no_bn_diverged ? NAN : p.no_bn_accuracy.mean;
                                }),
                                kOrange, dash));
  }
  r.charts.push_back({"claim2_learning_rates", chart});
  nlohmann::json grids = nlohmann::json::array();
  for (const OptimizerGrid& g : m.grids) grids.push_back(grid_json(g));
  r.data = {{"usable_accuracy", m.usable_accuracy}, {"grids", grids}};
  return r;
}

}  // namespace bnlab::experiments
