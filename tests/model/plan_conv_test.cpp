// The training plan (model/plan.h) on conv nets: Conv2D and pooling run as steps of their own, and
// the plan with fusion gives the bits of the plan without it and of the plain loop, for `cnn` at 1
// and 2 threads over a batch, a partial one (an epoch's last) and the first again. The conv kernels
// sum their weight gradients by fixed groups of samples, so the bits do not depend on the thread
// count either.
#include <gtest/gtest.h>

#include "bnlab/core/threads.h"
#include "bnlab/model/plan.h"
#include "support/gradcheck.h"
#include "support/models.h"

namespace bnlab {
namespace {

using testing::built;
using testing::cycling_labels;

using Floats = std::vector<std::vector<float>>;
// The loss, every trainable gradient and the output.
Floats loss_and_gradients(Sequential& m, double loss, const Tensor& logits) {
  Floats out{{static_cast<float>(loss)}};
  for (ParamRef& p : m.trainable_params()) out.emplace_back(p.grad->data(), p.grad->data() + p.grad->numel());
  out.emplace_back(logits.data(), logits.data() + logits.numel());
  return out;
}

TEST(PlanConv, ConvAndPoolingAreStepsOfTheirOwn) {
  Sequential cnn = built("cnn", Shape{28, 28});
  const TrainingPlan plan(cnn);
  EXPECT_EQ(plan.forward_steps(),
            (std::vector<std::string>{"layer: layer 0", "layer: layer 1", "layer: layer 2", "layer: layer 3",
                                      "layer: layer 4", "layer: layer 5", "dense: layer 6"}));
  EXPECT_EQ(plan.backward_steps(),
            (std::vector<std::string>{"dense: layer 6", "layer: layer 5", "layer: layer 4", "layer: layer 3",
                                      "layer: layer 2", "layer: layer 1", "layer: layer 0"}));
  // Per sample: forward 0.39 + 4.46 + 0.03 MFLOP; backward the first conv's weight gradient, both
  // products of the second conv and of the Dense layer (Keras' mnist_convnet: about 14.3 MFLOP).
  const double per_sample = 2.0 * (32 * 9 * 676 + 64 * 288 * 121 + 1600 * 10) +
                            2.0 * (32 * 9 * 676 + 2 * 64 * 288 * 121 + 2 * 1600 * 10);
  EXPECT_DOUBLE_EQ(plan.product_flops(128), 128 * per_sample);
}

TEST(PlanConv, CnnGivesThePlainLoopsBitsAtOneAndTwoThreads) {
  Rng rng(11);
  const Tensor big = testing::random_tensor(Shape{20, 28, 28}, rng, 0.0f, 1.0f);
  const Tensor small = testing::random_tensor(Shape{7, 28, 28}, rng, 0.0f, 1.0f);
  const std::vector<int32_t> labels = cycling_labels(20);
  std::vector<Floats> per_thread_count;
  for (int threads : {1, 2}) {
    SCOPED_TRACE(threads);
    set_num_threads(threads);
    Sequential fused = built("cnn", Shape{28, 28}), unfused = built("cnn", Shape{28, 28}),
               plain = built("cnn", Shape{28, 28});
    TrainingPlan fused_plan(fused), unfused_plan(unfused, {false});
    Floats all;
    for (const Tensor* x : {&big, &small, &big}) {
      const Floats got = loss_and_gradients(fused, fused_plan.forward_backward(*x, labels.data()).loss_sum,
                                            fused_plan.output(6));
      const Floats off = loss_and_gradients(unfused, unfused_plan.forward_backward(*x, labels.data()).loss_sum,
                                            unfused_plan.output(6));
      plain.zero_grad();
      const double loss = plain.forward_backward(*x, labels.data()).loss_sum;
      const Floats want = loss_and_gradients(plain, loss, plain.output(6));
      EXPECT_EQ(got, off);
      EXPECT_EQ(got, want);
      all.insert(all.end(), got.begin(), got.end());
      // Train the three alike, so that the next batch starts from moved weights.
      fused.optimizer()->step(fused.trainable());
      unfused.optimizer()->step(unfused.trainable());
      plain.optimizer()->step(plain.trainable());
    }
    per_thread_count.push_back(all);
  }
  set_num_threads(0);
  EXPECT_EQ(per_thread_count[0], per_thread_count[1]);
}

}  // namespace
}  // namespace bnlab
