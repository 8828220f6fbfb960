// The notebook's bug: its logs as the notebook printed them, and the replay of every hypothesis.
#include "bnlab/experiments/notebook_bug.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "bnlab/core/error.h"
#include "support/experiment_checks.h"
#include "support/one_thread.h"
#include "support/tiny_data.h"

namespace bnlab::experiments {
namespace {

using testing::kQuiet;

TEST(NotebookBug, TheLogsAreTheNotebooks) {
  const std::vector<NotebookModelLog> logs = notebook_logs();
  ASSERT_EQ(logs.size(), 2u);
  EXPECT_EQ(logs[0].val_accuracy.size(), 30u);
  EXPECT_EQ(logs[0].val_loss.size(), 30u);
  EXPECT_EQ(logs[1].val_accuracy.size(), 15u);
  EXPECT_EQ(logs[1].val_loss.size(), 15u);
  EXPECT_EQ(logs[0].steps_per_epoch, (50000 + 31) / 32) << "50,000 training images";
  EXPECT_EQ(logs[1].steps_per_epoch, (50000 + 63) / 64);
  EXPECT_DOUBLE_EQ(logs[1].val_accuracy.back(), logs[1].test_accuracy) << "the BN model validated on x_test";
  const std::vector<Hypothesis> h = notebook_hypotheses();
  ASSERT_EQ(h.size(), 3u);
  EXPECT_DOUBLE_EQ(h[1].test_divide_by, 1.0);
  EXPECT_EQ(h[2].train_begin, 10000);
  EXPECT_DOUBLE_EQ(h[2].train_divide_by, 65025.0);
}

TEST(NotebookBug, ReplaysEveryHypothesisAndPicksTheClosest) {
  const Dataset images = testing::tiny_dataset(10100, 3, "tiny/60k");
  const Dataset test = testing::tiny_dataset(300, 4, "tiny/test");
  const NotebookBugResult r = replay_notebook(images, test, 1, 1, kQuiet);
  ASSERT_EQ(r.hypotheses.size(), 3u);
  for (const HypothesisResult& h : r.hypotheses) {
    ASSERT_EQ(h.models.size(), 2u);
    EXPECT_EQ(h.models[0].history.epochs.size(), 1u) << "capped at 1 epoch";
    EXPECT_GT(h.accuracy_distance, 0.0);
    EXPECT_FALSE(h.steps_match) << "tiny data cannot give the notebook's 1563 steps";
  }
  EXPECT_EQ(r.hypotheses[0].models[0].steps_per_epoch, (5100 + 31) / 32);
  EXPECT_EQ(r.hypotheses[2].models[0].steps_per_epoch, (100 + 31) / 32) << "5,000 more images left training";
  for (const HypothesisResult& h : r.hypotheses) EXPECT_LE(r.hypotheses[r.closest].accuracy_distance, h.accuracy_distance);
  EXPECT_EQ(r.charts.size(), 2u);
  EXPECT_EQ(r.charts[0].chart.series.size(), 4u) << "the notebook's log and three replays";
  EXPECT_EQ(notebook_bug_json(r)["hypotheses"].size(), 3u);
  EXPECT_NE(notebook_bug_table(r).find("split cell ran twice"), std::string::npos);
  EXPECT_THROW(replay_notebook(test, test, 1, 1, kQuiet), InputError);
}

}  // namespace
}  // namespace bnlab::experiments
