// All the claims: the fast and full protocols, the claims chosen by number, and running them in order.
#include "bnlab/experiments/claims.h"

#include <gtest/gtest.h>

#include <vector>

#include "bnlab/core/error.h"
#include "support/experiment_checks.h"
#include "support/one_thread.h"
#include "support/tiny_data.h"

namespace bnlab::experiments {
namespace {

using testing::kQuiet;
using testing::tiny_budget;
using testing::TinySplits;

TEST(Claims, ProtocolsAndSelection) {
  const ClaimsProtocol fast = ClaimsProtocol::fast(), full = ClaimsProtocol::full();
  EXPECT_GE(fast.convergence.budget.seeds, 3);
  EXPECT_EQ(full.small_batches.budget.seeds, 5);
  EXPECT_GT(full.convergence.epochs, fast.convergence.epochs);
  ClaimsProtocol p = fast;
  p.set_seeds(4);
  EXPECT_EQ(p.overhead.budget.seeds, 4);
  EXPECT_EQ(p.regularisation.budget.seeds, 4);
  EXPECT_EQ(protocol_json(full)["small_batches"]["batch_sizes"].size(), 8u);
  const TinySplits d;
  EXPECT_THROW(run_claims(fast, {9}, d.train, d.valid, kQuiet), InputError);
  EXPECT_THROW(run_claims(fast, {-1}, d.train, d.valid, kQuiet), InputError);
  EXPECT_EQ(p.covariate_shift.nets.seeds, 4);
  EXPECT_EQ(p.landscape.nets.seeds, 4);
  EXPECT_GT(full.covariate_shift.nets.steps, fast.covariate_shift.nets.steps);
  EXPECT_EQ(protocol_json(fast)["covariate_shift"]["nets"]["ioffe_batch"], 60);
  EXPECT_EQ(protocol_json(fast)["landscape"]["models"]["ioffe"].size(), 2u);
}

TEST(Claims, RunsTheChosenClaimsInOrder) {
  const TinySplits d;
  ClaimsProtocol p = ClaimsProtocol::fast();
  p.overhead = {tiny_budget(), {4}, 3, 3, 0.03};
  p.gradient_flow = {tiny_budget(), 1, 3, 8, 0.1, 4};
  const std::vector<ClaimResult> r = run_claims(p, {7, 4, 7}, d.train, d.valid, kQuiet);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].number, 4);
  EXPECT_EQ(r[1].number, 7);
  EXPECT_GT(r[1].seconds, 0.0);
}

}  // namespace
}  // namespace bnlab::experiments
