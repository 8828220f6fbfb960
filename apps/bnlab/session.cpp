#include "session.h"

#include <fmt/format.h>

#include <unistd.h>

#include <fstream>
#include <set>
#include <type_traits>
#include <utility>

#include "bnlab/core/error.h"
#include "bnlab/core/stopwatch.h"
#include "bnlab/core/threads.h"
#include "bnlab/data/cache.h"
#include "bnlab/data/catalog.h"
#include "bnlab/data/fetch.h"
#include "bnlab/io/atomic_file.h"
#include "bnlab/model/spec.h"
#include "bnlab/model/training_state.h"
#include "progress.h"

namespace bnlab::cli {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {
std::unique_ptr<Optimizer> make_run_optimizer(const RunConfig& c) {
  try {
    return make_optimizer(c.optimizer, c.lr, c.momentum);
  } catch (const InputError& e) {
    throw InputError(fmt::format("--optimizer: {}", e.what()));
  }
}

NonFinitePolicy non_finite_policy(const std::string& name) {
  if (name == "stop") return NonFinitePolicy::Stop;
  if (name == "skip-batch") return NonFinitePolicy::SkipBatch;
  throw InputError(fmt::format("--on-nan: unknown policy '{}' (stop, skip-batch)", name));
}

// Every dataset bnlab knows has 28 x 28 images, so a spec can be built before the data are loaded.
const Shape kImageShape{28, 28};
}  // namespace

void apply_threads(int threads) {
  if (threads < 0) throw InputError(fmt::format("--threads: must be 0 (one per core) or positive, got {}", threads));
  set_num_threads(threads);
}

DatasetSplits load_data(const DataOptions& o, const Console& console) {
  const fs::path root = resolve_data_root(o.data_dir ? std::optional<fs::path>(*o.data_dir) : std::nullopt);
  const fs::path dir = dataset_dir(root, o.dataset);
  if (!find_idx_file(dir, "train-images-idx3-ubyte")) {
    console.print("{} is not in {} yet: fetching it\n", o.dataset, dir.string());
    FetchOptions fo;
    fo.progress = [&](const std::string& line) { console.print("  {}\n", line); };
    fetch_dataset(o.dataset, root, fo);
  }
  return load_splits(dir, o.dataset);
}

Dataset load_split_by_name(const DataOptions& o, const std::string& split, const Console& console) {
  if (split != "train" && split != "valid" && split != "test")
    throw InputError(fmt::format("--split: unknown split '{}' (train, valid, test)", split));
  DatasetSplits s = load_data(o, console);
  return split == "train" ? std::move(s.train) : split == "valid" ? std::move(s.valid) : std::move(s.test);
}

RunConfig default_config(const std::string& model) {
  RunConfig c;
  c.model = model;
  if (model == "mlp") {
    c.epochs = 30;
    c.batch_size = 32;
  } else if (model == "mlp-bn") {
    c.epochs = 15;
    c.batch_size = 64;
  }
  return c;
}

std::string evaluate_line(const Metrics& m, int64_t steps, double seconds) {
  return fmt::format("{} - accuracy: {:.4f} - loss: {:.4f}", progress_bar(steps, steps, seconds, true), m.accuracy, m.loss);
}

void validate_config(const RunConfig& config) {
  if (config.epochs <= 0) throw InputError(fmt::format("--epochs: must be positive, got {}", config.epochs));
  if (config.batch_size <= 0) throw InputError(fmt::format("--batch-size: must be positive, got {}", config.batch_size));
  if (!(config.lr > 0) || !std::isfinite(config.lr)) throw InputError(fmt::format("--lr: must be a positive number, got {}", config.lr));
  if (config.max_steps == 0 || config.max_steps < -1) throw InputError(fmt::format("--max-steps: must be positive, got {}", config.max_steps));
  if (config.subset < 0) throw InputError(fmt::format("--subset: must be positive, got {}", config.subset));
  if (!(config.momentum >= 0.0 && config.momentum < 1.0))
    throw InputError(fmt::format("--momentum: must be in [0, 1), got {}", config.momentum));
  try {
    known_checksums(config.dataset);
  } catch (const InputError& e) {
    throw InputError(fmt::format("--dataset: {}", e.what()));
  }
  non_finite_policy(config.on_nan);
  try {
    make_model(config.model).build(kImageShape, config.seed);
  } catch (const InputError& e) {
    throw InputError(fmt::format("--model: {}", e.what()));
  }
  make_run_optimizer(config);
  if (config.init_from && !fs::is_regular_file(*config.init_from))
    throw InputError(fmt::format("--init-from {}: no such file", *config.init_from));
}

namespace {
int64_t skipped_batches(const History& h) {
  int64_t n = 0;
  for (const EpochLogs& e : h.epochs) n += e.skipped;
  return n;
}

// The run's training state to continue from, or nothing to start afresh.
std::optional<TrainingPosition> resume_position(const Checkpointing* checkpointing, Sequential& model,
                                                const RunConfig& config, const Dataset& train, const Console& console) {
  if (!checkpointing || !checkpointing->resume) return std::nullopt;
  const fs::path& file = checkpointing->state_file;
  if (!fs::exists(file)) {
    console.print("{} holds no checkpoint yet (stopped in its first epoch): training from the start\n",
                  file.parent_path().string());
    return std::nullopt;
  }
  TrainingPosition p = load_training_state(file, model, train.size(), config.batch_size);
  console.print("Resuming from {}: epoch {}, step {}\n", file.string(), p.epoch, p.step);
  return p;
}

void fit_model(TrainedRun& run, const RunConfig& config, const DatasetSplits& data, const Console& console,
               const Checkpointing* checkpointing) {
  const std::optional<TrainingPosition> resumed = resume_position(checkpointing, run.model, config, data.train, console);
  if (config.init_from && !resumed) load_weights(*config.init_from, run.model);
  KerasProgress progress(console);
  FitOptions fit;
  fit.epochs = config.epochs;
  fit.batch_size = config.batch_size;
  fit.shuffle = config.shuffle;
  fit.seed = config.seed;
  fit.validation = &data.valid;
  fit.max_steps = config.max_steps;
  fit.callback = &progress;
  fit.on_non_finite = non_finite_policy(config.on_nan);
  if (resumed) fit.resume = &*resumed;
  if (checkpointing) {
    fit.stop_requested = checkpointing->stop_requested;
    fit.checkpoint = [&](const TrainingPosition& p) {
      save_training_state(checkpointing->state_file, run.model, p);
      if (checkpointing->on_saved) checkpointing->on_saved();
    };
  }
  const Stopwatch watch;
  run.history = run.model.fit(data.train, fit);
  run.train_seconds = watch.seconds();
  if (const int64_t skipped = skipped_batches(run.history))
    fmt::print(stderr, "warning: skipped {} batches with a non-finite loss or gradient (--on-nan skip-batch)\n", skipped);
}
}  // namespace

TrainedRun train_and_evaluate(const RunConfig& config, const DatasetSplits& data, const Console& console, bool unscaled_test,
                              const Checkpointing* checkpointing) {
  validate_config(config);
  TrainedRun run;
  run.config = config;
  run.model = make_model(config.model);
  run.model.build(Shape(data.train.sample_shape), config.seed);
  run.model.compile(make_run_optimizer(config));
  run.summary = run.model.summary(config.model);
  console.print("{}\n", run.summary);
  run.train_inputs = input_stats(data.train);
  fit_model(run, config, data, console, checkpointing);

  run.valid = run.model.evaluate(data.valid, 32);
  const Stopwatch test_watch;
  run.test = run.model.evaluate(data.test, 32);
  console.print("Test ({} images):\n{}\n", data.test.size(), evaluate_line(run.test, (data.test.size() + 31) / 32, test_watch.seconds()));
  if (unscaled_test) {
    Dataset raw = data.test;
    raw.divide_by = 1.0;
    raw.name += " (not divided by 255)";
    run.test_unscaled = run.model.evaluate(raw, 32);
    console.print("Test not divided by 255, as the notebook evaluated it:\n{}\n",
                  evaluate_line(*run.test_unscaled, (raw.size() + 31) / 32, 0.0));
  }

  std::vector<int64_t> indices;
  for (int64_t i : config.predict_indices)
    if (i < data.test.size()) indices.push_back(i);
  const Tensor probs = run.model.predict(data.test, indices);
  const int K = static_cast<int>(probs.dim(1));
  json p = {{"split", "test"}, {"indices", indices}, {"probabilities", json::array()}, {"predicted", json::array()},
            {"actual", json::array()}, {"images", json::array()}};
  const int64_t f = data.test.features();
  for (size_t r = 0; r < indices.size(); ++r) {
    std::vector<double> row(probs.data() + r * K, probs.data() + (r + 1) * K);
    p["probabilities"].push_back(row);
    p["predicted"].push_back(std::max_element(row.begin(), row.end()) - row.begin());
    p["actual"].push_back(data.test.labels[indices[r]]);
    p["images"].push_back(std::vector<int>(data.test.pixels.begin() + indices[r] * f, data.test.pixels.begin() + (indices[r] + 1) * f));
  }
  run.predictions = p;
  return run;
}

RunDirGuard::RunDirGuard(const fs::path& dir, const std::string& flag) : dir_(dir) {
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    if (!fs::is_directory(dir, ec)) throw InputError(fmt::format("{} {}: exists and is not a directory", flag, dir.string()));
    if (!fs::is_empty(dir, ec))
      throw InputError(fmt::format("{} {}: directory is not empty; choose a new one (an earlier run is never overwritten)", flag, dir.string()));
  } else {
    fs::path top = fs::absolute(dir, ec);
    while (top.has_parent_path() && top.parent_path() != top && !fs::exists(top.parent_path(), ec)) top = top.parent_path();
    fs::create_directories(dir, ec);
    if (ec) throw InputError(fmt::format("{} {}: cannot create directory: {}", flag, dir.string(), ec.message()));
    created_ = top;
  }
  if (access(dir.c_str(), W_OK) != 0) throw InputError(fmt::format("{} {}: directory is not writable", flag, dir.string()));
}

