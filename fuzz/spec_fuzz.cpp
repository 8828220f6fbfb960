// libFuzzer target: the model-spec parser. Any text must either build a model or be refused with
// an InputError. A model that builds must report a spec that rebuilds the same model, and a small
// one must take a training step on 28 x 28 inputs, through the plain loop and through its plan.
#include <cstdlib>
#include <string>

#include "bnlab/core/error.h"
#include "bnlab/model/plan.h"
#include "bnlab/model/spec.h"

namespace {
// Larger models are legal but take too long per input to train on.
constexpr int64_t kMaxParamsToTrain = 100'000;

void train_one_step(bnlab::Sequential& m) {
  m.compile(std::make_unique<bnlab::Adam>());
  const int64_t classes = m.output_shape()[0];
  bnlab::Tensor x(m.input_shape().with_batch(3));
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = static_cast<float>(i % 7) / 7.0f;
  const int32_t labels[3] = {0, static_cast<int32_t>(classes - 1), static_cast<int32_t>(classes / 2)};
  m.train_step(x, labels);
  bnlab::TrainingPlan(m).train_step(x, labels);  // fit's path: the plan compiled from any spec
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string spec(reinterpret_cast<const char*>(data), size);
  try {
    bnlab::Sequential m = bnlab::make_model(spec);
    m.build(bnlab::Shape{28, 28}, 1);
    if (bnlab::make_model(m.spec()).spec() != m.spec()) std::abort();
    m.summary();
    if (m.count_params(true) + m.count_params(false) <= kMaxParamsToTrain) train_one_step(m);
  } catch (const bnlab::InputError&) {
  }
  return 0;
}
