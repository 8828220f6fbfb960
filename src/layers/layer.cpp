#include "bnlab/layers/layer.h"

#include <stdexcept>

namespace bnlab {

void Layer::forward_logits(const Tensor&, Tensor&, Mode) {
  throw std::logic_error(type_name() + " has no softmax output");
}

void Layer::backward_logits(const Tensor&, const Tensor&, Tensor*) {
  throw std::logic_error(type_name() + " has no softmax output");
}

void Layer::zero_grad() {
  for (ParamRef& p : params())
    if (p.grad) p.grad->zero();
}

int64_t Layer::count_params(bool trainable) {
  int64_t n = 0;
  for (ParamRef& p : params())
    if (p.trainable == trainable) n += p.value->numel();
  return n;
}

}  // namespace bnlab
