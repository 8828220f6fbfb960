#pragma once
// What every chart shares: the output format (PNG or SVG, picked from the file extension), the
// canvas size and colours. Each chart has two entry points: one that writes a file, and one that
// returns the encoded bytes (to embed in a report without touching the disk).
#include <filesystem>
#include <string>

namespace bnlab::plot {

enum class ImageFormat { Png, Svg };

// Canvas size in pixels (SVG: CSS px). A zero field means "the chart's own default".
struct Size {
  int width = 0;
  int height = 0;
};

// An sRGB colour with components in [0, 1].
struct Rgb {
  double r = 0, g = 0, b = 0;
};

// ".png" -> Png, ".svg" -> Svg (case-insensitive); anything else throws InputError naming `out`.
ImageFormat image_format_for(const std::filesystem::path& out);

// Writes `bytes` to `out`; throws InputError naming `out` when it cannot be written.
void write_image_file(const std::filesystem::path& out, const std::string& bytes);

}  // namespace bnlab::plot
