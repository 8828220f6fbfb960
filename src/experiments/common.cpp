#include "experiments/common.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <thread>

#include "bnlab/core/threads.h"

namespace bnlab::experiments::detail {

Dataset first(const Dataset& data, int64_t n) {
  if (n <= 0 || n >= data.size()) return data;
  return data.slice(0, n, fmt::format(" (first {})", n));
}

TrainSpec base_spec(const Budget& b, const std::string& model, uint64_t seed) {
  TrainSpec s;
  s.model = model;
  s.batch_size = b.batch_size;
  s.lr = b.lr;
  s.seed = seed;
  return s;
}

void for_each_run(int n, FunctionRef<void(int)> fn) {
  const int workers = std::min(n, num_threads());
  if (workers <= 1) {
    for (int i = 0; i < n; ++i) fn(i);
    return;
  }
  std::vector<std::exception_ptr> errors(n);
  std::atomic<int> next{0};
  auto work = [&] {
    set_num_threads(1);  // this thread's OpenMP count (the BLAS is on one thread already)
    for (int i; (i = next.fetch_add(1)) < n;) {
      try {
        fn(i);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
  };
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) threads.emplace_back(work);
  for (std::thread& t : threads) t.join();
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);
}

Progress::Progress(const Log& log, std::string title, int runs)
    : log_(log), title_(std::move(title)), runs_(runs) {}

void Progress::done(const std::string& what, const std::string& result) {
  const std::lock_guard<std::mutex> lock(mutex_);
  ++finished_;
  const double run = since_last_.seconds();
  const double total = since_start_.seconds();
  since_last_.restart();
  const double left = total / finished_ * (runs_ - finished_);
  log_(fmt::format("[{}] run {}/{} {}: {} ({:.1f}s; about {:.0f}s left)", title_, finished_, runs_, what, result, run, left));
}

std::vector<double> mean_val_curve(const std::vector<RunTrace>& runs) {
  size_t points = 0;
  for (const RunTrace& r : runs) points = std::max(points, r.evaluations.size());
  std::vector<double> mean(points, 0.0);
  for (size_t i = 0; i < points; ++i) {
    for (const RunTrace& r : runs) mean[i] += r.evaluations[std::min(i, r.evaluations.size() - 1)].val_accuracy;
    mean[i] /= runs.size();
  }
  return mean;
}

std::vector<double> eval_steps(const RunTrace& run) {
  return each(run.evaluations, [](const Evaluation& e) { return double(e.step); });
}

double log10_or_nan(double v) { return v > 0 ? std::log10(v) : NAN; }

nlohmann::json to_json(const Spread& s) {
  auto number = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
  return {{"mean", number(s.mean)}, {"sd", number(s.sd)}, {"min", number(s.min)}, {"max", number(s.max)},
          {"n", s.n}, {"missing", s.missing}};
}

nlohmann::json to_json(const std::vector<Spread>& s) {
  nlohmann::json out = nlohmann::json::array();
  for (const Spread& x : s) out.push_back(to_json(x));
  return out;
}

plot::Series line(const std::string& label, std::vector<double> x, std::vector<double> y, plot::Rgb colour,
                  plot::Dash dash, bool markers) {
  return {label, std::move(x), std::move(y), colour, dash, markers};
}

std::string pct(double fraction, int decimals) { return fmt::format("{:.{}f}%", 100 * fraction, decimals); }

std::string pct(const Spread& s, int decimals) {
  if (s.n == 0) return "n/a";
  return fmt::format("{:.{}f} ± {:.{}f}%", 100 * s.mean, decimals, 100 * s.sd, decimals);
}

}  // namespace bnlab::experiments::detail
