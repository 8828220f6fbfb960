#include "bnlab/experiments/training.h"

#include <fmt/format.h>

#include <cmath>
#include <memory>
#include <numeric>

#include "bnlab/core/error.h"
#include "bnlab/core/rng.h"
#include "bnlab/core/stopwatch.h"
#include "bnlab/kernels/loss.h"
#include "bnlab/layers/dense.h"
#include "bnlab/model/spec.h"
#include "bnlab/optim/optimizer.h"

namespace bnlab::experiments {
namespace {

// Evaluation needs no gradients, so it runs in large batches whatever the training batch size.
constexpr int kEvalBatch = 500;

double norm(const Tensor& t) {
  double sq = 0.0;
  for (int64_t i = 0; i < t.numel(); ++i) sq += double(t[i]) * t[i];
  return std::sqrt(sq);
}

std::vector<double> dense_gradient_norms(const Sequential& model) {
  std::vector<double> out;
  for (const auto& layer : model.layers())
    if (const auto* dense = dynamic_cast<const Dense*>(layer.get())) out.push_back(norm(dense->weight_grad));
  return out;
}

// Counts steps, records gradient norms and evaluates on schedule, keeping evaluation time out of
// the training clock.
class Watcher : public TrainingCallback {
 public:
  Watcher(Sequential& model, const TrainSpec& spec, const Dataset& train, const Dataset& valid, RunTrace& trace)
      : model_(model), spec_(spec), train_(train), valid_(valid), trace_(trace),
        steps_per_epoch_(steps_for_epochs(train, spec.batch_size, 1.0)) {}

  void on_gradients(Sequential& model, int64_t) override {
    const int64_t step = trace_.steps + 1;
    if (spec_.grad_norm_every > 0 && step % spec_.grad_norm_every == 0)
      trace_.grad_norms.push_back({step, dense_gradient_norms(model)});
  }

  void on_batch_end(int64_t, int64_t, double, double) override {
    ++trace_.steps;
    if (spec_.eval_every > 0 && trace_.steps % spec_.eval_every == 0 && trace_.steps < spec_.steps) evaluate();
  }

  // Records an evaluation at the current step, unless there is one already.
  void evaluate() {
    trace_.train_seconds = since_start_.seconds() - eval_seconds_;
    if (!trace_.evaluations.empty() && trace_.evaluations.back().step == trace_.steps) return;
    const Stopwatch watch;
    Evaluation e;
    e.step = trace_.steps;
    e.epoch = double(trace_.steps) / steps_per_epoch_;
    e.seconds = trace_.train_seconds;
    const Metrics v = model_.evaluate(valid_, kEvalBatch);
    e.val_loss = v.loss;
    e.val_accuracy = v.accuracy;
    if (spec_.eval_train) {
      const Metrics t = model_.evaluate(train_, kEvalBatch);
      e.train_loss = t.loss;
      e.train_accuracy = t.accuracy;
    }
    trace_.evaluations.push_back(e);
    eval_seconds_ += watch.seconds();
  }

