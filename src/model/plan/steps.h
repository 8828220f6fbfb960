#pragma once
// The steps a TrainingPlan is made of (bnlab/model/plan.h), and what they pass to each other.
#include <cstddef>
#include <memory>
#include <vector>

#include "bnlab/core/tensor.h"
#include "bnlab/core/work_split.h"
#include "bnlab/layers/batchnorm.h"
#include "bnlab/layers/dense.h"
#include "bnlab/model/sequential.h"

namespace bnlab {
class Communicator;
}

namespace bnlab::plan {

// What a BatchNorm step calls between forming its per-feature sums and normalising with them, when
// its batch statistics are those of a data-parallel step's global batch (synchronised BatchNorm:
// PlanOptions::sync_batchnorm): the ranks' sums, gathered and merged in rank order in double, so
// every rank gets the same bits (kernels/batchnorm_sync.h). Without one (null) a step's rows are the
// whole batch. Called by every rank for the same layers in the same order, from the plan's thread.
class BatchNormReducer {
 public:
  explicit BatchNormReducer(Communicator& ranks) : ranks_(ranks) {}
  // moments: this rank's shard moments (batchnorm_shard_moments) -> mean, var: (C) of the global
  // batch; returns the global batch's rows.
  int64_t merge_moments(const double* moments, double* mean, double* var, int C);
  // sums: (2, C) of this rank's rows := their sums over every rank's rows.
  void sum(double* sums, int C);

 private:
  Communicator& ranks_;
  std::vector<double> gathered_;
};

// A BatchNormalization layer's batch statistics in a training step: written by the step that runs
// the layer's forward, read by the one that runs its backward.
struct BatchStatistics {
  std::vector<double> mean, var;  // (C)
  int64_t count = 0;              // rows (images: values per channel) of the statistics, all ranks' when synchronised
  std::vector<double> moments;    // synchronised: this rank's shard moments (kernels/batchnorm_sync.h)
  Tensor invstd, r, d;            // (C); r, d: Batch Renormalization's corrections
  // Images (N, C, H, W): the per-channel sums of kernels/batchnorm2d.h's phases (a), forward then
  // backward, and their shift.
  std::vector<double> sum, sumsq;  // (C)
  Tensor pivot;                    // (C)
  Tensor u;                       // the normalised input (N, C), kept by the input BatchNorm only
  ThreadCopies u_copies;          // u once per thread, when its forward made copies

  void resize(int C);  // allocates only the first time
};

// What the steps of one training step read and write.
struct StepState {
  const Tensor* x = nullptr;             // the batch, (N, input shape...)
  ThreadCopies x_copies;                 // the batch once per thread, when a step asked for copies
  std::vector<Tensor> out;               // out[i]: layer i's output (the last: the loss's logits)
  std::vector<ThreadCopies> out_copies;  // out[i] once per thread, when its step made copies
  std::vector<BatchStatistics> stats;    // stats[i]: of BatchNormalization layer i
  BatchNormReducer* reducer = nullptr;   // synchronised BatchNorm's, or null

  const Tensor& input(size_t i) const { return i == 0 ? *x : out[i - 1]; }
  ThreadCopies input_copies(size_t i) const { return i == 0 ? x_copies : out_copies[i - 1]; }
};

// Layers [first, last] of one forward step: reads input(first), writes out[first..last].
class ForwardStep {
 public:
  ForwardStep(const char* name, size_t first, size_t last) : name(name), first(first), last(last) {}
  virtual ~ForwardStep() = default;
  virtual void run(StepState& s) = 0;
  // Copies of the batch this step reads, one per thread, at batch size N (0: the batch once).
  virtual int batch_copies(int N) const { return 0; }
  virtual double product_flops(int N) const { return 0.0; }
  // A rank with an empty shard of a synchronised step: the step's collectives with nothing to add
  // (a BatchNorm's zero count), so that the other ranks' collectives complete.
  virtual void take_part_empty(StepState& s) {}

  const char* name;
  size_t first, last;
};

// Layers [first, last] of one backward step: from dy = dL/d out[last], sets the layers' parameter
// gradients and writes dx = dL/d input(first) unless dx is null (nothing before needs it).
class BackwardStep {
 public:
  BackwardStep(const char* name, size_t first, size_t last) : name(name), first(first), last(last) {}
  virtual ~BackwardStep() = default;
  virtual void run(StepState& s, const Tensor& dy, Tensor* dx) = 0;
  virtual double product_flops(int N) const { return 0.0; }
  // As ForwardStep's; dx_needed: whether run would have been given a dx.
  virtual void take_part_empty(StepState& s, bool dx_needed) {}

