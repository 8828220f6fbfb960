// A layer on its own, through the Layer interface: what a plan runs where no pattern applies, and
// for every layer of a plan without fusion.
#include "bnlab/layers/conv2d.h"
#include "bnlab/layers/dense.h"
#include "model/plan/steps.h"

namespace bnlab::plan {
namespace {

// The FLOPs of a layer's forward product, and of each of its backward ones (the weight gradient, the
// input gradient): 2 N in out for a Dense layer, 2 N F (C KH KW) (HO WO) for a Conv2D layer; nothing
// for the others.
double layer_product_flops(const Layer& layer, int N) {
  if (const auto* d = dynamic_cast<const Dense*>(&layer)) return 2.0 * N * d->inputs() * d->units();
  if (const auto* c = dynamic_cast<const Conv2D*>(&layer)) return c->geometry(N).product_flops();
  return 0.0;
}

}  // namespace

LayerForward::LayerForward(Sequential& m, size_t i)
    : ForwardStep("layer", i, i), layer_(m.layer(i)), logits_(gives_logits(m, i)) {}

void LayerForward::run(StepState& s) {
  if (logits_)
    layer_.forward_logits(s.input(first), s.out[first], Mode::Train);
  else
    layer_.forward(s.input(first), s.out[first], Mode::Train);
}

double LayerForward::product_flops(int N) const { return layer_product_flops(layer_, N); }

LayerBackward::LayerBackward(Sequential& m, size_t i)
    : BackwardStep("layer", i, i), layer_(m.layer(i)), logits_(gives_logits(m, i)), dx_needed_(i > m.first_trainable()) {
  for (const ParamRef& p : layer_.params())
    if (p.grad) grads_.push_back(p.grad);
}

void LayerBackward::run(StepState& s, const Tensor& dy, Tensor* dx) {
  for (Tensor* g : grads_) g->zero();  // the layer accumulates; the plan sets
  if (logits_)
    layer_.backward_logits(s.input(first), dy, dx);
  else
    layer_.backward(s.input(first), s.out[first], dy, dx);
}

double LayerBackward::product_flops(int N) const { return layer_product_flops(layer_, N) * (dx_needed_ ? 2 : 1); }

}  // namespace bnlab::plan
