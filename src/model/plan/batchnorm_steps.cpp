// BatchNormalization in a plan: on its own, or inside the parallel region of the Dense layer next
// to it (kernels/dense.h's ColumnBlockFn), where each thread normalises the block of columns it
// has just produced (forward) or differentiates the block of the Dense layer's input gradient it
// has just produced (backward), while that block is in its cache. The same arithmetic in the same
// order as the layer's own forward and backward (kernels/batchnorm.h), so the same bits.
//
// On images (N, C, H, W) the BN runs on its own, in the phases of kernels/batchnorm2d.h: the
// per-channel sums, then the normalisation with the mean and variance they give (forward); the two
// per-channel sums of the backward, then the gradients from them.
//
// Synchronised (the plan's StepState::reducer set: a data-parallel step's BN normalises with the
// global batch's statistics), each step forms this rank's sums where it would have normalised,
// the reducer merges them across the ranks on the plan's thread, and the step then normalises
// (forward) or applies dx (backward) with the merged ones (kernels/batchnorm_sync.h). Images
// (N, C, H, W) take the same path per channel, over the N * H * W values of each rank's shard.
#include <algorithm>

#include "bnlab/dist/communicator.h"
#include "bnlab/kernels/batchnorm.h"
#include "bnlab/kernels/batchnorm2d.h"
#include "bnlab/kernels/batchnorm_sync.h"
#include "bnlab/layers/batchnorm.h"
#include "bnlab/layers/dense.h"
#include "model/plan/steps.h"

