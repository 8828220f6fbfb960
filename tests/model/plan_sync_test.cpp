// Synchronised BatchNorm in the training plan (PlanOptions::sync_batchnorm): ranks, as threads of
// a ThreadGroup, each run the plan on their shard of one global batch; their summed gradients and
// their moving statistics are those of one plan holding the whole batch, within rounding, for the
// fused steps (the input BatchNorm with a copy of the batch per thread at 2 threads, Dense+BN,
// BN+Dense), the plain steps, uneven shards and a rank whose shard is empty; and so for BatchNorm
// over the channels of images (a conv net's), each channel's statistics over N, H and W.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <thread>
#include <vector>

#include "bnlab/core/threads.h"
#include "bnlab/dist/thread_group.h"
#include "bnlab/model/plan.h"
#include "support/gradcheck.h"
#include "support/models.h"

namespace bnlab {
namespace {

using testing::built;

struct Step {
  std::vector<std::vector<float>> grads, buffers;  // trainable gradients; moving statistics
  double loss = 0.0;
};

Step taken(Sequential& m, const LossResult& r) {
  Step s;
  s.loss = r.loss_sum;
  for (ParamRef& p : m.trainable_params()) s.grads.emplace_back(p.grad->data(), p.grad->data() + p.grad->numel());
  for (StateEntry& e : m.state_dict())
    if (e.tensor && !e.trainable) s.buffers.emplace_back(e.tensor->data(), e.tensor->data() + e.tensor->numel());
  return s;
}

struct Batch {
  Tensor x;
  std::vector<int32_t> labels;
};

// A model and the side of its square input images.
struct Net {
  const char* spec;
  int side;
};
const Net kMlpBn{"mlp-bn", 28};
// Two BatchNorms over image channels, the first one's input gradient needed by the conv below it.
// The convs have no bias: a bias before BN has a gradient of 0 but for rounding, which no relative
// tolerance can compare.
const Net kConvBn{"conv:4:3:nobias,bn,relu,maxpool:2,conv:6:3:same:nobias,bn,relu,flatten,dense:10:softmax", 10};

Batch batch(int rows, int side = 28) {
  Rng rng(5);
  Batch b{testing::random_tensor(Shape{rows, side, side}, rng, 0.0f, 1.0f), std::vector<int32_t>(rows)};
  for (int i = 0; i < rows; ++i) b.labels[i] = (i * 7) % 10;
  return b;
}

// One step of `ranks` ranks on their shards of b, each at `threads` threads: rank r's step.
std::vector<Step> ranks_step(const Batch& b, int ranks, int threads, bool fuse, bool sync, const Net& net = kMlpBn) {
  const int rows = static_cast<int>(b.x.dim(0)), per = net.side * net.side;
  ThreadGroup group(ranks);
  std::vector<Step> out(ranks);
  auto run = [&](int r) {
    set_num_threads(threads);
    Sequential m = built(net.spec, Shape{net.side, net.side}, 3);
    TrainingPlan plan(m, {fuse, sync ? &group.communicator(r) : nullptr});
    const Shard s = shard_of(rows, r, ranks);
    const LossResult loss = plan.forward_backward(
        static_cast<int>(s.rows()), b.labels.data() + s.begin,
        [&](float* x, int) { std::copy_n(b.x.data() + s.begin * per, s.rows() * per, x); }, rows);
    out[r] = taken(m, loss);
  };
  std::vector<std::thread> pool;
  for (int r = 0; r < ranks; ++r) pool.emplace_back(run, r);
  for (std::thread& t : pool) t.join();
  return out;
}

Step one_process_step(const Batch& b, const Net& net = kMlpBn) {
  set_num_threads(1);
  Sequential m = built(net.spec, Shape{net.side, net.side}, 3);
  TrainingPlan plan(m);
  return taken(m, plan.forward_backward(b.x, b.labels.data()));
}

void expect_close(const std::vector<float>& got, const std::vector<float>& want, const char* what, size_t k) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i)
    ASSERT_NEAR(got[i], want[i], 1e-5 * std::fabs(want[i]) + 1e-7) << what << " " << k << "[" << i << "]";
}

