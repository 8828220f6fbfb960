#pragma once
// The notebook's evaluation bug, explained by replaying it. The notebook logged a test
// accuracy of 0.8981 without BN and 0.7857 with BN (validation losses in the hundreds) although
// training went well. Each hypothesis below is a guess at how its data were really scaled and
// split; the notebook's models are trained under each (its epochs, batch sizes and Adam) and the
// hypothesis whose logged figures come out closest explains the bug.
//
// The notebook's own numbers give a first clue: 1563 steps per epoch at batch 32 and 782 at
// batch 64 mean 50,000 training images, not the 55,000 its split cell leaves.
#include <cstdint>
#include <string>
#include <vector>

#include "bnlab/data/dataset.h"
#include "bnlab/experiments/claims.h"
#include "bnlab/model/sequential.h"

namespace bnlab::experiments {

struct Hypothesis {
  std::string name, description;
  int64_t valid_begin = 0, train_begin = 5000;  // rows of the 60,000 training images
  double train_divide_by = 255.0;               // the training and validation images
  double test_divide_by = 255.0;
};

// "as written" (the code as shown: every split divided by 255 once), "test unscaled" (the test
// images never divided), "split cell ran twice" (the cell run a second time after a first run
// without its test line: 5,000 more images moved out of training, training and validation divided
// by 255 twice, the test images once).
std::vector<Hypothesis> notebook_hypotheses();

// What the notebook printed, per epoch and at the end, for one of its models.
struct NotebookModelLog {
  std::string model;  // "mlp" or "mlp-bn"
  int epochs = 0, batch_size = 0;
  int64_t steps_per_epoch = 0;
  std::vector<double> val_accuracy, val_loss;  // the BN model validated on the test set
  double test_accuracy = 0.0, test_loss = 0.0;
};
std::vector<NotebookModelLog> notebook_logs();

struct ReplayedModel {
  std::string model;
  int64_t steps_per_epoch = 0;
  History history;
  Metrics test;
};

struct HypothesisResult {
  Hypothesis hypothesis;
  std::vector<ReplayedModel> models;  // as notebook_logs()
  // Mean |replayed - notebook| over every validation accuracy logged (for the epochs run) and both
  // test accuracies; and the same for log10 of the losses.
  double accuracy_distance = 0.0, log_loss_distance = 0.0;
  bool steps_match = false;  // the notebook's steps per epoch
};

struct NotebookBugResult {
  std::vector<HypothesisResult> hypotheses;
  size_t closest = 0;  // by accuracy_distance
  std::vector<NamedChart> charts;
  double seconds = 0.0;
};

// train_images: the 60,000 training images (load_split Split::Train); test: the 10,000 test images.
// epochs_cap > 0 trains each model for at most that many epochs (and compares only those).
NotebookBugResult replay_notebook(const Dataset& train_images, const Dataset& test, int epochs_cap, uint64_t seed,
                                  const Log& log);

nlohmann::json notebook_bug_json(const NotebookBugResult& r);
// The comparison as a plain-text table, one row per hypothesis and model.
std::string notebook_bug_table(const NotebookBugResult& r);

}  // namespace bnlab::experiments