namespace bnlab::plan {

void BatchStatistics::resize(int C) {
  mean.resize(C);
  var.resize(C);
  moments.resize(batchnorm_moments_size(C));
  sum.resize(C);
  sumsq.resize(C);
  for (Tensor* t : {&invstd, &r, &d, &pivot}) t->resize({C});
}

const float* gamma_of(const BatchNormalization& bn) { return bn.options().scale ? bn.weight.data() : nullptr; }
const float* beta_of(const BatchNormalization& bn) { return bn.options().center ? bn.bias.data() : nullptr; }
float* dgamma_of(BatchNormalization& bn) { return bn.options().scale ? bn.weight_grad.data() : nullptr; }
float* dbeta_of(BatchNormalization& bn) { return bn.options().center ? bn.bias_grad.data() : nullptr; }

namespace {

// x: (N, C, H, W), the sums shifted by each channel's first value, as the layer's own forward.
void run_batchnorm2d_forward(BatchNormalization& bn, BatchStatistics& st, const Tensor& x, Tensor& y) {
  const BatchNormOptions& o = bn.options();
  const int N = static_cast<int>(x.dim(0)), C = static_cast<int>(x.dim(1));
  const int HW = static_cast<int>(x.dim(2) * x.dim(3));
  const int64_t count = static_cast<int64_t>(N) * HW;
  for (int c = 0; c < C; ++c) st.pivot[c] = x[static_cast<int64_t>(c) * HW];
  batchnorm2d_sums(st.sum.data(), st.sumsq.data(), st.pivot.data(), x.data(), N, C, HW);
  batchnorm2d_moments(st.mean.data(), st.var.data(), st.sum.data(), st.sumsq.data(), st.pivot.data(), count, C);
  const float* r = nullptr;
  const float* d = nullptr;
  if (o.renorm) {
    batchnorm2d_renorm_corrections(st.r.data(), st.d.data(), st.mean.data(), st.var.data(), bn.running_mean.data(),
                                   bn.running_var.data(), o.rmax, o.dmax, C, o.eps);
    r = st.r.data();
    d = st.d.data();
  }
  batchnorm2d_normalise(y.data(), st.invstd.data(), x.data(), st.mean.data(), st.var.data(), r, d, gamma_of(bn),
                        beta_of(bn), N, C, HW, o.eps);
  bn.update_moving_statistics(st.mean.data(), st.var.data(), count);
}

void run_batchnorm2d_backward(BatchNormalization& bn, BatchStatistics& st, const Tensor& x, const Tensor& dy,
                              Tensor* dx) {
  const int N = static_cast<int>(x.dim(0)), C = static_cast<int>(x.dim(1));
  const int HW = static_cast<int>(x.dim(2) * x.dim(3));
  const float* r = bn.options().renorm ? st.r.data() : nullptr;
  const float* d = bn.options().renorm ? st.d.data() : nullptr;
  // st.sum and st.sumsq now take sum(dy) and sum(dy * (x - mean)).
  batchnorm2d_backward_sums(st.sum.data(), st.sumsq.data(), dy.data(), x.data(), st.mean.data(), N, C, HW);
  batchnorm2d_param_grads(dgamma_of(bn), dbeta_of(bn), st.sum.data(), st.sumsq.data(), st.invstd.data(), r, d, C);
  if (dx)
    batchnorm2d_backward_input(dx->data(), dy.data(), x.data(), st.mean.data(), st.invstd.data(), r, gamma_of(bn),
                               st.sum.data(), st.sumsq.data(), static_cast<int64_t>(N) * HW, N, C, HW);
}

}  // namespace

void run_batchnorm_forward(BatchNormalization& bn, BatchStatistics& st, const Tensor& x, Tensor& y, float* u) {
  const BatchNormOptions& o = bn.options();
  if (x.shape().rank() == 4) {
    const int N = static_cast<int>(x.dim(0));
    bn.check_training_batch(N);
    st.resize(static_cast<int>(x.dim(1)));
    y.resize(x.shape());
    run_batchnorm2d_forward(bn, st, x, y);
    return;
  }
  const int N = static_cast<int>(x.dim(0)), C = static_cast<int>(x.dim(1));
  bn.check_training_batch(N);
  st.resize(C);
  y.resize(x.shape());
  if (o.renorm)
    batchnorm_renorm_forward_train(y.data(), u, st.mean.data(), st.invstd.data(), st.var.data(), st.r.data(),
                                   st.d.data(), x.data(), gamma_of(bn), beta_of(bn), bn.running_mean.data(),
                                   bn.running_var.data(), o.rmax, o.dmax, N, C, o.eps);
  else
    batchnorm_forward_train(y.data(), u, st.mean.data(), st.invstd.data(), st.var.data(), x.data(), gamma_of(bn),
                            beta_of(bn), N, C, o.eps);
  bn.update_moving_statistics(st.mean.data(), st.var.data(), N);
}

int64_t BatchNormReducer::merge_moments(const double* moments, double* mean, double* var, int C) {
  const int64_t n = batchnorm_moments_size(C);
  gathered_.resize(n * ranks_.size());
  ranks_.allgather(moments, gathered_.data(), n);
  return batchnorm_merge_moments(mean, var, gathered_.data(), ranks_.size(), C);
}

void BatchNormReducer::sum(double* sums, int C) {
  const int64_t n = 2 * int64_t{C};
  gathered_.resize(n * ranks_.size());
  ranks_.allgather(sums, gathered_.data(), n);
  // Scalar math: sums[i] = sum over ranks r, in rank order, of rank r's sums[i]
  std::copy_n(gathered_.data(), n, sums);
  for (int r = 1; r < ranks_.size(); ++r)
    for (int64_t i = 0; i < n; ++i) sums[i] += gathered_[r * n + i];
}

void merge_batchnorm_statistics(BatchNormalization& bn, BatchStatistics& st, BatchNormReducer& reducer, int C) {
  st.count = reducer.merge_moments(st.moments.data(), st.mean.data(), st.var.data(), C);
  bn.check_training_batch(static_cast<int>(std::min<int64_t>(st.count, 1 << 30)));
  bn.update_moving_statistics(st.mean.data(), st.var.data(), static_cast<int>(st.count));
}

void take_part_empty_forward(BatchNormalization& bn, BatchStatistics& st, BatchNormReducer& reducer) {
  const int C = static_cast<int>(bn.running_mean.numel());
  st.resize(C);
  batchnorm_shard_moments(st.moments.data(), nullptr, 0, C);
  merge_batchnorm_statistics(bn, st, reducer, C);
}

void SyncedSums::resize(int C) {
  shard.resize(2 * C);
  all.resize(2 * C);
}

void SyncedSums::finish(BatchNormalization& bn, const BatchStatistics& st, BatchNormReducer& reducer, const Tensor& dy,
                        const Tensor& x, Tensor* dx) {
  const int N = static_cast<int>(x.dim(0)), C = static_cast<int>(x.dim(1));
  batchnorm_sync_param_grads(dgamma_of(bn), dbeta_of(bn), shard.data(), st.invstd.data(), C);
  if (!dx) return;  // (every rank alike: the plan's structure decides)
  all = shard;
  reducer.sum(all.data(), C);
  dx->resize(x.shape());
  if (x.shape().rank() == 4) {
    batchnorm2d_backward_input(dx->data(), dy.data(), x.data(), st.mean.data(), st.invstd.data(), nullptr,
                               gamma_of(bn), all.data(), all.data() + C, st.count, N, C,
                               static_cast<int>(x.dim(2) * x.dim(3)));
    return;
  }
  batchnorm_sync_backward_dx(dx->data(), dy.data(), x.data(), st.mean.data(), st.invstd.data(), gamma_of(bn),
                             all.data(), st.count, N, C);
}

void SyncedSums::take_part_empty(BatchNormalization& bn, BatchNormReducer& reducer, bool dx_needed) {
  const int C = static_cast<int>(bn.running_mean.numel());
  resize(C);
  if (!dx_needed) return;
  std::fill(all.begin(), all.end(), 0.0);
  reducer.sum(all.data(), C);
}

namespace {

// dgamma and dbeta set to 0: the kernels accumulate, the plan sets.
void zero_grads(BatchNormalization& bn) {
  if (bn.options().scale) bn.weight_grad.zero();
  if (bn.options().center) bn.bias_grad.zero();
}

class BatchNormForward : public ForwardStep {
 public:
  BatchNormForward(Sequential& m, size_t i)
      : ForwardStep("batchnorm", i, i), bn_(static_cast<BatchNormalization&>(m.layer(i))) {}

