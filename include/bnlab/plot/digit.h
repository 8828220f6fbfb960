#pragma once
// One grey-scale digit image, shown three ways: as a picture like matplotlib's
// plt.imshow(x, cmap="binary"), as a seaborn-style annotated heatmap (heatmap.h), and as text
// for a terminal.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "bnlab/plot/output.h"

namespace bnlab::plot {

struct DigitImage {
  std::string title;
  int rows = 28, cols = 28;
  std::vector<uint8_t> pixels;  // (rows, cols), row-major; 0 = background, 255 = ink

  // Throws std::invalid_argument unless pixels.size() == rows * cols > 0.
  void check() const;
};

// cmap "binary" scaled to the image's own min..max like imshow (white = min, black = max),
// each pixel an integer number of screen pixels wide (nearest neighbour), pixel-index ticks
// every 5 and the title above. Default size 560x600.
void render_digit(const DigitImage& image, const std::filesystem::path& out, Size size = {});
std::string render_digit(const DigitImage& image, ImageFormat format, Size size = {});

// Two columns per pixel from " ░▒▓█" (denser = more ink) inside a box-drawing frame, the title
// (if any) on the first line; every line ends with '\n'.
std::string digit_to_terminal(const DigitImage& image);

}  // namespace bnlab::plot