 private:
  Sequential& model_;
  const TrainSpec& spec_;
  const Dataset& train_;
  const Dataset& valid_;
  RunTrace& trace_;
  int64_t steps_per_epoch_;
  Stopwatch since_start_;
  double eval_seconds_ = 0.0;
};

// A standard normal draw (Box-Muller), from the generator alone: the same on every platform.
double standard_normal(Rng& rng) {
  const double u = 1.0 - rng.uniform();  // (0, 1]
  return std::sqrt(-2.0 * std::log(u)) * std::cos(2.0 * M_PI * rng.uniform());
}

}  // namespace

double RunTrace::best_val_accuracy() const {
  double best = NAN;
  for (const Evaluation& e : evaluations)
    if (!(e.val_accuracy <= best)) best = e.val_accuracy;
  return best;
}

std::optional<Evaluation> RunTrace::first_reaching(double target) const {
  for (const Evaluation& e : evaluations)
    if (e.val_accuracy >= target) return e;
  return std::nullopt;
}

int64_t steps_for_epochs(const Dataset& train, int batch_size, double epochs) {
  const int64_t per_epoch = (train.size() + batch_size - 1) / batch_size;
  return std::max<int64_t>(1, static_cast<int64_t>(std::llround(per_epoch * epochs)));
}

Sequential build_model(const TrainSpec& spec, const Dataset& train) {
  Sequential model = make_model(spec.model);
  model.build(Shape(train.sample_shape), spec.seed);
  Rng normal(Rng(spec.seed).split(0x6A55));
  for (const auto& layer : model.layers())
    if (auto* dense = dynamic_cast<Dense*>(layer.get())) {
      if (spec.init_normal_sd > 0)
        for (int64_t i = 0; i < dense->weight.numel(); ++i)
          dense->weight[i] = static_cast<float>(spec.init_normal_sd * standard_normal(normal));
      for (int64_t i = 0; i < dense->weight.numel(); ++i) dense->weight[i] *= static_cast<float>(spec.init_scale);
    }
  model.compile(make_optimizer(spec.optimizer, spec.lr));
  return model;
}

RunTrace run_training(Sequential& model, const TrainSpec& spec, const Dataset& train, const Dataset& valid) {
  RunTrace trace;
  Watcher watcher(model, spec, train, valid, trace);
  FitOptions fit;
  fit.batch_size = spec.batch_size;
  fit.max_steps = spec.steps;
  const int64_t per_epoch = steps_for_epochs(train, spec.batch_size, 1.0);
  fit.epochs = static_cast<int>((spec.steps + per_epoch - 1) / per_epoch);
  fit.seed = spec.seed;
  fit.callback = &watcher;
  try {
    model.fit(train, fit);
  } catch (const TrainingStopped& stopped) {
    if (stopped.reason != TrainingStopped::Reason::NonFinite) throw;
    trace.diverged = true;
  }
  watcher.evaluate();
  return trace;
}

RunTrace train_new_model(const TrainSpec& spec, const Dataset& train, const Dataset& valid) {
  Sequential model = build_model(spec, train);
  return run_training(model, spec, train, valid);
}

Metrics evaluate_with_batch_statistics(Sequential& model, const Dataset& data, int batch_size) {
  BufferSnapshot saved(model);
  Tensor x(model.input_shape().with_batch(batch_size));
  std::vector<int32_t> labels(batch_size);
  LossResult sum;
  const int64_t full = data.size() / batch_size * batch_size;
  for (int64_t begin = 0; begin < full; begin += batch_size) {
    data.gather_range(x.data(), labels.data(), begin, batch_size);
    const Tensor& probs = model.forward(x, Mode::Train);
    const LossResult r = cross_entropy_from_probs(probs.data(), labels.data(), batch_size, static_cast<int>(probs.dim(1)));
    sum.loss_sum += r.loss_sum;
    sum.correct += r.correct;
  }
  saved.restore();
  Metrics m;
  m.samples = full;
  if (full > 0) {
    m.loss = sum.loss_sum / full;
    m.accuracy = double(sum.correct) / full;
  }
  return m;
}

GradientNoise gradient_noise(Sequential& model, const Dataset& data, int batch_size, int batches, uint64_t seed) {
  if (batches < 2 || int64_t(batch_size) * batches > data.size())
    throw InputError(fmt::format("gradient noise: {} batches of {} need 2 batches and at most {} samples", batches,
                                 batch_size, data.size()));
  BufferSnapshot saved(model);
  std::vector<int64_t> order(data.size());
  std::iota(order.begin(), order.end(), 0);
  Rng rng(seed);
  shuffle(order, rng);
  Tensor x(model.input_shape().with_batch(batch_size));
  std::vector<int32_t> labels(batch_size);
  const std::vector<ParamRef> params = model.trainable_params();
  int64_t count = 0;
  for (const ParamRef& p : params) count += p.grad->numel();
  std::vector<double> sum(count, 0.0), sum_sq(count, 0.0);  // per parameter, over the batches
  for (int b = 0; b < batches; ++b) {
    data.gather(x.data(), labels.data(), order.data() + int64_t(b) * batch_size, batch_size);
    model.zero_grad();
    model.forward_backward(x, labels.data());
    int64_t k = 0;
    for (const ParamRef& p : params)
      for (int64_t i = 0; i < p.grad->numel(); ++i, ++k) {
        const double g = (*p.grad)[i];
        sum[k] += g;
        sum_sq[k] += g * g;
      }
  }
  model.zero_grad();
  saved.restore();
  GradientNoise noise{0.0, 0.0};
  for (int64_t k = 0; k < count; ++k) {
    const double mean = sum[k] / batches;
    noise.variance += (sum_sq[k] - batches * mean * mean) / (batches - 1);
    noise.signal += mean * mean;
  }
  return noise;
}

}  // namespace bnlab::experiments
