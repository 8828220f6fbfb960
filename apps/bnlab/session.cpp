#include "session.h"

#include <fmt/format.h>

#include <chrono>
#include <fstream>
#include <unistd.h>

#include "bnlab/data/cache.h"
#include "bnlab/data/fetch.h"
#include "bnlab/error.h"
#include "bnlab/model/spec.h"
#include "bnlab/threads.h"
#include "progress.h"

namespace bnlab::cli {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {
double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::unique_ptr<Optimizer> make_optimizer(const RunConfig& c) {
  if (c.optimizer == "adam") {
    AdamOptions o;
    o.learning_rate = c.lr;
    return std::make_unique<Adam>(o);
  }
  if (c.optimizer == "sgd") return std::make_unique<SGD>(c.lr, c.momentum);
  throw InputError(fmt::format("--optimizer: unknown optimizer '{}' (adam, sgd)", c.optimizer));
}
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
  try {
    make_model(config.model);
  } catch (const InputError& e) {
    throw InputError(fmt::format("--model: {}", e.what()));
  }
  make_optimizer(config);
  if (config.init_from && !fs::is_regular_file(*config.init_from))
    throw InputError(fmt::format("--init-from {}: no such file", *config.init_from));
}

TrainedRun train_and_evaluate(const RunConfig& config, const DatasetSplits& data, const Console& console, bool unscaled_test) {
  validate_config(config);
  TrainedRun run;
  run.config = config;
  try {
    run.model = make_model(config.model);
  } catch (const InputError& e) {
    throw InputError(fmt::format("--model: {}", e.what()));
  }
  run.model.build(Shape(data.train.sample_shape), config.seed);
  run.model.compile(make_optimizer(config));
  if (config.init_from) load_weights(*config.init_from, run.model);
  run.summary = run.model.summary(config.model);
  console.print("{}\n", run.summary);
  run.train_inputs = input_stats(data.train);

  KerasProgress progress(console);
  FitOptions fit;
  fit.epochs = config.epochs;
  fit.batch_size = config.batch_size;
  fit.shuffle = config.shuffle;
  fit.seed = config.seed;
  fit.validation = &data.valid;
  fit.max_steps = config.max_steps;
  fit.callback = &progress;
  const auto t0 = std::chrono::steady_clock::now();
  run.history = run.model.fit(data.train, fit);
  run.train_seconds = since(t0);

  run.valid = run.model.evaluate(data.valid, 32);
  const auto t1 = std::chrono::steady_clock::now();
  run.test = run.model.evaluate(data.test, 32);
  console.print("Test ({} images):\n{}\n", data.test.size(), evaluate_line(run.test, (data.test.size() + 31) / 32, since(t1)));
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

void write_text_atomic(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << text;
    f.flush();
    if (!f) {
      std::error_code ec;
      fs::remove(tmp, ec);
      throw InputError(fmt::format("cannot write {}", path.string()));
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw InputError(fmt::format("cannot write {}: {}", path.string(), ec.message()));
  }
}

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
  return {{"model", c.model},
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
}

void write_run_dir(const fs::path& dir, TrainedRun& run) {
  save_checkpoint(dir / "model.safetensors", run.model, run.train_inputs, run.config.dataset);
  write_text_atomic(dir / "history.csv", history_csv(run.history));
  write_text_atomic(dir / "summary.txt", run.summary);
  write_text_atomic(dir / "metrics.json", run_metrics_json(run).dump(2) + "\n");
}

}  // namespace bnlab::cli
