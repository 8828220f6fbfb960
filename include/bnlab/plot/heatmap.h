#pragma once
// An annotated pixel heatmap, like seaborn's sns.heatmap(x, annot=True, cmap="binary"): every
// cell shaded by its value (white = min, black = max of the image), the value written in it in
// near-black or white, whichever reads on that shade, row and column indices, and a colour bar.
#include <filesystem>
#include <string>

#include "bnlab/plot/digit.h"
#include "bnlab/plot/output.h"

namespace bnlab::plot {

// Default size 1100x1000 (cells of 32 px for a 28x28 image).
void render_pixel_heatmap(const DigitImage& image, const std::filesystem::path& out, Size size = {});
std::string render_pixel_heatmap(const DigitImage& image, ImageFormat format, Size size = {});

}  // namespace bnlab::plot
