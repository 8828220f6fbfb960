// Data-parallel fit (FitOptions::ranks): N ranks, as threads of one process, train the model one
// process would, each on its shards of the same global batches; the ranks end with one model.
#include <gtest/gtest.h>

#include <cmath>
#include <exception>
#include <memory>
#include <thread>
#include <vector>

#include "bnlab/core/error.h"
#include "bnlab/core/threads.h"
#include "bnlab/dist/thread_group.h"
#include "bnlab/model/fit.h"
#include "bnlab/optim/optimizer.h"
#include "support/models.h"
#include "support/tiny_data.h"

namespace bnlab {
namespace {

using testing::built;
using testing::tiny_dataset;

// Every weight and buffer of a model trained by `ranks` ranks (1: one process, no communicator).
std::vector<std::vector<float>> train(const std::string& spec, int ranks, int batch, std::vector<History>* histories = nullptr,
                                      BatchNormSync sync = BatchNormSync::Global, bool fuse = true,
                                      bool sgd = false) {
  const Dataset data = tiny_dataset(50, 1, "tiny");  // batch 16: 16, 16, 16 and 2 rows
  const Dataset valid = tiny_dataset(30, 2, "tiny/valid");
  std::vector<std::vector<std::vector<float>>> out(ranks);
  std::vector<History> h(ranks);
  ThreadGroup group(ranks);
  std::vector<std::exception_ptr> failed(ranks);
  auto run = [&](int r) {
    try {
      set_num_threads(1);
      Sequential m = built(spec, Shape{4, 4}, 7);
      if (sgd) m.compile(std::make_unique<SGD>(0.01));
      FitOptions o;
      o.epochs = 2;
      o.batch_size = batch;
      o.seed = 3;
      o.validation = &valid;
      o.ranks = ranks > 1 ? &group.communicator(r) : nullptr;
      o.bn_sync = sync;
      o.fuse = fuse;
      h[r] = m.fit(data, o);
      for (StateEntry& e : m.state_dict())
        if (e.tensor) out[r].emplace_back(e.tensor->data(), e.tensor->data() + e.tensor->numel());
    } catch (...) {
      failed[r] = std::current_exception();
    }
  };
  std::vector<std::thread> threads;
  for (int r = 0; r < ranks; ++r) threads.emplace_back(run, r);
  for (std::thread& t : threads) t.join();
  for (const std::exception_ptr& e : failed)
    if (e) std::rethrow_exception(e);
  for (int r = 1; r < ranks; ++r) EXPECT_EQ(out[r], out[0]) << "rank " << r << " holds another model";
  if (histories) *histories = h;
  return out[0];
}

void expect_close(const std::vector<std::vector<float>>& got, const std::vector<std::vector<float>>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t k = 0; k < want.size(); ++k)
    for (size_t i = 0; i < want[k].size(); ++i)
      EXPECT_NEAR(got[k][i], want[k][i], 1e-5 * std::fabs(want[k][i]) + 1e-6) << "tensor " << k << "[" << i << "]";
}

// Without BatchNorm, N ranks compute the one-process gradients but for the order of the sums:
// shards of 16 rows over 2 and 3 ranks, and the last batch of 2 rows, which leaves rank 2 empty.
TEST(FitRanks, RanksTrainTheOneProcessModel) {
  const char* spec = "flatten,dense:12:relu,dense:10:softmax";
  const auto alone = train(spec, 1, 16);
  for (int ranks : {2, 3}) {
    SCOPED_TRACE(ranks);
    std::vector<History> h;
    expect_close(train(spec, ranks, 16, &h), alone);
    for (const History& rh : h) {  // sharded validation and metrics, agreed by every rank
      ASSERT_EQ(rh.epochs.size(), 2u);
      EXPECT_EQ(rh.epochs[1].val_accuracy, h[0].epochs[1].val_accuracy);
      EXPECT_EQ(rh.epochs[1].steps, 4);
    }
  }
  set_num_threads(0);
}

// With BatchNorm synchronised, too: mlp-bn over 8 steps, shards of 16 rows over 2 and 3 ranks
// (6, 5 and 5 rows), and the last batch of 2 rows, which gives ranks 0 and 1 a row each and leaves
// rank 2 empty; fused and plain steps. (By SGD: Adam's step divides a gradient by its own size, so
// the rounding of a gradient near 0 can move its weight by a good part of the learning rate.)
TEST(FitRanks, GlobalBatchNormTrainsTheOneProcessModel) {
  for (bool fuse : {true, false}) {
    const auto alone = train("mlp-bn", 1, 16, nullptr, BatchNormSync::Global, fuse, true);
    for (int ranks : {2, 3}) {
      SCOPED_TRACE(::testing::Message() << ranks << " ranks, fuse " << fuse);
      expect_close(train("mlp-bn", ranks, 16, nullptr, BatchNormSync::Global, fuse, true), alone);
    }
  }
  set_num_threads(0);
}

// And over image channels: a conv net's BatchNorm, each channel's statistics over the N * H * W values
// of every rank's shard (the same shards as above, rank 2 empty in the last batch).
TEST(FitRanks, GlobalBatchNormOverImageChannelsTrainsTheOneProcessModel) {
  const char* spec = "conv:3:3:same,bn,relu,conv:4:3,bn,relu,flatten,dense:10:softmax";
  const auto alone = train(spec, 1, 16, nullptr, BatchNormSync::Global, true, true);
  for (int ranks : {2, 3}) {
    SCOPED_TRACE(ranks);
    expect_close(train(spec, ranks, 16, nullptr, BatchNormSync::Global, true, true), alone);
  }
  EXPECT_NE(train(spec, 2, 16, nullptr, BatchNormSync::Local, true, true), alone);
  set_num_threads(0);
}

// Local BatchNorm normalises each shard with its own statistics: not the one-process model, and a
// shard of one row is an error (it has no variance).
TEST(FitRanks, LocalBatchNormIsNotTheOneProcessModel) {
  const char* spec = "flatten,bn,dense:12:relu,bn,dense:10:softmax";
  EXPECT_NE(train(spec, 2, 20, nullptr, BatchNormSync::Local), train(spec, 1, 20));
  EXPECT_THROW(train(spec, 2, 16, nullptr, BatchNormSync::Local), InputError);
  set_num_threads(0);
}

TEST(FitRanks, SameRanksAndSeedGiveTheSameBits) {
  const char* spec = "flatten,bn,dense:12:relu,bn,dense:10:softmax";
  for (BatchNormSync sync : {BatchNormSync::Global, BatchNormSync::Local})  // shards of 10 and 5 rows: BN needs 2
    EXPECT_EQ(train(spec, 2, 20, nullptr, sync), train(spec, 2, 20, nullptr, sync));
  EXPECT_EQ(train("mlp-bn", 3, 16), train("mlp-bn", 3, 16));
  set_num_threads(0);
}

}  // namespace
}  // namespace bnlab
