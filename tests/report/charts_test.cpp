// A run directory's charts: which files are written, what they show, and the seed notebook's titles and labels.
#include "bnlab/report/charts.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "bnlab/report/run.h"
#include "support/image_checks.h"
#include "support/report_dir.h"
#include "support/synthetic_run.h"

namespace bnlab::report {
namespace {

namespace fs = std::filesystem;
using test::read;
using test::ReportTest;

TEST_F(ReportTest, ComparisonChartsAreWritten) {
  test::write_synthetic_comparison(dir_);
  const std::vector<fs::path> written = write_run_charts(dir_);
  const std::vector<fs::path> expected = {
      dir_ / "accuracy_comparison.png",    dir_ / "accuracy_comparison.svg",
      dir_ / "loss_comparison.png",        dir_ / "loss_comparison.svg",
      dir_ / "mlp" / "history.png",        dir_ / "mlp" / "history.svg",
      dir_ / "mlp" / "predictions.png",    dir_ / "mlp" / "predictions.svg",
      dir_ / "mlp-bn" / "history.png",     dir_ / "mlp-bn" / "history.svg",
      dir_ / "mlp-bn" / "predictions.png", dir_ / "mlp-bn" / "predictions.svg"};
  EXPECT_EQ(written, expected);
  for (const fs::path& file : expected) {
    ASSERT_TRUE(fs::exists(file)) << file;
    const std::string bytes = read(file);
    if (file.extension() == ".svg") {
      EXPECT_EQ(test::xml_root_name(bytes), "svg") << file;
      continue;
    }
    const test::PngStats stats = test::png_stats(bytes);
    EXPECT_GT(stats.non_white_fraction, 0.02) << file;
    EXPECT_GT(stats.distinct_colours, 10) << file;
    if (file.stem() != "predictions") {
      EXPECT_EQ(stats.width, 1000) << file;
      EXPECT_EQ(stats.height, 600) << file;
    }
  }
}

TEST_F(ReportTest, SingleRunChartsAreWritten) {
  test::write_synthetic_run(dir_, "mlp", 4, false);
  const std::vector<fs::path> written = write_run_charts(dir_);
  EXPECT_EQ(written, (std::vector<fs::path>{dir_ / "history.png", dir_ / "history.svg",
                                            dir_ / "predictions.png", dir_ / "predictions.svg"}));
  EXPECT_FALSE(fs::exists(dir_ / "accuracy_comparison.png"));
}

TEST_F(ReportTest, ComparisonChartsFollowTheSeed) {
  test::write_synthetic_comparison(dir_);
  const RunDir loaded = load_run_dir(dir_);
  const plot::LineChart chart = accuracy_comparison_chart(loaded.runs);
  EXPECT_EQ(chart.title, "Accuracy Comparison: Model with and without Batch Normalization");
  ASSERT_EQ(chart.series.size(), 4u);
  EXPECT_EQ(chart.series[0].label, "Train Without BN");
  EXPECT_EQ(chart.series[1].label, "Val Without BN");
  EXPECT_EQ(chart.series[2].label, "Train With BN");
  EXPECT_EQ(chart.series[3].label, "Val With BN");
  EXPECT_EQ(chart.series[0].x.size(), 30u);
  EXPECT_EQ(chart.series[2].x.size(), 15u);
  EXPECT_DOUBLE_EQ(chart.series[3].y[14], loaded.runs[1].history[14].val_accuracy);
  EXPECT_EQ(loss_comparison_chart(loaded.runs).series[1].y[0], loaded.runs[0].history[0].val_loss);
  const plot::LineChart history = history_chart(loaded.runs[0]);
  ASSERT_EQ(history.series.size(), 4u);
  EXPECT_EQ(history.series[3].label, "val_accuracy");
}

}  // namespace
}  // namespace bnlab::report
