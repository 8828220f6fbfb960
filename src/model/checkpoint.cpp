#include "bnlab/model/checkpoint.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>

#include "bnlab/core/error.h"
#include "bnlab/io/safetensors.h"
#include "bnlab/layers/basic.h"
#include "bnlab/layers/batchnorm.h"
#include "bnlab/layers/conv2d.h"
#include "bnlab/layers/dense.h"
#include "bnlab/layers/pooling.h"
#include "bnlab/model/spec.h"

namespace bnlab {
namespace {

using json = nlohmann::json;

// A million features per sample (MNIST has 784): enough for any image data set bnlab reads, small
// enough that no layer on them can be made to allocate much.
constexpr int64_t kMaxInputFeatures = int64_t{1} << 20;

std::string require(const std::map<std::string, std::string>& meta, const std::string& key, const std::string& file) {
  const auto it = meta.find(key);
  if (it == meta.end()) throw InputError(fmt::format("{}: checkpoint metadata has no '{}'", file, key));
  return it->second;
}

json parse_json(const std::string& text, const std::string& key, const std::string& file) {
  try {
    return json::parse(text);
  } catch (const json::exception&) {
    throw InputError(fmt::format("{}: checkpoint metadata '{}' is not valid JSON", file, key));
  }
}

double parse_double(const std::string& text, const std::string& key, const std::string& file) {
  try {
    size_t used = 0;
    const double v = std::stod(text, &used);
    if (used == text.size()) return v;
  } catch (const std::exception&) {
  }
  throw InputError(fmt::format("{}: checkpoint metadata '{}' is not a number: '{}'", file, key, text));
}

json batchnorm_metadata(Sequential& model) {
  json out = json::array();
  int module = 0;
  for (const auto& l : model.layers()) {
    if (const auto* bn = dynamic_cast<const BatchNormalization*>(l.get())) {
      const BatchNormOptions& o = bn->options();
      const bool keras = o.convention == BnConvention::Keras;
      out.push_back({{"module", module},
                     {"name", l->name},
                     {"convention", keras ? "keras" : "torch"},
                     {"eps", o.eps},
                     {"momentum", o.momentum ? json(*o.momentum) : json(nullptr)},
                     {"momentum_weights", keras ? "old value" : o.momentum ? "new batch" : "cumulative average"},
                     {"moving_variance", keras ? "biased" : "unbiased"}});
    }
    module += l->torch_modules();
  }
  return out;
}

template <class T>
NamedTensor named(const std::string& key, DType dtype, std::vector<int64_t> shape, const T* data, size_t count) {
  NamedTensor t;
  t.name = key;
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.bytes.resize(count * sizeof(T));
  std::memcpy(t.bytes.data(), data, t.bytes.size());  // x86-64 and aarch64 are little-endian
  return t;
}

void copy_state(const SafetensorsFile& file, Sequential& model, const std::string& source) {
  std::set<std::string> expected;
  for (StateEntry& e : model.state_dict()) {
    expected.insert(e.key);
    const NamedTensor* t = file.find(e.key);
    if (!t) throw InputError(fmt::format("{}: tensor '{}' is missing", source, e.key));
    if (e.counter) {
      if (t->dtype != DType::I64 || !t->shape.empty())
        throw InputError(fmt::format("{}: tensor '{}' must be a scalar I64", source, e.key));
      std::memcpy(e.counter, t->bytes.data(), sizeof(int64_t));
      continue;
    }
    if (t->dtype != DType::F32 || t->shape != e.tensor->shape().dims())
      throw InputError(fmt::format("{}: tensor '{}' is {} {}, expected F32 {}", source, e.key, dtype_name(t->dtype),
                                   json(t->shape).dump(), json(e.tensor->shape().dims()).dump()));
    std::memcpy(e.tensor->data(), t->bytes.data(), t->bytes.size());
  }
  for (const NamedTensor& t : file.tensors)
    if (!expected.count(t.name)) throw InputError(fmt::format("{}: unexpected tensor '{}' for this model", source, t.name));
}

Shape read_input_shape(const json& shape, const std::string& source) {
  if (!shape.is_array() || shape.empty() || shape.size() > 3)
    throw InputError(fmt::format("{}: input_shape must be a list of 1 to 3 sizes", source));
  std::vector<int64_t> in;
  int64_t features = 1;
  for (const json& d : shape) {
    if (!d.is_number_integer() || d.get<int64_t>() <= 0 || d.get<int64_t>() > kMaxInputFeatures)
      throw InputError(fmt::format("{}: input_shape has a bad size {}", source, d.dump()));
    in.push_back(d.get<int64_t>());
    features *= in.back();
    if (features > kMaxInputFeatures)
      throw InputError(fmt::format("{}: input_shape {} has more than {} features", source, shape.dump(), kMaxInputFeatures));
  }
  return Shape(in);
}

// Before the model is built: the file must hold each Dense and Conv2D layer's weight at its full
// size, so that a spec asking for a huge layer is refused without allocating it (the file's size
// bounds what loading it may allocate). The shapes are followed through the layers that change them.
void check_weights(const Sequential& model, Shape shape, const SafetensorsFile& file, const std::string& source) {
  int module = 0;
  auto expect_weight = [&](const std::vector<int64_t>& expected) {
    const std::string key = fmt::format("{}.weight", module);
    const NamedTensor* t = file.find(key);
    if (!t) throw InputError(fmt::format("{}: tensor '{}' is missing", source, key));
    if (t->shape != expected)
      throw InputError(fmt::format("{}: tensor '{}' is {} {}, expected F32 {}", source, key, dtype_name(t->dtype),
                                   json(t->shape).dump(), json(expected).dump()));
  };
  try {
    for (const auto& l : model.layers()) {
      if (const auto* dense = dynamic_cast<const Dense*>(l.get())) {
        expect_weight({dense->units(), shape.numel()});
        shape = Shape{dense->units()};
      } else if (const auto* conv = dynamic_cast<const Conv2D*>(l.get())) {
        const Shape out = conv->output_shape(shape);
        expect_weight({conv->filters(), shape.rank() == 3 ? shape[0] : 1, conv->options().kernel_h,
                       conv->options().kernel_w});
        shape = out;
      } else if (const auto* pool = dynamic_cast<const Pooling2D*>(l.get())) {
        shape = pool->output_shape(shape);
      } else if (dynamic_cast<const Flatten*>(l.get())) {
        shape = Shape{shape.numel()};
      } else if (dynamic_cast<const GlobalAveragePooling2D*>(l.get())) {
        if (shape.rank() != 2 && shape.rank() != 3) return;  // build says what is wrong
        shape = Shape{shape.rank() == 3 ? shape[0] : 1};
      }
      module += l->torch_modules();
    }
  } catch (const InputError& e) {
    const std::string what = e.what();
    if (what.rfind(source, 0) == 0) throw;
    throw InputError(fmt::format("{}: {}", source, what));
  }
}

}  // namespace

InputStats input_stats(const Dataset& data) {
  InputStats s;
  s.divide_by = data.divide_by;
  if (data.holds_floats()) {
    const auto [lo, hi] = std::minmax_element(data.values.begin(), data.values.end());
    double sum = 0.0;
    for (float v : data.values) sum += v;
    s.min = *lo / data.divide_by;
    s.max = *hi / data.divide_by;
    s.mean = sum / data.values.size() / data.divide_by;
    return s;
  }
  if (data.pixels.empty()) return s;
  // One vectorisable pass over the bytes; the integer sum is exact (47M pixels of at most 255).
  uint8_t lo = 255, hi = 0;
  uint64_t sum = 0;
  for (uint8_t p : data.pixels) {
    lo = std::min(lo, p);
    hi = std::max(hi, p);
    sum += p;
  }
  s.min = lo / data.divide_by;
  s.max = hi / data.divide_by;
  s.mean = static_cast<double>(sum) / data.pixels.size() / data.divide_by;
  return s;
}

void save_checkpoint(const std::filesystem::path& path, Sequential& model, const InputStats& train_inputs,
                     const std::string& dataset) {
  SafetensorsFile file;
  for (StateEntry& e : model.state_dict()) {
    if (e.counter)
      file.tensors.push_back(named(e.key, DType::I64, {}, e.counter, 1));
    else
      file.tensors.push_back(named(e.key, DType::F32, e.tensor->shape().dims(), e.tensor->data(), e.tensor->numel()));
  }
  json names = json::array();
  for (const auto& l : model.layers()) names.push_back(l->name);
  file.metadata = {
      {"format", "bnlab.model"},
      {"format_version", std::to_string(kCheckpointFormatVersion)},
      {"spec", model.spec()},
      {"layer_names", names.dump()},
      {"input_shape", json(model.input_shape().dims()).dump()},
      {"num_classes", std::to_string(model.output_shape()[0])},
      {"batchnorm", batchnorm_metadata(model).dump()},
      {"dataset", dataset},
      {"divide_by", fmt::format("{}", train_inputs.divide_by)},
      {"input_min", fmt::format("{}", train_inputs.min)},
      {"input_max", fmt::format("{}", train_inputs.max)},
      {"input_mean", fmt::format("{}", train_inputs.mean)},
  };
  write_safetensors(path, file);
}

Checkpoint load_checkpoint(const std::filesystem::path& path) {
  const std::string source = path.string();
  const SafetensorsFile file = read_safetensors(path);
  const auto& meta = file.metadata;
  if (require(meta, "format", source) != "bnlab.model")
    throw InputError(fmt::format("{}: not a bnlab model checkpoint (format '{}')", source, meta.at("format")));
  const std::string version = require(meta, "format_version", source);
  if (version != std::to_string(kCheckpointFormatVersion))
    throw InputError(fmt::format("{}: checkpoint format version {} is not supported (this bnlab reads version {})",
                                 source, version, kCheckpointFormatVersion));
  Checkpoint ck;
  ck.metadata = meta;
  ck.dataset = require(meta, "dataset", source);
  const json names = parse_json(require(meta, "layer_names", source), "layer_names", source);
  const json shape = parse_json(require(meta, "input_shape", source), "input_shape", source);
  try {
    ck.model = make_model(require(meta, "spec", source));
  } catch (const InputError& e) {
    throw InputError(fmt::format("{}: {}", source, e.what()));
  }
  if (!names.is_array() || names.size() != ck.model.layers().size())
    throw InputError(fmt::format("{}: layer_names does not match the spec's {} layers", source, ck.model.layers().size()));
  for (size_t i = 0; i < names.size(); ++i) {
    if (!names[i].is_string()) throw InputError(fmt::format("{}: layer_names must be strings", source));
    ck.model.layer(i).name = names[i].get<std::string>();
  }
  const Shape in = read_input_shape(shape, source);
  check_weights(ck.model, in, file, source);
  try {
    ck.model.build(in, 0);
  } catch (const InputError& e) {
    throw InputError(fmt::format("{}: {}", source, e.what()));
  }
  copy_state(file, ck.model, source);
  ck.train_inputs.divide_by = parse_double(require(meta, "divide_by", source), "divide_by", source);
  ck.train_inputs.min = parse_double(require(meta, "input_min", source), "input_min", source);
  ck.train_inputs.max = parse_double(require(meta, "input_max", source), "input_max", source);
  ck.train_inputs.mean = parse_double(require(meta, "input_mean", source), "input_mean", source);
  return ck;
}

void load_weights(const std::filesystem::path& path, Sequential& model) {
  Checkpoint ck = load_checkpoint(path);
  if (ck.model.spec() != model.spec() || !(ck.model.input_shape() == model.input_shape()))
    throw InputError(fmt::format("{}: checkpoint model '{}' on {} does not match '{}' on {}", path.string(),
                                 ck.model.spec(), ck.model.input_shape().str(), model.spec(), model.input_shape().str()));
  std::vector<StateEntry> from = ck.model.state_dict(), to = model.state_dict();
  for (size_t i = 0; i < to.size(); ++i) {
    if (to[i].counter)
      *to[i].counter = *from[i].counter;
    else
      *to[i].tensor = *from[i].tensor;
  }
}

std::optional<std::string> scale_mismatch_warning(const InputStats& train, const InputStats& data,
                                                  const std::string& data_name) {
  const double train_range = std::max(train.max - train.min, 1e-12);
  const double ratio = (data.max - data.min) / train_range;
  if (ratio > 2.0 || ratio < 0.5)
    return fmt::format("warning: {} inputs range over [{:.4g}, {:.4g}] but the model was trained on [{:.4g}, {:.4g}] "
                       "(divided by {:g} vs {:g}): predictions will be unreliable",
                       data_name, data.min, data.max, train.min, train.max, data.divide_by, train.divide_by);
  return std::nullopt;
}

}  // namespace bnlab
