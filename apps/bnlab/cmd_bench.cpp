// bnlab bench: whole training epochs and steps of the notebook's models, timed as medians of
// repeated runs, with the achieved GFLOP/s set against this machine's sgemm peak measured in the
// same run.
#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <thread>

#include "bnlab/core/blas.h"
#include "bnlab/core/error.h"
#include "bnlab/core/stopwatch.h"
#include "bnlab/core/threads.h"
#include "bnlab/model/fit.h"
#include "bnlab/model/plan.h"
#include "bnlab/model/spec.h"
#include "commands.h"
#include "datasets.h"
#include "threads_option.h"

namespace bnlab::cli {
using json = nlohmann::json;

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

Sequential make_trainable(const std::string& name, const Dataset& train, uint64_t seed) {
  Sequential m = make_model(name);
  m.build(Shape(train.sample_shape), seed);
  m.compile(std::make_unique<Adam>());
  return m;
}

// Median ms per step over `windows` runs of `steps` consecutive steps (after a warm-up window),
// and the matrix-product FLOPs of one step. Each step gathers its batch inside the step, as fit does.
struct StepTiming {
  double ms = 0.0, flops = 0.0;
};

StepTiming time_steps(const std::string& name, const Dataset& train, int batch, int steps, int windows, bool fuse) {
  Sequential m = make_trainable(name, train, 1);
  TrainingPlan plan(m, {fuse});
  std::vector<int32_t> y(batch);
  std::vector<double> times;
  int64_t begin = 0;
  for (int w = 0; w < windows + 1; ++w) {
    const Stopwatch watch;
    for (int s = 0; s < steps; ++s) {
      if (begin + batch > train.size()) begin = 0;
      plan.train_step(batch, y.data(), [&](float* x, int copy) {
        train.gather_range(x, copy == 0 ? y.data() : nullptr, begin, batch);
      });
      begin += batch;
    }
    if (w) times.push_back(watch.seconds() * 1000.0 / steps);
  }
  return {median(times), plan.product_flops(batch)};
}

// Median seconds of one full training epoch (fit: shuffled, 55,000 images, no validation).
double epoch_seconds(const std::string& name, const Dataset& train, int batch, int repeats, bool fuse) {
  std::vector<double> times;
  for (int r = 0; r < repeats; ++r) {
    Sequential m = make_trainable(name, train, 1 + r);
    FitOptions fit;
    fit.batch_size = batch;
    fit.seed = 1 + r;
    fit.fuse = fuse;
    const Stopwatch watch;
    m.fit(train, fit);
    times.push_back(watch.seconds());
  }
  return median(times);
}

// Epochs of the notebook's protocol after training to there: the regime a user waits through,
// where subnormal floats have appeared (bnlab/core/denormals.h). One run of kTrainedEpochs epochs
// from seed 1; the median wall time of its last kTimedEpochs.
constexpr int kTrainedEpochs = 12, kTimedEpochs = 3;

double trained_epoch_seconds(const std::string& name, const Dataset& train, int batch, bool fuse) {
  struct EpochTimes : TrainingCallback {
    std::vector<double> seconds;
    void on_epoch_end(const EpochLogs& logs) override { seconds.push_back(logs.seconds); }
  } times;
  Sequential m = make_trainable(name, train, 1);
  FitOptions fit;
  fit.epochs = kTrainedEpochs;
  fit.batch_size = batch;
  fit.seed = 1;
  fit.fuse = fuse;
  fit.callback = &times;
  m.fit(train, fit);
  return median({times.seconds.end() - kTimedEpochs, times.seconds.end()});
}

// Every flag checked before anything runs: one line naming it.
void check_bench_options(const BenchOptions& o) {
  if (o.steps < 1) throw InputError(fmt::format("--steps: must be positive, got {}", o.steps));
  if (o.repeats < 1) throw InputError(fmt::format("--repeats: must be positive, got {}", o.repeats));
  if (o.epoch_repeats < 0) throw InputError(fmt::format("--epoch-repeats: must not be negative, got {}", o.epoch_repeats));
  if (o.models.empty()) throw InputError("--models: needs at least one model");
  for (int b : o.batch_sizes)
    if (b < 1) throw InputError(fmt::format("--batch-sizes: must be positive, got {}", b));
  for (int t : o.threads)
    if (t < 1 || t > 1024) throw InputError(fmt::format("--threads: must be from 1 to 1024, got {}", t));
  for (const std::string& model : o.models) {
    try {
      make_model(model);
    } catch (const InputError& e) {
      throw InputError(fmt::format("--models: {}", e.what()));
    }
  }
}

}  // namespace

