// The input BatchNorm: a BatchNormalization that is the model's first layer with parameters,
// feeding a Dense layer (the notebook's model normalises its input so). Nothing before it needs a
// gradient, so its backward is the shortcut of kernels/batchnorm_dense.h: the BN's parameter
// gradients from sums taken on the Dense side, without the Dense layer's input gradient or the
// BN's. For that its forward keeps the normalised input u.
//
// When only Flatten layers come before it (its input is the batch itself) and the Dense layer's
// product runs on several threads, each of those threads gathers the batch and normalises it for
// itself: reading another core's half of the normalised batch costs more than normalising it again.
// Every copy holds the same values, so the results do not depend on the thread count.
#include <omp.h>

#include "bnlab/kernels/batchnorm.h"
#include "bnlab/kernels/batchnorm_dense.h"
#include "bnlab/kernels/batchnorm_sync.h"
#include "bnlab/layers/basic.h"
#include "bnlab/layers/batchnorm.h"
#include "bnlab/layers/dense.h"
#include "core/parallel.h"
#include "model/plan/steps.h"

namespace bnlab::plan {
namespace {

class InputBatchNormForward : public ForwardStep {
 public:
  // copyable: the BN is plain (not renorm), its input is the batch, and the Dense layer after it,
  // not the output layer, has an elementwise activation.
  InputBatchNormForward(Sequential& m, size_t i, bool copyable)
      : ForwardStep("input batchnorm", i, i), bn_(static_cast<BatchNormalization&>(m.layer(i))),
        dense_(static_cast<const Dense&>(m.layer(i + 1))), copyable_(copyable) {}

  // One copy per thread of the Dense layer's forward region, when it has more than one.
  int batch_copies(int N) const override {
    if (!copyable_) return 0;
    const int threads = column_block_threads(2LL * N * dense_.inputs() * dense_.units());
    return threads > 1 ? threads : 0;
  }

  void run(StepState& s) override {
    const Tensor& x = s.input(first);
    BatchStatistics& st = s.stats[first];
    Tensor& y = s.out[first];
    st.u.resize(x.shape());
    st.u_copies = {};
    if (s.reducer) {  // synchronised: the batch's moments, merged across the ranks, then normalised
      const int N = static_cast<int>(x.dim(0)), C = static_cast<int>(x.dim(1));
      st.resize(C);
      batchnorm_shard_moments(st.moments.data(), x.data(), N, C);
      merge_batchnorm_statistics(bn_, st, *s.reducer, C);
    }
    if (s.x_copies.count == 0) {
      if (s.reducer) {
        y.resize(x.shape());
        batchnorm_normalise(y.data(), st.u.data(), st.invstd.data(), x.data(), st.mean.data(), st.var.data(),
                            gamma_of(bn_), beta_of(bn_), static_cast<int>(x.dim(0)), static_cast<int>(x.dim(1)),
                            bn_.options().eps);
        return;
      }
      run_batchnorm_forward(bn_, st, x, y, st.u.data());
      return;
    }
    normalise_copies(s, x, st, y);
  }
  void take_part_empty(StepState& s) override { take_part_empty_forward(bn_, s.stats[first], *s.reducer); }

 private:
  // Copy k of y, u and the statistics for k >= 1 (copy 0: y, st.u, st).
  struct Copy {
    Tensor y, u, invstd;
    std::vector<double> mean, var;
  };

  void normalise_copies(StepState& s, const Tensor& x, BatchStatistics& st, Tensor& y) {
    const int copies = s.x_copies.count;
    const int N = static_cast<int>(x.dim(0)), C = static_cast<int>(x.dim(1));
    if (!s.reducer) bn_.check_training_batch(N);
    st.resize(C);
    y.resize(x.shape());
    if (static_cast<int>(held_.size()) < copies - 1) held_.resize(copies - 1);
    y_ptrs_.assign(1, y.data());
    u_ptrs_.assign(1, st.u.data());
    for (int k = 1; k < copies; ++k) {
      Copy& c = held_[k - 1];
      c.y.resize(x.shape());
      c.u.resize(x.shape());
      c.invstd.resize({C});
      c.mean.resize(C);
      c.var.resize(C);
      y_ptrs_.push_back(c.y.data());
      u_ptrs_.push_back(c.u.data());
    }
    const float* gamma = gamma_of(bn_);
    const float* beta = beta_of(bn_);
    const float eps = bn_.options().eps;
    // Every thread normalises all columns of its copy, serially (the kernel's column-range form):
    // the same arithmetic, in the same order, as the whole-batch forward. A thread making a copy not
    // its own (fewer threads than copies: core/parallel.h's for_each_copy) reads copy 0 of x.
    // Synchronised, every copy takes the merged statistics already in st.
    for_each_copy(copies, [&](int k) {
      const float* xk = k == omp_get_thread_num() ? own_copy(s.x_copies, x.data()) : x.data();
      if (s.reducer) {
        float* yk = k == 0 ? y.data() : held_[k - 1].y.data();
        float* uk = k == 0 ? st.u.data() : held_[k - 1].u.data();
        float* invstd = k == 0 ? st.invstd.data() : held_[k - 1].invstd.data();
        batchnorm_normalise_columns(yk, uk, invstd, xk, st.mean.data(), st.var.data(), gamma, beta, N, C, eps, 0, C);
      } else if (k == 0) {
        batchnorm_forward_train_columns(y.data(), st.u.data(), st.mean.data(), st.invstd.data(), st.var.data(), xk,
                                        gamma, beta, N, C, eps, 0, C);
      } else {
        Copy& c = held_[k - 1];
        batchnorm_forward_train_columns(c.y.data(), c.u.data(), c.mean.data(), c.invstd.data(), c.var.data(), xk,
                                        gamma, beta, N, C, eps, 0, C);
      }
    });
    s.out_copies[first] = {y_ptrs_.data(), copies};
    st.u_copies = {u_ptrs_.data(), copies};
    if (!s.reducer) bn_.update_moving_statistics(st.mean.data(), st.var.data(), N);
  }

