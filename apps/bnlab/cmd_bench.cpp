// bnlab bench: whole training epochs and steps of the seed's models, timed as medians of repeated
// runs, with the achieved GFLOP/s set against this machine's sgemm peak measured in the same run.
#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
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

// Microseconds for one thread to write 200 KB and another thread then to read it all (cross), and
// for one thread to do both (same thread): medians of 5 blocks of 400 rounds, on threads 0 and 1.
// Every step of bnlab's models hands data like this between its threads. On a machine whose two
// cores share their caches the two times are about equal; where they sit on different core
// complexes (this project's VM, some of the time: docs/performance.md) the handoff takes twice as
// long or more, and bnlab's 2-thread steps take about 1.5 to 1.8 times as long. bnlab bench prints
// it so that each run says which state it was measured in. Empty when bnlab runs on one thread, or
// should the region get only one (set_num_threads rules out OMP_THREAD_LIMIT and OMP_DYNAMIC).
struct Handoff {
  double cross_us = 0, same_thread_us = 0;
};

std::optional<Handoff> handoff_us() {
  if (num_threads() < 2) return std::nullopt;
  constexpr int kFloats = 200 * 1024 / 4, kRounds = 400, kBlocks = 5;
  std::vector<float> storage(kFloats, 1.0f);
  float* const buf = storage.data();  // (through the vector, GCC reloads its data pointer every element)
  std::vector<double> times[2];
  float sink = 0;
  int team = 0;
#pragma omp parallel num_threads(2) reduction(+ : sink)
  {
    const int t = omp_get_thread_num();
    if (t == 0) team = omp_get_num_threads();
    for (int block = 0; block < kBlocks; ++block) {
      for (int cross = 1; cross >= 0; --cross) {
#pragma omp barrier
        const Stopwatch watch;
        for (int r = 0; r < kRounds; ++r) {
          const int writer = cross ? r & 1 : 0, reader = cross ? 1 - writer : 0;
          if (t == writer)
            for (int i = 0; i < kFloats; ++i) buf[i] = static_cast<float>(r + i);
#pragma omp barrier
          if (t == reader) {
            float s = 0;
#pragma omp simd reduction(+ : s)
            for (int i = 0; i < kFloats; ++i) s += buf[i];
            sink += s;
          }
#pragma omp barrier
        }
        if (t == 0) times[cross].push_back(watch.seconds() * 1e6 / kRounds);
      }
    }
  }
  volatile float keep = sink;  // the reads are not dead code
  (void)keep;
  if (team < 2) return std::nullopt;
  return Handoff{median(times[1]), median(times[0])};
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

  // Each thread count that really runs is measured once: the JSON keys its peak and handoff by it.
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
    if (const auto h = handoff_us()) {
      out["handoff_us"][std::to_string(threads)] = {{"cross", h->cross_us}, {"same_thread", h->same_thread_us}};
      console.print("threads {}: 200 KB handed to another thread in {:.1f} us (same thread {:.1f} us)\n", threads,
                    h->cross_us, h->same_thread_us);
    }
    // On 2 threads or more each row ends with the handoff time measured right after it: the state can
    // change within a run.
    const bool handoff_column = threads > 1;
    console.print("  {:<8} {:>6} {:>10} {:>12} {:>9} {:>8}{}\n", "model", "batch", "ms/step", "samples/s", "GFLOP/s", "of peak",
                  handoff_column ? "  handoff us" : "");
    for (const std::string& model : o.models) {
      for (int batch : o.batch_sizes) {
        const auto [ms, flops] = time_steps(model, data.train, batch, o.steps, o.repeats, !o.plain);
        const double gflops = flops / (ms / 1000.0) / 1e9;
        json row = {{"model", model}, {"batch", batch}, {"threads", threads}, {"ms_per_step", ms},
                    {"samples_per_s", batch / (ms / 1000.0)}, {"gflops", gflops}, {"peak_fraction", gflops / peak}};
        std::string handoff;
        if (handoff_column) {
          const auto h = handoff_us();
          if (h) row["handoff_us"] = h->cross_us;
          handoff = h ? fmt::format(" {:>11.1f}", h->cross_us) : fmt::format(" {:>11}", "-");
        }
        console.print("  {:<8} {:>6} {:>10.3f} {:>12.0f} {:>9.1f} {:>7.0f}%{}\n", model, batch, ms, batch / (ms / 1000.0), gflops,
                      100.0 * gflops / peak, handoff);
        out["steps"].push_back(row);
      }
    }
  }
  if (o.epoch_repeats > 0) {
    apply_threads(cores);
    const int threads = num_threads();
    console.print("full epochs ({} training images, {} threads, median of {}):\n", data.train.size(), threads, o.epoch_repeats);
    // The handoff before the epochs and after each workload's, so that a state change between
    // workloads (which a ratio of two of them would hide) shows.
    const auto before = handoff_us();
    std::optional<Handoff> after;
    for (const auto& [model, batch] : {std::pair<std::string, int>{"mlp", 32}, {"mlp-bn", 64}, {"mlp", 64}}) {
      const double s = epoch_seconds(model, data.train, batch, o.epoch_repeats, !o.plain);
      json row = {{"model", model}, {"batch", batch}, {"threads", threads}, {"seconds", s}};
      after = handoff_us();
      if (after) row["handoff_after_us"] = after->cross_us;
      console.print("  {:<8} batch {:>3}: {:.3f} s/epoch{}\n", model, batch, s,
                    after ? fmt::format(" (then 200 KB handed across in {:.1f} us)", after->cross_us) : "");
      out["epochs"].push_back(row);
    }
    if (before && after) {
      out["epochs_handoff_us"] = {{"before", before->cross_us}, {"after", after->cross_us}};
      console.print("  200 KB handed to another thread in {:.1f} us before the epochs, {:.1f} us after\n",
                    before->cross_us, after->cross_us);
    }
  }
  if (o.json) fmt::print("{}\n", out.dump(2));
  return 0;
}

}  // namespace bnlab::cli
