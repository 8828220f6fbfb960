#pragma once
// A model compiled for training: its layers grouped, once, into the steps that run a training
// step, so that neighbouring layers can share a parallel region and data stays in the cache of the
// core that wrote it. Each step is one layer, or one fused group chosen by matching a table of
// patterns (src/model/plan.cpp):
//   forward   the input BatchNorm, which keeps its normalised input for the backward shortcut and
//             normalises a copy of the batch per thread; Dense + BatchNorm (the BN's statistics and
//             normalisation on each block of columns the Dense layer's threads produce); Dense;
//             BatchNorm; any other layer on its own
//   backward  the input BatchNorm + Dense shortcut (kernels/batchnorm_dense.h); BatchNorm + Dense
//             (the BN's backward on each block of the Dense layer's input gradient); Dense;
//             BatchNorm; any other layer on its own
// A plan gives the gradients of zero_grad and Sequential::forward_backward, bit for bit, but for
// the input-BatchNorm shortcut, which sums the same terms in another order (within rounding).
// Without fusion (PlanOptions::fuse = false) every step is one layer: the plain loop.
//
// Steps read the layers' parameters and write their gradients; what passes from a step's forward
// to its backward (activations, BatchNorm's batch statistics, per-thread copies) is the plan's.
// A new fusion is a new step type and a row of the table. Statistics of a whole (N, C, H, W) input
// and their reduction across processes belong in a BatchNorm step too: the step, not the layer,
// decides how the per-channel sums are formed before it normalises.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bnlab/core/function_ref.h"
#include "bnlab/core/tensor.h"
#include "bnlab/core/work_split.h"
#include "bnlab/kernels/loss.h"

namespace bnlab {

class Communicator;
class Sequential;
namespace plan {
class ForwardStep;
class BackwardStep;
class BatchNormReducer;
struct StepState;
}  // namespace plan

// Writes a batch's input rows into x (N, input shape...) and, for copy 0, its labels: for thread
// `copy` of a region that gathers one copy of the batch per thread, when the plan's first step
// asks for them, else once. fill must not start parallel regions or throw.
using BatchFillFn = FunctionRef<void(float* x, int copy)>;

struct PlanOptions {
  bool fuse = true;  // false: one step per layer (but a synchronised BatchNorm, always a BN step)
  // Synchronised BatchNorm: these ranks each run the plan on their shard of a global batch, and
  // every BatchNormalization normalises with the global batch's statistics (merged by its step
  // across the ranks, kernels/batchnorm_sync.h) and differentiates through them, so that the ranks'
  // summed gradients are those of one process holding the whole batch; the moving statistics are
  // updated from the global statistics, alike on every rank. Null: each rank's rows are its batch.
  // Batch Renormalization is refused (InputError).
  Communicator* sync_batchnorm = nullptr;
};

class TrainingPlan {
 public:
  // model: built; its optimiser (compile) is needed for train_step only. The plan keeps a
  // reference and must not outlive it.
  explicit TrainingPlan(Sequential& model, PlanOptions options = {});
  ~TrainingPlan();
  TrainingPlan(const TrainingPlan&) = delete;
  TrainingPlan& operator=(const TrainingPlan&) = delete;

  // One training step's forward, loss and backward: SETS every trainable gradient (no zero_grad
  // needed) and the moving statistics, on the N rows that fill writes (labels: N, filled by fill).
  // mean_over: the loss and its gradients are of the sum over these rows divided by mean_over
  // rather than by N, for one shard of a larger batch whose shards' gradients are then summed
  // (data-parallel training: model/fit.h); 0 means N. N = 0 (an empty shard) sets every gradient
  // to zero and, synchronised, takes part in the BatchNorm steps' collectives; fill is not called.
  LossResult forward_backward(int N, const int32_t* labels, const BatchFillFn& fill, int64_t mean_over = 0);
  LossResult forward_backward(const Tensor& x, const int32_t* labels);
  // forward_backward, then the optimiser's step.
  LossResult train_step(int N, const int32_t* labels, const BatchFillFn& fill);
  LossResult train_step(const Tensor& x, const int32_t* labels);

  // Layer `layer`'s output in the last step (the last layer's: the logits of a softmax output).
  const Tensor& output(size_t layer) const;
  // Its copies, one per thread, when its step made them (count 0 otherwise).
  ThreadCopies output_copies(size_t layer) const;
  // The steps, by name, in the order they run ("dense+batchnorm: layers 2-3"), for tests and bench.
  std::vector<std::string> forward_steps() const;
  std::vector<std::string> backward_steps() const;
  // Matrix-product FLOPs of one step at batch size N, as the plan does them.
  double product_flops(int N) const;

 private:
  LossResult run(const Tensor& x, const int32_t* labels, int64_t mean_over);
  LossResult take_part_empty();

  Sequential& model_;
  std::vector<std::unique_ptr<plan::ForwardStep>> forward_;
  std::vector<std::unique_ptr<plan::BackwardStep>> backward_;  // from the output down
  std::unique_ptr<plan::StepState> state_;
  std::unique_ptr<plan::BatchNormReducer> reducer_;
  Tensor batch_, probs_, dlogits_, grads_[2];
  std::vector<Tensor> batch_copies_;  // the batch, once per thread after the first
  std::vector<const float*> batch_copy_ptrs_;
};

}  // namespace bnlab
