#include "bnlab/model/training_state.h"

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>

#include "bnlab/core/error.h"
#include "bnlab/io/safetensors.h"
#include "bnlab/layers/basic.h"
#include "bnlab/layers/noise.h"

namespace bnlab {
namespace {

using json = nlohmann::json;
using RngState = std::array<uint64_t, 4>;

constexpr const char* kFormat = "bnlab.train_state";

// One tensor of the file and the memory it is saved from and loaded into.
struct Slot {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  void* data;  // prod(shape) elements of dtype
};

// Values that live behind accessors rather than in memory a Slot can point at.
struct Scratch {
  std::vector<RngState> dropout_rngs;
  int64_t iterations = 0;
};

// The generator of each layer that draws noise in training (Dropout, ShiftScaleNoise) with its tensor
// name, by position in the model (layer names need not be unique in a spec).
std::vector<std::pair<std::string, Rng*>> dropouts(Sequential& model) {
  std::vector<std::pair<std::string, Rng*>> out;
  for (size_t i = 0; i < model.layers().size(); ++i) {
    if (auto* d = dynamic_cast<Dropout*>(model.layers()[i].get())) out.emplace_back(fmt::format("dropout_rng.{}", i), &d->rng());
    if (auto* n = dynamic_cast<ShiftScaleNoise*>(model.layers()[i].get()))
      out.emplace_back(fmt::format("noise_rng.{}", i), &n->rng());
  }
  return out;
}

// Every tensor of a training state, in file order. Saving and loading share this one list, so the
// two cannot drift apart. `position.order` must already have its final size.
std::vector<Slot> slots(Sequential& model, TrainingPosition& position, Scratch& scratch) {
  std::vector<Slot> out;
  for (StateEntry& e : model.state_dict()) {
    if (e.counter)
      out.push_back({"model." + e.key, DType::I64, {}, e.counter});
    else
      out.push_back({"model." + e.key, DType::F32, e.tensor->shape().dims(), e.tensor->data()});
  }
  const auto drops = dropouts(model);
  scratch.dropout_rngs.resize(drops.size());
  for (size_t i = 0; i < drops.size(); ++i) out.push_back({drops[i].first, DType::I64, {4}, scratch.dropout_rngs[i].data()});
  for (auto& [name, tensor] : model.optimizer()->state())
    out.push_back({"optimizer." + name, DType::F32, tensor->shape().dims(), tensor->data()});
  out.push_back({"optimizer.iterations", DType::I64, {}, &scratch.iterations});
  out.push_back({"data.order", DType::I64, {static_cast<int64_t>(position.order.size())}, position.order.data()});
  out.push_back({"data.order_rng", DType::I64, {4}, position.order_rng.data()});
  return out;
}

size_t byte_size(const Slot& s) {
  size_t n = dtype_size(s.dtype);
  for (int64_t d : s.shape) n *= static_cast<size_t>(d);
  return n;
}

json nan_as_null(double v) { return std::isnan(v) ? json(nullptr) : json(v); }

json position_json(const TrainingPosition& p) {
  return {{"epoch", p.epoch},     {"step", p.step}, {"total_steps", p.total_steps}, {"loss_sum", p.loss_sum},
          {"correct", p.correct}, {"seen", p.seen}, {"skipped", p.skipped},         {"seconds", p.seconds}};
}

json history_json(const History& h) {
  json out = json::array();
  for (const EpochLogs& e : h.epochs)
    out.push_back({{"epoch", e.epoch},
                   {"steps", e.steps},
                   {"skipped", e.skipped},
                   {"loss", nan_as_null(e.loss)},
                   {"accuracy", nan_as_null(e.accuracy)},
                   {"val_loss", nan_as_null(e.val_loss)},
                   {"val_accuracy", nan_as_null(e.val_accuracy)},
                   {"seconds", e.seconds}});
  return out;
}

// Reads the JSON metadata strictly; every complaint names the file and the field.
class MetadataReader {
 public:
  MetadataReader(const SafetensorsFile& file, std::string source) : file_(file), source_(std::move(source)) {}

  [[noreturn]] void fail(const std::string& what) const { throw InputError(fmt::format("{}: {}", source_, what)); }

  const std::string& text(const std::string& key) const {
    const auto it = file_.metadata.find(key);
    if (it == file_.metadata.end()) fail(fmt::format("metadata has no '{}'", key));
    return it->second;
  }

