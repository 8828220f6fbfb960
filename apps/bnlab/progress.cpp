#include "progress.h"

#include <unistd.h>

#include <cmath>

namespace bnlab::cli {

bool Console::is_terminal() const { return human && isatty(fileno(human)); }

std::string format_seconds(double seconds) {
  if (seconds < 60) return fmt::format("{:.0f}s", std::floor(seconds));
  const int s = static_cast<int>(seconds);
  return s < 3600 ? fmt::format("{}:{:02d}", s / 60, s % 60) : fmt::format("{}:{:02d}:{:02d}", s / 3600, s / 60 % 60, s % 60);
}

// As Keras's progress bar: whole seconds from 1 s (and for 0), else whole milliseconds from 1 ms,
// else whole microseconds (a 0.25 ms step is "250us/step", not "0ms/step").
std::string format_step_time(double seconds) {
  if (seconds >= 1.0 || seconds == 0.0) return fmt::format("{:.0f}s/step", seconds);
  if (seconds >= 1e-3) return fmt::format("{:.0f}ms/step", seconds * 1e3);
  return fmt::format("{:.0f}us/step", seconds * 1e6);
}

std::string progress_bar(int64_t step, int64_t steps, double seconds, bool done) {
  constexpr int kWidth = 20;
  const int filled = steps ? static_cast<int>(kWidth * step / steps) : kWidth;
  std::string bar;
  for (int i = 0; i < kWidth; ++i) bar += i < filled ? "━" : " ";
  const int digits = static_cast<int>(std::to_string(steps).size());
  const double per_step = step ? seconds / step : 0.0;
  // Keras shows the time taken when done, the time left (ETA) before, and the time per step.
  const std::string elapsed_or_eta = format_seconds(done ? seconds : per_step * (steps - step));
  return fmt::format("{:>{}}/{} {} {} {}", step, digits, steps, bar, elapsed_or_eta, format_step_time(per_step));
}

std::string evaluate_line(const Metrics& m, int64_t steps, double seconds) {
  return fmt::format("{} - accuracy: {:.4f} - loss: {:.4f}", progress_bar(steps, steps, seconds, true), m.accuracy, m.loss);
}

KerasProgress::KerasProgress(const Console& console) : console_(console), live_(console.is_terminal()) {}

void KerasProgress::on_epoch_begin(int epoch, int epochs, int64_t) {
  console_.print("Epoch {}/{}\n", epoch, epochs);
  epoch_.restart();
  since_draw_.restart();
}

void KerasProgress::on_batch_end(int64_t step, int64_t steps, double loss, double accuracy) {
  loss_ = loss;
  accuracy_ = accuracy;
  if (!live_) return;
  if (step != steps && since_draw_.seconds() < 0.1) return;
  since_draw_.restart();
  const double seconds = epoch_.seconds();
  console_.print("\r{} - accuracy: {:.4f} - loss: {:.4f}\x1b[K", progress_bar(step, steps, seconds, false), accuracy, loss);
}

void KerasProgress::on_epoch_end(const EpochLogs& logs) {
  std::string line = fmt::format("{} - accuracy: {:.4f} - loss: {:.4f}", progress_bar(logs.steps, logs.steps, logs.seconds, true),
                                 logs.accuracy, logs.loss);
  if (!std::isnan(logs.val_loss)) line += fmt::format(" - val_accuracy: {:.4f} - val_loss: {:.4f}", logs.val_accuracy, logs.val_loss);
  console_.print("{}{}\n", live_ ? "\r" : "", line + (live_ ? "\x1b[K" : ""));
}

}  // namespace bnlab::cli
