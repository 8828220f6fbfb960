// bnlab summary | train | evaluate | predict
#include <charconv>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>

#include "bnlab/error.h"
#include "bnlab/model/spec.h"
#include "bnlab/report/report.h"
#include "commands.h"
#include "session.h"

namespace bnlab::cli {
namespace fs = std::filesystem;
using json = nlohmann::json;

int run_summary(const std::string& model, bool as_json) {
  const Console console(as_json);
  Sequential m;
  try {
    m = make_model(model);
  } catch (const InputError& e) {
    throw InputError(fmt::format("--model: {}", e.what()));
  }
  m.build(Shape{28, 28}, 1);
  console.print("{}", m.summary(model));
  if (as_json)
    fmt::print("{}\n", json{{"model", model}, {"spec", m.spec()}, {"total", m.count_params(true) + m.count_params(false)},
                            {"trainable", m.count_params(true)}, {"non_trainable", m.count_params(false)}}
                           .dump(2));
  return 0;
}

int run_train(const TrainOptions& o) {
  const Console console(o.json);
  if (o.out.empty()) throw InputError("--out: a run directory is required");
  apply_threads(o.threads);
  RunConfig c = default_config(o.model);
  if (o.epochs) c.epochs = *o.epochs;
  if (o.batch_size) c.batch_size = *o.batch_size;
  c.lr = o.lr;
  c.optimizer = o.optimizer;
  c.momentum = o.momentum;
  c.seed = o.seed;
  c.threads = o.threads;
  c.max_steps = o.max_steps;
  c.shuffle = !o.no_shuffle;
  c.dataset = o.data.dataset;
  c.init_from = o.init_from;
  if (o.subset < 0) throw InputError(fmt::format("--subset: must be positive, got {}", o.subset));
  validate_config(c);
  RunDirGuard out_dir(o.out, "--out");
  DatasetSplits data = load_data(o.data, console);
  if (o.subset) data.train = data.train.slice(0, std::min(o.subset, data.train.size()), "[subset]");
  TrainedRun run = train_and_evaluate(c, data, console);
  write_run_dir(o.out, run);
  report::write_run_charts(o.out);
  report::write_report(o.out);
  out_dir.keep();
  console.print("wrote {}/ (model.safetensors, history.csv, summary.txt, metrics.json, report.html)\n", o.out);
  if (o.json) fmt::print("{}\n", run_metrics_json(run).dump(2));
  return 0;
}

namespace {
struct Evaluated {
  Checkpoint ck;
  Dataset data;
};

Evaluated load_for_eval(const EvalOptions& o, const Console& console) {
  apply_threads(o.threads);
  if (o.batch_size <= 0) throw InputError(fmt::format("--batch-size: must be positive, got {}", o.batch_size));
  Evaluated e{load_checkpoint(o.checkpoint), {}};
  DataOptions d;
  d.dataset = o.dataset.value_or(e.ck.dataset);
  d.data_dir = o.data_dir;
  e.data = load_split_by_name(d, o.split, console);
  if (o.unscaled) {
    e.data.divide_by = 1.0;
    e.data.name += " (not divided by 255)";
  }
  if (auto warning = scale_mismatch_warning(e.ck.train_inputs, input_stats(e.data), e.data.name))
    fmt::print(stderr, "{}\n", *warning);
  return e;
}
}  // namespace

int run_evaluate(const EvalOptions& o) {
  const Console console(o.json);
  Evaluated e = load_for_eval(o, console);
  const auto t0 = std::chrono::steady_clock::now();
  const Metrics m = e.ck.model.evaluate(e.data, o.batch_size);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  console.print("{}\n", evaluate_line(m, (e.data.size() + o.batch_size - 1) / o.batch_size, seconds));
  if (o.json)
    fmt::print("{}\n", json{{"checkpoint", o.checkpoint}, {"split", o.split}, {"samples", m.samples}, {"loss", m.loss},
                            {"accuracy", m.accuracy}, {"divide_by", e.data.divide_by}}
                           .dump(2));
  return 0;
}

std::vector<int64_t> parse_indices(const std::string& text, int64_t size) {
  auto number = [&](const std::string& s) {
    int64_t v = 0;
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || ptr != s.data() + s.size())
      throw InputError(fmt::format("--indices: '{}' is not a whole number (use 5:12 or 5,6,7)", s));
    return v;
  };
  std::vector<int64_t> out;
  const size_t colon = text.find(':');
  if (colon != std::string::npos) {
    const int64_t lo = number(text.substr(0, colon)), hi = number(text.substr(colon + 1));
    if (lo >= hi) throw InputError(fmt::format("--indices: empty range '{}'", text));
    for (int64_t i = lo; i < hi; ++i) out.push_back(i);
  } else {
    size_t start = 0;
    for (;;) {
      const size_t comma = text.find(',', start);
      out.push_back(number(text.substr(start, comma - start)));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  for (int64_t i : out)
    if (i < 0 || i >= size) throw InputError(fmt::format("--indices: {} is outside [0, {})", i, size));
  if (out.size() > 10000) throw InputError("--indices: at most 10000 at a time");
  return out;
}

int run_predict(const PredictOptions& o) {
  const Console console(o.eval.json);
  Evaluated e = load_for_eval(o.eval, console);
  const std::vector<int64_t> indices = parse_indices(o.indices, e.data.size());
  const Tensor probs = e.ck.model.predict(e.data, indices);
  const int K = static_cast<int>(probs.dim(1));
  json rows = json::array();
  console.print("{:>6}  {:<{}}  predicted  actual\n", "index", "probabilities", 7 * K);
  for (size_t r = 0; r < indices.size(); ++r) {
    const float* p = probs.data() + r * K;
    const int predicted = static_cast<int>(std::max_element(p, p + K) - p);
    const int actual = e.data.labels[indices[r]];
    std::string cells;
    for (int k = 0; k < K; ++k) cells += fmt::format("{:7.3f}", std::round(p[k] * 1000) / 1000 + 0.0);
    console.print("{:>6}  {}  {:>9}  {:>6}{}\n", indices[r], cells, predicted, actual, predicted == actual ? "" : "  ✗");
    rows.push_back({{"index", indices[r]}, {"probabilities", std::vector<float>(p, p + K)}, {"predicted", predicted}, {"actual", actual}});
  }
  if (o.eval.json) fmt::print("{}\n", json{{"checkpoint", o.eval.checkpoint}, {"split", o.eval.split}, {"predictions", rows}}.dump(2));
  return 0;
}

}  // namespace bnlab::cli