RunDirGuard::~RunDirGuard() {
  if (keep_) return;
  std::error_code ec;
  if (!created_.empty()) {
    fs::remove_all(created_, ec);
    return;
  }
  for (const auto& entry : fs::directory_iterator(dir_, ec)) fs::remove_all(entry.path(), ec);  // it was empty
}

void write_text_atomic(const fs::path& path, const std::string& text) { write_file_atomic(path, text); }

namespace {
json metrics(const Metrics& m) { return {{"loss", m.loss}, {"accuracy", m.accuracy}}; }

std::string history_csv(const History& h) {
  std::string s = "epoch,loss,accuracy,val_loss,val_accuracy,seconds\n";
  for (const EpochLogs& e : h.epochs)
    s += fmt::format("{},{:.8g},{:.8g},{:.8g},{:.8g},{:.4f}\n", e.epoch, e.loss, e.accuracy, e.val_loss, e.val_accuracy, e.seconds);
  return s;
}
}  // namespace

json run_metrics_json(const TrainedRun& run) {
  const RunConfig& c = run.config;
  json test = metrics(run.test);
  if (run.test_unscaled) test["unscaled"] = metrics(*run.test_unscaled);
  Sequential& model = const_cast<Sequential&>(run.model);
  json history = json::array();
  for (const EpochLogs& e : run.history.epochs)
    history.push_back({{"epoch", e.epoch}, {"loss", e.loss}, {"accuracy", e.accuracy}, {"val_loss", e.val_loss},
                       {"val_accuracy", e.val_accuracy}, {"seconds", e.seconds}});
  json out = {{"model", c.model},
              {"spec", model.spec()},
              {"dataset", c.dataset},
              {"epochs", c.epochs},
              {"epochs_run", run.history.epochs.size()},
              {"batch_size", c.batch_size},
              {"optimizer", c.optimizer},
              {"lr", c.lr},
              {"seed", c.seed},
              {"threads", num_threads()},
              {"train_seconds", run.train_seconds},
              {"params", {{"total", model.count_params(true) + model.count_params(false)},
                          {"trainable", model.count_params(true)},
                          {"non_trainable", model.count_params(false)}}},
              {"test", test},
              {"valid", metrics(run.valid)},
              {"history", history},
              {"predictions", run.predictions}};
  // Only runs with --on-nan skip-batch that met a bad batch say so.
  if (const int64_t skipped = skipped_batches(run.history)) out["skipped_batches"] = skipped;
  return out;
}

