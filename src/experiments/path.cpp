#include "experiments/path.h"

#include <fmt/format.h>

#include <cmath>
#include <numeric>

#include "bnlab/core/error.h"
#include "bnlab/layers/basic.h"
#include "bnlab/model/buffer_snapshot.h"
#include "bnlab/optim/optimizer.h"
#include "experiments/common.h"

namespace bnlab::experiments::detail {
namespace {

constexpr int kEvalBatch = 500;

Sequential build_path_model(const PathSpec& spec, const Dataset& train) {
  TrainSpec t;
  t.model = spec.model;
  t.optimizer = "sgd";
  t.lr = spec.lr;
  t.seed = spec.seed;
  t.init_normal_sd = spec.init_normal_sd;
  return build_model(t, train);
}

// Cycles through train in shuffled epochs (a new order each epoch, from the run's seed).
class Batches {
 public:
  Batches(const Dataset& data, int batch_size, uint64_t seed) : data_(data), batch_(batch_size), rng_(seed) {
    order_.resize(data.size());
    std::iota(order_.begin(), order_.end(), 0);
  }
  void next(Tensor& x, std::vector<int32_t>& labels) {
    if (at_ + batch_ > static_cast<int64_t>(order_.size()) || at_ == 0) {
      shuffle(order_, rng_);
      at_ = 0;
    }
    data_.gather(x.data(), labels.data(), order_.data() + at_, batch_);
    at_ += batch_;
  }

 private:
  const Dataset& data_;
  int batch_;
  Rng rng_;
  std::vector<int64_t> order_;
  int64_t at_ = 0;
};

bool finite(const Sequential& model) {
  for (const ParamRef& p : model.trainable())
    for (int64_t i = 0; i < p.value->numel(); ++i)
      if (!std::isfinite((*p.value)[i])) return false;
  return true;
}

}  // namespace

size_t last_hidden_input_layer(const Sequential& model) {
  for (size_t l = model.layers().size(); l-- > 1;)
    if (dynamic_cast<const ActivationLayer*>(model.layers()[l].get())) return l - 1;
  throw InputError(fmt::format("model '{}' has no standalone activation layer to follow", model.spec()));
}

PathTrace follow_path(const PathSpec& spec, const Dataset& train, const Dataset& valid) {
  if (spec.batch_size > train.size())
    throw InputError(fmt::format("a batch of {} needs at least as many training images, got {}", spec.batch_size, train.size()));
  Sequential model = build_path_model(spec, train);
  const Dataset probe_data = first(valid, spec.probe_size);
  Tensor probe(model.input_shape().with_batch(probe_data.size()));
  std::vector<int32_t> probe_labels(probe_data.size());
  probe_data.gather_range(probe.data(), probe_labels.data(), 0, probe_data.size());
  const size_t followed = spec.units > 0 ? last_hidden_input_layer(model) : 0;

  Batches batches(train, spec.batch_size, spec.seed);
  Tensor x(model.input_shape().with_batch(spec.batch_size));
  std::vector<int32_t> labels(spec.batch_size);
  PathTrace trace;
  for (int64_t step = 0;; ++step) {
    batches.next(x, labels);  // the batch of step + 1
    if (step % spec.record_every == 0 || step == spec.steps) {
      Checkpoint c;
      c.step = step;
      c.val_accuracy = model.evaluate(valid, kEvalBatch).accuracy;
      if (spec.units > 0) {
        BufferSnapshot buffers(model);
        NoiseSnapshot noise(model);
        model.forward(probe, Mode::Train);
        for (int u = 0; u < spec.units; ++u) c.units.push_back(unit_percentiles(model.output(followed), u));
        buffers.restore();
        noise.restore();
      }
      if (spec.gradient_ics) c.ics = gradient_ics(model, x, labels.data(), spec.lr);
      if (!spec.landscape_etas.empty()) c.landscape = probe_model_along_gradient(model, x, labels.data(), spec.landscape_etas);
      trace.checkpoints.push_back(std::move(c));
    }
    if (step == spec.steps) break;
    const LossResult r = model.train_step(x, labels.data());
    if (!std::isfinite(r.loss_sum) || !finite(model)) {
      trace.diverged = true;
      break;
    }
  }
  return trace;
}

NetPaths net_paths(PathSpec base, const PathNets& nets) {
  base.steps = nets.steps;
  base.record_every = nets.record_every;
  NetPaths p{base, base};
  p.ioffe.batch_size = nets.ioffe_batch;
  p.ioffe.lr = nets.ioffe_lr;
  p.ioffe.init_normal_sd = nets.ioffe_init_sd;
  p.mlp.batch_size = nets.mlp_batch;
  p.mlp.lr = nets.mlp_lr;
  return p;
}

}  // namespace bnlab::experiments::detail
