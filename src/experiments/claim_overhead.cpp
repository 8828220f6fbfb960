// Claim 7, training overhead: milliseconds per training step with and without BN, timed in
// alternating windows so that both models see the same machine load.
#include <algorithm>
#include <cmath>

#include "bnlab/model/plan.h"
#include "experiments/common.h"

namespace bnlab::experiments {
namespace {

using namespace detail;

// A few batches gathered once, so that the timing holds nothing but training steps.
struct Batches {
  std::vector<Tensor> x;
  std::vector<std::vector<int32_t>> y;
};

Batches gather_batches(const Dataset& data, int batch, int count) {
  Batches b;
  for (int i = 0; i < count; ++i) {
    std::vector<int64_t> rows(batch);
    for (int r = 0; r < batch; ++r) rows[r] = (int64_t(i) * batch + r) % data.size();
    std::vector<int64_t> shape = data.sample_shape;
    shape.insert(shape.begin(), batch);
    Tensor x{Shape(shape)};
    std::vector<int32_t> y(batch);
    data.gather(x.data(), y.data(), rows.data(), batch);
    b.x.push_back(std::move(x));
    b.y.push_back(std::move(y));
  }
  return b;
}

// Training steps as fit runs them (model/plan.h).
double window_ms(TrainingPlan& plan, const Batches& b, int steps) {
  const Stopwatch watch;
  for (int i = 0; i < steps; ++i) plan.train_step(b.x[i % b.x.size()], b.y[i % b.y.size()].data());
  return 1000.0 * watch.seconds() / steps;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

OverheadPoint run_batch(const OverheadConfig& c, int batch, const Dataset& train, Progress& progress) {
  constexpr int kBatches = 8, kWarmUp = 10;
  const Batches batches = gather_batches(train, batch, kBatches);
  std::vector<double> bn_ms, no_bn_ms;
  for (int seed = 1; seed <= c.budget.seeds; ++seed) {
    TrainSpec s = base_spec(c.budget, "mlp-bn", seed);
    s.batch_size = batch;
    Sequential bn = build_model(s, train);
    s.model = "mlp";
    Sequential no_bn = build_model(s, train);
    TrainingPlan bn_plan(bn), no_bn_plan(no_bn);
    window_ms(bn_plan, batches, kWarmUp);
    window_ms(no_bn_plan, batches, kWarmUp);
    std::vector<double> with, without;
    for (int w = 0; w < c.windows; ++w) {
      without.push_back(window_ms(no_bn_plan, batches, c.steps));
      with.push_back(window_ms(bn_plan, batches, c.steps));
    }
    bn_ms.push_back(median(with));
    no_bn_ms.push_back(median(without));
    progress.done(fmt::format("batch {} seed {}", batch, seed),
                  fmt::format("{:.3f} ms/step with BN, {:.3f} without", bn_ms.back(), no_bn_ms.back()));
  }
  return {batch, spread(bn_ms), spread(no_bn_ms)};
}

std::string ms_figure(const OverheadMeasure& m, bool bn) {
  std::string s;
  for (const OverheadPoint& p : m.points) {
    const Spread& ms = bn ? p.bn_ms : p.no_bn_ms;
    s += fmt::format("{}batch {}: {:.3f} ± {:.3f} ms", s.empty() ? "" : "; ", p.batch_size, ms.mean, ms.sd);
    if (bn) s += fmt::format(" ({:+.0f}%)", 100 * (p.bn_ms.mean / p.no_bn_ms.mean - 1));
  }
  return s;
}

}  // namespace

OverheadMeasure measure_overhead(const OverheadConfig& c, const Dataset& train, const Log& log) {
  const Dataset data = first(train, c.budget.train_size);
  Progress progress(log, "7/7 overhead", c.budget.seeds * static_cast<int>(c.batch_sizes.size()));
  OverheadMeasure m;
  m.min_effect = c.min_effect;
  for (int batch : c.batch_sizes) m.points.push_back(run_batch(c, batch, data, progress));
  return m;
}

Judgement judge_overhead(const OverheadMeasure& m) {
  std::vector<Test> tests;
  for (const OverheadPoint& p : m.points)
    tests.push_back({fmt::format("at batch {}, a step with BN takes at least {:.0f}% longer, and more than twice the "
                                 "standard error over seeds ({:+.1f}%, standard error {:.3f} ms)",
                                 p.batch_size, 100 * m.min_effect, 100 * (p.bn_ms.mean / p.no_bn_ms.mean - 1),
                                 standard_error(p.bn_ms, p.no_bn_ms)),
                     compare(p.bn_ms, p.no_bn_ms, m.min_effect * p.no_bn_ms.mean) == Direction::Higher});
  return judge(std::move(tests));
}

ClaimResult report_overhead(const OverheadMeasure& m) {
  ClaimResult r;
  r.number = 7;
  r.claim = "Training overhead";
  r.measured = "milliseconds per training step (forward, backward, Adam), median of alternating timing windows";
  r.bn = ms_figure(m, true);
  r.no_bn = ms_figure(m, false);
  r.judgement = judge_overhead(m);

  plot::LineChart chart{"Claim 7: time per training step", "log2(batch size)", "Milliseconds per step (mean over seeds)", {}};
  const std::vector<double> x = each(m.points, [](const OverheadPoint& p) { return std::log2(p.batch_size); });
  chart.series.push_back(line("With BN", x, each(m.points, [](const OverheadPoint& p) { return p.bn_ms.mean; }), kBlue));
  chart.series.push_back(line("Without BN", x, each(m.points, [](const OverheadPoint& p) { return p.no_bn_ms.mean; }), kOrange));
  r.charts.push_back({"claim7_overhead", chart});
  nlohmann::json points = nlohmann::json::array();
  for (const OverheadPoint& p : m.points)
    points.push_back({{"batch_size", p.batch_size}, {"bn_ms_per_step", to_json(p.bn_ms)}, {"no_bn_ms_per_step", to_json(p.no_bn_ms)}});
  r.data = {{"min_effect", m.min_effect}, {"points", points}};
  return r;
}

}  // namespace bnlab::experiments