// The ranks' steps against one process's: the loss and gradients summed over the ranks, and every
// rank's moving statistics (the same bits on all).
void expect_one_process_step(const std::vector<Step>& got, const Step& want) {
  double loss = 0.0;
  for (const Step& s : got) loss += s.loss;
  EXPECT_NEAR(loss, want.loss, 1e-6 * want.loss);
  for (size_t k = 0; k < want.grads.size(); ++k) {
    std::vector<float> sum(want.grads[k].size(), 0.0f);
    for (const Step& s : got)
      for (size_t i = 0; i < sum.size(); ++i) sum[i] += s.grads[k][i];
    expect_close(sum, want.grads[k], "gradient", k);
  }
  for (const Step& s : got) {
    EXPECT_EQ(s.buffers, got[0].buffers) << "the ranks' moving statistics differ";
    for (size_t k = 0; k < want.buffers.size(); ++k) expect_close(s.buffers[k], want.buffers[k], "buffer", k);
  }
}

TEST(PlanSync, RanksGiveTheOneProcessGradientsAndMovingStatistics) {
  for (int rows : {64, 2}) {  // 2 rows: 3 ranks leave rank 2 empty
    const Batch b = batch(rows);
    const Step want = one_process_step(b);
    for (int ranks : {2, 3})
      for (int threads : {1, 2})
        for (bool fuse : {true, false}) {
          SCOPED_TRACE(::testing::Message() << rows << " rows, " << ranks << " ranks, " << threads << " threads, fuse "
                                          << fuse);
          expect_one_process_step(ranks_step(b, ranks, threads, fuse, true), want);
        }
  }
  set_num_threads(0);
}

// Images: shards of 4 and 3 rows over 2 ranks, 3, 2 and 2 over 3; at 2 rows, 1, 1 and an empty one.
TEST(PlanSync, RanksGiveTheOneProcessStepOverImageChannels) {
  for (int rows : {7, 2}) {
    const Batch b = batch(rows, kConvBn.side);
    const Step want = one_process_step(b, kConvBn);
    for (int ranks : {2, 3})
      for (int threads : {1, 2}) {
        SCOPED_TRACE(::testing::Message() << rows << " rows, " << ranks << " ranks, " << threads << " threads");
        expect_one_process_step(ranks_step(b, ranks, threads, true, true, kConvBn), want);
      }
    if (rows == 7) {  // local ranks normalise their own shards: other moving statistics
      EXPECT_NE(ranks_step(b, 2, 1, true, false, kConvBn)[0].buffers, want.buffers);
    }
  }
  set_num_threads(0);
}

// Unsynchronised, a rank's step is one process's step on its shard alone (of a loss divided by the
// global batch): its BatchNorms' statistics are the shard's own, and so differ from the global ones.
TEST(PlanSync, LocalRanksNormaliseTheirShardAlone) {
  const Batch b = batch(64);
  const std::vector<Step> local = ranks_step(b, 2, 1, true, false);
  const std::vector<Step> global = ranks_step(b, 2, 1, true, true);
  set_num_threads(1);
  Sequential m = built("mlp-bn", Shape{28, 28}, 3);
  TrainingPlan plan(m);
  const int per = 28 * 28;
  const LossResult r = plan.forward_backward(
      32, b.labels.data() + 32, [&](float* x, int) { std::copy_n(b.x.data() + 32 * per, 32 * per, x); }, 64);
  const Step shard1 = taken(m, r);
  EXPECT_EQ(local[1].grads, shard1.grads);
  EXPECT_EQ(local[1].buffers, shard1.buffers);
  EXPECT_NE(local[1].buffers, global[1].buffers);
  EXPECT_NE(local[0].buffers, local[1].buffers);
  set_num_threads(0);
}

}  // namespace
}  // namespace bnlab