  void run(StepState& s) override {
    if (s.reducer)
      run_synced(*s.reducer, s.stats[first], s.input(first), s.out[first]);
    else
      run_batchnorm_forward(bn_, s.stats[first], s.input(first), s.out[first], nullptr);
  }
  void take_part_empty(StepState& s) override { take_part_empty_forward(bn_, s.stats[first], *s.reducer); }

 private:
  void run_synced(BatchNormReducer& reducer, BatchStatistics& st, const Tensor& x, Tensor& y) {
    const int N = static_cast<int>(x.dim(0)), C = static_cast<int>(x.dim(1));
    st.resize(C);
    y.resize(x.shape());
    if (x.shape().rank() == 4) {
      const int HW = static_cast<int>(x.dim(2) * x.dim(3));
      batchnorm2d_shard_moments(st.moments.data(), x.data(), N, C, HW);
      merge_batchnorm_statistics(bn_, st, reducer, C);
      batchnorm2d_normalise(y.data(), st.invstd.data(), x.data(), st.mean.data(), st.var.data(), nullptr, nullptr,
                            gamma_of(bn_), beta_of(bn_), N, C, HW, bn_.options().eps);
      return;
    }
    batchnorm_shard_moments(st.moments.data(), x.data(), N, C);
    merge_batchnorm_statistics(bn_, st, reducer, C);
    batchnorm_normalise(y.data(), nullptr, st.invstd.data(), x.data(), st.mean.data(), st.var.data(), gamma_of(bn_),
                        beta_of(bn_), N, C, bn_.options().eps);
  }

  BatchNormalization& bn_;
};

class BatchNormBackward : public BackwardStep {
 public:
  BatchNormBackward(Sequential& m, size_t i)
      : BackwardStep("batchnorm", i, i), bn_(static_cast<BatchNormalization&>(m.layer(i))) {}

