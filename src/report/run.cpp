#include "bnlab/report/run.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "bnlab/core/error.h"

namespace bnlab::report {

namespace {

using Json = nlohmann::ordered_json;  // keeps metrics.json's order for the configuration table
namespace fs = std::filesystem;

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    if (!fs::exists(file)) throw InputError(fmt::format("{}: missing", file.string()));
    throw InputError(fmt::format("{}: cannot read: {}", file.string(), std::strerror(errno)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw InputError(fmt::format("{}: read failed", file.string()));
  return text.str();
}

Json read_json_object(const fs::path& file) {
  Json json;
  try {
    json = Json::parse(read_text(file));
  } catch (const Json::exception& e) {  // parse_error, or out_of_range for a number beyond double
    throw InputError(fmt::format("{}: not valid JSON: {}", file.string(), e.what()));
  }
  if (!json.is_object()) throw InputError(fmt::format("{}: expected a JSON object", file.string()));
  return json;
}

// ---- history.csv --------------------------------------------------------------------------------

std::vector<std::string> split_csv_line(std::string line) {
  if (!line.empty() && line.back() == '\r') line.pop_back();
  std::vector<std::string> fields;
  std::stringstream stream(line);
  std::string field;
  while (std::getline(stream, field, ',')) fields.push_back(field);
  if (!line.empty() && line.back() == ',') fields.emplace_back();
  return fields;
}

double parse_number(const std::string& text, const fs::path& file, int line, const std::string& column) {
  const char* begin = text.c_str();
  char* end = nullptr;
  const double value = std::strtod(begin, &end);
  if (text.empty() || end != begin + text.size())
    throw InputError(fmt::format("{}:{}: {} '{}' is not a number", file.string(), line, column, text));
  return value;
}

}  // namespace

std::vector<EpochRecord> read_history_csv(const fs::path& file) {
  std::stringstream text(read_text(file));
  std::string line;
  if (!std::getline(text, line)) throw InputError(fmt::format("{}: empty file", file.string()));
  const std::vector<std::string> header = split_csv_line(line);
  std::map<std::string, size_t> column;
  for (size_t i = 0; i < header.size(); ++i) column[header[i]] = i;
  for (const char* required : {"epoch", "loss", "accuracy", "val_loss", "val_accuracy"})
    if (!column.count(required))
      throw InputError(
          fmt::format("{}: header has no '{}' column (expected epoch,loss,accuracy,"
                      "val_loss,val_accuracy,seconds)",
                      file.string(), required));
  const bool has_seconds = column.count("seconds") > 0;

  std::vector<EpochRecord> history;
  for (int line_number = 2; std::getline(text, line); ++line_number) {
    if (line.empty() || line == "\r") continue;
    const std::vector<std::string> fields = split_csv_line(line);
    if (fields.size() != header.size())
      throw InputError(fmt::format("{}:{}: {} values for {} columns", file.string(), line_number,
                                   fields.size(), header.size()));
    auto value = [&](const char* name) {
      return parse_number(fields[column[name]], file, line_number, name);
    };
    EpochRecord record;
    const double epoch = value("epoch");
    if (epoch != std::round(epoch) || epoch < 1 || epoch > 1e6)
      throw InputError(fmt::format("{}:{}: epoch '{}' is not a positive whole number", file.string(),
                                   line_number, fields[column["epoch"]]));
    record.epoch = static_cast<int>(epoch);
    if (!history.empty() && record.epoch <= history.back().epoch)
      throw InputError(fmt::format("{}:{}: epoch {} does not follow epoch {}", file.string(), line_number,
                                   record.epoch, history.back().epoch));
    record.loss = value("loss");
    record.accuracy = value("accuracy");
    record.val_loss = value("val_loss");
    record.val_accuracy = value("val_accuracy");
    record.seconds = has_seconds ? value("seconds") : std::numeric_limits<double>::quiet_NaN();
    history.push_back(record);
  }
  if (history.empty()) throw InputError(fmt::format("{}: no epochs after the header", file.string()));
  return history;
}

namespace {

// ---- metrics.json -------------------------------------------------------------------------------

class MetricsReader {
 public:
  MetricsReader(const Json& json, const fs::path& file) : json_(json), file_(file) {}

  [[noreturn]] void fail(const std::string& key, const std::string& problem) const {
    throw InputError(fmt::format("{}: '{}' {}", file_.string(), key, problem));
  }

  const Json* find(const Json& object, const std::string& key) const {
    auto it = object.find(key);
    return it == object.end() || it->is_null() ? nullptr : &*it;
  }

  std::optional<std::string> string(const std::string& key) const {
    const Json* value = find(json_, key);
    if (!value) return std::nullopt;
    if (!value->is_string()) fail(key, "must be a string");
    return value->get<std::string>();
  }

