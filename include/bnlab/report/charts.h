#pragma once
// The charts of a run directory, built from its files: each run's history (loss, accuracy,
// val_loss and val_accuracy on one chart, like pandas' DataFrame(history).plot()), the notebook's
// accuracy and loss comparisons of the models, and each run's prediction strip.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "bnlab/plot/line_chart.h"
#include "bnlab/plot/prediction_strip.h"
#include "bnlab/report/run.h"

namespace bnlab::report {

// "With BN" / "Without BN" when the runs are one model with BatchNorm and one without, else the
// model's name.
std::string variant_label(const Run& run, const std::vector<Run>& runs);

plot::LineChart history_chart(const Run& run);
// "Train <variant>" (solid) and "Val <variant>" (dashed) per run, one colour per run.
plot::LineChart accuracy_comparison_chart(const std::vector<Run>& runs);
plot::LineChart loss_comparison_chart(const std::vector<Run>& runs);
// nullopt when metrics.json has no predictions.
std::optional<plot::PredictionStrip> prediction_strip(const Run& run);

// Writes history.png/.svg and predictions.png/.svg into each run's folder and, for a comparison,
// accuracy_comparison.png/.svg and loss_comparison.png/.svg into run_dir. Returns the files written.
// Throws InputError for a missing or malformed run directory.
std::vector<std::filesystem::path> write_run_charts(const std::filesystem::path& run_dir);

}  // namespace bnlab::report
