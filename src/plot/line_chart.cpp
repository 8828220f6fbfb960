#include "bnlab/plot/line_chart.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <stdexcept>

#include <fmt/format.h>

#include "bnlab/plot/ticks.h"
#include "plot/canvas.h"

namespace bnlab::plot {

namespace {

using namespace detail;

constexpr Size kDefaultSize{1000, 600};
constexpr double kPad = 16;
constexpr double kTitleSize = 18;
constexpr double kLabelSize = 14;
constexpr double kTickSize = 12;
constexpr double kLegendSize = 13;
constexpr double kTickLength = 5;
constexpr double kLineWidth = 2.2;
constexpr double kMarkerRadius = 3;
constexpr double kMargin = 0.05;  // matplotlib's axes.xmargin / ymargin

struct Rect {
  double x = 0, y = 0, w = 0, h = 0;
  double right() const { return x + w; }
  double bottom() const { return y + h; }
  bool contains(double px, double py) const { return px >= x && px <= right() && py >= y && py <= bottom(); }
};

struct Extent {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  void add(double v) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  bool empty() const { return lo > hi; }
};

bool is_integer(double v) { return v == std::round(v); }

void check(const LineChart& chart) {
  for (const Series& s : chart.series)
    if (s.x.size() != s.y.size())
      throw std::invalid_argument(fmt::format("line chart series '{}': {} x values but {} y values", s.label,
                                              s.x.size(), s.y.size()));
}

// Data limits widened by matplotlib's 5% margins; [0, 1] when there is no finite point.
void data_limits(const LineChart& chart, Extent& x, Extent& y, bool& integer_x) {
  integer_x = true;
  for (const Series& s : chart.series)
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      x.add(s.x[i]);
      y.add(s.y[i]);
      integer_x = integer_x && is_integer(s.x[i]);
    }
  for (Extent* e : {&x, &y}) {
    if (e->empty()) *e = Extent{0, 1};
    const double margin = (e->hi - e->lo) * kMargin;
    e->lo -= margin;
    e->hi += margin;
  }
}

class Mapping {
 public:
  Mapping(const Rect& plot, const AxisScale& xs, const AxisScale& ys) : plot_(plot), xs_(xs), ys_(ys) {}
  double x(double v) const { return plot_.x + (v - xs_.lo) / (xs_.hi - xs_.lo) * plot_.w; }
  double y(double v) const { return plot_.bottom() - (v - ys_.lo) / (ys_.hi - ys_.lo) * plot_.h; }

 private:
  Rect plot_;
  AxisScale xs_, ys_;
};

Rgb series_colour(const LineChart& chart, size_t index) {
  return chart.series[index].colour.value_or(tab10(index));
}

void set_stroke(cairo_t* cr, const Series& s) {
  cairo_set_line_width(cr, kLineWidth);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
  static constexpr double kDashes[] = {7, 4};
  if (s.dash == Dash::Dashed) {
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT);
    cairo_set_dash(cr, kDashes, 2, 0);
  } else {
    cairo_set_dash(cr, nullptr, 0, 0);
  }
}

void draw_marker(cairo_t* cr, double x, double y) {
  cairo_new_sub_path(cr);
  cairo_arc(cr, x, y, kMarkerRadius, 0, 2 * std::numbers::pi);
  cairo_fill(cr);
}

void draw_series(cairo_t* cr, const LineChart& chart, const Rect& plot, const Mapping& map) {
  cairo_save(cr);
  cairo_rectangle(cr, plot.x, plot.y, plot.w, plot.h);
  cairo_clip(cr);
  for (size_t k = 0; k < chart.series.size(); ++k) {
    const Series& s = chart.series[k];
    set_colour(cr, series_colour(chart, k));
    set_stroke(cr, s);
    bool pen_down = false;
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) {
        pen_down = false;
        continue;
      }
      if (pen_down)
        cairo_line_to(cr, map.x(s.x[i]), map.y(s.y[i]));
      else
        cairo_move_to(cr, map.x(s.x[i]), map.y(s.y[i]));
      pen_down = true;
    }
    cairo_stroke(cr);
    if (s.markers)
      for (size_t i = 0; i < s.x.size(); ++i)
        if (std::isfinite(s.x[i]) && std::isfinite(s.y[i])) draw_marker(cr, map.x(s.x[i]), map.y(s.y[i]));
  }
  cairo_restore(cr);
}

