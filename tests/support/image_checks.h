#pragma once
// Test helpers: decode PNG bytes with cairo and measure what is on them; parse SVG with libxml2.
#include <cstdint>
#include <string>
#include <vector>

namespace bnlab::test {

struct PngStats {
  int width = 0, height = 0;
  double non_white_fraction = 0;  // pixels that are not pure white
  int distinct_colours = 0;
  int64_t pure_black = 0;
  int64_t reddish = 0;  // clearly red pixels (r > 0.6, g and b < 0.35)
};

struct Pixel {
  int r, g, b;
};

// A decoded PNG, row-major.
struct Image {
  int width = 0, height = 0;
  std::vector<Pixel> pixels;
  const Pixel& at(int x, int y) const { return pixels[static_cast<size_t>(y) * width + x]; }
};

// Throws std::runtime_error if `bytes` is not a PNG cairo can decode.
PngStats png_stats(const std::string& bytes);
Image decode_png(const std::string& bytes);
std::string read_file(const std::string& path);

// The root element's name ("svg") if `bytes` parses as XML, else "" (and the parse error is
// printed).
std::string xml_root_name(const std::string& bytes);

}  // namespace bnlab::test
