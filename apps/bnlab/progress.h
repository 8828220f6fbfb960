#pragma once
// Keras-style progress: "Epoch 3/30" and a line
//   1719/1719 ━━━━━━━━━━━━━━━━━━━━ 5s 3ms/step - accuracy: 0.9811 - loss: 0.0612 - val_accuracy: ...
// redrawn in place on a terminal, printed once per epoch otherwise.
#include <string>

#include "bnlab/core/stopwatch.h"
#include "bnlab/model/fit.h"
#include "bnlab/model/sequential.h"
#include "console.h"

namespace bnlab::cli {

// "1719/1719 ━━━━━━━━━━━━━━━━━━━━ 5s 3ms/step" for a finished run of `steps` steps.
std::string progress_bar(int64_t step, int64_t steps, double seconds, bool done);
std::string format_seconds(double seconds);
// Time per step as Keras prints it: "2s/step", "3ms/step", "250us/step".
std::string format_step_time(double seconds);
// Keras' evaluate line: "313/313 ━━━━━━━━━━━━━━━━━━━━ 0s 1ms/step - accuracy: 0.9800 - loss: 0.0700".
std::string evaluate_line(const Metrics& m, int64_t steps, double seconds);

class KerasProgress : public TrainingCallback {
 public:
  explicit KerasProgress(const Console& console);
  void on_epoch_begin(int epoch, int epochs, int64_t steps) override;
  void on_batch_end(int64_t step, int64_t steps, double loss, double accuracy) override;
  void on_epoch_end(const EpochLogs& logs) override;

 private:
  const Console& console_;
  bool live_;
  Stopwatch epoch_, since_draw_;
  double loss_ = 0.0, accuracy_ = 0.0;
};

}  // namespace bnlab::cli