  json parsed(const std::string& key) const {
    try {
      return json::parse(text(key));
    } catch (const json::exception&) {
      fail(fmt::format("metadata '{}' is not valid JSON", key));
    }
  }

  int64_t integer(const json& object, const std::string& where, const char* key, int64_t min,
                  int64_t max = INT64_MAX) const {
    const json* v = field(object, where, key);
    if (!v->is_number_integer() || v->get<int64_t>() < min || v->get<int64_t>() > max)
      fail(fmt::format("{} '{}' must be an integer from {} to {}, got {}", where, key, min, max, v->dump()));
    return v->get<int64_t>();
  }

  double number(const json& object, const std::string& where, const char* key, bool nan_allowed) const {
    const json* v = field(object, where, key);
    if (v->is_null() && nan_allowed) return NAN;
    if (!v->is_number() || !std::isfinite(v->get<double>()))
      fail(fmt::format("{} '{}' must be a finite number, got {}", where, key, v->dump()));
    return v->get<double>();
  }

 private:
  const json* field(const json& object, const std::string& where, const char* key) const {
    if (!object.is_object()) fail(fmt::format("{} is not a JSON object", where));
    const auto it = object.find(key);
    if (it == object.end()) fail(fmt::format("{} has no '{}'", where, key));
    return &*it;
  }

