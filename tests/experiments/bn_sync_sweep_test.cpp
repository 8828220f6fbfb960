// The bn-sync sweep on tiny data with emulated ranks (every cell, global and local BN apart, the
// control without a mismatch, its JSON, CSV and table), the nets of its variants, and its rule.
#include "bnlab/experiments/bn_sync_sweep.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "bnlab/core/error.h"
#include "support/experiment_checks.h"
#include "support/one_thread.h"
#include "support/tiny_data.h"

namespace bnlab::experiments {
namespace {

using testing::spread_at;
using testing::TinySplits;

TEST(BnSyncSweep, TrainsEveryCellOnEmulatedRanks) {
  const TinySplits d;
  BnSyncConfig c;
  c.per_rank_batches = {8, 2};
  c.seeds = 1;
  c.steps = 40;
  c.train_size = 250;  // cut to whole global batches: 248 images at 4 (62 batches), 240 at 16 (15)
  c.mismatch_size = 90;  // whole batches: 88 images at 4 and 8, 80 at 16
  c.lr = 3e-3;
  testing::Lines lines;
  const BnSyncResult r = run_bn_sync_sweep(c, emulated_ranks(2), d.train, d.valid, lines.log());
  EXPECT_EQ(lines.lines.size(), 6u);
  EXPECT_EQ(r.ranks, 2);
  EXPECT_TRUE(r.emulated);
  ASSERT_EQ(r.cells.size(), 6u);
  const BnSyncCell& global = r.cells[0];
  const BnSyncCell& local = r.cells[1];
  const BnSyncCell& control = r.cells[2];
  EXPECT_EQ(global.variant, SyncVariant::Global);
  EXPECT_EQ(local.variant, SyncVariant::Local);
  EXPECT_EQ(control.variant, SyncVariant::Control);
  EXPECT_EQ(global.per_rank_batch, 2);
  EXPECT_EQ(global.global_batch, 4);
  EXPECT_EQ(global.steps, 40);
  EXPECT_EQ(global.train_images, 248);
  EXPECT_EQ(r.cells[3].global_batch, 16);
  EXPECT_EQ(r.cells[3].steps, 40) << "the same steps at every batch, over 3 epochs at 16";
  EXPECT_EQ(r.cells[3].train_images, 240);
  for (const BnSyncCell& cell : r.cells) {
    EXPECT_GT(cell.test_accuracy.mean, 0.2) << variant_name(cell.variant) << " learns";
    EXPECT_GT(cell.seconds_per_step.mean, 0.0);
  }
  EXPECT_NE(global.test_accuracy.mean, local.test_accuracy.mean) << "shards of 2 rows normalise otherwise";
  EXPECT_NE(global.mismatch.mean, local.mismatch.mean);
  EXPECT_EQ(control.mismatch.mean, 0.0) << "LayerNorm has no batch statistics";
  EXPECT_EQ(r.cells[5].mismatch.mean, 0.0) << "both modes on the same 88 images at per-rank batch 8";
  ASSERT_EQ(r.verdicts.size(), 1u);
  EXPECT_EQ(r.verdicts[0].second.tests.size(), 3u);
  EXPECT_EQ(r.charts.size(), 3u);

  const nlohmann::json doc = bn_sync_json(c, r);
  EXPECT_EQ(doc["ranks"], 2);
  EXPECT_EQ(doc["emulated_ranks"], true);
  EXPECT_EQ(doc["cells"].size(), 6u);
  EXPECT_EQ(doc["cells"][2]["normalisation"], "layernorm");
  EXPECT_EQ(doc["verdicts"]["mlp-bn"]["tests"].size(), 3u);
  const std::string csv = bn_sync_csv(r);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 7);
  EXPECT_NE(bn_sync_table_markdown(r).find("| 2 | 4 |"), std::string::npos);
}

TEST(BnSyncSweep, VariantsSwapBatchNormForABatchFreeControl) {
  EXPECT_EQ(variant_spec("mlp-bn", SyncVariant::Global), "mlp-bn");
  EXPECT_EQ(variant_spec("mlp-bn", SyncVariant::Control), "flatten,ln,dense:256:relu,ln,dense:128:relu,ln,dense:10:softmax");
  EXPECT_EQ(variant_spec("cnn-bn", SyncVariant::Local).find("dropout"), std::string::npos);
  EXPECT_NE(variant_spec("cnn-bn", SyncVariant::Control).find("gn:8"), std::string::npos);
  EXPECT_EQ(control_name("cnn-bn"), "groupnorm");
  EXPECT_THROW(variant_spec("mlp", SyncVariant::Global), InputError);
}

// Cells of mlp-bn at per-rank batches 2 and 32: global and local test accuracy and mismatch.
std::vector<BnSyncCell> cells(double global_small, double local_small, double global_large, double local_large,
                              double mismatch_global = 0.01, double mismatch_local = -0.2) {
  auto cell = [](SyncVariant v, int b, double accuracy, double mismatch) {
    BnSyncCell c;
    c.model = "mlp-bn";
    c.variant = v;
    c.per_rank_batch = b;
    c.test_accuracy = spread_at(accuracy);
    c.mismatch = spread_at(mismatch);
    return c;
  };
  return {cell(SyncVariant::Global, 2, global_small, mismatch_global),
          cell(SyncVariant::Local, 2, local_small, mismatch_local),
          cell(SyncVariant::Control, 2, 0.95, 0.0),
          cell(SyncVariant::Global, 32, global_large, 0.0),
          cell(SyncVariant::Local, 32, local_large, 0.0),
          cell(SyncVariant::Control, 32, 0.95, 0.0)};
}

TEST(BnSyncSweep, RuleSupportedWhenSyncHelpsSmallBatchesOnly) {
  const BnSyncConfig c;  // 1 point either way
  const Judgement j = judge_bn_sync(c, cells(0.96, 0.90, 0.970, 0.965), "mlp-bn");
  ASSERT_EQ(j.tests.size(), 3u);
  EXPECT_EQ(j.verdict, Verdict::Supported);
  EXPECT_NE(j.tests[0].what.find("at per-rank batch 2"), std::string::npos);
  EXPECT_NE(j.tests[2].what.find("at per-rank batch 32"), std::string::npos);
}

TEST(BnSyncSweep, RuleFailsWhenGlobalGainsTooLittleOrLargeBatchesDisagree) {
  const BnSyncConfig c;
  // A gain of half a point at 2, and 2 points apart at 32: only the mismatch test holds.
  const Judgement small_gain = judge_bn_sync(c, cells(0.905, 0.90, 0.97, 0.95), "mlp-bn");
  EXPECT_EQ(small_gain.verdict, Verdict::Mixed);
  EXPECT_FALSE(small_gain.tests[0].in_favour);
  EXPECT_TRUE(small_gain.tests[1].in_favour);
  EXPECT_FALSE(small_gain.tests[2].in_favour);
  // Local better at 2, with the smaller mismatch, and far apart at 32: nothing holds.
  const Judgement none = judge_bn_sync(c, cells(0.90, 0.96, 0.90, 0.97, -0.3, 0.01), "mlp-bn");
  EXPECT_EQ(none.verdict, Verdict::NotSupported);
  // A seed that diverged leaves NaN: no test passes on it.
  EXPECT_FALSE(judge_bn_sync(c, cells(NAN, 0.90, 0.97, 0.97), "mlp-bn").tests[0].in_favour);
}

}  // namespace
}  // namespace bnlab::experiments
