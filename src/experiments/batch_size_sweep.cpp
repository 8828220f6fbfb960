#include "bnlab/core/stopwatch.h"
#include "bnlab/experiments/batch_size_sweep.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "experiments/common.h"

namespace bnlab::experiments {
namespace {

using namespace detail;

struct SeedRun {
  RunTrace trace;
  GradientNoise at_init, at_end;
};

SeedRun run_seed(const SweepConfig& c, const std::string& model, int batch, uint64_t seed, const Dataset& train,
                 const Dataset& valid) {
  TrainSpec s;
  s.model = model;
  s.lr = c.lr;
  s.batch_size = batch;
  s.seed = seed;
  s.steps = steps_for_epochs(train, batch, c.epochs);
  s.eval_every = std::max<int64_t>(1, c.eval_every_samples / batch);
  const int noise_batches = static_cast<int>(std::min<int64_t>(c.noise_batches, train.size() / batch));
  Sequential net = build_model(s, train);
  SeedRun r;
  r.at_init = gradient_noise(net, train, batch, noise_batches, seed);
  r.trace = run_training(net, s, train, valid);
  r.at_end = gradient_noise(net, train, batch, noise_batches, seed);
  return r;
}

SweepPoint run_point(const SweepConfig& c, const std::string& model, int batch, const Dataset& train,
                     const Dataset& valid, Progress& progress) {
  std::vector<SeedRun> runs;
  for (int seed = 1; seed <= c.seeds; ++seed) {
    runs.push_back(run_seed(c, model, batch, seed, train, valid));
    const RunTrace& t = runs.back().trace;
    const auto hit = t.first_reaching(c.target);
    progress.done(fmt::format("{} batch {} seed {}", model, batch, seed),
                  fmt::format("validation {}, {} {}", pct(t.last().val_accuracy), pct(c.target, 0),
                              hit ? fmt::format("at epoch {:.2f}", hit->epoch) : "not reached"));
  }
  auto over = [&](auto f) { return spread(each(runs, f)); };
  auto to_target = [&](auto field) {
    return over([&](const SeedRun& r) {
      const auto hit = r.trace.first_reaching(c.target);
      return hit ? double((*hit).*field) : NAN;
    });
  };
  SweepPoint p;
  p.model = model;
  p.batch_size = batch;
  p.seconds_per_epoch = over([&](const SeedRun& r) { return r.trace.train_seconds / r.trace.last().epoch; });
  p.steps_to_target = to_target(&Evaluation::step);
  p.epochs_to_target = to_target(&Evaluation::epoch);
  p.seconds_to_target = to_target(&Evaluation::seconds);
  p.reached = p.steps_to_target.n;
  p.final_accuracy = over([](const SeedRun& r) { return r.trace.last().val_accuracy; });
  p.noise_at_init = over([](const SeedRun& r) { return r.at_init.variance; });
  p.noise_at_end = over([](const SeedRun& r) { return r.at_end.variance; });
  p.signal_at_init = over([](const SeedRun& r) { return r.at_init.signal; });
  p.signal_at_end = over([](const SeedRun& r) { return r.at_end.signal; });
  std::vector<RunTrace> traces;
  for (const SeedRun& r : runs) traces.push_back(r.trace);
  p.epochs = each(traces.front().evaluations, [](const Evaluation& e) { return e.epoch; });
  p.seconds = each(traces.front().evaluations, [](const Evaluation& e) { return e.seconds; });
  p.curve = mean_val_curve(traces);
  return p;
}

std::vector<const SweepPoint*> of_model(const std::vector<SweepPoint>& points, const std::string& model) {
  std::vector<const SweepPoint*> out;
  for (const SweepPoint& p : points)
    if (p.model == model) out.push_back(&p);
  return out;
}

std::string model_name(const std::string& model) { return model == "mlp-bn" ? "with BN" : "without BN"; }

// One colour per batch size; solid with BN, dashed without.
constexpr plot::Rgb kSizeColours[] = {kBlue, kOrange, kGreen, kRed, kPurple, kBrown};

plot::LineChart curves_chart(const SweepResult& r, bool against_seconds) {
  plot::LineChart chart{against_seconds ? "Batch sizes: validation accuracy against training time"
                                        : "Batch sizes: validation accuracy against epochs",
                        against_seconds ? "Training seconds (mean over seeds)" : "Epoch",
                        "Validation accuracy (mean over seeds)", {}};
  std::vector<int> sizes;
  for (const SweepPoint& p : r.points)
    if (std::find(sizes.begin(), sizes.end(), p.batch_size) == sizes.end()) sizes.push_back(p.batch_size);
  for (const SweepPoint& p : r.points) {
    const size_t colour = std::find(sizes.begin(), sizes.end(), p.batch_size) - sizes.begin();
    chart.series.push_back(line(fmt::format("batch {} {}", p.batch_size, model_name(p.model)),
                                against_seconds ? p.seconds : p.epochs, p.curve,
                                kSizeColours[colour % std::size(kSizeColours)],
                                p.model == "mlp-bn" ? plot::Dash::Solid : plot::Dash::Dashed, false));
  }
  return chart;
}

plot::LineChart per_size_chart(const SweepResult& r, const std::string& title, const std::string& ylabel,
                               const std::vector<std::pair<std::string, Spread SweepPoint::*>>& fields, bool log10_y) {
  plot::LineChart chart{title, "log2(batch size)", ylabel, {}};
  const plot::Rgb colours[] = {kBlue, kOrange};
  for (size_t f = 0; f < fields.size(); ++f)
    for (int m = 0; m < 2; ++m) {
      const std::string& suffix = fields[f].first;
    const auto field = fields[f].second;
      const auto points = of_model(r.points, m == 0 ? "mlp-bn" : "mlp");
      const std::vector<double> x = each(points, [](const SweepPoint* p) { return std::log2(p->batch_size); });
      const std::vector<double> y = each(points, [&](const SweepPoint* p) {
        const double v = (p->*field).mean;
        return log10_y ? log10_or_nan(v) : v;
      });
      chart.series.push_back(line(fmt::format("{}{}", m == 0 ? "With BN" : "Without BN", suffix), x, y, colours[m],
                                  f == 0 ? plot::Dash::Solid : plot::Dash::Dashed));
    }
  return chart;
}

nlohmann::json point_json(const SweepPoint& p) {
  return {{"model", p.model},
          {"batch_size", p.batch_size},
          {"seconds_per_epoch", to_json(p.seconds_per_epoch)},
          {"steps_to_target", to_json(p.steps_to_target)},
          {"epochs_to_target", to_json(p.epochs_to_target)},
          {"seconds_to_target", to_json(p.seconds_to_target)},
          {"seeds_reached", p.reached},
          {"final_val_accuracy", to_json(p.final_accuracy)},
          {"gradient_variance_at_init", to_json(p.noise_at_init)},
          {"gradient_variance_at_end", to_json(p.noise_at_end)},
          {"gradient_signal_at_init", to_json(p.signal_at_init)},
          {"gradient_signal_at_end", to_json(p.signal_at_end)},
          {"epochs", p.epochs},
          {"seconds", p.seconds},
          {"val_accuracy_curve", p.curve}};
}

}  // namespace

SweepResult run_batch_size_sweep(const SweepConfig& c, const Dataset& train, const Dataset& valid, const Log& log) {
  const Stopwatch watch;
  const Dataset data = first(train, c.train_size);
  std::vector<int> sizes = c.batch_sizes;
  std::sort(sizes.begin(), sizes.end());
  Progress progress(log, "batch-size sweep", 2 * c.seeds * static_cast<int>(sizes.size()));
  SweepResult r;
  r.target = c.target;
  for (const char* model : {"mlp-bn", "mlp"})
    for (int batch : sizes) r.points.push_back(run_point(c, model, batch, data, valid, progress));
  r.smoother = judge_smoother(r.points);
  r.faster = judge_faster(r.points);
  r.charts = {{"sweep_accuracy_epochs", curves_chart(r, false)},
              {"sweep_accuracy_seconds", curves_chart(r, true)},
              {"sweep_gradient_noise",
               per_size_chart(r, "Batch sizes: variance of the mini-batch gradient", "log10 gradient variance (mean over seeds)",
                              {{" at initialisation", &SweepPoint::noise_at_init}, {" after training", &SweepPoint::noise_at_end}},
                              true)},
              {"sweep_seconds_per_epoch",
               per_size_chart(r, "Batch sizes: training seconds per epoch", "Seconds per epoch (mean over seeds)",
                              {{"", &SweepPoint::seconds_per_epoch}}, false)}};
  r.seconds = watch.seconds();
  return r;
}

Judgement judge_smoother(const std::vector<SweepPoint>& points) {
  std::vector<Test> tests;
  for (const char* model : {"mlp-bn", "mlp"}) {
    const auto ps = of_model(points, model);
    bool falls = ps.size() > 1;
    for (size_t i = 1; i < ps.size(); ++i)
      falls = falls && compare(ps[i]->noise_at_init, ps[i - 1]->noise_at_init, 0.0) == Direction::Lower;
    tests.push_back({fmt::format("{}: the gradient variance at initialisation falls at every larger batch size", model_name(model)),
                     falls});
  }
  return judge(std::move(tests));
}

Judgement judge_faster(const std::vector<SweepPoint>& points) {
  std::vector<Test> tests;
  for (const char* model : {"mlp-bn", "mlp"}) {
    const auto ps = of_model(points, model);
    const SweepPoint& small = *ps.front();
    const SweepPoint& large = *ps.back();
    // A seed that never reached the target makes "faster" unprovable: it needs every seed.
    const bool all_reached = small.reached == small.final_accuracy.n && large.reached == large.final_accuracy.n;
    tests.push_back({fmt::format("{}: batch {} needs fewer epochs to the target than batch {}", model_name(model),
                                 large.batch_size, small.batch_size),
                     all_reached && compare(large.epochs_to_target, small.epochs_to_target, 0.1) == Direction::Lower});
    tests.push_back({fmt::format("{}: batch {} needs less training time to the target than batch {}", model_name(model),
                                 large.batch_size, small.batch_size),
                     all_reached && compare(large.seconds_to_target, small.seconds_to_target,
                                            0.05 * small.seconds_to_target.mean) == Direction::Lower});
  }
  return judge(std::move(tests));
}

nlohmann::json sweep_json(const SweepConfig& c, const SweepResult& r) {
  nlohmann::json points = nlohmann::json::array();
  for (const SweepPoint& p : r.points) points.push_back(point_json(p));
  auto judgement = [](const Judgement& j) {
    nlohmann::json tests = nlohmann::json::array();
    for (const Test& t : j.tests) tests.push_back({{"test", t.what}, {"in_favour", t.in_favour}});
    return nlohmann::json{{"verdict", verdict_name(j.verdict)}, {"tests", tests}};
  };
  return {{"config", {{"batch_sizes", c.batch_sizes}, {"seeds", c.seeds}, {"train_size", c.train_size}, {"epochs", c.epochs},
                      {"target", c.target}, {"eval_every_samples", c.eval_every_samples}, {"lr", c.lr},
                      {"noise_batches", c.noise_batches}}},
          {"seconds", r.seconds},
          {"points", points},
          {"larger_batches_give_smoother_gradients", judgement(r.smoother)},
          {"larger_batches_converge_faster", judgement(r.faster)}};
}

std::string sweep_csv(const SweepResult& r) {
  std::string s =
      "model,batch_size,seconds_per_epoch,steps_to_target,epochs_to_target,seconds_to_target,seeds_reached,"
      "final_val_accuracy,final_val_accuracy_sd,gradient_variance_at_init,gradient_variance_at_end\n";
  for (const SweepPoint& p : r.points)
    s += fmt::format("{},{},{:.4f},{:.1f},{:.3f},{:.2f},{},{:.5f},{:.5f},{:.6g},{:.6g}\n", p.model, p.batch_size,
                     p.seconds_per_epoch.mean, p.steps_to_target.mean, p.epochs_to_target.mean, p.seconds_to_target.mean,
                     p.reached, p.final_accuracy.mean, p.final_accuracy.sd, p.noise_at_init.mean, p.noise_at_end.mean);
  return s;
}

}  // namespace bnlab::experiments
