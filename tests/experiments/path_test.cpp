// A training path followed step by step: its checkpoints, the layer it follows, and measurements that
// leave the training exactly as it would be without them.
#include "experiments/path.h"

#include <gtest/gtest.h>

#include "bnlab/core/error.h"
#include "bnlab/experiments/claims.h"
#include "bnlab/model/spec.h"
#include "support/one_thread.h"
#include "support/tiny_data.h"

namespace bnlab::experiments::detail {
namespace {

using testing::TinySplits;

PathSpec tiny_path(const std::string& model) {
  PathSpec s;
  s.model = model;
  s.lr = 0.5;
  s.batch_size = 16;
  s.steps = 20;
  s.record_every = 5;
  s.probe_size = 100;
  return s;
}

TEST(Path, FollowsTheLastHiddenNonlinearitysInput) {
  EXPECT_EQ(last_hidden_input_layer(make_model(ioffe_spec(Normalisation::None))), 5u);  // the third Dense
  EXPECT_EQ(last_hidden_input_layer(make_model(ioffe_spec(Normalisation::NoisyBN))), 11u);  // the third noise
  EXPECT_EQ(last_hidden_input_layer(make_model(notebook_mlp_spec(Normalisation::BN))), 5u);  // dense:128
  EXPECT_THROW(last_hidden_input_layer(make_model("mlp")), InputError);
}

TEST(Path, MeasuresAtEveryCheckpointWithoutChangingTheRun) {
  const TinySplits d;
  PathSpec plain = tiny_path(ioffe_spec(Normalisation::NoisyBN));
  PathSpec measured = plain;
  measured.units = 2;
  measured.gradient_ics = true;
  measured.landscape_etas = {0.1, 1.0};
  const PathTrace a = follow_path(plain, d.train, d.valid), b = follow_path(measured, d.train, d.valid);
  ASSERT_EQ(b.checkpoints.size(), 5u);  // steps 0, 5, 10, 15, 20
  EXPECT_EQ(b.checkpoints.back().step, 20);
  for (size_t i = 0; i < a.checkpoints.size(); ++i)
    EXPECT_EQ(a.checkpoints[i].val_accuracy, b.checkpoints[i].val_accuracy) << "checkpoint " << i;
  const Checkpoint& c = b.checkpoints[2];
  ASSERT_EQ(c.units.size(), 2u);
  EXPECT_LE(c.units[0].p15, c.units[0].p50);
  EXPECT_LT(c.units[0].p50, c.units[0].p85);
  ASSERT_EQ(c.ics.size(), 4u);
  EXPECT_EQ(c.ics[0].distance, 0.0) << "no trainable layer before the first Dense";
  EXPECT_GT(c.ics[3].distance, 0.0);
  EXPECT_EQ(c.landscape.losses.size(), 2u);
  EXPECT_GT(c.landscape.beta, 0.0);
  EXPECT_TRUE(a.checkpoints[2].units.empty());
}

TEST(Path, RefusesABatchLargerThanTheData) {
  const TinySplits d;
  PathSpec s = tiny_path("flatten,dense:4,sigmoid,dense:10:softmax");
  s.batch_size = 1000;
  EXPECT_THROW(follow_path(s, d.train, d.valid), InputError);
}

}  // namespace
}  // namespace bnlab::experiments::detail
