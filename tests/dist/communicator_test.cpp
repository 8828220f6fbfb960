// The shards of a batch (dist/communicator.h) and the one-process communicator.
#include "bnlab/dist/communicator.h"

#include <gtest/gtest.h>

#include <vector>

namespace bnlab {
namespace {

TEST(Shards, ContiguousInRankOrderTheFirstOnesLonger) {
  const int64_t rows = 10;
  const int size = 4;
  int64_t next = 0;
  std::vector<int64_t> lengths;
  for (int r = 0; r < size; ++r) {
    const Shard s = shard_of(rows, r, size);
    EXPECT_EQ(s.begin, next) << "rank " << r;
    next = s.end;
    lengths.push_back(s.rows());
  }
  EXPECT_EQ(next, rows);
  EXPECT_EQ(lengths, (std::vector<int64_t>{3, 3, 2, 2}));
  EXPECT_EQ(shard_of(2, 2, 3).rows(), 0) << "an epoch's last batch can leave a rank with nothing";
  EXPECT_EQ(shard_of(2, 1, 3).begin, 1);
  EXPECT_EQ(shard_of(7, 0, 1).rows(), 7);
}

TEST(SelfCommunicator, IsRankZeroOfOne) {
  SelfCommunicator self;
  EXPECT_EQ(self.rank(), 0);
  EXPECT_EQ(self.size(), 1);
  float g[2] = {1.5f, -2.0f};
  self.allreduce_sum(g, 2);
  self.broadcast(g, 2);
  EXPECT_EQ(g[0], 1.5f);
  const double in[2] = {3.0, 4.0};
  double out[2] = {};
  self.allgather(in, out, 2);
  EXPECT_EQ(out[1], 4.0);
}

}  // namespace
}  // namespace bnlab
