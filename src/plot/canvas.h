#pragma once
// Private drawing helpers shared by the charts: a cairo surface that encodes to PNG or SVG bytes,
// text placed with cairo's toy API in DejaVu Sans, colours, and grey images scaled with
// nearest-neighbour sampling.
#include <cairo.h>

#include <cstdint>
#include <string>

#include "bnlab/plot/output.h"

namespace bnlab::plot::detail {

inline constexpr Rgb kWhite{1, 1, 1};
inline constexpr Rgb kText{0.13, 0.13, 0.13};
inline constexpr Rgb kMutedText{0.35, 0.35, 0.35};
inline constexpr Rgb kSpine{0.2, 0.2, 0.2};
inline constexpr Rgb kGrid{0.89, 0.89, 0.89};
inline constexpr Rgb kRed{0.84, 0.15, 0.16};    // tab10 red
inline constexpr Rgb kBlue{0.12, 0.47, 0.71};   // tab10 blue
inline constexpr Rgb kGreen{0.17, 0.63, 0.17};  // tab10 green
inline constexpr Rgb kBarGrey{0.72, 0.72, 0.72};

// matplotlib's default colour cycle.
Rgb tab10(size_t index);

// A white canvas of width x height. encode() finishes it and returns the PNG or SVG bytes.
class Canvas {
 public:
  Canvas(ImageFormat format, int width, int height);
  ~Canvas();
  Canvas(const Canvas&) = delete;
  Canvas& operator=(const Canvas&) = delete;

  cairo_t* cr() const { return cr_; }
  std::string encode();

 private:
  ImageFormat format_;
  std::string svg_;
  cairo_surface_t* surface_ = nullptr;
  cairo_t* cr_ = nullptr;
};

// The size to draw at: the requested one, or the chart's default for a zero field. Throws
// std::invalid_argument for a negative or absurd (> 20000 px) size.
Size resolve_size(Size requested, Size fallback);

enum class HAlign { Left, Center, Right };
enum class VAlign { Top, Middle, Baseline, Bottom };

void set_colour(cairo_t* cr, Rgb colour, double alpha = 1.0);
void set_font(cairo_t* cr, double size, bool bold = false);
double text_width(cairo_t* cr, const std::string& text);
// The largest size <= `size` (and >= 6) at which `text` fits in `max_width`.
double fitting_font_size(cairo_t* cr, const std::string& text, double size, double max_width,
                         bool bold = false);
// Draws `text` in the current font and colour, anchored at (x, y) as the alignments say; Middle
// centres digits and capitals on y.
void draw_text(cairo_t* cr, const std::string& text, double x, double y, HAlign h, VAlign v);
// The same, rotated a quarter turn counter-clockwise about (x, y) (a y-axis label).
void draw_vertical_text(cairo_t* cr, const std::string& text, double x, double y, HAlign h, VAlign v);
// The centre of the pixel containing v, so that 1-unit lines are crisp.
double crisp(double v);

// matplotlib's "binary" colour map: value vmin -> white, vmax -> black, linear grey between.
Rgb binary_colour(double value, double vmin, double vmax);
// WCAG relative luminance of an sRGB colour (0 black .. 1 white).
double relative_luminance(Rgb colour);
// pixels: (rows, cols) through binary_colour, each pixel a scale x scale block. The caller owns
// the returned surface (cairo_surface_destroy).
cairo_surface_t* binary_image(const uint8_t* pixels, int rows, int cols, int scale, double vmin, double vmax);
// The min and max pixel (imshow's default colour limits); 0..255 for a constant image.
void pixel_range(const uint8_t* pixels, size_t n, double& vmin, double& vmax);

}  // namespace bnlab::plot::detail
