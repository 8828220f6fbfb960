#include "plot/canvas.h"

#include <cairo-svg.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>

namespace bnlab::plot::detail {

namespace {

constexpr const char* kFontFamily = "DejaVu Sans";
constexpr int kMaxSide = 20000;

cairo_status_t append_to_string(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

void check_status(cairo_status_t status, const char* what) {
  if (status != CAIRO_STATUS_SUCCESS)
    throw std::runtime_error(fmt::format("cairo: {}: {}", what, cairo_status_to_string(status)));
}

}  // namespace

Rgb tab10(size_t index) {
  static constexpr Rgb kCycle[] = {{0.122, 0.467, 0.706}, {1.000, 0.498, 0.055}, {0.173, 0.627, 0.173},
                                   {0.839, 0.153, 0.157}, {0.580, 0.404, 0.741}, {0.549, 0.337, 0.294},
                                   {0.890, 0.467, 0.761}, {0.498, 0.498, 0.498}, {0.737, 0.741, 0.133},
                                   {0.090, 0.745, 0.812}};
  return kCycle[index % std::size(kCycle)];
}

Canvas::Canvas(ImageFormat format, int width, int height) : format_(format) {
  if (format == ImageFormat::Png) {
    surface_ = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, width, height);
  } else {
    surface_ = cairo_svg_surface_create_for_stream(append_to_string, &svg_, width, height);
    cairo_svg_surface_set_document_unit(surface_, CAIRO_SVG_UNIT_PX);
  }
  cr_ = cairo_create(surface_);
  check_status(cairo_status(cr_), "create canvas");
  set_colour(cr_, kWhite);
  cairo_paint(cr_);
}

Canvas::~Canvas() {
  if (cr_) cairo_destroy(cr_);
  if (surface_) cairo_surface_destroy(surface_);
}

std::string Canvas::encode() {
  check_status(cairo_status(cr_), "draw");
  cairo_destroy(cr_);
  cr_ = nullptr;
  std::string bytes;
  if (format_ == ImageFormat::Png) {
    cairo_surface_flush(surface_);
    check_status(cairo_surface_write_to_png_stream(surface_, append_to_string, &bytes), "encode PNG");
  } else {
    cairo_surface_finish(surface_);
    check_status(cairo_surface_status(surface_), "encode SVG");
    bytes = std::move(svg_);
  }
  cairo_surface_destroy(surface_);
  surface_ = nullptr;
  return bytes;
}

Size resolve_size(Size requested, Size fallback) {
  const Size size{requested.width > 0 ? requested.width : fallback.width,
                  requested.height > 0 ? requested.height : fallback.height};
  if (requested.width < 0 || requested.height < 0 || size.width > kMaxSide || size.height > kMaxSide)
    throw std::invalid_argument(fmt::format("chart size {}x{} is not between 1 and {} pixels",
                                            requested.width, requested.height, kMaxSide));
  return size;
}

void set_colour(cairo_t* cr, Rgb colour, double alpha) {
  cairo_set_source_rgba(cr, colour.r, colour.g, colour.b, alpha);
}

void set_font(cairo_t* cr, double size, bool bold) {
  cairo_select_font_face(cr, kFontFamily, CAIRO_FONT_SLANT_NORMAL,
                         bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, size);
}

double text_width(cairo_t* cr, const std::string& text) {
  cairo_text_extents_t extents;
  cairo_text_extents(cr, text.c_str(), &extents);
  return extents.x_advance;
}

double fitting_font_size(cairo_t* cr, const std::string& text, double size, double max_width, bool bold) {
  constexpr double kMinSize = 6;
  set_font(cr, size, bold);
  const double width = text_width(cr, text);
  if (width <= max_width || width <= 0) return size;
  return std::max(kMinSize, std::floor(size * max_width / width * 10) / 10);
}

void draw_text(cairo_t* cr, const std::string& text, double x, double y, HAlign h, VAlign v) {
  cairo_font_extents_t font;
  cairo_font_extents(cr, &font);
  const double width = text_width(cr, text);
  double left = x;
  if (h == HAlign::Center) left -= width / 2;
  if (h == HAlign::Right) left -= width;
  double baseline = y;
  // Capitals and digits are about 0.73 em tall in DejaVu Sans.
  cairo_matrix_t font_matrix;
  cairo_get_font_matrix(cr, &font_matrix);
  const double cap_height = 0.73 * font_matrix.yy;
  if (v == VAlign::Top) baseline = y + font.ascent;
  if (v == VAlign::Middle) baseline = y + cap_height / 2;
  if (v == VAlign::Bottom) baseline = y - font.descent;
  cairo_move_to(cr, left, baseline);
  cairo_show_text(cr, text.c_str());
  cairo_new_path(cr);
}

void draw_vertical_text(cairo_t* cr, const std::string& text, double x, double y, HAlign h, VAlign v) {
  cairo_save(cr);
  cairo_translate(cr, x, y);
  cairo_rotate(cr, -std::numbers::pi / 2);
  draw_text(cr, text, 0, 0, h, v);
  cairo_restore(cr);
}

double crisp(double v) { return std::floor(v) + 0.5; }

Rgb binary_colour(double value, double vmin, double vmax) {
  const double t = vmax > vmin ? std::clamp((value - vmin) / (vmax - vmin), 0.0, 1.0) : 0.0;
  const double grey = 1.0 - t;
  return {grey, grey, grey};
}

double relative_luminance(Rgb colour) {
  auto linear = [](double c) { return c <= 0.04045 ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4); };
  return 0.2126 * linear(colour.r) + 0.7152 * linear(colour.g) + 0.0722 * linear(colour.b);
}

cairo_surface_t* binary_image(const uint8_t* pixels, int rows, int cols, int scale, double vmin,
                              double vmax) {
  cairo_surface_t* small = cairo_image_surface_create(CAIRO_FORMAT_RGB24, cols, rows);
  check_status(cairo_surface_status(small), "create image");
  cairo_surface_flush(small);
  unsigned char* data = cairo_image_surface_get_data(small);
  const int stride = cairo_image_surface_get_stride(small);
  for (int r = 0; r < rows; ++r) {
    auto* row = reinterpret_cast<uint32_t*>(data + static_cast<size_t>(r) * stride);
    for (int c = 0; c < cols; ++c) {
      const Rgb colour = binary_colour(pixels[static_cast<size_t>(r) * cols + c], vmin, vmax);
      const auto grey = static_cast<uint32_t>(std::lround(colour.r * 255));
      row[c] = (grey << 16) | (grey << 8) | grey;  // RGB24: 0x00RRGGBB
    }
  }
  cairo_surface_mark_dirty(small);

  cairo_surface_t* large = cairo_image_surface_create(CAIRO_FORMAT_RGB24, cols * scale, rows * scale);
  cairo_t* cr = cairo_create(large);
  cairo_scale(cr, scale, scale);
  cairo_set_source_surface(cr, small, 0, 0);
  cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
  cairo_paint(cr);
  const cairo_status_t status = cairo_status(cr);
  cairo_destroy(cr);
  cairo_surface_destroy(small);
  if (status != CAIRO_STATUS_SUCCESS) cairo_surface_destroy(large);
  check_status(status, "scale image");
  return large;
}

void pixel_range(const uint8_t* pixels, size_t n, double& vmin, double& vmax) {
  const auto [lo, hi] = std::minmax_element(pixels, pixels + n);
  vmin = *lo;
  vmax = *hi;
  if (vmin == vmax) {
    vmin = 0;
    vmax = 255;
  }
}

}  // namespace bnlab::plot::detail
