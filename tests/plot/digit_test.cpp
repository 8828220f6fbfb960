// A digit drawn as the notebook draws it: as PNG, SVG and in the terminal.
#include "bnlab/plot/digit.h"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "support/digit_image.h"
#include "support/image_checks.h"

namespace bnlab::plot {
namespace {

using test::zero;

TEST(Digit, PngHasTheSizeAndShowsTheInk) {
  const test::PngStats stats = test::png_stats(render_digit(zero("x_valid[200]"), ImageFormat::Png));
  EXPECT_EQ(stats.width, 560);
  EXPECT_EQ(stats.height, 600);
  EXPECT_GT(stats.non_white_fraction, 0.1);
  EXPECT_GT(stats.distinct_colours, 5);
  EXPECT_GT(stats.pure_black, 1000);  // cmap binary: the brightest pixel is drawn black
}

TEST(Digit, PixelsAreScaledByNearestNeighbour) {
  // Two black pixels of four: with nearest-neighbour scaling each becomes an s x s block of pure
  // black, so the pure-black count is 2 s^2 exactly (interpolation would blur the block edges).
  const DigitImage checker{"", 2, 2, {255, 0, 0, 255}};
  const test::PngStats stats = test::png_stats(render_digit(checker, ImageFormat::Png, {300, 300}));
  const auto side = static_cast<int64_t>(std::lround(std::sqrt(stats.pure_black / 2.0)));
  EXPECT_GT(side, 80);
  EXPECT_EQ(2 * side * side, stats.pure_black);
}

TEST(Digit, SvgIsWellFormedXml) {
  EXPECT_EQ(test::xml_root_name(render_digit(zero("seven"), ImageFormat::Svg)), "svg");
}

TEST(Digit, BadImageIsRejected) {
  EXPECT_THROW(render_digit(DigitImage{"", 28, 28, std::vector<uint8_t>(10)}, ImageFormat::Png),
               std::invalid_argument);
}

TEST(Digit, TerminalRenderingUsesBlockShades) {
  const DigitImage tiny{"tiny", 2, 3, {0, 60, 120, 180, 230, 255}};
  EXPECT_EQ(digit_to_terminal(tiny),
            "tiny\n"
            "┌──────┐\n"
            "│  ░░▒▒│\n"
            "│▓▓████│\n"
            "└──────┘\n");
}

}  // namespace
}  // namespace bnlab::plot