  const char* name;
  size_t first, last;
};

// Whether layer i is of type T.
template <class T>
bool is(const Sequential& m, size_t i) {
  return i < m.layers().size() && dynamic_cast<const T*>(m.layers()[i].get()) != nullptr;
}
// Whether layer i is the output layer and the loss takes its logits (a softmax output).
inline bool gives_logits(const Sequential& m, size_t i) {
  return i + 1 == m.layers().size() && m.layers()[i]->has_softmax_output();
}

// Any layer on its own, through the Layer interface (its gradients zeroed first).
class LayerForward : public ForwardStep {
 public:
  LayerForward(Sequential& m, size_t i);
  void run(StepState& s) override;
  double product_flops(int N) const override;

 private:
  Layer& layer_;
  bool logits_;
};

class LayerBackward : public BackwardStep {
 public:
  LayerBackward(Sequential& m, size_t i);
  void run(StepState& s, const Tensor& dy, Tensor* dx) override;
  double product_flops(int N) const override;

 private:
  Layer& layer_;
  bool logits_, dx_needed_;
  std::vector<Tensor*> grads_;
};

// A BatchNormalization's gamma and beta, and their gradients, for the kernels: null when the layer
// has no scale / no center.
const float* gamma_of(const BatchNormalization& bn);
const float* beta_of(const BatchNormalization& bn);
float* dgamma_of(BatchNormalization& bn);
float* dbeta_of(BatchNormalization& bn);
// bn's training forward on x: (N, C) into y, its batch statistics into st, and u: (N, C) the
// normalised input (y = u * gamma + beta) unless null; updates the moving statistics. On images
// x: (N, C, H, W), u must be null.
void run_batchnorm_forward(BatchNormalization& bn, BatchStatistics& st, const Tensor& x, Tensor& y, float* u);

// Synchronised BatchNorm (s.reducer set), in the parts a fused step interleaves with its own work:
// st.moments (shard moments of the BN's input, batchnorm_shard_moments) := merged by the reducer
// into st's mean, var and count, which then update the moving statistics.
void merge_batchnorm_statistics(BatchNormalization& bn, BatchStatistics& st, BatchNormReducer& reducer, int C);
// The same from an empty shard.
void take_part_empty_forward(BatchNormalization& bn, BatchStatistics& st, BatchNormReducer& reducer);
// The backward's two per-feature sums of this rank's rows and of every rank's, (2, C) each.
struct SyncedSums {
  std::vector<double> shard, all;
  void resize(int C);
  // shard (formed by batchnorm_backward_sums; for images x: (N, C, H, W) by batchnorm2d_backward_sums
  // into its two halves) := summed over the ranks into `all` when dx is wanted;
  // then the BN's parameter gradients of this rank's rows and dx = dL/d x from dy = dL/dy.
  void finish(BatchNormalization& bn, const BatchStatistics& st, BatchNormReducer& reducer, const Tensor& dy,
              const Tensor& x, Tensor* dx);
  // An empty shard's part: zero sums, when dx is wanted.
  void take_part_empty(BatchNormalization& bn, BatchNormReducer& reducer, bool dx_needed);
};

// A Dense layer's training forward, z: (N, units) from x: (N, in), then `then` on each block of
// columns of z inside the product's parallel region (elementwise activations only) and x read
// from its per-thread copies. logits: the output layer of a softmax model, whose softmax is the loss's.
void run_dense_forward(Dense& d, bool logits, const Tensor& x, Tensor& z, const ColumnBlockFn& then = {},
                       const ThreadCopies& x_copies = {});
// Its backward from dy = dL/d its output y (of the logits when logits), SETTING the weight and bias
// gradients; dx = dL/dx unless null, then `then_dx` on each block of columns of dx inside the
// product's region. dz: scratch for dL/dz, (N, units).
void run_dense_backward(Dense& d, bool logits, const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dz,
                        Tensor* dx, const ColumnBlockFn& then_dx = {});

// The fused steps, one function each: the step when its pattern applies at layer i (forward: the
// step's first layer; backward: its last), else null. plan.cpp tries them in the order of its table.
std::unique_ptr<ForwardStep> input_batchnorm_forward_step(Sequential& m, size_t i);  // BN (model input side), before a Dense
std::unique_ptr<ForwardStep> dense_batchnorm_forward_step(Sequential& m, size_t i);  // Dense, BN
std::unique_ptr<ForwardStep> dense_forward_step(Sequential& m, size_t i);            // Dense
std::unique_ptr<ForwardStep> batchnorm_forward_step(Sequential& m, size_t i);        // BN
std::unique_ptr<BackwardStep> input_batchnorm_dense_backward_step(Sequential& m, size_t i);  // input BN, Dense
std::unique_ptr<BackwardStep> batchnorm_dense_backward_step(Sequential& m, size_t i);        // BN, Dense
std::unique_ptr<BackwardStep> dense_backward_step(Sequential& m, size_t i);                  // Dense
std::unique_ptr<BackwardStep> batchnorm_backward_step(Sequential& m, size_t i);              // BN

}  // namespace bnlab::plan