  const SafetensorsFile& file_;
  std::string source_;
};

void check_identity(const MetadataReader& meta, Sequential& model) {
  if (meta.text("format") != kFormat) meta.fail(fmt::format("not a bnlab training state (format '{}')", meta.text("format")));
  const std::string& version = meta.text("format_version");
  if (version != std::to_string(kTrainingStateFormatVersion))
    meta.fail(fmt::format("training state format version '{}' is not supported (this bnlab reads version {})", version,
                          kTrainingStateFormatVersion));
  if (meta.text("spec") != model.spec())
    meta.fail(fmt::format("saved for model '{}', not '{}'", meta.text("spec"), model.spec()));
  if (meta.text("optimizer") != model.optimizer()->name())
    meta.fail(fmt::format("saved for optimizer '{}', not '{}'", meta.text("optimizer"), model.optimizer()->name()));
}

TrainingPosition read_position(const MetadataReader& meta) {
  const json p = meta.parsed("position");
  TrainingPosition pos;
  pos.epoch = static_cast<int>(meta.integer(p, "position", "epoch", 1, INT32_MAX - 1));
  pos.step = meta.integer(p, "position", "step", 0);
  pos.total_steps = meta.integer(p, "position", "total_steps", 0);
  pos.loss_sum = meta.number(p, "position", "loss_sum", false);
  pos.correct = meta.integer(p, "position", "correct", 0);
  pos.seen = meta.integer(p, "position", "seen", 0);
  pos.skipped = meta.integer(p, "position", "skipped", 0);
  pos.seconds = meta.number(p, "position", "seconds", false);
  const json h = meta.parsed("history");
  if (!h.is_array()) meta.fail("metadata 'history' is not a JSON list");
  for (size_t i = 0; i < h.size(); ++i) {
    const std::string where = fmt::format("history[{}]", i);
    EpochLogs e;
    e.epoch = static_cast<int>(meta.integer(h[i], where, "epoch", 1, INT32_MAX));
    if (e.epoch != static_cast<int>(i) + 1) meta.fail(fmt::format("{} is epoch {}, expected {}", where, e.epoch, i + 1));
    e.steps = meta.integer(h[i], where, "steps", 0);
    e.skipped = meta.integer(h[i], where, "skipped", 0);
    e.loss = meta.number(h[i], where, "loss", true);
    e.accuracy = meta.number(h[i], where, "accuracy", true);
    e.val_loss = meta.number(h[i], where, "val_loss", true);
    e.val_accuracy = meta.number(h[i], where, "val_accuracy", true);
    e.seconds = meta.number(h[i], where, "seconds", false);
    pos.history.epochs.push_back(e);
  }
  return pos;
}

// The position must be one that fit could have reached on this training set and batch size.
void check_position(const MetadataReader& meta, const TrainingPosition& p, int64_t train_size, int batch_size) {
  const int64_t steps = (train_size + batch_size - 1) / batch_size;
  if (p.step >= steps) meta.fail(fmt::format("position step {} is not inside an epoch, which has {} steps of batch size {}", p.step, steps, batch_size));
  if (p.history.epochs.size() != static_cast<size_t>(p.epoch - 1))
    meta.fail(fmt::format("history holds {} epochs but the position is in epoch {}", p.history.epochs.size(), p.epoch));
  if (p.correct > p.seen || p.seen > p.step * batch_size || p.skipped > p.step || p.total_steps < p.step)
    meta.fail("position counts do not add up (correct <= seen <= step x batch size, skipped <= step <= total_steps)");
}

void check_generator(const MetadataReader& meta, const std::string& name, const RngState& s) {
  // xoshiro never reaches the all-zero state, and from it would draw zeros forever.
  if (s == RngState{}) meta.fail(fmt::format("tensor '{}' is the all-zero generator state", name));
}

void check_permutation(const MetadataReader& meta, const std::vector<int64_t>& order) {
  std::vector<bool> seen(order.size());
  for (int64_t i : order) {
    if (i < 0 || i >= static_cast<int64_t>(order.size()) || seen[i])
      meta.fail(fmt::format("tensor 'data.order' is not a permutation of 0..{}", order.size() - 1));
    seen[i] = true;
  }
}

void copy_tensors(const MetadataReader& meta, const SafetensorsFile& file, const std::vector<Slot>& expected) {
  std::set<std::string> names;
  for (const Slot& s : expected) {
    names.insert(s.name);
    const NamedTensor* t = file.find(s.name);
    if (!t) meta.fail(fmt::format("tensor '{}' is missing", s.name));
    if (t->dtype != s.dtype || t->shape != s.shape)
      meta.fail(fmt::format("tensor '{}' is {} {}, expected {} {}", s.name, dtype_name(t->dtype), json(t->shape).dump(),
                            dtype_name(s.dtype), json(s.shape).dump()));
    std::memcpy(s.data, t->bytes.data(), t->bytes.size());
  }
  for (const NamedTensor& t : file.tensors)
    if (!names.count(t.name)) meta.fail(fmt::format("unexpected tensor '{}'", t.name));
}

}  // namespace

void save_training_state(const std::filesystem::path& path, Sequential& model, const TrainingPosition& position) {
  TrainingPosition p = position;
  Scratch scratch;
  std::vector<Slot> all = slots(model, p, scratch);
  const auto drops = dropouts(model);
  for (size_t i = 0; i < drops.size(); ++i) scratch.dropout_rngs[i] = drops[i].second->state();
  scratch.iterations = model.optimizer()->iterations;

  SafetensorsFile file;
  for (const Slot& s : all) {
    const auto* bytes = static_cast<const uint8_t*>(s.data);
    file.tensors.push_back({s.name, s.dtype, s.shape, std::vector<uint8_t>(bytes, bytes + byte_size(s))});
  }
  file.metadata = {{"format", kFormat},
                   {"format_version", std::to_string(kTrainingStateFormatVersion)},
                   {"spec", model.spec()},
                   {"optimizer", model.optimizer()->name()},
                   {"position", position_json(position).dump()},
                   {"history", history_json(position.history).dump()}};
  write_safetensors(path, file);
}

TrainingPosition load_training_state(const std::filesystem::path& path, Sequential& model, int64_t train_size,
                                     int batch_size) {
  const SafetensorsFile file = read_safetensors(path);
  const MetadataReader meta(file, path.string());
  check_identity(meta, model);
  TrainingPosition pos = read_position(meta);
  check_position(meta, pos, train_size, batch_size);
  const NamedTensor* order = file.find("data.order");
  if (order && order->shape != std::vector<int64_t>{train_size})
    meta.fail(fmt::format("saved for a training set of {} samples, this one has {}", json(order->shape).dump(), train_size));

  pos.order.resize(train_size);
  Scratch scratch;
  copy_tensors(meta, file, slots(model, pos, scratch));
  check_permutation(meta, pos.order);
  check_generator(meta, "data.order_rng", pos.order_rng);
  const auto drops = dropouts(model);
  for (size_t i = 0; i < drops.size(); ++i) {
    check_generator(meta, drops[i].first, scratch.dropout_rngs[i]);
    drops[i].second->set_state(scratch.dropout_rngs[i]);
  }
  if (scratch.iterations < 0) meta.fail(fmt::format("tensor 'optimizer.iterations' is negative ({})", scratch.iterations));
  model.optimizer()->iterations = scratch.iterations;
  return pos;
}

}  // namespace bnlab
