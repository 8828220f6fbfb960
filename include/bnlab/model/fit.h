#pragma once
// The training loop (Sequential::fit, src/model/fit.cpp): epochs of shuffled batches, each a step
// of the model's TrainingPlan (model/plan.h) and of its optimiser, with Keras-style running metrics
// (averages over the epoch, weighted by batch size), validation after each epoch, checkpoints
// between steps, resumption from a saved position, stop requests and a guard against non-finite
// losses and gradients.
#include <array>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "bnlab/data/dataset.h"

namespace bnlab {

class Communicator;
class Sequential;

struct EpochLogs {
  int epoch = 0;  // 1-based
  double loss = NAN, accuracy = NAN;
  double val_loss = NAN, val_accuracy = NAN;  // NaN without validation data
  double seconds = 0.0;                       // wall time, validation included
  int64_t steps = 0;
  int64_t skipped = 0;                        // steps skipped for a non-finite loss or gradient
};

struct History {
  std::vector<EpochLogs> epochs;
};

class TrainingCallback {
 public:
  virtual ~TrainingCallback() = default;
  virtual void on_epoch_begin(int epoch, int epochs, int64_t steps) {}
  // After the backward pass of a training step, before the optimiser updates the weights: the
  // model's parameter gradients are those of this batch (e.g. to record gradient norms).
  virtual void on_gradients(Sequential& model, int64_t step) {}
  // Running averages over the epoch so far.
  virtual void on_batch_end(int64_t step, int64_t steps, double loss, double accuracy) {}
  virtual void on_epoch_end(const EpochLogs& logs) {}
};

// Where a run stands between two steps of fit. Together with the model's state (weights, moving
// statistics, dropout generators) and the optimiser's (moments, step count) it is everything fit
// needs to continue as if it had never stopped: the same seed and threads then give the same
// weights, bit for bit.
struct TrainingPosition {
  int epoch = 1;            // the epoch in progress, 1-based
  int64_t step = 0;         // its steps already taken
  int64_t total_steps = 0;  // steps taken in all epochs
  // The data order and its generator as they were when `epoch` began, before its shuffle (each
  // epoch shuffles the previous epoch's order).
  std::vector<int64_t> order;
  std::array<uint64_t, 4> order_rng{};
  // The epoch's running sums so far.
  double loss_sum = 0.0;
  int64_t correct = 0, seen = 0, skipped = 0;
  double seconds = 0.0;  // wall time spent in the epoch so far
  History history;       // the epochs completed
};

// What fit does with a batch whose loss or gradient holds NaN or Inf. Either way the batch leaves
// no trace: weights, moving statistics and optimiser stay as the last good step left them.
enum class NonFinitePolicy {
  Stop,       // throw TrainingStopped
  SkipBatch,  // count it in EpochLogs::skipped and go on with the next batch
};

// fit ended early: a non-finite loss or gradient, or a stop request. what() is one line naming the
// epoch and step (and, for a non-finite value, the layer).
class TrainingStopped : public std::runtime_error {
 public:
  enum class Reason { NonFinite, StopRequested };
  TrainingStopped(Reason reason, const std::string& what) : std::runtime_error(what), reason(reason) {}
  Reason reason;
};

// How BatchNorm normalises in data-parallel training (FitOptions::ranks).
enum class BatchNormSync {
  Global,  // with the statistics of the whole global batch, merged across the ranks (PlanOptions::sync_batchnorm)
  Local,   // each rank's shard with its own statistics; the ranks then take rank 0's moving statistics
};

struct FitOptions {
  int epochs = 1;
  int batch_size = 32;
  bool shuffle = true;
  uint64_t seed = 0;                   // data order
  const Dataset* validation = nullptr;
  int64_t max_steps = -1;              // stop after this many steps in all (-1: no limit)
  TrainingCallback* callback = nullptr;
  // Steps fused by the training plan (model/plan.h); false runs every layer on its own, the plain
  // loop of Sequential::forward_backward.
  bool fuse = true;
  // Continue from this position instead of epoch 1; the model's and optimiser's state must have
  // been restored to what they were there (training_state.h does both).
  const TrainingPosition* resume = nullptr;
  // Called with the position at the end of every epoch (validation done) and before fit stops on
  // a stop request, so that the caller can save a checkpoint.
  std::function<void(const TrainingPosition&)> checkpoint;
  // Polled between steps (e.g. set by a signal handler): once true, fit calls checkpoint and
  // throws TrainingStopped.
  const std::atomic<bool>* stop_requested = nullptr;
  NonFinitePolicy on_non_finite = NonFinitePolicy::Stop;
  // Data-parallel training (dist/communicator.h): every rank calls fit with the same model, options
  // and data. Each step, rank r takes its contiguous shard of the global batch of batch_size rows,
  // in the data order one process would use (dist's shard_of; a shard may be empty), computes the
  // gradient of the global batch's mean loss over its rows, and the ranks sum their gradients, so
  // that every rank takes the same optimiser step. Validation is sharded; the epoch's metrics and
  // a stop request are agreed by all ranks. BatchNorm as bn_sync says. Null: one process.
  Communicator* ranks = nullptr;
  // Global: N ranks train the model one process would (within rounding). Local: what PyTorch's
  // DistributedDataParallel does without SyncBatchNorm. Meaningless with one rank.
  BatchNormSync bn_sync = BatchNormSync::Global;
};

// Trains model (built and compiled) on train; Sequential::fit calls this. Throws InputError for bad
// options or data, TrainingStopped when stopped early.
History fit(Sequential& model, const Dataset& train, const FitOptions& options);

}  // namespace bnlab