void write_run_dir(const fs::path& dir, TrainedRun& run) {
  save_checkpoint(dir / "model.safetensors", run.model, run.train_inputs, run.config.dataset);
  write_text_atomic(dir / "history.csv", history_csv(run.history));
  write_text_atomic(dir / "summary.txt", run.summary);
  write_text_atomic(dir / "metrics.json", run_metrics_json(run).dump(2) + "\n");
}

namespace {
constexpr const char* kConfigFormat = "bnlab.train_config";
constexpr int kConfigFormatVersion = 1;
constexpr uintmax_t kMaxConfigBytes = 1 << 20;

json optional_text(const std::optional<std::string>& s) { return s ? json(*s) : json(nullptr); }

// Reads config.json's values strictly: a missing key or a value of the wrong type or range is an
// InputError naming the file and the key.
class ConfigReader {
 public:
  ConfigReader(const json& j, const fs::path& file) : j_(j), file_(file.string()) {}

  [[noreturn]] void fail(const std::string& what) const { throw InputError(fmt::format("{}: {}", file_, what)); }

  template <class T>
  T get(const char* key) const {
    const json& v = field(key);
    if (!has_type<T>(v)) fail(fmt::format("'{}' is {}, not {}", key, v.dump(), type_name<T>()));
    return v.get<T>();
  }

