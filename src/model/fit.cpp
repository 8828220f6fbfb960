// The training loop (model/fit.h): each step runs the model's TrainingPlan, then its optimiser.
#include "bnlab/model/fit.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>
#include <optional>

#include "bnlab/core/error.h"
#include "bnlab/core/rng.h"
#include "bnlab/core/stopwatch.h"
#include "bnlab/kernels/optim.h"
#include "bnlab/dist/communicator.h"
#include "bnlab/model/buffer_snapshot.h"
#include "bnlab/model/plan.h"
#include "bnlab/model/sequential.h"

namespace bnlab {
namespace {

// One batch's activations must fit in this many floats (1 GiB), so that a huge batch size is a
// clear error rather than the kernel's out-of-memory killer.
constexpr int64_t kMaxBatchActivations = int64_t{1} << 28;

TrainingPosition fresh_position(int64_t n, uint64_t seed) {
  TrainingPosition p;
  p.order.resize(n);
  std::iota(p.order.begin(), p.order.end(), 0);
  p.order_rng = Rng(seed).state();
  return p;
}

class FitLoop {
 public:
  FitLoop(Sequential& model, const Dataset& train, const FitOptions& o);
  History run();

 private:
  void check_options() const;
  void check_resume() const;
  void allocate_batch();
  bool step_limit_reached() const { return o_.max_steps >= 0 && pos_.total_steps >= o_.max_steps; }
  void run_epoch();
  void stop_if_requested(const Stopwatch& epoch);
  void train_batch();
  std::optional<std::string> non_finite_loss(const LossResult& r) const;
  std::string non_finite_gradient() const;
  std::string first_non_finite_output() const;
  void finish_epoch(const Stopwatch& epoch);