  double number(const Json& value, const std::string& key) const {
    if (!value.is_number()) fail(key, "must be a number");
    return value.get<double>();
  }

  int64_t integer(const Json& value, const std::string& key) const {
    if (!value.is_number_integer()) fail(key, "must be a whole number");
    return value.get<int64_t>();
  }

  const Json& member(const Json& object, const std::string& key, const std::string& path) const {
    const Json* value = find(object, key);
    if (!value) fail(path, "is missing");
    return *value;
  }

  std::optional<Evaluation> evaluation(const Json& object, const std::string& key,
                                       const std::string& path) const {
    const Json* value = find(object, key);
    if (!value) return std::nullopt;
    if (!value->is_object()) fail(path, "must be an object with loss and accuracy");
    return Evaluation{metric(*value, "loss", path + ".loss"), metric(*value, "accuracy", path + ".accuracy")};
  }

  // A metric that must be present; null is how JSON holds a NaN (a run that diverged), read back as NaN.
  double metric(const Json& object, const std::string& key, const std::string& path) const {
    auto it = object.find(key);
    if (it == object.end()) fail(path, "is missing");
    if (it->is_null()) return std::numeric_limits<double>::quiet_NaN();
    return number(*it, path);
  }

  std::optional<ParamCounts> params() const {
    const Json* value = find(json_, "params");
    if (!value) return std::nullopt;
    if (!value->is_object()) fail("params", "must be an object");
    return ParamCounts{
        integer(member(*value, "total", "params.total"), "params.total"),
        integer(member(*value, "trainable", "params.trainable"), "params.trainable"),
        integer(member(*value, "non_trainable", "params.non_trainable"), "params.non_trainable")};
  }

  const Json& array(const Json& object, const std::string& key, const std::string& path, size_t size) const {
    const Json& value = member(object, key, path);
    if (!value.is_array()) fail(path, "must be an array");
    if (size != SIZE_MAX && value.size() != size)
      fail(path, fmt::format("has {} entries, expected {} (one per index)", value.size(), size));
    return value;
  }

  std::optional<Predictions> predictions() const {
    const Json* value = find(json_, "predictions");
    if (!value) return std::nullopt;
    if (!value->is_object()) fail("predictions", "must be an object");
    Predictions out;
    if (const Json* split = find(*value, "split")) {
      if (!split->is_string()) fail("predictions.split", "must be a string");
      out.split = split->get<std::string>();
    }
    const Json& indices = array(*value, "indices", "predictions.indices", SIZE_MAX);
    const size_t n = indices.size();
    const Json& probabilities = array(*value, "probabilities", "predictions.probabilities", n);
    const Json& predicted = array(*value, "predicted", "predictions.predicted", n);
    const Json& actual = array(*value, "actual", "predictions.actual", n);
    const Json& images = array(*value, "images", "predictions.images", n);
    for (size_t i = 0; i < n; ++i) {
      const std::string at = fmt::format("[{}]", i);
      PredictionSample sample;
      sample.index = integer(indices[i], "predictions.indices" + at);
      const Json& probs = probabilities[i];
      if (!probs.is_array() || probs.empty())
        fail("predictions.probabilities" + at, "must be a non-empty array");
      for (const Json& p : probs) sample.probabilities.push_back(number(p, "predictions.probabilities" + at));
      const auto classes = static_cast<int64_t>(sample.probabilities.size());
      const int64_t pred = integer(predicted[i], "predictions.predicted" + at);
      const int64_t act = integer(actual[i], "predictions.actual" + at);
      if (pred < 0 || pred >= classes)
        fail("predictions.predicted" + at, fmt::format("must be a class 0..{}", classes - 1));
      if (act < 0 || act >= classes)
        fail("predictions.actual" + at, fmt::format("must be a class 0..{}", classes - 1));
      sample.predicted = static_cast<int>(pred);
      sample.actual = static_cast<int>(act);
      read_image(images[i], "predictions.images" + at, sample);
      out.samples.push_back(std::move(sample));
    }
    return out;
  }

  // Every top-level scalar, shown as it reads in the file (strings without quotes).
  std::vector<std::pair<std::string, std::string>> config() const {
    std::vector<std::pair<std::string, std::string>> entries;
    for (const auto& [key, value] : json_.items()) {
      if (value.is_string())
        entries.emplace_back(key, value.get<std::string>());
      else if (value.is_primitive() && !value.is_null())
        entries.emplace_back(key, value.dump());
    }
    return entries;
  }