  BatchNormalization& bn_;
  const Dense& dense_;
  bool copyable_;
  std::vector<Copy> held_;
  std::vector<const float*> y_ptrs_, u_ptrs_;
};

class InputBatchNormDenseBackward : public BackwardStep {
 public:
  InputBatchNormDenseBackward(Sequential& m, size_t i)
      : BackwardStep("input batchnorm+dense", i - 1, i), bn_(static_cast<BatchNormalization&>(m.layer(i - 1))),
        dense_(static_cast<Dense&>(m.layer(i))), logits_(gives_logits(m, i)),
        scratch_({batchnorm_dense_scratch(dense_.inputs(), dense_.units(), false)}) {}

  void run(StepState& s, const Tensor& dy, Tensor*) override {
    const BatchStatistics& st = s.stats[first];
    const Tensor& a = s.out[last];  // the Dense layer's output
    const int N = static_cast<int>(a.dim(0)), C = dense_.inputs(), K = dense_.units();
    float* dW = dense_.weight_grad.data();
    float* db = dense_.use_bias() ? dense_.bias_grad.data() : nullptr;
    const float* W = dense_.weight.data();
    const Activation act = dense_.activation();
    if (!logits_ && act != Activation::Softmax) {  // dz = act'(a, dy) inside the kernel's region
      dz_.resize({N, K});
      batchnorm_dense_backward_activation(dW, db, dgamma_of(bn_), dbeta_of(bn_), scratch_.data(), dz_.data(),
                                          dy.data(), a.data(), act, st.u.data(), W, gamma_of(bn_), beta_of(bn_), N, C,
                                          K, false, st.u_copies);
      return;
    }
    const float* dz = dy.data();
    if (!logits_) {  // a softmax inside the model: row-wise, before the kernel
      dz_.resize({N, K});
      softmax_backward(dz_.data(), dy.data(), a.data(), N, K);
      dz = dz_.data();
    }
    batchnorm_dense_backward(dW, db, dgamma_of(bn_), dbeta_of(bn_), scratch_.data(), dz, st.u.data(), W,
                             gamma_of(bn_), beta_of(bn_), N, C, K, false, st.u_copies);
  }
  double product_flops(int N) const override { return 2.0 * N * dense_.inputs() * dense_.units(); }

 private:
  BatchNormalization& bn_;
  Dense& dense_;
  bool logits_;
  Tensor scratch_, dz_;
};

bool input_batchnorm(const Sequential& m, size_t bn) {
  return bn == m.first_trainable() && is<BatchNormalization>(m, bn) && is<Dense>(m, bn + 1);
}

}  // namespace

std::unique_ptr<ForwardStep> input_batchnorm_forward_step(Sequential& m, size_t i) {
  if (!input_batchnorm(m, i)) return nullptr;
  bool copyable = !static_cast<const BatchNormalization&>(*m.layers()[i]).options().renorm && i + 2 < m.layers().size() &&
                  static_cast<const Dense&>(*m.layers()[i + 1]).activation() != Activation::Softmax;
  for (size_t k = 0; k < i; ++k) copyable = copyable && is<Flatten>(m, k);
  return std::make_unique<InputBatchNormForward>(m, i, copyable);
}

std::unique_ptr<BackwardStep> input_batchnorm_dense_backward_step(Sequential& m, size_t i) {
  return i >= 1 && input_batchnorm(m, i - 1) ? std::make_unique<InputBatchNormDenseBackward>(m, i) : nullptr;
}

}  // namespace bnlab::plan
