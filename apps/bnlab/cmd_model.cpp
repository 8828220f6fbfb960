// bnlab summary | train | evaluate | predict
#include <charconv>
#include <cmath>
#include <csignal>
#include <optional>
#include <nlohmann/json.hpp>

#include "bnlab/core/denormals.h"
#include "bnlab/core/error.h"
#include "bnlab/core/stopwatch.h"
#include "bnlab/core/threads.h"
#include "bnlab/data/user_data.h"
#include "bnlab/model/checkpoint.h"
#include "bnlab/model/spec.h"
#include "bnlab/report/report.h"
#include "commands.h"
#include "datasets.h"
#include "progress.h"
#include "ranks.h"
#include "run_config.h"
#include "run_dir.h"
#include "stop_signals.h"
#include "threads_option.h"
#include "train_run.h"

namespace bnlab::cli {
namespace fs = std::filesystem;
using json = nlohmann::json;

int run_summary(const std::string& model, bool as_json) {
  const Console console(as_json);
  Sequential m;
  try {
    m = make_model(model);
    m.build(Shape{28, 28}, 1);
  } catch (const InputError& e) {
    throw InputError(fmt::format("--model: {}", e.what()));
  }
  console.print("{}", m.summary(model));
  if (as_json)
    fmt::print("{}\n", json{{"model", model}, {"spec", m.spec()}, {"total", m.count_params(true) + m.count_params(false)},
                            {"trainable", m.count_params(true)}, {"non_trainable", m.count_params(false)}}
                           .dump(2));
  return 0;
}

namespace {
constexpr const char* kStateFile = "train_state.safetensors";
constexpr const char* kConfigFile = "config.json";

// The settings of a new run, checked.
RunConfig config_from_flags(const TrainOptions& o) {
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
  c.data_dir = o.data.data_dir;
  c.channels = o.data.channels;
  c.valid = o.data.valid;
  c.subset = o.subset;
  c.init_from = o.init_from;
  c.on_nan = o.on_nan.value_or("stop");
  c.ranks = run_ranks().size();
  c.bn_sync = o.bn_sync;
  c.denormals = denormals_name(denormals());  // as bnlab's main set it
  // Paths as absolute, so that --resume from another working directory finds the same files.
  if (c.data_dir) c.data_dir = fs::absolute(*c.data_dir).string();
  if (is_user_dataset(c.dataset)) c.dataset = fs::absolute(c.dataset).lexically_normal().string();
  if (c.init_from) c.init_from = fs::absolute(*c.init_from).string();
  validate_config(c);
  return c;
}

// The settings a run was started with, checked (the few flags --resume accepts may change how it
// goes on).
RunConfig resumed_config(const TrainOptions& o, const fs::path& dir, const Console& console) {
  if (!fs::is_directory(dir)) throw InputError(fmt::format("--resume {}: no such run directory", dir.string()));
  if (!fs::exists(dir / kConfigFile))
    throw InputError(fmt::format("--resume {}: no {}; not a run directory of bnlab train", dir.string(), kConfigFile));
  if (fs::exists(dir / "metrics.json"))
    throw InputError(fmt::format("--resume {}: the run is complete (metrics.json exists); nothing to resume", dir.string()));
  if (o.denormals)
    throw InputError(fmt::format("--denormals: a resumed run keeps the mode it started with ({})",
                                 (dir / kConfigFile).string()));
  RunConfig c = read_config_json(dir / kConfigFile);
  if (c.ranks != run_ranks().size() && bn_sync_mode(c.bn_sync) == BatchNormSync::Global)
    console.print("note: trained so far by {} processes, resumed by {}: the same global batches and BatchNorm "
                  "statistics, summed in another order (equal within rounding, not bit for bit)\n", c.ranks,
                  run_ranks().size());
  else if (c.ranks != run_ranks().size())
    console.print("note: trained so far by {} processes, resumed by {}: --bn-sync local now normalises shards of "
                  "1/{} rather than 1/{} of each global batch\n", c.ranks, run_ranks().size(), run_ranks().size(),
                  c.ranks);
  c.ranks = run_ranks().size();
  if (o.data.data_dir) c.data_dir = fs::absolute(*o.data.data_dir).string();
  if (o.on_nan) c.on_nan = *o.on_nan;
  try {
    validate_config(c);
  } catch (const InputError& e) {
    throw InputError(fmt::format("{}: {}", (dir / kConfigFile).string(), e.what()));
  }
  return c;
}

// One line: what stopped the run and what was kept.
std::string stopped_message(const TrainingStopped& e, const fs::path& dir, int signal) {
  const fs::path state = dir / kStateFile;
  if (e.reason == TrainingStopped::Reason::StopRequested)
    return fmt::format("{} by {}; saved {} (continue with: bnlab train --resume {})", e.what(),
                       signal == SIGTERM ? "SIGTERM" : "SIGINT", state.string(), dir.string());
  if (fs::exists(state))
    return fmt::format("{}; training stopped, the last good checkpoint {} is kept (--resume {} --on-nan skip-batch goes on past such batches)",
                       e.what(), state.string(), dir.string());
  return fmt::format("{}; training stopped before its first checkpoint, nothing kept (--on-nan skip-batch skips such batches)", e.what());
}
}  // namespace

// Under mpirun every rank runs this; rank 0 alone prints and writes the run directory.
int run_train(const TrainOptions& o) {
  const bool lead = run_ranks().rank() == 0;
  const Console console(o.json, !lead);
  if (!o.resume && o.out.empty()) throw InputError("--out is required (or --resume RUN_DIR)");
  const fs::path dir = o.resume ? *o.resume : o.out;
  RunConfig c = o.resume ? resumed_config(o, dir, console) : config_from_flags(o);
  set_denormals(parse_denormals(c.denormals, "--denormals"));
  apply_threads(c.threads);
  c.threads = num_threads();  // a count, not "one per core": a resumed run must use the same
  std::optional<RunDirGuard> out_dir;
  if (!o.resume && lead) {
    out_dir.emplace(dir, "--out");
    write_text_atomic(dir / kConfigFile, config_json(c).dump(2) + "\n");
  }
  DatasetSplits data = load_data(DataOptions{c.dataset, c.data_dir, c.channels, c.valid}, console);
  if (c.subset) data.train = data.train.slice(0, std::min(c.subset, data.train.size()), "[subset]");

  StopOnSignals signals;
  // Once a checkpoint exists the run can be resumed, so a failure from then on keeps the folder.
  const Checkpointing checkpointing{dir / kStateFile, o.resume.has_value(), signals.flag(), [&] {
                                      if (out_dir) out_dir->keep();
                                    }};
  TrainedRun run;
  try {
    run = train_and_evaluate(c, data, console, false, &checkpointing);
  } catch (const TrainingStopped& e) {  // every rank stops at the same step
    if (lead) fmt::print(stderr, "bnlab: {}\n", stopped_message(e, dir, signals.received()));
    return e.reason == TrainingStopped::Reason::StopRequested ? 128 + signals.received() : kExitNonFinite;
  }
  if (!lead) return 0;
  write_run_dir(dir, run);
  report::write_run_charts(dir);
  report::write_report(dir);
  // The run is complete, so nothing is left to resume; metrics.json marks it so even if the state
  // file cannot be removed.
  std::error_code ignored;
  fs::remove(dir / kStateFile, ignored);
  if (out_dir) out_dir->keep();
  console.print("wrote {}/ (model.safetensors, history.csv, summary.txt, metrics.json, config.json, report.html)\n", dir.string());
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
  d.channels = o.channels;
  d.valid = o.valid;
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
  const Stopwatch watch;
  const Metrics m = e.ck.model.evaluate(e.data, o.batch_size);
  const double seconds = watch.seconds();
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
