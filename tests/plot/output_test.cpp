// Image files: the format picked from the extension, and an unwritable path named in the error.
#include "bnlab/plot/output.h"

#include <gtest/gtest.h>

#include <string>

#include "bnlab/core/error.h"

namespace bnlab::plot {
namespace {

TEST(ImageFormat, PickedFromTheExtension) {
  EXPECT_EQ(image_format_for("a/b.png"), ImageFormat::Png);
  EXPECT_EQ(image_format_for("b.SVG"), ImageFormat::Svg);
  EXPECT_THROW(image_format_for("chart.jpg"), InputError);
  EXPECT_THROW(image_format_for("chart"), InputError);
}

TEST(ImageFormat, UnwritablePathIsAnInputErrorNamingIt) {
  try {
    write_image_file("/nonexistent-dir/chart.png", "x");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/chart.png"), std::string::npos);
  }
}

}  // namespace
}  // namespace bnlab::plot
