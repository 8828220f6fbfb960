// Line charts such as the notebook's history plots: PNG and SVG, their size and format, empty and bad data.
#include "bnlab/plot/line_chart.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <limits>

#include "support/image_checks.h"

namespace bnlab::plot {
namespace {

std::vector<double> epochs(int n) {
  std::vector<double> x;
  for (int i = 1; i <= n; ++i) x.push_back(i);
  return x;
}

std::vector<double> curve(int n, double start, double end) {
  std::vector<double> y;
  for (int i = 0; i < n; ++i) y.push_back(end - (end - start) * std::exp(-0.4 * i));
  return y;
}

LineChart comparison() {
  LineChart chart{
      "Accuracy Comparison: Model with and without Batch Normalization", "Epochs", "Accuracy", {}};
  chart.series.push_back({"Train Without BN", epochs(30), curve(30, 0.90, 0.995), {}, Dash::Solid, true});
  chart.series.push_back({"Val Without BN", epochs(30), curve(30, 0.94, 0.978), {}, Dash::Dashed, true});
  chart.series.push_back({"Train With BN", epochs(15), curve(15, 0.93, 0.99), {}, Dash::Solid, true});
  chart.series.push_back({"Val With BN", epochs(15), curve(15, 0.96, 0.981), {}, Dash::Dashed, true});
  return chart;
}

TEST(LineChart, PngHasTheSizeAndIsDrawnOn) {
  const test::PngStats stats = test::png_stats(render_line_chart(comparison(), ImageFormat::Png));
  EXPECT_EQ(stats.width, 1000);
  EXPECT_EQ(stats.height, 600);
  EXPECT_GT(stats.non_white_fraction, 0.02);
  EXPECT_LT(stats.non_white_fraction, 0.5);
  EXPECT_GT(stats.distinct_colours, 20);  // four line colours plus anti-aliasing
  EXPECT_GT(stats.reddish, 200);          // the fourth series is tab10 red
}

TEST(LineChart, SeriesWithoutALabelHaveNoLegendRow) {
  constexpr Rgb kBlueish{0.1, 0.4, 0.7}, kRed{0.84, 0.15, 0.16};
  auto chart = [&](const std::string& second) {
    LineChart c{"Band", "x", "y", {}};
    c.series.push_back({"Median", epochs(10), curve(10, 0.0, 1.0), kBlueish, Dash::Solid, false});
    c.series.push_back({second, epochs(10), curve(10, 0.5, 2.0), kRed, Dash::Solid, false});
    return test::png_stats(render_line_chart(c, ImageFormat::Png)).reddish;
  };
  EXPECT_LT(chart(""), chart("Upper edge")) << "the labelled red series adds a red sample to the legend";
}

TEST(LineChart, SizeCanBeChosen) {
  const test::PngStats stats = test::png_stats(render_line_chart(comparison(), ImageFormat::Png, {640, 360}));
  EXPECT_EQ(stats.width, 640);
  EXPECT_EQ(stats.height, 360);
}

TEST(LineChart, SvgIsWellFormedXml) {
  const std::string svg = render_line_chart(comparison(), ImageFormat::Svg);
  EXPECT_EQ(test::xml_root_name(svg), "svg");
  EXPECT_NE(svg.find("width=\"1000px\""), std::string::npos);
}

TEST(LineChart, WritesTheFormatOfTheExtension) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("bnlab_line_chart_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  render_line_chart(comparison(), dir / "acc.png");
  render_line_chart(comparison(), dir / "acc.svg");
  EXPECT_EQ(test::png_stats(test::read_file(dir / "acc.png")).width, 1000);
  EXPECT_EQ(test::xml_root_name(test::read_file(dir / "acc.svg")), "svg");
  std::filesystem::remove_all(dir);
}

TEST(LineChart, DrawsEmptyAndDegenerateData) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  LineChart chart{"Diverged", "Epoch", "Loss", {}};
  chart.series.push_back({"loss", {1, 2, 3, 4}, {0.5, nan, INFINITY, 0.4}, {}});
  chart.series.push_back({"flat", {1}, {0.7}, {}});
  EXPECT_GT(test::png_stats(render_line_chart(chart, ImageFormat::Png)).non_white_fraction, 0.01);
  EXPECT_GT(test::png_stats(render_line_chart(LineChart{}, ImageFormat::Png)).non_white_fraction, 0.005);
}

TEST(LineChart, MismatchedSeriesIsRejected) {
  LineChart chart;
  chart.series.push_back({"bad", {1, 2}, {1}, {}});
  EXPECT_THROW(render_line_chart(chart, ImageFormat::Png), std::invalid_argument);
}

}  // namespace
}  // namespace bnlab::plot
