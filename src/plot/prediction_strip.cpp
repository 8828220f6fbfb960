#include "bnlab/plot/prediction_strip.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

#include "plot/canvas.h"

namespace bnlab::plot {

namespace {

using namespace detail;

constexpr double kPanelWidth = 160;
constexpr int kMinWidth = 640;
constexpr double kPad = 16;
constexpr double kTitleSize = 18;
constexpr double kHeaderSize = 14;
constexpr double kSubheaderSize = 12;
constexpr double kClassLabelSize = 10;
constexpr double kLegendSize = 12;
constexpr double kMinBarsHeight = 60;
constexpr double kDefaultBarsHeight = 90;

void check(const PredictionStrip& strip) {
  if (strip.items.empty()) throw std::invalid_argument("prediction strip: no predictions");
  for (const Prediction& p : strip.items) {
    p.image.check();
    const auto classes = static_cast<int>(p.probabilities.size());
    if (p.predicted < 0 || p.predicted >= classes || p.actual < 0 || p.actual >= classes)
      throw std::invalid_argument(fmt::format(
          "prediction strip: labels {} (predicted) and {} (actual) need {} probabilities or more, got {}",
          p.predicted, p.actual, std::max(p.predicted, p.actual) + 1, classes));
  }
}

struct Panel {
  double x, w;            // horizontal extent
  double header_y;        // top of the two header lines
  double image_y;         // top of the image
  int scale;              // screen pixels per image pixel
  double bars_y, bars_h;  // the probability axis: 1 at bars_y, 0 at bars_y + bars_h
};

void draw_header(cairo_t* cr, const Prediction& p, const Panel& panel) {
  const bool right = p.predicted == p.actual;
  const std::string header = fmt::format("pred {} / true {}", p.predicted, p.actual);
  const double cx = panel.x + panel.w / 2;
  set_font(cr, fitting_font_size(cr, header, kHeaderSize, panel.w - 8, true), true);
  set_colour(cr, right ? kText : kRed);
  draw_text(cr, header, cx, panel.header_y, HAlign::Center, VAlign::Top);
  const std::string confidence = fmt::format("p = {:.3f}", p.probabilities[p.predicted]);
  set_font(cr, kSubheaderSize);
  set_colour(cr, right ? kMutedText : kRed);
  draw_text(cr, confidence, cx, panel.header_y + kHeaderSize * 1.35, HAlign::Center, VAlign::Top);
}

void draw_image(cairo_t* cr, const Prediction& p, const Panel& panel) {
  const DigitImage& image = p.image;
  const double image_w = image.cols * panel.scale, image_h = image.rows * panel.scale;
  const double x0 = std::round(panel.x + (panel.w - image_w) / 2), y0 = std::round(panel.image_y);
  double vmin, vmax;
  pixel_range(image.pixels.data(), image.pixels.size(), vmin, vmax);
  cairo_surface_t* picture =
      binary_image(image.pixels.data(), image.rows, image.cols, panel.scale, vmin, vmax);
  cairo_set_source_surface(cr, picture, x0, y0);
  cairo_paint(cr);
  cairo_surface_destroy(picture);
  const bool right = p.predicted == p.actual;
  cairo_set_line_width(cr, right ? 1 : 3);
  set_colour(cr, right ? kSpine : kRed);
  const double inset = right ? 0.5 : 1.5;
  cairo_rectangle(cr, x0 - inset, y0 - inset, image_w + 2 * inset, image_h + 2 * inset);
  cairo_stroke(cr);
}

Rgb bar_colour(const Prediction& p, int k) {
  if (k == p.predicted) return p.predicted == p.actual ? kBlue : kRed;
  if (k == p.actual) return kGreen;
  return kBarGrey;
}

void draw_bars(cairo_t* cr, const Prediction& p, const Panel& panel) {
  const auto classes = static_cast<int>(p.probabilities.size());
  const double area_w = panel.w - 20, x0 = panel.x + 10;
  const double slot = area_w / classes, bar_w = std::max(1.0, slot * 0.72);
  const double base = std::round(panel.bars_y + panel.bars_h);

  static constexpr double kDashes[] = {3, 3};
  cairo_set_line_width(cr, 1);
  set_colour(cr, kGrid);
  cairo_set_dash(cr, kDashes, 2, 0);
  for (double level : {0.5, 1.0}) {
    const double y = crisp(base - level * panel.bars_h);
    cairo_move_to(cr, x0, y);
    cairo_line_to(cr, x0 + area_w, y);
  }
  cairo_stroke(cr);
  cairo_set_dash(cr, nullptr, 0, 0);

  for (int k = 0; k < classes; ++k) {
    const double prob = std::isfinite(p.probabilities[k]) ? std::clamp(p.probabilities[k], 0.0, 1.0) : 0.0;
    const double bar_h = prob * panel.bars_h;
    set_colour(cr, bar_colour(p, k));
    cairo_rectangle(cr, x0 + k * slot + (slot - bar_w) / 2, base - bar_h, bar_w, bar_h);
    cairo_fill(cr);
  }
  set_colour(cr, kSpine);
  cairo_move_to(cr, x0, base + 0.5);
  cairo_line_to(cr, x0 + area_w, base + 0.5);
  cairo_stroke(cr);

  set_font(cr, std::min(kClassLabelSize, slot * 0.9));
  for (int k = 0; k < classes; ++k) {
    const bool marked = k == p.predicted || k == p.actual;
    set_colour(cr, marked ? bar_colour(p, k) : kMutedText);
    draw_text(cr, std::to_string(k), x0 + (k + 0.5) * slot, base + 4, HAlign::Center, VAlign::Top);
  }
}

// One line under the panels saying what the bars and colours mean.
void draw_key(cairo_t* cr, double width, double y) {
  struct Entry {
    Rgb colour;
    const char* text;
  };
  static constexpr Entry kEntries[] = {{kBlue, "predicted (right)"},
                                       {kRed, "predicted (wrong)"},
                                       {kGreen, "actual (when wrong)"},
                                       {kBarGrey, "other classes"}};
  const std::string lead = "Bars: probability of each class 0-9, axis 0 to 1.";
  constexpr double kSwatch = 11, kSwatchGap = 5, kEntryGap = 16;
  set_font(cr, kLegendSize);
  double total = text_width(cr, lead) + kEntryGap;
  for (const Entry& e : kEntries) total += kSwatch + kSwatchGap + text_width(cr, e.text) + kEntryGap;
  total -= kEntryGap;
  const double shrink = std::min(1.0, (width - 2 * kPad) / total);
  set_font(cr, kLegendSize * shrink);
  double x = std::max(kPad, (width - total * shrink) / 2);
  set_colour(cr, kMutedText);
  draw_text(cr, lead, x, y, HAlign::Left, VAlign::Middle);
  x += text_width(cr, lead) + kEntryGap * shrink;
  for (const Entry& e : kEntries) {
    set_colour(cr, e.colour);
    cairo_rectangle(cr, x, y - kSwatch * shrink / 2, kSwatch * shrink, kSwatch * shrink);
    cairo_fill(cr);
    x += (kSwatch + kSwatchGap) * shrink;
    set_colour(cr, kText);
    draw_text(cr, e.text, x, y, HAlign::Left, VAlign::Middle);
    x += text_width(cr, e.text) + kEntryGap * shrink;
  }
}

struct StripLayout {
  double title_size = kTitleSize, title_height = 0;
  double panel_w = 0;
  int rows = 0, cols = 0;  // the largest image
  int scale = 1;
  double height = 0;  // the canvas height: the requested one, or what the panels need
};

constexpr double kHeaderHeight = kHeaderSize * 1.35 + kSubheaderSize * 1.3 + 8;
constexpr double kImageToBars = 14;
constexpr double kClassLabelHeight = kClassLabelSize * 1.3 + 6;
constexpr double kKeyHeight = kLegendSize * 2;

// Images as large as the panel width allows (and, for a fixed height, as leaves the bars
// kMinBarsHeight); without a fixed height the bars get kDefaultBarsHeight.
StripLayout layout(cairo_t* cr, const PredictionStrip& strip, Size requested, double width) {
  StripLayout l;
  if (!strip.title.empty()) {
    l.title_size = fitting_font_size(cr, strip.title, kTitleSize, width - 2 * kPad, true);
    l.title_height = l.title_size * 1.3 + 10;
  }
  l.panel_w = (width - 2 * kPad) / static_cast<double>(strip.items.size());
  for (const Prediction& p : strip.items) {
    l.rows = std::max(l.rows, p.image.rows);
    l.cols = std::max(l.cols, p.image.cols);
  }
  const double fixed =
      kPad + l.title_height + kHeaderHeight + kImageToBars + kClassLabelHeight + kKeyHeight + kPad;
  double scale = (l.panel_w - 20) / l.cols;
  if (requested.height > 0) scale = std::min(scale, (requested.height - fixed - kMinBarsHeight) / l.rows);
  l.scale = std::max(1, static_cast<int>(scale));
  l.height =
      requested.height > 0 ? requested.height : std::ceil(fixed + l.rows * l.scale + kDefaultBarsHeight);
  return l;
}

void draw_strip(cairo_t* cr, const PredictionStrip& strip, const StripLayout& l, double width) {
  if (!strip.title.empty()) {
    set_font(cr, l.title_size, true);
    set_colour(cr, kText);
    draw_text(cr, strip.title, width / 2, kPad, HAlign::Center, VAlign::Top);
  }
  const double top = kPad + l.title_height;
  for (size_t i = 0; i < strip.items.size(); ++i) {
    Panel panel;
    panel.x = kPad + l.panel_w * static_cast<double>(i);
    panel.w = l.panel_w;
    panel.header_y = top;
    panel.image_y = top + kHeaderHeight;
    panel.scale = l.scale;
    panel.bars_y = panel.image_y + l.rows * l.scale + kImageToBars;
    panel.bars_h = std::max(10.0, l.height - kPad - kKeyHeight - kClassLabelHeight - panel.bars_y);
    const Prediction& p = strip.items[i];
    draw_header(cr, p, panel);
    draw_image(cr, p, panel);
    draw_bars(cr, p, panel);
  }
  draw_key(cr, width, l.height - kPad - kKeyHeight / 2);
}

}  // namespace

std::string render_prediction_strip(const PredictionStrip& strip, ImageFormat format, Size size) {
  check(strip);
  const int default_width =
      std::max(kMinWidth, static_cast<int>(kPanelWidth * strip.items.size() + 2 * kPad));
  const int width = resolve_size(size, {default_width, 1}).width;
  // The height follows from the width unless it was given: measure with a scratch canvas.
  StripLayout l;
  {
    Canvas scratch(ImageFormat::Png, 1, 1);
    l = layout(scratch.cr(), strip, size, width);
  }
  size = resolve_size(size, {width, static_cast<int>(l.height)});
  Canvas canvas(format, size.width, size.height);
  draw_strip(canvas.cr(), strip, l, width);
  return canvas.encode();
}

void render_prediction_strip(const PredictionStrip& strip, const std::filesystem::path& out, Size size) {
  write_image_file(out, render_prediction_strip(strip, image_format_for(out), size));
}

}  // namespace bnlab::plot
