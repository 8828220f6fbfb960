#pragma once
// A tiny, learnable stand-in for MNIST: 4x4 "images" of 10 classes, each a fixed random prototype
// plus noise, so that every experiment runs in milliseconds.
#include <algorithm>
#include <cstdint>

#include "bnlab/core/rng.h"
#include "bnlab/data/dataset.h"

namespace bnlab::testing {

inline Dataset tiny_dataset(int64_t n, uint64_t seed, const char* name) {
  Rng prototypes(1234);
  uint8_t proto[10][16];
  for (auto& p : proto)
    for (uint8_t& v : p) v = static_cast<uint8_t>(prototypes.below(256));
  Rng rng(seed);
  Dataset d;
  d.name = name;
  d.sample_shape = {4, 4};
  for (int64_t i = 0; i < n; ++i) {
    const int label = static_cast<int>(rng.below(10));
    d.labels.push_back(label);
    for (uint8_t v : proto[label]) d.pixels.push_back(static_cast<uint8_t>(std::clamp<int>(v + int(rng.below(81)) - 40, 0, 255)));
  }
  return d;
}

struct TinySplits {
  Dataset train = tiny_dataset(512, 1, "tiny/train");
  Dataset valid = tiny_dataset(200, 2, "tiny/valid");
};

}  // namespace bnlab::testing