  void run(StepState& s, const Tensor& dy, Tensor* dx) override {
    const Tensor& x = s.input(first);
    BatchStatistics& st = s.stats[first];
    const int N = static_cast<int>(x.dim(0)), C = static_cast<int>(x.dim(1));
    zero_grads(bn_);
    if (s.reducer) {
      sums_.resize(C);
      if (x.shape().rank() == 4)  // sum_dy, then sum_dy_xmu, over each channel's values
        batchnorm2d_backward_sums(sums_.shard.data(), sums_.shard.data() + C, dy.data(), x.data(), st.mean.data(), N,
                                  C, static_cast<int>(x.dim(2) * x.dim(3)));
      else
        batchnorm_backward_sums(sums_.shard.data(), dy.data(), x.data(), st.mean.data(), N, C);
      sums_.finish(bn_, st, *s.reducer, dy, x, dx);
      return;
    }
    if (dx) dx->resize(x.shape());
    if (x.shape().rank() == 4) {
      run_batchnorm2d_backward(bn_, st, x, dy, dx);
      return;
    }
    float* dxp = dx ? dx->data() : nullptr;
    if (bn_.options().renorm)
      batchnorm_renorm_backward_train(dxp, dgamma_of(bn_), dbeta_of(bn_), dy.data(), x.data(), st.mean.data(),
                                      st.invstd.data(), st.r.data(), st.d.data(), gamma_of(bn_), N, C);
    else
      batchnorm_backward_train(dxp, dgamma_of(bn_), dbeta_of(bn_), dy.data(), x.data(), st.mean.data(),
                               st.invstd.data(), gamma_of(bn_), N, C);
  }
  void take_part_empty(StepState& s, bool dx_needed) override { sums_.take_part_empty(bn_, *s.reducer, dx_needed); }

 private:
  BatchNormalization& bn_;
  SyncedSums sums_;
};

// Dense i, then BatchNorm i + 1 on each block of columns its threads produce.
class DenseBatchNormForward : public ForwardStep {
 public:
  DenseBatchNormForward(Sequential& m, size_t i)
      : ForwardStep("dense+batchnorm", i, i + 1), dense_(static_cast<Dense&>(m.layer(i))),
        bn_(static_cast<BatchNormalization&>(m.layer(i + 1))) {}

  void run(StepState& s) override {
    const Tensor& x = s.input(first);
    Tensor& a = s.out[first];
    Tensor& y = s.out[last];
    BatchStatistics& st = s.stats[last];
    const int N = static_cast<int>(x.dim(0)), C = dense_.units();
    st.resize(C);
    y.resize({N, C});
    const float eps = bn_.options().eps;
    if (s.reducer) {  // the shard's moments in the product's region; merged, then normalised
      run_dense_forward(
          dense_, false, x, a,
          [&](int c0, int w) { batchnorm_shard_moments_columns(st.moments.data(), a.data(), N, C, c0, w); },
          s.input_copies(first));
      merge_batchnorm_statistics(bn_, st, *s.reducer, C);
      batchnorm_normalise(y.data(), nullptr, st.invstd.data(), a.data(), st.mean.data(), st.var.data(),
                          gamma_of(bn_), beta_of(bn_), N, C, eps);
      return;
    }
    bn_.check_training_batch(N);
    run_dense_forward(
        dense_, false, x, a,
        [&](int c0, int w) {
          batchnorm_forward_train_columns(y.data(), nullptr, st.mean.data(), st.invstd.data(), st.var.data(), a.data(),
                                          gamma_of(bn_), beta_of(bn_), N, C, eps, c0, w);
        },
        s.input_copies(first));
    bn_.update_moving_statistics(st.mean.data(), st.var.data(), N);
  }
  double product_flops(int N) const override { return 2.0 * N * dense_.inputs() * dense_.units(); }
  void take_part_empty(StepState& s) override { take_part_empty_forward(bn_, s.stats[last], *s.reducer); }

