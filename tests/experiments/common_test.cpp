// What the experiments share (src/experiments/common.cpp): their runs side by side, one thread
// each, give the results of the same runs one after the other on one thread.
#include "experiments/common.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>

#include "bnlab/core/threads.h"
#include "support/experiment_checks.h"
#include "support/one_thread.h"
#include "support/tiny_data.h"

namespace bnlab::experiments {
namespace {

using testing::Lines;
using testing::tiny_budget;
using testing::TinySplits;

// Two threads for the test's own body; the program's other tests run on one.
class TwoThreads : public ::testing::Test {
 protected:
  void TearDown() override { set_num_threads(1); }
};

TEST_F(TwoThreads, InParallelKeepsTheOrderAndRethrows) {
  set_num_threads(2);
  const std::vector<int> squares = detail::in_parallel(9, [](int i) { return i * i; });
  EXPECT_EQ(squares, (std::vector<int>{0, 1, 4, 9, 16, 25, 36, 49, 64}));
  std::vector<std::thread::id> ids = detail::in_parallel(4, [](int) { return std::this_thread::get_id(); });
  EXPECT_NE(ids[0], std::this_thread::get_id()) << "runs on threads of their own";
  EXPECT_THROW(detail::in_parallel(5, [](int i) -> int {
                 if (i == 3) throw std::runtime_error("run 3");
                 return i;
               }),
               std::runtime_error);
}

// The same claim measured on one thread (runs one after the other) and on two (side by side):
// the same numbers, bit for bit, but the seconds.
TEST_F(TwoThreads, RunsSideBySideGiveTheirOneThreadResults) {
  const TinySplits d;
  const SmallBatchConfig small{tiny_budget(), {8, 2}, 8, 24};
  const ConvergenceConfig convergence{tiny_budget(), 2, 0.5, 8};
  auto measure = [&](int threads) {
    set_num_threads(threads);
    Lines lines;
    const SmallBatchMeasure s = measure_small_batches(small, d.train, d.valid, lines.log());
    const ConvergenceMeasure c = measure_convergence(convergence, d.train, d.valid, lines.log());
    nlohmann::json j = {report_small_batches(s).data, report_convergence(c).data};
    for (const char* side : {"bn", "no_bn"}) j[1][side].erase("seconds_to_target");
    return std::make_pair(j, lines.lines.size());
  };
  const auto [alone, alone_lines] = measure(1);
  const auto [beside, beside_lines] = measure(2);
  EXPECT_EQ(beside, alone);
  EXPECT_EQ(beside_lines, alone_lines);
}

}  // namespace
}  // namespace bnlab::experiments