 private:
  void read_image(const Json& pixels, const std::string& path, PredictionSample& sample) const {
    if (!pixels.is_array() || pixels.empty()) fail(path, "must be a non-empty array of pixels");
    const auto side = static_cast<int>(std::lround(std::sqrt(static_cast<double>(pixels.size()))));
    if (static_cast<size_t>(side) * side != pixels.size())
      fail(path, fmt::format("has {} pixels, not a square image", pixels.size()));
    sample.rows = sample.cols = side;
    sample.image.reserve(pixels.size());
    for (const Json& p : pixels) {
      const int64_t v = integer(p, path);
      if (v < 0 || v > 255) fail(path, fmt::format("pixel {} is outside 0..255", v));
      sample.image.push_back(static_cast<uint8_t>(v));
    }
  }

  const Json& json_;
  const fs::path& file_;
};

}  // namespace

bool Run::uses_batchnorm() const {
  if (spec.empty()) return model.size() >= 3 && model.compare(model.size() - 3, 3, "-bn") == 0;
  std::stringstream layers(spec);
  std::string layer;
  while (std::getline(layers, layer, ','))
    if (layer == "bn" || layer.rfind("bn:", 0) == 0) return true;
  return false;
}

Run load_run(const fs::path& dir) {
  if (!fs::is_directory(dir)) throw InputError(fmt::format("{}: not a directory", dir.string()));
  Run run;
  run.dir = dir;
  run.history = read_history_csv(dir / "history.csv");
  run.summary = read_text(dir / "summary.txt");

  const fs::path metrics_file = dir / "metrics.json";
  const Json metrics = read_json_object(metrics_file);
  const MetricsReader reader(metrics, metrics_file);
  const std::optional<std::string> model = reader.string("model");
  if (!model || model->empty()) reader.fail("model", "is missing");
  run.model = *model;
  run.spec = reader.string("spec").value_or("");
  run.dataset = reader.string("dataset").value_or("");
  run.config = reader.config();
  if (const Json* seconds = reader.find(metrics, "train_seconds"))
    run.train_seconds = reader.number(*seconds, "train_seconds");
  run.params = reader.params();
  run.valid = reader.evaluation(metrics, "valid", "valid");
  if (const Json* test = reader.find(metrics, "test")) {
    run.test = reader.evaluation(metrics, "test", "test");
    run.test_unscaled = reader.evaluation(*test, "unscaled", "test.unscaled");
  }
  run.predictions = reader.predictions();
  return run;
}

namespace {
// dir/*/section.html, sorted by folder name.
std::vector<std::pair<std::string, std::string>> read_experiment_sections(const fs::path& dir) {
  constexpr uintmax_t kMaxBytes = uintmax_t{64} << 20;
  std::vector<std::pair<std::string, std::string>> sections;
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, ec)) {
    const fs::path file = entry.path() / "section.html";
    if (!entry.is_directory(ec) || !fs::is_regular_file(file, ec)) continue;
    if (fs::file_size(file, ec) > kMaxBytes)
      throw InputError(fmt::format("{}: larger than {} MB", file.string(), kMaxBytes >> 20));
    sections.emplace_back(entry.path().filename().string(), read_text(file));
  }
  std::sort(sections.begin(), sections.end());
  return sections;
}

// The runs of dir, without its experiment sections.
RunDir load_runs(const fs::path& dir) {
  if (!fs::is_directory(dir)) throw InputError(fmt::format("{}: not a directory", dir.string()));
  RunDir out;
  out.dir = dir;
  const fs::path comparison_file = dir / "comparison.json";
  if (!fs::exists(comparison_file)) {
    if (!fs::exists(dir / "history.csv") && !fs::exists(dir / "metrics.json"))
      throw InputError(
          fmt::format("{}: not a bnlab run directory (no history.csv, metrics.json or "
                      "comparison.json)",
                      dir.string()));
    out.runs.push_back(load_run(dir));
    out.dataset = out.runs.front().dataset;
    return out;
  }

  out.comparison = true;
  const Json comparison = read_json_object(comparison_file);
  const MetricsReader reader(comparison, comparison_file);
  const Json& models = reader.array(comparison, "models", "models", SIZE_MAX);
  if (models.empty()) reader.fail("models", "is empty");
  for (const Json& model : models) {
    if (!model.is_string() || model.get<std::string>().empty())
      reader.fail("models", "must hold model names");
    const fs::path name = model.get<std::string>();
    if (name.has_parent_path() || name == "." || name == "..")
      reader.fail("models", fmt::format("entry '{}' is not a folder name", name.string()));
    out.runs.push_back(load_run(dir / name));
  }
  out.dataset = reader.string("dataset").value_or(out.runs.front().dataset);
  if (const Json* seconds = reader.find(comparison, "wall_seconds"))
    out.wall_seconds = reader.number(*seconds, "wall_seconds");
  return out;
}

}  // namespace

RunDir load_run_dir(const fs::path& dir) {
  RunDir out = load_runs(dir);
  out.experiment_sections = read_experiment_sections(dir);
  return out;
}

}  // namespace bnlab::report