  Sequential& model_;
  const Dataset& train_;
  const FitOptions& o_;
  int64_t n_, steps_;
  TrainingPosition pos_;
  std::vector<int64_t> order_;  // this epoch's order
  Rng rng_;
  // The layer owning each of the model's trainable parameters (model_.trainable_, same order),
  // to name it when its gradient is not finite.
  std::vector<const Layer*> owners_;
  std::vector<uint8_t> gradient_bad_;  // per trainable parameter: NaN or Inf in its gradient (the optimiser's)
  // The moving statistics and batch counts, saved before each step so that a bad batch leaves no
  // trace in them.
  BufferSnapshot buffers_;
  std::optional<TrainingPlan> plan_;
  std::vector<int32_t> labels_;  // the batch's
  // A data-parallel run's ranks (FitOptions::ranks, or this process alone), and what they exchange.
  SelfCommunicator alone_;
  Communicator& ranks_;
  bool synced_ = false;  // BatchNorm with the global batch's statistics
  std::vector<float> exchange_;
  std::vector<Tensor*> moving_;  // the non-trainable float buffers, for rank 0's broadcast
  LossResult sum_over_ranks(const LossResult& mine);
  void sum_gradients();
  void take_rank0_buffers();
};

FitLoop::FitLoop(Sequential& model, const Dataset& train, const FitOptions& o)
    : model_(model), train_(train), o_(o), n_(train.size()), buffers_(model), ranks_(o.ranks ? *o.ranks : alone_) {
  check_options();
  synced_ = ranks_.size() > 1 && o.bn_sync == BatchNormSync::Global;
  plan_.emplace(model, PlanOptions{o.fuse, synced_ ? &ranks_ : nullptr});
  steps_ = (n_ + o.batch_size - 1) / o.batch_size;
  pos_ = o.resume ? *o.resume : fresh_position(n_, o.seed);
  if (o.resume) check_resume();
  for (const auto& l : model.layers())  // the order of Sequential::trainable_params()
    for (const ParamRef& p : l->params())
      if (p.trainable) owners_.push_back(l.get());
  if (owners_.size() != model.trainable().size()) throw std::logic_error("FitLoop: parameters out of step with the model");
  gradient_bad_.assign(owners_.size(), 0);
  for (StateEntry& e : model.state_dict())
    if (e.tensor && !e.trainable) moving_.push_back(e.tensor);
  allocate_batch();
}

void FitLoop::check_options() const {
  if (!model_.built() || !model_.optimizer()) throw std::logic_error("Sequential::fit before build and compile");
  if (o_.epochs <= 0) throw InputError(fmt::format("epochs must be positive, got {}", o_.epochs));
  if (o_.batch_size <= 0) throw InputError(fmt::format("batch size must be positive, got {}", o_.batch_size));
  if (n_ == 0) throw InputError(train_.name + ": no training samples");
  model_.check_labels(train_);
  if (o_.validation) model_.check_labels(*o_.validation);
}

// A position saved for another data set or batch size is the caller's mistake: training_state.h
// checks saved positions against the run's settings, naming the file.
void FitLoop::check_resume() const {
  if (static_cast<int64_t>(pos_.order.size()) != n_ || pos_.step < 0 || pos_.step >= steps_ || pos_.epoch < 1 ||
      pos_.history.epochs.size() != static_cast<size_t>(pos_.epoch - 1))
    throw std::invalid_argument("FitOptions::resume does not belong to this training set and batch size");
}

void FitLoop::allocate_batch() {
  const int64_t rows = std::min<int64_t>(o_.batch_size, n_);
  int64_t per_sample = model_.input_shape().numel();
  for (size_t i = 0; i < model_.layers().size(); ++i) per_sample += model_.output_shape(i).numel();
  if (rows * per_sample > kMaxBatchActivations)
    throw InputError(fmt::format("batch size {} needs {} activations per batch, more than the limit of {}; use a smaller batch",
                                 rows, rows * per_sample, kMaxBatchActivations));
  labels_.resize(rows);
}

History FitLoop::run() {
  while (pos_.epoch <= o_.epochs && !step_limit_reached()) run_epoch();
  return pos_.history;
}

void FitLoop::run_epoch() {
  const Stopwatch epoch;
  order_ = pos_.order;
  rng_.set_state(pos_.order_rng);
  if (o_.shuffle) shuffle(order_, rng_);
  if (o_.callback) o_.callback->on_epoch_begin(pos_.epoch, o_.epochs, steps_);
  while (pos_.step < steps_ && !step_limit_reached()) {
    stop_if_requested(epoch);
    train_batch();
  }
  finish_epoch(epoch);
}

void FitLoop::stop_if_requested(const Stopwatch& epoch) {
  bool stop = o_.stop_requested && o_.stop_requested->load();
  if (ranks_.size() > 1) {  // every rank stops at the same step when any of them was asked to
    const double mine = stop;
    std::vector<double> all(ranks_.size());
    ranks_.allgather(&mine, all.data(), 1);
    stop = std::any_of(all.begin(), all.end(), [](double s) { return s != 0.0; });
  }
  if (!stop) return;
  TrainingPosition here = pos_;
  here.seconds += epoch.seconds();
  if (o_.checkpoint) o_.checkpoint(here);
  throw TrainingStopped(TrainingStopped::Reason::StopRequested,
                        fmt::format("stopped at epoch {}, step {} of {}", pos_.epoch, pos_.step, steps_));
}

void FitLoop::train_batch() {
  const int64_t begin = pos_.step * o_.batch_size;
  const int64_t rows = std::min<int64_t>(o_.batch_size, n_ - begin);
  int32_t* y = labels_.data();
  buffers_.save();

  // This rank's shard of the batch (all of it in one process), gathered inside the step: by each
  // thread for itself when the plan's input BatchNorm asks for copies. The plan sets every
  // gradient: no zero_grad. This rank's shard of the next batch is prefetched while this one is
  // gathered: shuffled rows are scattered over the training set, larger than the last-level cache.
  const Shard shard = shard_of(rows, ranks_.rank(), ranks_.size());
  const int64_t next_begin = begin + rows;
  const Shard next = shard_of(std::min<int64_t>(o_.batch_size, n_ - std::min(n_, next_begin)), ranks_.rank(), ranks_.size());
  const int64_t* indices = order_.data() + begin + shard.begin;
  // An empty shard adds nothing to the sums (the plan zeroes its gradients) but takes part in the
  // synchronised BatchNorms' collectives.
  LossResult r = plan_->forward_backward(
      static_cast<int>(shard.rows()), y,
      [&](float* batch, int copy) {
        train_.gather(batch, copy == 0 ? y : nullptr, indices, shard.rows(), order_.data() + next_begin + next.begin,
                      next.rows());
      },
      rows);
  if (ranks_.size() > 1) {
    r = sum_over_ranks(r);
    sum_gradients();
  }
  if (o_.callback) o_.callback->on_gradients(model_, pos_.step + 1);
  // The gradients are checked by the optimiser's step, in the same pass as the update.
  std::optional<std::string> problem = non_finite_loss(r);
  if (!problem && !model_.optimizer()->step_if_finite(model_.trainable(), gradient_bad_)) problem = non_finite_gradient();
  if (problem) {
    buffers_.restore();  // the same decision on every rank: the sums are the same
    if (o_.on_non_finite == NonFinitePolicy::Stop)
      throw TrainingStopped(TrainingStopped::Reason::NonFinite,
                            fmt::format("non-finite {} at epoch {}, step {}", *problem, pos_.epoch, pos_.step + 1));
    ++pos_.skipped;
  } else {
    pos_.loss_sum += r.loss_sum;
    pos_.correct += r.correct;
    pos_.seen += rows;
    if (ranks_.size() > 1 && !synced_) take_rank0_buffers();  // synchronised: already alike
  }
  ++pos_.step;
  ++pos_.total_steps;
  if (o_.callback)
    o_.callback->on_batch_end(pos_.step, steps_, pos_.loss_sum / pos_.seen, double(pos_.correct) / pos_.seen);
}

// The batch's loss and correct count, summed over the ranks' shards in rank order.
LossResult FitLoop::sum_over_ranks(const LossResult& mine) {
  const double sent[2] = {mine.loss_sum, static_cast<double>(mine.correct)};
  std::vector<double> all(2 * ranks_.size());
  ranks_.allgather(sent, all.data(), 2);
  LossResult sum;
  for (int k = 0; k < ranks_.size(); ++k) {
    sum.loss_sum += all[2 * k];
    sum.correct += static_cast<int64_t>(all[2 * k + 1]);
  }
  return sum;
}

// Every trainable gradient, summed over the ranks in one collective.
void FitLoop::sum_gradients() {
  const std::vector<ParamRef>& params = model_.trainable();
  size_t total = 0;
  for (const ParamRef& p : params) total += p.grad->numel();
  exchange_.resize(total);
  float* at = exchange_.data();
  for (const ParamRef& p : params) at = std::copy_n(p.grad->data(), p.grad->numel(), at);
  ranks_.allreduce_sum(exchange_.data(), static_cast<int64_t>(total));
  const float* from = exchange_.data();
  for (const ParamRef& p : params) {
    std::copy_n(from, p.grad->numel(), p.grad->data());
    from += p.grad->numel();
  }
}

// Rank 0's moving statistics on every rank (each rank's shard gave its own), so that the ranks
// keep one model.
void FitLoop::take_rank0_buffers() {
  if (moving_.empty()) return;
  size_t total = 0;
  for (const Tensor* t : moving_) total += t->numel();
  exchange_.resize(total);
  float* at = exchange_.data();
  for (const Tensor* t : moving_) at = std::copy_n(t->data(), t->numel(), at);
  ranks_.broadcast(exchange_.data(), static_cast<int64_t>(total));
  const float* from = exchange_.data();
  for (Tensor* t : moving_) {
    std::copy_n(from, t->numel(), t->data());
    from += t->numel();
  }
}

// What is non-finite, naming the layer: "loss (nan), first in the output of layer 'dense_1'" or
// "gradient of layer 'dense_1' (weight)". Nothing when the loss is finite.
std::optional<std::string> FitLoop::non_finite_loss(const LossResult& r) const {
  if (std::isfinite(r.loss_sum)) return std::nullopt;
  return fmt::format("loss ({}), first in the output of layer '{}'", std::isnan(r.loss_sum) ? "NaN" : "Inf",
                     first_non_finite_output());
}

// The first parameter whose gradient the optimiser found non-finite (gradient_bad_).
std::string FitLoop::non_finite_gradient() const {
  const std::vector<ParamRef>& params = model_.trainable();
  for (size_t i = 0; i < params.size(); ++i)
    if (gradient_bad_[i]) return fmt::format("gradient of layer '{}' ({})", owners_[i]->name, params[i].name);
  return "gradient";
}

// The loss is only non-finite when some layer's output is; the output layer's is the logits.
std::string FitLoop::first_non_finite_output() const {
  const auto& layers = model_.layers();
  for (size_t i = 0; i < layers.size(); ++i) {
    const Tensor& out = plan_->output(i);
    if (!all_finite(out.data(), out.numel())) return layers[i]->name;
  }
  return layers.back()->name;
}

void FitLoop::finish_epoch(const Stopwatch& epoch) {
  EpochLogs logs;
  logs.epoch = pos_.epoch;
  logs.steps = pos_.step;
  logs.skipped = pos_.skipped;
  logs.loss = pos_.seen ? pos_.loss_sum / pos_.seen : NAN;
  logs.accuracy = pos_.seen ? double(pos_.correct) / pos_.seen : NAN;
  if (o_.validation) {
    const Metrics v = model_.evaluate(*o_.validation, o_.batch_size, o_.ranks);
    logs.val_loss = v.loss;
    logs.val_accuracy = v.accuracy;
  }
  logs.seconds = pos_.seconds + epoch.seconds();
  pos_.history.epochs.push_back(logs);
  if (o_.callback) o_.callback->on_epoch_end(logs);

  pos_.order = order_;  // the next epoch shuffles this one's order
  pos_.order_rng = rng_.state();
  ++pos_.epoch;
  pos_.step = 0;
  pos_.loss_sum = 0.0;
  pos_.correct = pos_.seen = pos_.skipped = 0;
  pos_.seconds = 0.0;
  if (o_.checkpoint) o_.checkpoint(pos_);
}

}  // namespace

History fit(Sequential& model, const Dataset& train, const FitOptions& options) {
  return FitLoop(model, train, options).run();
}

}  // namespace bnlab
