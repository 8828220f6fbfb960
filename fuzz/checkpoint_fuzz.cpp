// libFuzzer target: the checkpoint readers, a model checkpoint (model.safetensors) and a training
// state (train_state.safetensors, for a small fixed model). Any input must either load or be
// refused with an InputError; anything else (a crash, another exception, a sanitizer report, an
// allocation beyond the fuzzer's limit) is a finding.
#include "bnlab/core/error.h"
#include "bnlab/model/checkpoint.h"
#include "bnlab/model/spec.h"
#include "bnlab/model/training_state.h"
#include "input_file.h"

namespace {
// The model of tests/corpus/train_states/valid.safetensors: 2 features, 3 classes, Adam; its
// training set has 4 samples in batches of 2.
bnlab::Sequential state_model() {
  bnlab::Sequential m = bnlab::make_model("dense:3:softmax");
  m.build(bnlab::Shape{2}, 1);
  m.compile(std::make_unique<bnlab::Adam>());
  return m;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::filesystem::path file = bnlab::fuzz::input_file(data, size);
  try {
    bnlab::load_checkpoint(file);
  } catch (const bnlab::InputError&) {
  }
  try {
    bnlab::Sequential m = state_model();
    bnlab::load_training_state(file, m, 4, 2);
  } catch (const bnlab::InputError&) {
  }
  return 0;
}
