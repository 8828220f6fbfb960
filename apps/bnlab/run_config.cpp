#include "run_config.h"

#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <iterator>
#include <set>
#include <type_traits>
#include <utility>

#include "bnlab/core/denormals.h"
#include "bnlab/core/error.h"
#include "bnlab/data/catalog.h"
#include "bnlab/data/user_data.h"
#include "bnlab/model/spec.h"

namespace bnlab::cli {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {
// Every dataset bnlab knows has 28 x 28 images, so a spec can be built before the data are loaded.
const Shape kImageShape{28, 28};
}  // namespace

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

BatchNormSync bn_sync_mode(const std::string& name) {
  if (name == "global") return BatchNormSync::Global;
  if (name == "local") return BatchNormSync::Local;
  throw InputError(fmt::format("--bn-sync: unknown mode '{}' (global, local)", name));
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

void validate_config(const RunConfig& config) {
  if (config.epochs <= 0) throw InputError(fmt::format("--epochs: must be positive, got {}", config.epochs));
  if (config.batch_size <= 0) throw InputError(fmt::format("--batch-size: must be positive, got {}", config.batch_size));
  if (!(config.lr > 0) || !std::isfinite(config.lr)) throw InputError(fmt::format("--lr: must be a positive number, got {}", config.lr));
  if (config.max_steps == 0 || config.max_steps < -1) throw InputError(fmt::format("--max-steps: must be positive, got {}", config.max_steps));
  if (config.subset < 0) throw InputError(fmt::format("--subset: must be positive, got {}", config.subset));
  if (!(config.momentum >= 0.0 && config.momentum < 1.0))
    throw InputError(fmt::format("--momentum: must be in [0, 1), got {}", config.momentum));
  const bool own_data = is_user_dataset(config.dataset);
  if (!own_data) {
    try {
      known_checksums(config.dataset);
    } catch (const InputError& e) {
      throw InputError(fmt::format("--dataset: {}", e.what()));
    }
  }
  parse_channel_axis(config.channels);
  if (config.valid && *config.valid <= 0) throw InputError(fmt::format("--valid: must be positive, got {}", *config.valid));
  non_finite_policy(config.on_nan);
  bn_sync_mode(config.bn_sync);
  if (config.ranks < 1) throw InputError(fmt::format("ranks: must be positive, got {}", config.ranks));
  parse_denormals(config.denormals, "--denormals");
  try {
    // Data of one's own have their image shape only once read (train_and_evaluate builds then).
    Sequential model = make_model(config.model);
    if (!own_data) model.build(kImageShape, config.seed);
  } catch (const InputError& e) {
    throw InputError(fmt::format("--model: {}", e.what()));
  }
  make_run_optimizer(config);
  if (config.init_from && !fs::is_regular_file(*config.init_from))
    throw InputError(fmt::format("--init-from {}: no such file", *config.init_from));
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
          {"channels", c.channels},  {"valid", c.valid ? json(*c.valid) : json(nullptr)},
          {"subset", c.subset},      {"init_from", optional_text(c.init_from)},
          {"on_nan", c.on_nan},      {"denormals", c.denormals},
          {"ranks", c.ranks},        {"bn_sync", c.bn_sync}};
}

RunConfig read_config_json(const fs::path& file) {
  const json j = read_json_file(file);
  const ConfigReader r(j, file);
  if (!j.is_object()) r.fail("not a JSON object");
  const std::set<std::string> known = {"format", "format_version", "model", "epochs", "batch_size", "optimizer",
                                       "lr", "momentum", "seed", "threads", "max_steps", "shuffle", "dataset",
                                       "data_dir", "channels", "valid", "subset", "init_from", "on_nan", "denormals",
                                       "ranks", "bn_sync"};
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
  // Runs started before data of one's own were read had neither setting.
  if (j.contains("channels")) c.channels = r.get<std::string>("channels");
  if (j.contains("valid") && !j["valid"].is_null()) c.valid = r.get<int64_t>("valid");
  c.subset = r.get<int64_t>("subset");
  c.init_from = r.optional_string("init_from");
  c.on_nan = r.get<std::string>("on_nan");
  // Runs started before the setting existed kept subnormal floats.
  c.denormals = j.contains("denormals") ? r.get<std::string>("denormals") : "keep";
  // And those started before data-parallel training ran as one process.
  c.ranks = j.contains("ranks") ? r.get<int>("ranks") : 1;
  c.bn_sync = j.contains("bn_sync") ? r.get<std::string>("bn_sync") : "global";
  return c;
}

}  // namespace bnlab::cli
