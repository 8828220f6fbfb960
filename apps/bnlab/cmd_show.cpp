// bnlab show (a digit as a picture, a pixel heatmap or terminal blocks) and bnlab report.
#include "bnlab/core/error.h"
#include "bnlab/plot/digit.h"
#include "bnlab/plot/heatmap.h"
#include "bnlab/report/report.h"
#include "commands.h"
#include "datasets.h"

namespace bnlab::cli {
using namespace bnlab::plot;

int run_show(const ShowOptions& o) {
  const Console console;
  const Dataset data = load_split_by_name(o.data, o.split, console);
  if (o.index < 0 || o.index >= data.size())
    throw InputError(fmt::format("--index: {} is outside [0, {}) of {}", o.index, data.size(), data.name));
  if (data.sample_shape.size() != 2 && data.sample_shape.size() != 3)
    throw InputError(data.name + ": show needs (H, W) or (C, H, W) images");
  DigitImage image;
  image.rows = static_cast<int>(data.sample_shape[data.sample_shape.size() - 2]);
  image.cols = static_cast<int>(data.sample_shape.back());
  const std::vector<uint8_t> grey = data.grey_levels(o.index);
  image.pixels.assign(grey.begin(), grey.end());
  image.title = fmt::format("{}[{}]  label {}", data.name, o.index, data.labels[o.index]);
  if (!o.out) {
    console.print("{}", digit_to_terminal(image));
    return 0;
  }
  if (o.heatmap)
    render_pixel_heatmap(image, *o.out);
  else
    render_digit(image, *o.out);
  console.print("wrote {}\n", *o.out);
  return 0;
}

int run_report(const std::string& run_dir) {
  report::write_run_charts(run_dir);
  report::write_report(run_dir);
  fmt::print("wrote {}/report.html\n", run_dir);
  return 0;
}

}  // namespace bnlab::cli