  std::optional<std::string> optional_string(const char* key) const {
    if (field(key).is_null()) return std::nullopt;
    return get<std::string>(key);
  }

 private:
  const json& field(const char* key) const {
    const auto it = j_.find(key);
    if (it == j_.end()) fail(fmt::format("no '{}'", key));
    return *it;
  }

  template <class T>
  static bool has_type(const json& v) {
    if constexpr (std::is_same_v<T, bool>) {
      return v.is_boolean();
    } else if constexpr (std::is_same_v<T, std::string>) {
      return v.is_string();
    } else if constexpr (std::is_unsigned_v<T>) {
      return v.is_number_unsigned();
    } else if constexpr (std::is_integral_v<T>) {
      return v.is_number_integer() && !(v.is_number_unsigned() && v.get<uint64_t>() > INT64_MAX) &&
             std::in_range<T>(v.get<int64_t>());
    } else {
      return v.is_number();
    }
  }

  template <class T>
  static const char* type_name() {
    if constexpr (std::is_same_v<T, bool>) return "true or false";
    if constexpr (std::is_same_v<T, std::string>) return "a string";
    if constexpr (std::is_unsigned_v<T>) return "a non-negative integer";
    if constexpr (std::is_integral_v<T>) return "an integer in range";
    return "a number";
  }

  const json& j_;
  std::string file_;
};

json read_json_file(const fs::path& file) {
  std::error_code ec;
  const uintmax_t size = fs::file_size(file, ec);
  if (ec) throw InputError(fmt::format("cannot read {}: {}", file.string(), ec.message()));
  if (size > kMaxConfigBytes) throw InputError(fmt::format("{}: {} bytes is too large for a run's config", file.string(), size));
  std::ifstream in(file, std::ios::binary);
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (!in) throw InputError(fmt::format("cannot read {}", file.string()));
  try {
    return json::parse(text);
  } catch (const json::exception&) {
    throw InputError(fmt::format("{}: not valid JSON", file.string()));
  }
}
}  // namespace

