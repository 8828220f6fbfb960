// Claim 1, faster convergence: steps (and training seconds) to a target validation accuracy.
#include "experiments/common.h"

namespace bnlab::experiments {
namespace {

using namespace detail;

struct ModelRuns {
  std::vector<RunTrace> runs;
  Spread steps, seconds, final;
  int reached = 0;
};

ModelRuns run_model(const ConvergenceConfig& c, const std::string& model, const Dataset& train, const Dataset& valid,
                    Progress& progress) {
  ModelRuns out;
  const int64_t steps = steps_for_epochs(train, c.budget.batch_size, c.epochs);
  out.runs = over_seeds(c.budget, [&](uint64_t seed) {
    TrainSpec s = base_spec(c.budget, model, seed);
    s.steps = steps;
    s.eval_every = c.eval_every;
    RunTrace t = train_new_model(s, train, valid);
    const auto hit = t.first_reaching(c.target);
    progress.done(fmt::format("{} seed {}", model, seed),
                  hit ? fmt::format("{} reached at step {}", pct(c.target, 1), hit->step)
                      : fmt::format("{} not reached, final {}", pct(c.target, 1), pct(t.last().val_accuracy)));
    return t;
  });
  std::vector<double> to_target, seconds;
  for (const RunTrace& t : out.runs) {
    const auto hit = t.first_reaching(c.target);
    out.reached += hit.has_value();
    to_target.push_back(hit ? double(hit->step) : double(steps + c.eval_every));
    seconds.push_back(hit ? hit->seconds : t.train_seconds);
  }
  out.steps = spread(to_target);
  out.seconds = spread(seconds);
  out.final = spread(each(out.runs, [](const RunTrace& t) { return t.last().val_accuracy; }));
  return out;
}

std::string steps_figure(const Spread& steps, int reached, int seeds) {
  return fmt::format("{:.0f} ± {:.0f} steps ({}/{} seeds reached it)", steps.mean, steps.sd, reached, seeds);
}

}  // namespace

ConvergenceMeasure measure_convergence(const ConvergenceConfig& c, const Dataset& train, const Dataset& valid,
                                       const Log& log) {
  const Dataset data = first(train, c.budget.train_size);
  Progress progress(log, "1/7 convergence", 2 * c.budget.seeds);
  const ModelRuns bn = run_model(c, "mlp-bn", data, valid, progress);
  const ModelRuns no_bn = run_model(c, "mlp", data, valid, progress);
  ConvergenceMeasure m;
  m.target = c.target;
  m.budget_steps = steps_for_epochs(data, c.budget.batch_size, c.epochs);
  m.eval_every = c.eval_every;
  m.bn_steps = bn.steps;
  m.no_bn_steps = no_bn.steps;
  m.bn_seconds = bn.seconds;
  m.no_bn_seconds = no_bn.seconds;
  m.bn_reached = bn.reached;
  m.no_bn_reached = no_bn.reached;
  m.bn_final = bn.final;
  m.no_bn_final = no_bn.final;
  m.steps = eval_steps(bn.runs.front());
  m.bn_curve = mean_val_curve(bn.runs);
  m.no_bn_curve = mean_val_curve(no_bn.runs);
  return m;
}

Judgement judge_convergence(const ConvergenceMeasure& m) {
  const std::string target = pct(m.target, 1);
  return judge({{fmt::format("BN reaches {} validation accuracy in fewer steps", target),
                 compare(m.bn_steps, m.no_bn_steps, double(m.eval_every)) == Direction::Lower},
                {fmt::format("BN reaches {} in less training time", target),
                 compare(m.bn_seconds, m.no_bn_seconds, 0.05 * m.no_bn_seconds.mean) == Direction::Lower}});
}

ClaimResult report_convergence(const ConvergenceMeasure& m) {
  ClaimResult r;
  r.number = 1;
  r.claim = "Faster convergence";
  r.measured = fmt::format("steps (and training seconds) to {} validation accuracy; Adam, same batch size", pct(m.target, 0));
  const int seeds = m.bn_steps.n;
  r.bn = fmt::format("{}; {:.1f} ± {:.1f}s", steps_figure(m.bn_steps, m.bn_reached, seeds), m.bn_seconds.mean, m.bn_seconds.sd);
  r.no_bn = fmt::format("{}; {:.1f} ± {:.1f}s", steps_figure(m.no_bn_steps, m.no_bn_reached, seeds), m.no_bn_seconds.mean,
                        m.no_bn_seconds.sd);
  r.judgement = judge_convergence(m);

  plot::LineChart chart{fmt::format("Claim 1: validation accuracy while training (mean of {} seeds)", seeds),
                        "Training step", "Validation accuracy", {}};
  chart.series.push_back(line("With BN", m.steps, m.bn_curve, kBlue));
  chart.series.push_back(line("Without BN", m.steps, m.no_bn_curve, kOrange));
  chart.series.push_back(line(fmt::format("Target {}", pct(m.target, 0)), {m.steps.front(), m.steps.back()},
                              {m.target, m.target}, {0.4, 0.4, 0.4}, plot::Dash::Dashed, false));
  r.charts.push_back({"claim1_convergence", chart});
  r.data = {{"target", m.target},
            {"budget_steps", m.budget_steps},
            {"eval_every", m.eval_every},
            {"bn", {{"steps_to_target", to_json(m.bn_steps)}, {"seconds_to_target", to_json(m.bn_seconds)},
                    {"seeds_reached", m.bn_reached}, {"final_val_accuracy", to_json(m.bn_final)}, {"curve", m.bn_curve}}},
            {"no_bn", {{"steps_to_target", to_json(m.no_bn_steps)}, {"seconds_to_target", to_json(m.no_bn_seconds)},
                       {"seeds_reached", m.no_bn_reached}, {"final_val_accuracy", to_json(m.no_bn_final)},
                       {"curve", m.no_bn_curve}}},
            {"steps", m.steps}};
  return r;
}

}  // namespace bnlab::experiments