int run_bench(const BenchOptions& o) {
  check_bench_options(o);
  const Console console(o.json);
  DataOptions data_opts;
  data_opts.data_dir = o.data_dir;
  const DatasetSplits data = load_data(data_opts, console);
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const std::vector<int> thread_counts = o.threads.empty() ? std::vector<int>{1, cores} : o.threads;
  json out = {{"blas", blas_name()}, {"cores", cores}, {"steps", json::array()}, {"epochs", json::array()}};

  // Each thread count that really runs is measured once: the JSON keys its peak by it.
  std::vector<int> measured;
  for (int requested : thread_counts) {
    apply_threads(requested);
    const int threads = num_threads();  // fewer under OMP_THREAD_LIMIT
    if (std::find(measured.begin(), measured.end(), threads) != measured.end()) {
      console.print("threads {}: already measured{}\n", threads,
                    requested == threads ? "" : fmt::format(" (--threads {} runs {} here)", requested, threads));
      continue;
    }
    measured.push_back(threads);
    const double peak = sgemm_peak_gflops(1536, 5);
    out["sgemm_peak_gflops"][std::to_string(threads)] = peak;
    console.print("threads {}: sgemm peak {:.1f} GFLOP/s ({})\n", threads, peak, blas_name());
    console.print("  {:<8} {:>6} {:>10} {:>12} {:>9} {:>8}\n", "model", "batch", "ms/step", "samples/s", "GFLOP/s",
                  "of peak");
    for (const std::string& model : o.models) {
      for (int batch : o.batch_sizes) {
        const auto [ms, flops] = time_steps(model, data.train, batch, o.steps, o.repeats, !o.plain);
        const double gflops = flops / (ms / 1000.0) / 1e9;
        json row = {{"model", model}, {"batch", batch}, {"threads", threads}, {"ms_per_step", ms},
                    {"samples_per_s", batch / (ms / 1000.0)}, {"gflops", gflops}, {"peak_fraction", gflops / peak}};
        console.print("  {:<8} {:>6} {:>10.3f} {:>12.0f} {:>9.1f} {:>7.0f}%\n", model, batch, ms, batch / (ms / 1000.0),
                      gflops, 100.0 * gflops / peak);
        out["steps"].push_back(row);
      }
    }
  }
  if (o.epoch_repeats > 0) {
    apply_threads(cores);
    const int threads = num_threads();
    console.print("full epochs ({} training images, {} threads, median of {}):\n", data.train.size(), threads, o.epoch_repeats);
    for (const auto& [model, batch] : {std::pair<std::string, int>{"mlp", 32}, {"mlp-bn", 64}, {"mlp", 64}}) {
      const double s = epoch_seconds(model, data.train, batch, o.epoch_repeats, !o.plain);
      out["epochs"].push_back({{"model", model}, {"batch", batch}, {"threads", threads}, {"regime", "fresh"}, {"seconds", s}});
      console.print("  {:<8} batch {:>3}: {:.3f} s/epoch\n", model, batch, s);
    }
    console.print("trained epochs ({} to {} of one run, after training to there; median):\n",
                  kTrainedEpochs - kTimedEpochs + 1, kTrainedEpochs);
    for (const auto& [model, batch] : {std::pair<std::string, int>{"mlp", 32}, {"mlp-bn", 64}}) {
      const double s = trained_epoch_seconds(model, data.train, batch, !o.plain);
      out["epochs"].push_back({{"model", model}, {"batch", batch}, {"threads", threads}, {"regime", "trained"},
                               {"epochs", fmt::format("{}-{}", kTrainedEpochs - kTimedEpochs + 1, kTrainedEpochs)},
                               {"seconds", s}});
      console.print("  {:<8} batch {:>3}: {:.3f} s/epoch\n", model, batch, s);
    }
  }
  if (o.json) fmt::print("{}\n", out.dump(2));
  return 0;
}

}  // namespace bnlab::cli
