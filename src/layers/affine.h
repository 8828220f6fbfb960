#pragma once
// The per-channel gamma and beta of the normalisation layers (BatchNormalization,
// LayerNormalization, GroupNormalization), made as Keras and PyTorch make them.
#include "bnlab/core/tensor.h"

namespace bnlab {

// gamma: (C) of ones and its gradient when scale; beta: (C) of zeros and its gradient when center.
// A tensor left out stays empty.
inline void build_affine(int C, bool scale, bool center, Tensor& gamma, Tensor& gamma_grad, Tensor& beta,
                         Tensor& beta_grad) {
  if (scale) {
    gamma = Tensor({C});
    gamma.fill(1.0f);
    gamma_grad = Tensor({C});
  }
  if (center) {
    beta = Tensor({C});
    beta_grad = Tensor({C});
  }
}

}  // namespace bnlab