 private:
  Dense& dense_;
  BatchNormalization& bn_;
};

// Dense i, and the backward of BatchNorm i - 1 on each block of columns of the Dense layer's input
// gradient (dL/d the BN's output), which the step holds.
class BatchNormDenseBackward : public BackwardStep {
 public:
  BatchNormDenseBackward(Sequential& m, size_t i)
      : BackwardStep("batchnorm+dense", i - 1, i), bn_(static_cast<BatchNormalization&>(m.layer(i - 1))),
        dense_(static_cast<Dense&>(m.layer(i))), logits_(gives_logits(m, i)) {}

  // dx is never null: something before the BN needs its gradient (the pattern's condition).
  void run(StepState& s, const Tensor& dy, Tensor* dx) override {
    const Tensor& x = s.input(first);  // the BN's input
    const BatchStatistics& st = s.stats[first];
    const int N = static_cast<int>(x.dim(0)), C = static_cast<int>(x.dim(1));
    zero_grads(bn_);
    if (s.reducer) {  // the shard's two sums in the product's region; summed, then dx
      sums_.resize(C);
      run_dense_backward(dense_, logits_, s.out[first], s.out[last], dy, dz_, &dense_dx_, [&](int c0, int w) {
        batchnorm_backward_sums_columns(sums_.shard.data(), dense_dx_.data(), x.data(), st.mean.data(), N, C, c0, w);
      });
      sums_.finish(bn_, st, *s.reducer, dense_dx_, x, dx);
      return;
    }
    dx->resize(x.shape());
    run_dense_backward(dense_, logits_, s.out[first], s.out[last], dy, dz_, &dense_dx_, [&](int c0, int w) {
      batchnorm_backward_train_columns(dx->data(), dgamma_of(bn_), dbeta_of(bn_), dense_dx_.data(), x.data(),
                                       st.mean.data(), st.invstd.data(), gamma_of(bn_), N, C, c0, w);
    });
  }
  double product_flops(int N) const override { return 4.0 * N * dense_.inputs() * dense_.units(); }
  void take_part_empty(StepState& s, bool) override { sums_.take_part_empty(bn_, *s.reducer, true); }

 private:
  BatchNormalization& bn_;
  Dense& dense_;
  bool logits_;
  Tensor dz_, dense_dx_;
  SyncedSums sums_;
};

// Plain BN in a column's block: Batch Renormalization's corrections need the whole batch's
// statistics of a column first, which the blocks have, but it is left to the BN's own step.
bool plain(const Sequential& m, size_t i) {
  return is<BatchNormalization>(m, i) && !static_cast<const BatchNormalization&>(*m.layers()[i]).options().renorm;
}

}  // namespace

std::unique_ptr<ForwardStep> batchnorm_forward_step(Sequential& m, size_t i) {
  return is<BatchNormalization>(m, i) ? std::make_unique<BatchNormForward>(m, i) : nullptr;
}

std::unique_ptr<BackwardStep> batchnorm_backward_step(Sequential& m, size_t i) {
  return is<BatchNormalization>(m, i) ? std::make_unique<BatchNormBackward>(m, i) : nullptr;
}

// Dense (elementwise activation) then plain BN, which is not the output layer.
std::unique_ptr<ForwardStep> dense_batchnorm_forward_step(Sequential& m, size_t i) {
  if (!is<Dense>(m, i) || !plain(m, i + 1) || i + 2 >= m.layers().size()) return nullptr;
  if (static_cast<const Dense&>(*m.layers()[i]).activation() == Activation::Softmax) return nullptr;
  return std::make_unique<DenseBatchNormForward>(m, i);
}

// Plain BN then Dense, where something before the BN needs a gradient (else the input BatchNorm's
// shortcut applies, or nothing below the Dense layer does).
std::unique_ptr<BackwardStep> batchnorm_dense_backward_step(Sequential& m, size_t i) {
  if (i < 1 || !is<Dense>(m, i) || !plain(m, i - 1) || i - 1 <= m.first_trainable()) return nullptr;
  return std::make_unique<BatchNormDenseBackward>(m, i);
}

}  // namespace bnlab::plan