void draw_grid_and_ticks(cairo_t* cr, const Rect& plot, const Mapping& map, const AxisScale& xs,
                         const AxisScale& ys) {
  cairo_set_line_width(cr, 1);
  set_colour(cr, kGrid);
  for (double t : xs.ticks) {
    cairo_move_to(cr, crisp(map.x(t)), plot.y);
    cairo_line_to(cr, crisp(map.x(t)), plot.bottom());
  }
  for (double t : ys.ticks) {
    cairo_move_to(cr, plot.x, crisp(map.y(t)));
    cairo_line_to(cr, plot.right(), crisp(map.y(t)));
  }
  cairo_stroke(cr);

  set_colour(cr, kSpine);
  for (double t : xs.ticks) {
    cairo_move_to(cr, crisp(map.x(t)), crisp(plot.bottom()));
    cairo_line_to(cr, crisp(map.x(t)), crisp(plot.bottom()) + kTickLength);
  }
  for (double t : ys.ticks) {
    cairo_move_to(cr, crisp(plot.x), crisp(map.y(t)));
    cairo_line_to(cr, crisp(plot.x) - kTickLength, crisp(map.y(t)));
  }
  cairo_stroke(cr);

  set_font(cr, kTickSize);
  set_colour(cr, kText);
  for (double t : xs.ticks)
    draw_text(cr, format_tick(t, xs.step), map.x(t), plot.bottom() + kTickLength + 4, HAlign::Center,
              VAlign::Top);
  for (double t : ys.ticks)
    draw_text(cr, format_tick(t, ys.step), plot.x - kTickLength - 4, map.y(t), HAlign::Right, VAlign::Middle);
}

void draw_frame(cairo_t* cr, const Rect& plot) {
  cairo_set_line_width(cr, 1);
  set_colour(cr, kSpine);
  cairo_rectangle(cr, crisp(plot.x), crisp(plot.y), std::round(plot.w), std::round(plot.h));
  cairo_stroke(cr);
}

// ---- legend -------------------------------------------------------------------------------------

constexpr double kLegendPad = 8;
constexpr double kLegendSample = 30;  // length of the line sample
constexpr double kLegendGap = 8;

// Series without a label (the second edge of a band, say) have no row in the legend.
double legend_rows(const LineChart& chart) {
  return static_cast<double>(
      std::count_if(chart.series.begin(), chart.series.end(), [](const Series& s) { return !s.label.empty(); }));
}

Rect legend_box(cairo_t* cr, const LineChart& chart) {
  set_font(cr, kLegendSize);
  double widest = 0;
  for (const Series& s : chart.series) widest = std::max(widest, text_width(cr, s.label));
  const double row = kLegendSize * 1.5;
  return {0, 0, kLegendPad * 2 + kLegendSample + kLegendGap + widest, kLegendPad * 2 + row * legend_rows(chart)};
}

// How many points of the drawn lines (sampled along each segment) the box would hide.
int hidden_points(const LineChart& chart, const Mapping& map, const Rect& box) {
  constexpr int kSamplesPerSegment = 8;
  int hidden = 0;
  for (const Series& s : chart.series)
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      const double x1 = map.x(s.x[i]), y1 = map.y(s.y[i]);
      hidden += box.contains(x1, y1) ? kSamplesPerSegment : 0;
      if (i + 1 == s.x.size() || !std::isfinite(s.x[i + 1]) || !std::isfinite(s.y[i + 1])) continue;
      const double x2 = map.x(s.x[i + 1]), y2 = map.y(s.y[i + 1]);
      for (int k = 1; k < kSamplesPerSegment; ++k) {
        const double t = static_cast<double>(k) / kSamplesPerSegment;
        hidden += box.contains(x1 + t * (x2 - x1), y1 + t * (y2 - y1));
      }
    }
  return hidden;
}

// matplotlib's loc="best": the first of its candidate places that hides the fewest points.
Rect place_legend(const LineChart& chart, const Mapping& map, const Rect& plot, Rect box) {
  constexpr double kInset = 10;
  const double left = plot.x + kInset, right = plot.right() - kInset - box.w;
  const double top = plot.y + kInset, bottom = plot.bottom() - kInset - box.h;
  const double hcentre = plot.x + (plot.w - box.w) / 2, vcentre = plot.y + (plot.h - box.h) / 2;
  const std::pair<double, double> candidates[] = {{right, top},      {left, top},      {left, bottom},
                                                  {right, bottom},   {right, vcentre}, {left, vcentre},
                                                  {hcentre, bottom}, {hcentre, top},   {hcentre, vcentre}};
  Rect best = box;
  int fewest = std::numeric_limits<int>::max();
  for (const auto& [x, y] : candidates) {
    box.x = x;
    box.y = y;
    const int hidden = hidden_points(chart, map, box);
    if (hidden < fewest) {
      fewest = hidden;
      best = box;
    }
  }
  return best;
}

void rounded_rectangle(cairo_t* cr, const Rect& r, double radius) {
  const double pi = std::numbers::pi;
  cairo_new_sub_path(cr);
  cairo_arc(cr, r.right() - radius, r.y + radius, radius, -pi / 2, 0);
  cairo_arc(cr, r.right() - radius, r.bottom() - radius, radius, 0, pi / 2);
  cairo_arc(cr, r.x + radius, r.bottom() - radius, radius, pi / 2, pi);
  cairo_arc(cr, r.x + radius, r.y + radius, radius, pi, 3 * pi / 2);
  cairo_close_path(cr);
}