json config_json(const RunConfig& c) {
  return {{"format", kConfigFormat}, {"format_version", kConfigFormatVersion},
          {"model", c.model},        {"epochs", c.epochs},
          {"batch_size", c.batch_size}, {"optimizer", c.optimizer},
          {"lr", c.lr},              {"momentum", c.momentum},
          {"seed", c.seed},          {"threads", c.threads},
          {"max_steps", c.max_steps}, {"shuffle", c.shuffle},
          {"dataset", c.dataset},    {"data_dir", optional_text(c.data_dir)},
          {"subset", c.subset},      {"init_from", optional_text(c.init_from)},
          {"on_nan", c.on_nan}};
}

RunConfig read_config_json(const fs::path& file) {
  const json j = read_json_file(file);
  const ConfigReader r(j, file);
  if (!j.is_object()) r.fail("not a JSON object");
  const std::set<std::string> known = {"format", "format_version", "model", "epochs", "batch_size", "optimizer",
                                       "lr", "momentum", "seed", "threads", "max_steps", "shuffle", "dataset",
                                       "data_dir", "subset", "init_from", "on_nan"};
  for (const auto& [key, value] : j.items())
    if (!known.count(key)) r.fail(fmt::format("unknown setting '{}'", key));
  if (r.get<std::string>("format") != kConfigFormat) r.fail(fmt::format("not a bnlab train config (format '{}')", r.get<std::string>("format")));
  if (r.get<int>("format_version") != kConfigFormatVersion)
    r.fail(fmt::format("config format version {} is not supported (this bnlab reads version {})", r.get<int>("format_version"),
                       kConfigFormatVersion));
  RunConfig c;
  c.model = r.get<std::string>("model");
  c.epochs = r.get<int>("epochs");
  c.batch_size = r.get<int>("batch_size");
  c.optimizer = r.get<std::string>("optimizer");
  c.lr = r.get<double>("lr");
  c.momentum = r.get<double>("momentum");
  c.seed = r.get<uint64_t>("seed");
  c.threads = r.get<int>("threads");
  c.max_steps = r.get<int64_t>("max_steps");
  c.shuffle = r.get<bool>("shuffle");
  c.dataset = r.get<std::string>("dataset");
  c.data_dir = r.optional_string("data_dir");
  c.subset = r.get<int64_t>("subset");
  c.init_from = r.optional_string("init_from");
  c.on_nan = r.get<std::string>("on_nan");
  return c;
}

namespace {
std::atomic<bool> stop_flag{false};
std::atomic<int> stop_signal{0};
static_assert(std::atomic<bool>::is_always_lock_free && std::atomic<int>::is_always_lock_free,
              "a signal handler may only touch lock-free atomics");

void request_stop(int signal) {
  stop_signal.store(signal);
  stop_flag.store(true);
}
}  // namespace

StopOnSignals::StopOnSignals() {
  stop_flag.store(false);
  stop_signal.store(0);
  struct sigaction action {};
  action.sa_handler = request_stop;
  sigemptyset(&action.sa_mask);
  // SA_RESETHAND: a second signal takes the default action and ends the process at once.
  // SA_RESTART: system calls in progress (file writes) go on rather than fail with EINTR.
  action.sa_flags = SA_RESETHAND | SA_RESTART;
  sigaction(SIGINT, &action, &old_int_);
  sigaction(SIGTERM, &action, &old_term_);
}

StopOnSignals::~StopOnSignals() {
  sigaction(SIGINT, &old_int_, nullptr);
  sigaction(SIGTERM, &old_term_, nullptr);
}

const std::atomic<bool>* StopOnSignals::flag() const { return &stop_flag; }
int StopOnSignals::received() const { return stop_signal.load(); }

}  // namespace bnlab::cli
