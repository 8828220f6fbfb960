// A digit's pixels as a heatmap with their values written on the cells, as PNG and SVG.
#include "bnlab/plot/heatmap.h"

#include <gtest/gtest.h>

#include <string>

#include "support/digit_image.h"
#include "support/image_checks.h"

namespace bnlab::plot {
namespace {

using test::zero;

TEST(Heatmap, PngHasTheSizeAndIsDrawnOn) {
  const test::PngStats stats = test::png_stats(render_pixel_heatmap(zero("x_train[0]"), ImageFormat::Png));
  EXPECT_EQ(stats.width, 1100);
  EXPECT_EQ(stats.height, 1000);
  EXPECT_GT(stats.non_white_fraction, 0.1);
  EXPECT_GT(stats.distinct_colours, 20);
}

TEST(Heatmap, ValuesOnDarkCellsAreWrittenInWhite) {
  // A 2x2 image of 0 and 255: the 255 cells are black, their "255" light.
  const DigitImage image{"", 2, 2, {255, 0, 0, 255}};
  const std::string png = render_pixel_heatmap(image, ImageFormat::Png, {400, 300});
  const test::PngStats stats = test::png_stats(png);
  EXPECT_GT(stats.pure_black, 2 * 80 * 80);
  // The top-left cell: from the first pure-black pixel, along its top row and left column (text
  // sits in the middle of the cell, so these edges are unbroken).
  const test::Image decoded = test::decode_png(png);
  const auto black = [&](int x, int y) {
    const test::Pixel& p = decoded.at(x, y);
    return p.r + p.g + p.b == 0;
  };
  int x0 = -1, y0 = -1;
  for (int y = 0; y < decoded.height && x0 < 0; ++y)
    for (int x = 0; x < decoded.width && x0 < 0; ++x)
      if (black(x, y)) x0 = x, y0 = y;
  ASSERT_GE(x0, 0);
  int x1 = x0, y1 = y0;
  while (x1 + 1 < decoded.width && black(x1 + 1, y0)) ++x1;
  while (y1 + 1 < decoded.height && black(x0, y1 + 1)) ++y1;
  const int cell = x1 - x0 + 1;
  EXPECT_GT(cell, 60);
  EXPECT_EQ(y1 - y0 + 1, cell);
  int light_in_black_cell = 0, dark_in_white_cell = 0;
  for (int y = y0; y <= y1; ++y)
    for (int x = x0; x <= x1; ++x) {
      light_in_black_cell += decoded.at(x, y).r > 200;
      dark_in_white_cell += decoded.at(x + cell, y).r < 100;  // the top-right cell, value 0
    }
  EXPECT_GT(light_in_black_cell, 20);  // "255" in white
  EXPECT_GT(dark_in_white_cell, 10);   // "0" in near-black
}

TEST(Heatmap, SvgIsWellFormedXml) {
  EXPECT_EQ(test::xml_root_name(render_pixel_heatmap(zero(""), ImageFormat::Svg)), "svg");
}

}  // namespace
}  // namespace bnlab::plot
