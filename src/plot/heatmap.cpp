#include "bnlab/plot/heatmap.h"

#include <algorithm>
#include <cmath>

#include "bnlab/plot/ticks.h"
#include "plot/canvas.h"

namespace bnlab::plot {

namespace {

using namespace detail;

constexpr Size kDefaultSize{1100, 1000};
constexpr double kPad = 16;
constexpr double kTitleSize = 18;
constexpr double kTickSize = 12;
constexpr double kTickLength = 5;
constexpr double kBarGap = 24;
constexpr double kBarWidth = 22;
constexpr double kMinLabelSpacing = 16;  // px between index labels before thinning them out
constexpr double kMinAnnotationSize = 5;
// seaborn writes annotations in ".15" grey on cells lighter than this luminance, else in white.
constexpr double kDarkCellLuminance = 0.408;

struct Layout {
  double x0, y0;  // top-left of the cell grid
  int cell;       // cell side, whole pixels so that the grid has no seams
  double title_size;
};

Layout layout(cairo_t* cr, const DigitImage& image, Size size, double bar_label_width) {
  const double width = size.width, height = size.height;
  Layout l{};
  l.title_size = kTitleSize;
  double title_height = 0;
  if (!image.title.empty()) {
    l.title_size = fitting_font_size(cr, image.title, kTitleSize, width - 2 * kPad, true);
    title_height = l.title_size * 1.3 + 10;
  }
  set_font(cr, kTickSize);
  const double row_label_width = text_width(cr, std::to_string(image.rows - 1));
  const double left = kPad + row_label_width + kTickLength + 6;
  const double right = kBarGap + kBarWidth + kTickLength + 4 + bar_label_width + kPad;
  const double bottom = kPad + kTickSize * 1.2 + kTickLength + 6;
  const double top = kPad + title_height;
  const double avail_w = width - left - right, avail_h = height - top - bottom;
  l.cell = std::max(1, static_cast<int>(std::min(avail_w / image.cols, avail_h / image.rows)));
  l.x0 = std::round(left + std::max(0.0, (avail_w - l.cell * image.cols) / 2));
  l.y0 = std::round(top);
  return l;
}

void draw_cells(cairo_t* cr, const DigitImage& image, const Layout& l, double vmin, double vmax) {
  double font_size = std::clamp(l.cell * 0.36, kMinAnnotationSize, 13.0);
  font_size = fitting_font_size(cr, "255", font_size, l.cell - 3);
  const bool annotate = font_size >= kMinAnnotationSize && l.cell >= 8;
  set_font(cr, font_size);
  for (int r = 0; r < image.rows; ++r)
    for (int c = 0; c < image.cols; ++c) {
      const int value = image.pixels[static_cast<size_t>(r) * image.cols + c];
      const Rgb shade = binary_colour(value, vmin, vmax);
      const double x = l.x0 + c * l.cell, y = l.y0 + r * l.cell;
      set_colour(cr, shade);
      cairo_rectangle(cr, x, y, l.cell, l.cell);
      cairo_fill(cr);
      if (!annotate) continue;
      set_colour(cr, relative_luminance(shade) > kDarkCellLuminance ? Rgb{0.15, 0.15, 0.15} : kWhite);
      draw_text(cr, std::to_string(value), x + l.cell / 2.0, y + l.cell / 2.0, HAlign::Center,
                VAlign::Middle);
    }
}

void draw_indices(cairo_t* cr, const DigitImage& image, const Layout& l) {
  const int every = std::max(1, static_cast<int>(std::ceil(kMinLabelSpacing / l.cell)));
  const double grid_h = l.cell * image.rows;
  cairo_set_line_width(cr, 1);
  set_colour(cr, kSpine);
  for (int c = 0; c < image.cols; c += every) {
    const double x = crisp(l.x0 + (c + 0.5) * l.cell);
    cairo_move_to(cr, x, l.y0 + grid_h);
    cairo_line_to(cr, x, l.y0 + grid_h + kTickLength);
  }
  for (int r = 0; r < image.rows; r += every) {
    const double y = crisp(l.y0 + (r + 0.5) * l.cell);
    cairo_move_to(cr, l.x0, y);
    cairo_line_to(cr, l.x0 - kTickLength, y);
  }
  cairo_stroke(cr);
  set_font(cr, kTickSize);
  set_colour(cr, kText);
  for (int c = 0; c < image.cols; c += every)
    draw_text(cr, std::to_string(c), l.x0 + (c + 0.5) * l.cell, l.y0 + grid_h + kTickLength + 4,
              HAlign::Center, VAlign::Top);
  for (int r = 0; r < image.rows; r += every)
    draw_text(cr, std::to_string(r), l.x0 - kTickLength - 4, l.y0 + (r + 0.5) * l.cell, HAlign::Right,
              VAlign::Middle);
}

void draw_colour_bar(cairo_t* cr, const DigitImage& image, const Layout& l, const AxisScale& scale) {
  const double x = l.x0 + l.cell * image.cols + kBarGap, y = l.y0, h = l.cell * image.rows;
  cairo_pattern_t* gradient = cairo_pattern_create_linear(0, y + h, 0, y);
  cairo_pattern_add_color_stop_rgb(gradient, 0, 1, 1, 1);
  cairo_pattern_add_color_stop_rgb(gradient, 1, 0, 0, 0);
  cairo_rectangle(cr, x, y, kBarWidth, h);
  cairo_set_source(cr, gradient);
  cairo_fill(cr);
  cairo_pattern_destroy(gradient);

  cairo_set_line_width(cr, 1);
  set_colour(cr, kSpine);
  cairo_rectangle(cr, x - 0.5, y - 0.5, kBarWidth + 1, h + 1);
  auto tick_y = [&](double v) { return y + h - (v - scale.lo) / (scale.hi - scale.lo) * h; };
  for (double t : scale.ticks) {
    cairo_move_to(cr, x + kBarWidth + 0.5, crisp(tick_y(t)));
    cairo_line_to(cr, x + kBarWidth + 0.5 + kTickLength, crisp(tick_y(t)));
  }
  cairo_stroke(cr);
  set_font(cr, kTickSize);
  set_colour(cr, kText);
  for (double t : scale.ticks)
    draw_text(cr, format_tick(t, scale.step), x + kBarWidth + kTickLength + 4, tick_y(t), HAlign::Left,
              VAlign::Middle);
}

void draw_heatmap(cairo_t* cr, const DigitImage& image, Size size) {
  double vmin, vmax;
  pixel_range(image.pixels.data(), image.pixels.size(), vmin, vmax);
  const AxisScale bar_scale = nice_scale(vmin, vmax, 7);
  set_font(cr, kTickSize);
  double bar_label_width = 0;
  for (double t : bar_scale.ticks)
    bar_label_width = std::max(bar_label_width, text_width(cr, format_tick(t, bar_scale.step)));

  const Layout l = layout(cr, image, size, bar_label_width);
  draw_cells(cr, image, l, vmin, vmax);
  draw_indices(cr, image, l);
  draw_colour_bar(cr, image, l, bar_scale);
  if (!image.title.empty()) {
    set_font(cr, l.title_size, true);
    set_colour(cr, kText);
    const double half = text_width(cr, image.title) / 2;
    const double centre = std::clamp(l.x0 + l.cell * image.cols / 2.0, kPad + half,
                                     std::max(kPad + half, size.width - kPad - half));
    draw_text(cr, image.title, centre, kPad, HAlign::Center, VAlign::Top);
  }
}

}  // namespace

std::string render_pixel_heatmap(const DigitImage& image, ImageFormat format, Size size) {
  image.check();
  size = resolve_size(size, kDefaultSize);
  Canvas canvas(format, size.width, size.height);
  draw_heatmap(canvas.cr(), image, size);
  return canvas.encode();
}

void render_pixel_heatmap(const DigitImage& image, const std::filesystem::path& out, Size size) {
  write_image_file(out, render_pixel_heatmap(image, image_format_for(out), size));
}

}  // namespace bnlab::plot