void draw_legend(cairo_t* cr, const LineChart& chart, const Rect& box) {
  rounded_rectangle(
      cr, {std::round(box.x) + 0.5, std::round(box.y) + 0.5, std::round(box.w), std::round(box.h)}, 4);
  set_colour(cr, kWhite, 0.88);
  cairo_fill_preserve(cr);
  cairo_set_line_width(cr, 1);
  set_colour(cr, {0.8, 0.8, 0.8});
  cairo_stroke(cr);

  const double row = kLegendSize * 1.5;
  double shown = 0;
  for (size_t k = 0; k < chart.series.size(); ++k) {
    const Series& s = chart.series[k];
    if (s.label.empty()) continue;
    const double y = box.y + kLegendPad + row * (shown++ + 0.5);
    const double x = box.x + kLegendPad;
    set_colour(cr, series_colour(chart, k));
    set_stroke(cr, s);
    cairo_move_to(cr, x, y);
    cairo_line_to(cr, x + kLegendSample, y);
    cairo_stroke(cr);
    cairo_set_dash(cr, nullptr, 0, 0);
    if (s.markers) draw_marker(cr, x + kLegendSample / 2, y);
    set_font(cr, kLegendSize);
    set_colour(cr, kText);
    draw_text(cr, s.label, x + kLegendSample + kLegendGap, y, HAlign::Left, VAlign::Middle);
  }
}

// ---- layout -------------------------------------------------------------------------------------

void draw_line_chart(cairo_t* cr, const LineChart& chart, Size size) {
  const double width = size.width, height = size.height;
  Extent xe, ye;
  bool integer_x = true;
  data_limits(chart, xe, ye, integer_x);
  const AxisScale xs = nice_scale(xe.lo, xe.hi, std::max(3, static_cast<int>(width / 90)), integer_x);
  const AxisScale ys = nice_scale(ye.lo, ye.hi, std::max(3, static_cast<int>(height / 60)));

  double title_size = kTitleSize;
  double title_height = 0;
  if (!chart.title.empty()) {
    title_size = fitting_font_size(cr, chart.title, kTitleSize, width - 2 * kPad, true);
    title_height = title_size * 1.3 + 10;
  }
  set_font(cr, kTickSize);
  double ytick_width = 0;
  for (double t : ys.ticks) ytick_width = std::max(ytick_width, text_width(cr, format_tick(t, ys.step)));
  const double last_xtick_half =
      xs.ticks.empty() ? 0 : text_width(cr, format_tick(xs.ticks.back(), xs.step)) / 2;
  const double label_band = kLabelSize * 1.2 + 8;

  Rect plot;
  plot.x = std::round(kPad + (chart.ylabel.empty() ? 0 : label_band) + ytick_width + kTickLength + 6);
  plot.y = std::round(kPad + title_height);
  const double right = kPad + last_xtick_half;
  const double bottom = kPad + (chart.xlabel.empty() ? 0 : label_band) + kTickSize * 1.2 + kTickLength + 6;
  plot.w = std::round(std::max(10.0, width - plot.x - right));
  plot.h = std::round(std::max(10.0, height - plot.y - bottom));
  const Mapping map(plot, xs, ys);

  draw_grid_and_ticks(cr, plot, map, xs, ys);
  draw_series(cr, chart, plot, map);
  draw_frame(cr, plot);

  set_colour(cr, kText);
  if (!chart.title.empty()) {
    set_font(cr, title_size, true);
    // Centred over the plot, like matplotlib, but never pushed off the canvas.
    const double half = text_width(cr, chart.title) / 2;
    const double centre =
        std::clamp(plot.x + plot.w / 2, kPad + half, std::max(kPad + half, width - kPad - half));
    draw_text(cr, chart.title, centre, kPad, HAlign::Center, VAlign::Top);
  }
  set_font(cr, kLabelSize);
  if (!chart.xlabel.empty())
    draw_text(cr, chart.xlabel, plot.x + plot.w / 2, height - kPad, HAlign::Center, VAlign::Bottom);
  if (!chart.ylabel.empty())
    draw_vertical_text(cr, chart.ylabel, kPad, plot.y + plot.h / 2, HAlign::Center, VAlign::Top);

  if (!chart.series.empty()) draw_legend(cr, chart, place_legend(chart, map, plot, legend_box(cr, chart)));
}

}  // namespace

std::string render_line_chart(const LineChart& chart, ImageFormat format, Size size) {
  check(chart);
  size = resolve_size(size, kDefaultSize);
  Canvas canvas(format, size.width, size.height);
  draw_line_chart(canvas.cr(), chart, size);
  return canvas.encode();
}

void render_line_chart(const LineChart& chart, const std::filesystem::path& out, Size size) {
  write_image_file(out, render_line_chart(chart, image_format_for(out), size));
}

}  // namespace bnlab::plot
