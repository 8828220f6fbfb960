#include "bnlab/plot/digit.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

#include "bnlab/plot/ticks.h"
#include "plot/canvas.h"

namespace bnlab::plot {

namespace {

using namespace detail;

constexpr Size kDefaultSize{560, 600};
constexpr double kPad = 16;
constexpr double kTitleSize = 18;
constexpr double kTickSize = 12;
constexpr double kTickLength = 5;
constexpr int kTickEvery = 5;  // imshow's ticks on a 28-pixel axis: 0, 5, ..., 25

void draw_digit(cairo_t* cr, const DigitImage& image, Size size) {
  const double width = size.width, height = size.height;
  double title_size = kTitleSize, title_height = 0;
  if (!image.title.empty()) {
    title_size = fitting_font_size(cr, image.title, kTitleSize, width - 2 * kPad, true);
    title_height = title_size * 1.3 + 10;
  }
  set_font(cr, kTickSize);
  const double tick_label_width = text_width(cr, std::to_string(image.rows - 1));
  const double left = kPad + tick_label_width + kTickLength + 6;
  const double top = kPad + title_height;
  const double bottom = kPad + kTickSize * 1.2 + kTickLength + 6;
  const double avail_w = width - left - kPad, avail_h = height - top - bottom;
  const int scale = std::max(1, static_cast<int>(std::min(avail_w / image.cols, avail_h / image.rows)));
  const double image_w = image.cols * scale, image_h = image.rows * scale;
  const double x0 = std::round(left + std::max(0.0, (avail_w - image_w) / 2));
  const double y0 = std::round(top);

  double vmin, vmax;
  pixel_range(image.pixels.data(), image.pixels.size(), vmin, vmax);
  cairo_surface_t* picture = binary_image(image.pixels.data(), image.rows, image.cols, scale, vmin, vmax);
  cairo_set_source_surface(cr, picture, x0, y0);
  cairo_paint(cr);
  cairo_surface_destroy(picture);

  cairo_set_line_width(cr, 1);
  set_colour(cr, kSpine);
  cairo_rectangle(cr, x0 - 0.5, y0 - 0.5, image_w + 1, image_h + 1);
  for (int c = 0; c < image.cols; c += kTickEvery) {
    const double x = crisp(x0 + (c + 0.5) * scale);
    cairo_move_to(cr, x, y0 + image_h + 0.5);
    cairo_line_to(cr, x, y0 + image_h + 0.5 + kTickLength);
  }
  for (int r = 0; r < image.rows; r += kTickEvery) {
    const double y = crisp(y0 + (r + 0.5) * scale);
    cairo_move_to(cr, x0 - 0.5, y);
    cairo_line_to(cr, x0 - 0.5 - kTickLength, y);
  }
  cairo_stroke(cr);

  set_colour(cr, kText);
  for (int c = 0; c < image.cols; c += kTickEvery)
    draw_text(cr, std::to_string(c), x0 + (c + 0.5) * scale, y0 + image_h + kTickLength + 4, HAlign::Center,
              VAlign::Top);
  for (int r = 0; r < image.rows; r += kTickEvery)
    draw_text(cr, std::to_string(r), x0 - kTickLength - 5, y0 + (r + 0.5) * scale, HAlign::Right,
              VAlign::Middle);
  if (!image.title.empty()) {
    set_font(cr, title_size, true);
    const double half = text_width(cr, image.title) / 2;
    const double centre =
        std::clamp(x0 + image_w / 2, kPad + half, std::max(kPad + half, width - kPad - half));
    draw_text(cr, image.title, centre, kPad, HAlign::Center, VAlign::Top);
  }
}

}  // namespace

void DigitImage::check() const {
  if (rows <= 0 || cols <= 0 || pixels.size() != static_cast<size_t>(rows) * cols)
    throw std::invalid_argument(
        fmt::format("digit image '{}': {} pixels for {}x{}", title, pixels.size(), rows, cols));
}

std::string render_digit(const DigitImage& image, ImageFormat format, Size size) {
  image.check();
  size = resolve_size(size, kDefaultSize);
  Canvas canvas(format, size.width, size.height);
  draw_digit(canvas.cr(), image, size);
  return canvas.encode();
}

void render_digit(const DigitImage& image, const std::filesystem::path& out, Size size) {
  write_image_file(out, render_digit(image, image_format_for(out), size));
}

std::string digit_to_terminal(const DigitImage& image) {
  image.check();
  static constexpr const char* kShades[] = {" ", "░", "▒", "▓", "█"};
  std::string horizontal;
  for (int c = 0; c < image.cols * 2; ++c) horizontal += "─";
  std::string text;
  if (!image.title.empty()) text += image.title + "\n";
  text += "┌" + horizontal + "┐\n";
  for (int r = 0; r < image.rows; ++r) {
    text += "│";
    for (int c = 0; c < image.cols; ++c) {
      // 256 levels into 5 shades of equal width: 0..51 blank, ..., 205..255 full block.
      const int shade = std::min(4, image.pixels[static_cast<size_t>(r) * image.cols + c] * 5 / 256);
      text += kShades[shade];
      text += kShades[shade];
    }
    text += "│\n";
  }
  text += "└" + horizontal + "┘\n";
  return text;
}

}  // namespace bnlab::plot
