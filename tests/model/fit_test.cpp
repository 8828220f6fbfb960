// Training with fit: learning an unscaled task through BatchNorm, bit-identical reruns, steps that
// finish without set_num_threads, the label check and the running metrics.
#include "bnlab/model/fit.h"

#include <gtest/gtest.h>
#include <omp.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "bnlab/core/error.h"
#include "bnlab/core/rng.h"
#include "bnlab/model/plan.h"
#include "support/gradcheck.h"
#include "support/models.h"

namespace bnlab {
namespace {

using testing::built;
using testing::cycling_labels;

// Synthetic data with a large offset (raw 0..255 pixels, not divided): the class is which of two
// features is larger. Training-mode statistics, moving averages and backward must all be right
// for the eval-mode accuracy to be high.
Dataset two_feature_task(int n, uint64_t seed) {
  Dataset d;
  d.name = "synthetic";
  d.sample_shape = {8};
  d.num_classes = 2;
  d.divide_by = 1.0;
  Rng rng(seed);
  for (int i = 0; i < n; ++i) {
    int a = 100 + static_cast<int>(rng.below(100)), b = 100 + static_cast<int>(rng.below(100));
    if (a == b) ++a;
    for (int k = 0; k < 8; ++k) d.pixels.push_back(static_cast<uint8_t>(k == 0 ? a : k == 1 ? b : 120 + rng.below(20)));
    d.labels.push_back(a > b ? 1 : 0);
  }
  return d;
}

TEST(Training, BatchNormModelLearnsAnUnscaledTask) {
  const Dataset train = two_feature_task(2000, 1), valid = two_feature_task(500, 2);
  Sequential m = built("bn,dense:16:relu,bn,dense:2:softmax", Shape{8});
  FitOptions o;
  o.epochs = 8;
  o.batch_size = 32;
  o.seed = 3;
  o.validation = &valid;
  const History h = m.fit(train, o);
  ASSERT_EQ(h.epochs.size(), 8u);
  EXPECT_GT(h.epochs.back().val_accuracy, 0.95);
  EXPECT_LT(h.epochs.back().loss, h.epochs.front().loss);
  const Metrics e = m.evaluate(valid, 7);
  EXPECT_DOUBLE_EQ(e.accuracy, h.epochs.back().val_accuracy) << "evaluation must not depend on batch size";
}

TEST(Training, SameSeedAndThreadsGiveBitIdenticalWeights) {
  const Dataset train = two_feature_task(600, 1);
  auto run = [&] {
    Sequential m = built("bn,dense:32:relu,dropout:0.2,bn,dense:2:softmax", Shape{8}, 11);
    FitOptions o;
    o.epochs = 2;
    o.batch_size = 16;
    o.seed = 5;
    m.fit(train, o);
    std::vector<float> w;
    for (StateEntry& e : m.state_dict())
      if (e.tensor) w.insert(w.end(), e.tensor->data(), e.tensor->data() + e.tensor->numel());
    return w;
  };
  const std::vector<float> a = run(), b = run();
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0);
}

// A program that never calls set_num_threads. tests/CMakeLists.txt also runs this alone under
// OMP_DYNAMIC=true and under OMP_THREAD_LIMIT=1, where OpenBLAS's OpenMP build used to wait for ever
// in the first step (core/parallel.h's keep_teams_whole). The seed's model at batch 64: OpenBLAS
// threads some of its products itself when a region gives bnlab only one thread (without the second
// hidden layer it happened not to).
TEST(Training, StepsFinishWithoutSetNumThreads) {
  Sequential m = built("flatten,dense:256:relu,dense:128:relu,dense:10:softmax", Shape{28, 28});
  Rng rng(12);
  const Tensor x = testing::random_tensor(Shape{64, 28, 28}, rng);
  const std::vector<int32_t> labels = cycling_labels(64);
  TrainingPlan plan(m);
  double first = 0.0, last = 0.0;
  for (int step = 0; step < 5; ++step) {
    const LossResult r = plan.train_step(x, labels.data());
    (step == 0 ? first : last) = r.loss_sum;
  }
  EXPECT_LT(last, first);
  EXPECT_FALSE(omp_get_dynamic());
}

TEST(Training, LabelsOutsideTheClassesAreAClearError) {
  Dataset d = two_feature_task(10, 1);
  d.labels[3] = 7;
  Sequential m = built("dense:2:softmax", Shape{8});
  FitOptions o;
  try {
    m.fit(d, o);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "synthetic: label 7 at index 3 is outside [0, 2) for a model with 2 outputs");
  }
}

TEST(Training, RunningMetricsAreSampleWeightedAverages) {
  struct Recorder : TrainingCallback {
    std::vector<double> losses;
    void on_batch_end(int64_t, int64_t, double loss, double) override { losses.push_back(loss); }
  } rec;
  const Dataset train = two_feature_task(70, 1);  // 32 + 32 + 6
  Sequential m = built("bn,dense:2:softmax", Shape{8});
  FitOptions o;
  o.batch_size = 32;
  o.callback = &rec;
  const History h = m.fit(train, o);
  ASSERT_EQ(rec.losses.size(), 3u);
  EXPECT_EQ(h.epochs[0].steps, 3);
  EXPECT_DOUBLE_EQ(rec.losses.back(), h.epochs[0].loss);
}

}  // namespace
}  // namespace bnlab
