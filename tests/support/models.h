#pragma once
// Models and labels the model tests share: a model built and compiled from its spec, and labels.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bnlab/model/spec.h"
#include "bnlab/optim/optimizer.h"

namespace bnlab::testing {

// The model of `spec`, built for samples of shape `in` and compiled with Adam's defaults.
inline Sequential built(const std::string& spec, const Shape& in, uint64_t seed = 1) {
  Sequential m = make_model(spec);
  m.build(in, seed);
  m.compile(std::make_unique<Adam>());
  return m;
}

// Labels 0, 1, 2, 0, 1, 2, ... for n samples.
inline std::vector<int32_t> cycling_labels(int n) {
  std::vector<int32_t> labels(n);
  for (int i = 0; i < n; ++i) labels[i] = i % 3;
  return labels;
}

}  // namespace bnlab::testing
