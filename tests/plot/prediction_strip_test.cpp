// A strip of test images with their predicted and true labels, the wrong ones marked in red.
#include "bnlab/plot/prediction_strip.h"

#include <gtest/gtest.h>

#include "support/image_checks.h"

namespace bnlab::plot {
namespace {

Prediction prediction(int predicted, int actual) {
  Prediction p;
  p.image = DigitImage{"", 28, 28, std::vector<uint8_t>(28 * 28, 0)};
  for (int r = 4; r < 24; ++r) p.image.pixels[r * 28 + 14] = 255;  // a stroke, like a one
  p.probabilities.assign(10, 0.01);
  p.probabilities[predicted] = 0.91;
  p.predicted = predicted;
  p.actual = actual;
  return p;
}

TEST(PredictionStrip, PngHasTheSizeAndIsDrawnOn) {
  PredictionStrip strip{"Predictions on test images", {}};
  for (int k = 0; k < 7; ++k) strip.items.push_back(prediction(k, k));
  const test::PngStats stats = test::png_stats(render_prediction_strip(strip, ImageFormat::Png));
  EXPECT_EQ(stats.width, 7 * 160 + 32);
  EXPECT_GT(stats.height, 300);
  EXPECT_LT(stats.height, 450);
  EXPECT_GT(stats.non_white_fraction, 0.05);
  EXPECT_GT(stats.distinct_colours, 10);
  EXPECT_LT(stats.reddish, 200);  // only the key's red swatch
}

TEST(PredictionStrip, WrongPredictionsAreMarkedInRed) {
  PredictionStrip right{"", {prediction(1, 1), prediction(2, 2), prediction(3, 3)}};
  PredictionStrip wrong{"", {prediction(1, 1), prediction(2, 7), prediction(3, 3)}};
  const int64_t red_right = test::png_stats(render_prediction_strip(right, ImageFormat::Png)).reddish;
  const int64_t red_wrong = test::png_stats(render_prediction_strip(wrong, ImageFormat::Png)).reddish;
  EXPECT_GT(red_wrong, red_right + 500);
}

TEST(PredictionStrip, SizeCanBeChosen) {
  PredictionStrip strip{"", {prediction(4, 4), prediction(9, 4)}};
  const test::PngStats stats = test::png_stats(render_prediction_strip(strip, ImageFormat::Png, {500, 700}));
  EXPECT_EQ(stats.width, 500);
  EXPECT_EQ(stats.height, 700);
}

TEST(PredictionStrip, SvgIsWellFormedXml) {
  PredictionStrip strip{"t", {prediction(4, 4), prediction(9, 4)}};
  EXPECT_EQ(test::xml_root_name(render_prediction_strip(strip, ImageFormat::Svg)), "svg");
}

TEST(PredictionStrip, BadInputIsRejected) {
  EXPECT_THROW(render_prediction_strip(PredictionStrip{}, ImageFormat::Png), std::invalid_argument);
  Prediction p = prediction(1, 1);
  p.actual = 10;
  EXPECT_THROW(render_prediction_strip(PredictionStrip{"", {p}}, ImageFormat::Png), std::invalid_argument);
}

}  // namespace
}  // namespace bnlab::plot
