// A Dense layer as a step of its own: its activation's forward and backward inside the product's
// parallel region (kernels/dense.h), its gradients set rather than accumulated, and its input read
// from per-thread copies when the step before made them.
#include <stdexcept>

#include "bnlab/kernels/activation.h"
#include "bnlab/kernels/dense.h"
#include "bnlab/layers/dense.h"
#include "model/plan/steps.h"

namespace bnlab::plan {

void run_dense_forward(Dense& d, bool logits, const Tensor& x, Tensor& z, const ColumnBlockFn& then,
                       const ThreadCopies& x_copies) {
  const int N = static_cast<int>(x.dim(0));
  const bool softmax = d.activation() == Activation::Softmax;
  if (softmax && then) throw std::logic_error("run_dense_forward: softmax is not elementwise");
  z.resize({N, d.units()});
  dense_forward(z.data(), x.data(), d.weight.data(), d.use_bias() ? d.bias.data() : nullptr, N, d.inputs(), d.units(),
                logits || softmax ? Activation::Linear : d.activation(), then, x_copies);
  if (softmax && !logits) softmax_forward(z.data(), z.data(), N, d.units());
}

void run_dense_backward(Dense& d, bool logits, const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dz,
                        Tensor* dx, const ColumnBlockFn& then_dx) {
  const int N = static_cast<int>(x.dim(0)), in = d.inputs(), out = d.units();
  float* db = d.use_bias() ? d.bias_grad.data() : nullptr;
  if (dx) dx->resize({N, in});
  float* dxp = dx ? dx->data() : nullptr;
  if (logits) {
    dense_backward(dxp, d.weight_grad.data(), db, dy.data(), x.data(), d.weight.data(), N, in, out, false, then_dx);
    return;
  }
  dz.resize({N, out});
  if (d.activation() == Activation::Softmax) {  // row-wise: dz before the product
    softmax_backward(dz.data(), dy.data(), y.data(), N, out);
    dense_backward(dxp, d.weight_grad.data(), db, dz.data(), x.data(), d.weight.data(), N, in, out, false, then_dx);
    return;
  }
  dense_backward_activation(dxp, d.weight_grad.data(), db, dz.data(), dy.data(), y.data(), d.activation(), x.data(),
                            d.weight.data(), N, in, out, false, then_dx);
}

namespace {

class DenseForward : public ForwardStep {
 public:
  DenseForward(Sequential& m, size_t i)
      : ForwardStep("dense", i, i), dense_(static_cast<Dense&>(m.layer(i))), logits_(gives_logits(m, i)) {}

  void run(StepState& s) override {
    run_dense_forward(dense_, logits_, s.input(first), s.out[first], {}, s.input_copies(first));
  }
  double product_flops(int N) const override { return 2.0 * N * dense_.inputs() * dense_.units(); }

 private:
  Dense& dense_;
  bool logits_;
};

class DenseBackward : public BackwardStep {
 public:
  DenseBackward(Sequential& m, size_t i)
      : BackwardStep("dense", i, i), dense_(static_cast<Dense&>(m.layer(i))), logits_(gives_logits(m, i)),
        dx_needed_(i > m.first_trainable()) {}

  void run(StepState& s, const Tensor& dy, Tensor* dx) override {
    run_dense_backward(dense_, logits_, s.input(first), s.out[first], dy, dz_, dx);
  }
  double product_flops(int N) const override {
    return 2.0 * N * dense_.inputs() * dense_.units() * (dx_needed_ ? 2 : 1);
  }

 private:
  Dense& dense_;
  bool logits_, dx_needed_;
  Tensor dz_;
};

}  // namespace

std::unique_ptr<ForwardStep> dense_forward_step(Sequential& m, size_t i) {
  return is<Dense>(m, i) ? std::make_unique<DenseForward>(m, i) : nullptr;
}

std::unique_ptr<BackwardStep> dense_backward_step(Sequential& m, size_t i) {
  return is<Dense>(m, i) ? std::make_unique<DenseBackward>(m, i) : nullptr;
}

}  // namespace bnlab::plan
