// N ranks as N threads (dist/thread_group.h): the collectives give every rank the same results,
// reductions summed in rank order.
#include "bnlab/dist/thread_group.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace bnlab {
namespace {

// fn(rank's communicator) on a thread per rank.
template <class F>
void on_ranks(ThreadGroup& group, F fn) {
  std::vector<std::thread> threads;
  for (int r = 0; r < group.size(); ++r) threads.emplace_back([&, r] { fn(group.communicator(r)); });
  for (std::thread& t : threads) t.join();
}

TEST(ThreadGroup, CollectivesGiveEveryRankTheSameResults) {
  ThreadGroup group(3);
  std::vector<std::vector<float>> sums(3), broadcast(3);
  std::vector<std::vector<double>> gathered(3);
  on_ranks(group, [&](Communicator& c) {
    const int r = c.rank();
    EXPECT_EQ(c.size(), 3);
    // 0.1f + 1e8f + -1e8f in rank order is 0, not 0.1: the sum is in rank order.
    std::vector<float> g = {static_cast<float>(r + 1), r == 0 ? 0.1f : r == 1 ? 1e8f : -1e8f};
    for (int repeat = 0; repeat < 2; ++repeat) {  // the same group again: the barriers reset
      std::vector<float> s = g;
      c.allreduce_sum(s.data(), 2);
      sums[r] = s;
    }
    const double mine[2] = {double(r), 10.0 * r};
    gathered[r].resize(6);
    c.allgather(mine, gathered[r].data(), 2);
    std::vector<float> b = {float(r), float(-r)};
    c.broadcast(b.data(), 2);
    broadcast[r] = b;
  });
  for (int r = 0; r < 3; ++r) {
    EXPECT_EQ(sums[r], (std::vector<float>{6.0f, (0.1f + 1e8f) + -1e8f})) << "rank " << r;
    EXPECT_EQ(gathered[r], (std::vector<double>{0, 0, 1, 10, 2, 20})) << "rank " << r;
    EXPECT_EQ(broadcast[r], (std::vector<float>{0.0f, -0.0f})) << "rank " << r;
  }
}

}  // namespace
}  // namespace bnlab
