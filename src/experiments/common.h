#pragma once
// What the claim experiments share: data subsets, seeds, progress lines, curves and chart series.
#include <fmt/format.h>

#include <cmath>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bnlab/core/function_ref.h"
#include "bnlab/core/stopwatch.h"
#include "bnlab/experiments/claims.h"

namespace bnlab::experiments::detail {

// The first n samples of data (all of them when n is 0 or larger than the set).
Dataset first(const Dataset& data, int64_t n);

// A TrainSpec with the budget's batch size and Adam learning rate, for the given seed.
TrainSpec base_spec(const Budget& b, const std::string& model, uint64_t seed);

// Runs fn(i) for i in [0, n) and returns the results in that order. With more than one thread
// (set_num_threads), the calls run side by side, each on a thread of its own that runs bnlab on one
// thread: an experiment's runs are independent, and at the batch sizes they use, two one-thread
// runs side by side finish sooner than the same runs one after the other on two threads
// (docs/experiments.md). A run gives the bits it gives alone with --threads 1, whatever runs
// beside it. fn must not touch state that another call touches (Progress::done may be called);
// an exception thrown by a call is rethrown here, the first by index.
void for_each_run(int n, FunctionRef<void(int)> fn);

template <class F>
auto in_parallel(int n, F fn) {
  std::vector<decltype(fn(0))> out(n);
  for_each_run(n, [&](int i) { out[i] = fn(i); });
  return out;
}

// fn(seed) for seeds 1..b.seeds (in_parallel).
template <class F>
auto over_seeds(const Budget& b, F fn) {
  return in_parallel(b.seeds, [&](int i) { return fn(static_cast<uint64_t>(i + 1)); });
}

// f(x) for every x.
template <class T, class F>
std::vector<double> each(const std::vector<T>& xs, F f) {
  std::vector<double> out;
  for (const T& x : xs) out.push_back(f(x));
  return out;
}

// Progress of one experiment: "[2/7 learning rates] run 5/72 mlp-bn sgd lr=0.3 seed 2: 0.9612 (0.4s)".
class Progress {
 public:
  Progress(const Log& log, std::string title, int runs);
  // Logs the run that just finished: what it was and what it gave. Runs side by side may call it.
  void done(const std::string& what, const std::string& result);

 private:
  std::mutex mutex_;
  const Log& log_;
  std::string title_;
  int runs_, finished_ = 0;
  Stopwatch since_start_, since_last_;
};

// Mean validation accuracy at each evaluation index over runs (the runs share the schedule; a run
// that stopped early counts with its last evaluation).
std::vector<double> mean_val_curve(const std::vector<RunTrace>& runs);
std::vector<double> eval_steps(const RunTrace& run);

double log10_or_nan(double v);

nlohmann::json to_json(const Spread& s);
nlohmann::json to_json(const std::vector<Spread>& s);

// tab10 colours: BN blue, no BN orange, LayerNorm green, renorm red, extra purple and brown.
inline constexpr plot::Rgb kBlue{0.122, 0.467, 0.706}, kOrange{1.000, 0.498, 0.055}, kGreen{0.173, 0.627, 0.173},
    kRed{0.839, 0.153, 0.157}, kPurple{0.580, 0.404, 0.741}, kBrown{0.549, 0.337, 0.294};

plot::Series line(const std::string& label, std::vector<double> x, std::vector<double> y, plot::Rgb colour,
                  plot::Dash dash = plot::Dash::Solid, bool markers = true);

// "97.12%"
std::string pct(double fraction, int decimals = 2);
// "97.12 ± 0.10%"
std::string pct(const Spread& s, int decimals = 2);

}  // namespace bnlab::experiments::detail
