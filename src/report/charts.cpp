#include "bnlab/report/charts.h"

#include <algorithm>

#include <fmt/format.h>

namespace bnlab::report {

namespace {

namespace fs = std::filesystem;

// tab10 blue and orange: one colour per model in the comparisons.
constexpr plot::Rgb kRunColours[] = {{0.122, 0.467, 0.706},
                                     {1.000, 0.498, 0.055},
                                     {0.173, 0.627, 0.173},
                                     {0.839, 0.153, 0.157},
                                     {0.580, 0.404, 0.741}};

std::vector<double> epochs(const Run& run) {
  std::vector<double> x;
  for (const EpochRecord& r : run.history) x.push_back(r.epoch);
  return x;
}

std::vector<double> column(const Run& run, double EpochRecord::*field) {
  std::vector<double> y;
  for (const EpochRecord& r : run.history) y.push_back(r.*field);
  return y;
}

bool is_bn_pair(const std::vector<Run>& runs) {
  return runs.size() == 2 && runs[0].uses_batchnorm() != runs[1].uses_batchnorm();
}

plot::LineChart comparison_chart(const std::vector<Run>& runs, const std::string& quantity,
                                 double EpochRecord::*train, double EpochRecord::*val) {
  plot::LineChart chart;
  if (is_bn_pair(runs)) {
    chart.title = fmt::format("{} Comparison: Model with and without Batch Normalization", quantity);
  } else {
    std::vector<std::string> names;
    for (const Run& r : runs) names.push_back(r.model);
    chart.title = fmt::format("{} Comparison: {}", quantity, fmt::join(names, " vs "));
  }
  chart.xlabel = "Epochs";
  chart.ylabel = quantity;
  for (size_t i = 0; i < runs.size(); ++i) {
    const Run& run = runs[i];
    const plot::Rgb colour = kRunColours[i % std::size(kRunColours)];
    const std::string variant = variant_label(run, runs);
    const bool markers = run.history.size() <= 40;
    chart.series.push_back(
        {"Train " + variant, epochs(run), column(run, train), colour, plot::Dash::Solid, markers});
    chart.series.push_back(
        {"Val " + variant, epochs(run), column(run, val), colour, plot::Dash::Dashed, markers});
  }
  return chart;
}

void write_both(const plot::LineChart& chart, const fs::path& stem, std::vector<fs::path>& written) {
  for (const char* ext : {".png", ".svg"}) {
    fs::path out = stem;
    out += ext;
    plot::render_line_chart(chart, out);
    written.push_back(out);
  }
}

}  // namespace

std::string variant_label(const Run& run, const std::vector<Run>& runs) {
  if (!is_bn_pair(runs)) return run.model;
  return run.uses_batchnorm() ? "With BN" : "Without BN";
}

plot::LineChart history_chart(const Run& run) {
  plot::LineChart chart;
  chart.title = fmt::format("Training history: {}", run.model);
  chart.xlabel = "Epoch";
  const std::pair<const char*, double EpochRecord::*> columns[] = {
      {"loss", &EpochRecord::loss},
      {"accuracy", &EpochRecord::accuracy},
      {"val_loss", &EpochRecord::val_loss},
      {"val_accuracy", &EpochRecord::val_accuracy}};
  for (const auto& [label, field] : columns)
    chart.series.push_back({label, epochs(run), column(run, field), {}});
  return chart;
}

plot::LineChart accuracy_comparison_chart(const std::vector<Run>& runs) {
  return comparison_chart(runs, "Accuracy", &EpochRecord::accuracy, &EpochRecord::val_accuracy);
}

plot::LineChart loss_comparison_chart(const std::vector<Run>& runs) {
  return comparison_chart(runs, "Loss", &EpochRecord::loss, &EpochRecord::val_loss);
}

std::optional<plot::PredictionStrip> prediction_strip(const Run& run) {
  if (!run.predictions || run.predictions->samples.empty()) return std::nullopt;
  const Predictions& predictions = *run.predictions;
  plot::PredictionStrip strip;
  strip.title = predictions.split.empty()
                    ? fmt::format("Predictions: {}", run.model)
                    : fmt::format("Predictions on {} images: {}", predictions.split, run.model);
  for (const PredictionSample& s : predictions.samples)
    strip.items.push_back(
        {{fmt::format("#{}", s.index), s.rows, s.cols, s.image}, s.probabilities, s.predicted, s.actual});
  return strip;
}

std::vector<fs::path> write_run_charts(const fs::path& run_dir) {
  const RunDir loaded = load_run_dir(run_dir);
  std::vector<fs::path> written;
  if (loaded.comparison) {
    write_both(accuracy_comparison_chart(loaded.runs), run_dir / "accuracy_comparison", written);
    write_both(loss_comparison_chart(loaded.runs), run_dir / "loss_comparison", written);
  }
  for (const Run& run : loaded.runs) {
    write_both(history_chart(run), run.dir / "history", written);
    if (const std::optional<plot::PredictionStrip> strip = prediction_strip(run))
      for (const char* name : {"predictions.png", "predictions.svg"}) {
        plot::render_prediction_strip(*strip, run.dir / name);
        written.push_back(run.dir / name);
      }
  }
  return written;
}

}  // namespace bnlab::report
