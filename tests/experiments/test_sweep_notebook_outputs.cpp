// The batch-size sweep and its two rules, the notebook-bug replay, and what lands on disk.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "bnlab/core/error.h"
#include "bnlab/experiments/batch_size_sweep.h"
#include "bnlab/experiments/notebook_bug.h"
#include "bnlab/experiments/outputs.h"
#include "support/tiny_data.h"

namespace bnlab::experiments {
namespace {

using testing::TinySplits;

const Log kQuiet = [](const std::string&) {};

Spread s(double mean, double sd = 0.001, int n = 3) { return {mean, sd, mean - sd, mean + sd, n, 0}; }

// ---- sweep ----------------------------------------------------------------------------------------

TEST(Sweep, RunsBothModelsAtEverySize) {
  const TinySplits d;
  SweepConfig c;
  c.batch_sizes = {32, 8};
  c.epochs = 2;
  c.target = 0.5;
  c.eval_every_samples = 128;
  c.lr = 3e-3;
  c.noise_batches = 8;
  int lines = 0;
  const SweepResult r = run_batch_size_sweep(c, d.train, d.valid, [&](const std::string&) { ++lines; });
  EXPECT_EQ(lines, 12);
  ASSERT_EQ(r.points.size(), 4u);
  EXPECT_EQ(r.points[0].model, "mlp-bn");
  EXPECT_EQ(r.points[0].batch_size, 8);
  EXPECT_EQ(r.points[3].model, "mlp");
  EXPECT_EQ(r.points[3].batch_size, 32);
  EXPECT_EQ(r.points[0].epochs.size(), 8u) << "an evaluation every 128 samples for 2 epochs of 512";
  EXPECT_DOUBLE_EQ(r.points[0].epochs[0], 0.25);
  EXPECT_GT(r.points[0].noise_at_init.mean, r.points[1].noise_at_init.mean) << "smaller batches, noisier gradients";
  EXPECT_EQ(r.smoother.tests.size(), 2u);
  EXPECT_EQ(r.faster.tests.size(), 4u);
  EXPECT_EQ(r.charts.size(), 4u);
  const nlohmann::json j = sweep_json(c, r);
  EXPECT_EQ(j["points"].size(), 4u);
  const std::string csv = sweep_csv(r);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 5);
}

SweepPoint point(const std::string& model, int batch, double noise, double epochs, double seconds, int reached = 3) {
  SweepPoint p;
  p.model = model;
  p.batch_size = batch;
  p.noise_at_init = s(noise, noise * 0.01);
  p.epochs_to_target = s(epochs, 0.01);
  p.seconds_to_target = s(seconds, 0.01);
  p.final_accuracy = s(0.97);
  p.reached = reached;
  return p;
}

TEST(Sweep, VerdictRules) {
  const std::vector<SweepPoint> usual = {point("mlp-bn", 16, 4.0, 1.0, 10.0), point("mlp-bn", 256, 0.25, 3.0, 5.0),
                                         point("mlp", 16, 2.0, 1.0, 8.0), point("mlp", 256, 0.12, 4.0, 4.0)};
  EXPECT_EQ(judge_smoother(usual).verdict, Verdict::Supported);
  EXPECT_EQ(judge_faster(usual).verdict, Verdict::Mixed) << "more epochs, less time";
  const std::vector<SweepPoint> reversed = {point("mlp-bn", 16, 0.2, 1.0, 4.0), point("mlp-bn", 256, 4.0, 3.0, 10.0),
                                            point("mlp", 16, 0.1, 1.0, 4.0), point("mlp", 256, 2.0, 4.0, 10.0)};
  EXPECT_EQ(judge_smoother(reversed).verdict, Verdict::NotSupported);
  EXPECT_EQ(judge_faster(reversed).verdict, Verdict::NotSupported);
  const std::vector<SweepPoint> faster = {point("mlp-bn", 16, 4.0, 3.0, 10.0), point("mlp-bn", 256, 0.25, 1.0, 5.0),
                                          point("mlp", 16, 2.0, 3.0, 10.0), point("mlp", 256, 0.12, 1.0, 5.0, 2)};
  EXPECT_EQ(judge_faster(faster).verdict, Verdict::Mixed) << "a seed that never got there proves nothing";
}

// ---- the notebook's bug ---------------------------------------------------------------------------

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

// ---- outputs --------------------------------------------------------------------------------------

ClaimResult fake_claim(int number, Verdict v) {
  ClaimResult r;
  r.number = number;
  r.claim = "Claim | with a bar";
  r.measured = "a \"quoted\" measure";
  r.bn = "1 < 2";
  r.no_bn = "3";
  r.judgement = {{{"a test", v != Verdict::NotSupported}}, v};
  plot::Series series;
  series.label = "s";
  series.x = {1, 2};
  series.y = {3, 4};
  plot::LineChart chart{"t", "x", "y", {series}};
  r.charts.push_back({"claim_chart", chart});
  return r;
}

TEST(Outputs, TableJsonCsvAndHtml) {
  const std::vector<ClaimResult> results = {fake_claim(1, Verdict::Supported), fake_claim(2, Verdict::Mixed)};
  const std::string md = verdict_table_markdown(results);
  EXPECT_NE(md.find("| 1 | Claim \\| with a bar |"), std::string::npos);
  EXPECT_NE(md.find("**mixed**"), std::string::npos);
  EXPECT_NE(tests_text(results).find("[yes] a test"), std::string::npos);
  const nlohmann::json j = claims_json(results, {{"seeds", 3}});
  EXPECT_EQ(j["claims"][1]["judgement"]["verdict"], "mixed");
  EXPECT_EQ(j["protocol"]["seeds"], 3);
  EXPECT_NE(claims_csv(results).find("\"a \"\"quoted\"\" measure\""), std::string::npos);
  const std::string html = claims_section_html(results, "note");
  EXPECT_EQ(html.rfind("<section", 0), 0u);
  EXPECT_NE(html.find("1 &lt; 2"), std::string::npos);
  EXPECT_NE(html.find("data:image/png;base64,"), std::string::npos);
  EXPECT_NE(html.find("class=\"verdict supported\""), std::string::npos);
  const std::string page = experiments_page("T", "sub", html);
  EXPECT_EQ(page.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(page.find("<script"), std::string::npos);
}

TEST(Outputs, ChartsAsPngAndSvg) {
  const std::filesystem::path dir = std::filesystem::path(BNLAB_BINARY_DIR) / "tests" / "experiments_charts";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto files = write_charts(dir, fake_claim(1, Verdict::Supported).charts);
  ASSERT_EQ(files.size(), 2u);
  for (const auto& f : files) EXPECT_GT(std::filesystem::file_size(f), 500u) << f;
  EXPECT_EQ(files[0].filename(), "claim_chart.png");
}

}  // namespace
}  // namespace bnlab::experiments
