#include "bnlab/core/stopwatch.h"
#include "bnlab/experiments/notebook_bug.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "bnlab/core/error.h"
#include "bnlab/model/spec.h"
#include "experiments/common.h"

namespace bnlab::experiments {
namespace {

using namespace detail;

constexpr int64_t kValidation = 5000;

// Keras' progress line: the running averages are printed as the epoch ends.
class CountEpochs : public TrainingCallback {
 public:
  CountEpochs(const Log& log, std::string label) : log_(log), label_(std::move(label)) {}
  void on_epoch_end(const EpochLogs& e) override {
    log_(fmt::format("  {} epoch {}: {} steps - accuracy {:.4f} - loss {:.4f} - val_accuracy {:.4f} - val_loss {:.4f}",
                     label_, e.epoch, e.steps, e.accuracy, e.loss, e.val_accuracy, e.val_loss));
  }

 private:
  const Log& log_;
  std::string label_;
};

struct Splits {
  Dataset train, valid, test;
};

Splits split(const Hypothesis& h, const Dataset& images, const Dataset& test) {
  if (images.size() < h.train_begin + 1 || images.size() < h.valid_begin + kValidation)
    throw InputError(fmt::format("{}: {} images are too few to replay the notebook", images.name, images.size()));
  Splits s{images.slice(h.train_begin, images.size() - h.train_begin, " (" + h.name + ")"),
           images.slice(h.valid_begin, kValidation, " (" + h.name + ")"), test};
  s.train.divide_by = s.valid.divide_by = h.train_divide_by;
  s.test.divide_by = h.test_divide_by;
  return s;
}

ReplayedModel replay(const NotebookModelLog& notebook, const Splits& data, int epochs, uint64_t seed, const Log& log,
                     const std::string& label) {
  ReplayedModel r;
  r.model = notebook.model;
  Sequential model = make_model(notebook.model);
  model.build(Shape(data.train.sample_shape), seed);
  model.compile(std::make_unique<Adam>());
  CountEpochs progress(log, label);
  FitOptions fit;
  fit.epochs = epochs;
  fit.batch_size = notebook.batch_size;
  fit.seed = seed;
  // As in the notebook: the model without BN validated on x_valid, the one with BN on x_test.
  fit.validation = notebook.model == "mlp" ? &data.valid : &data.test;
  fit.callback = &progress;
  r.history = model.fit(data.train, fit);
  r.steps_per_epoch = r.history.epochs.front().steps;
  r.test = model.evaluate(data.test, 32);
  return r;
}

void score(HypothesisResult& h, const std::vector<NotebookModelLog>& logs) {
  std::vector<double> acc, loss;
  h.steps_match = true;
  for (size_t m = 0; m < logs.size(); ++m) {
    const ReplayedModel& r = h.models[m];
    for (const EpochLogs& e : r.history.epochs) {
      acc.push_back(std::fabs(e.val_accuracy - logs[m].val_accuracy[e.epoch - 1]));
      loss.push_back(std::fabs(std::log10(e.val_loss) - std::log10(logs[m].val_loss[e.epoch - 1])));
    }
    acc.push_back(std::fabs(r.test.accuracy - logs[m].test_accuracy));
    loss.push_back(std::fabs(std::log10(r.test.loss) - std::log10(logs[m].test_loss)));
    h.steps_match = h.steps_match && r.steps_per_epoch == logs[m].steps_per_epoch;
  }
  h.accuracy_distance = spread(acc).mean;
  h.log_loss_distance = spread(loss).mean;
}

plot::LineChart accuracy_chart(const NotebookBugResult& r, size_t m, const NotebookModelLog& notebook) {
  plot::LineChart chart{fmt::format("Notebook bug: {} validation accuracy, logged and replayed", notebook.model == "mlp"
                                                                                                     ? "model without BN"
                                                                                                     : "model with BN (on x_test)"),
                        "Epoch", "Validation accuracy", {}};
  std::vector<double> epochs;
  for (int e = 1; e <= notebook.epochs; ++e) epochs.push_back(e);
  chart.series.push_back(line("The notebook's log", epochs, notebook.val_accuracy, {0.1, 0.1, 0.1}, plot::Dash::Dashed));
  const plot::Rgb colours[] = {kBlue, kOrange, kGreen, kRed, kPurple};
  for (size_t i = 0; i < r.hypotheses.size(); ++i) {
    const History& h = r.hypotheses[i].models[m].history;
    chart.series.push_back(line("Replayed: " + r.hypotheses[i].hypothesis.name,
                                each(h.epochs, [](const EpochLogs& e) { return double(e.epoch); }),
                                each(h.epochs, [](const EpochLogs& e) { return e.val_accuracy; }),
                                colours[i % std::size(colours)]));
  }
  return chart;
}

std::vector<double> vec(std::initializer_list<double> v) { return v; }

}  // namespace

std::vector<Hypothesis> notebook_hypotheses() {
  return {{"as written", "every split divided by 255 once, as the code shows", 0, 5000, 255.0, 255.0},
          {"test unscaled", "training and validation divided by 255, the test images never", 0, 5000, 255.0, 1.0},
          {"split cell ran twice",
           "the split cell run again after a first run without its test line: 50,000 training images, training "
           "and validation divided by 255 twice, test once",
           5000, 10000, 255.0 * 255.0, 255.0}};
}

std::vector<NotebookModelLog> notebook_logs() {
  NotebookModelLog no_bn{"mlp", 30, 32, 1563,
                         vec({0.8916, 0.9058, 0.9152, 0.9248, 0.9314, 0.9416, 0.9434, 0.9506, 0.9528, 0.9562,
                              0.9586, 0.9626, 0.9642, 0.9630, 0.9652, 0.9688, 0.9690, 0.9694, 0.9712, 0.9706,
                              0.9704, 0.9702, 0.9746, 0.9714, 0.9752, 0.9720, 0.9756, 0.9710, 0.9708, 0.9758}),
                         vec({0.393883, 0.339719, 0.292824, 0.260173, 0.234498, 0.196736, 0.183362, 0.164726,
                              0.149742, 0.145345, 0.133631, 0.117221, 0.114638, 0.125736, 0.108784, 0.102515,
                              0.101945, 0.110516, 0.098384, 0.095155, 0.103281, 0.098776, 0.090047, 0.099173,
                              0.096361, 0.102797, 0.093577, 0.099486, 0.105004, 0.093074}),
                         0.8981, 69.9988};
  NotebookModelLog bn{"mlp-bn", 15, 64, 782,
                      vec({0.8393, 0.8555, 0.8283, 0.8336, 0.8349, 0.8197, 0.8314, 0.8311, 0.7691, 0.7871, 0.7978,
                           0.7662, 0.7798, 0.7647, 0.7857}),
                      vec({75.1736, 86.2978, 161.3035, 146.3367, 162.6207, 197.8586, 194.8844, 217.2879, 322.8061,
                           300.1436, 303.1212, 279.5966, 295.4492, 301.6129, 326.0355}),
                      0.7857, 326.0353};
  return {no_bn, bn};
}

NotebookBugResult replay_notebook(const Dataset& train_images, const Dataset& test, int epochs_cap, uint64_t seed,
                                  const Log& log) {
  const Stopwatch watch;
  const std::vector<NotebookModelLog> logs = notebook_logs();
  NotebookBugResult r;
  for (const Hypothesis& h : notebook_hypotheses()) {
    log(fmt::format("hypothesis '{}': {}", h.name, h.description));
    const Splits data = split(h, train_images, test);
    HypothesisResult result{h, {}, 0.0, 0.0, false};
    for (const NotebookModelLog& notebook : logs) {
      const int epochs = epochs_cap > 0 ? std::min(epochs_cap, notebook.epochs) : notebook.epochs;
      result.models.push_back(replay(notebook, data, epochs, seed, log, notebook.model));
      log(fmt::format("  {} test: accuracy {:.4f} loss {:.4f} (the notebook: {:.4f} and {:.4f})", notebook.model,
                      result.models.back().test.accuracy, result.models.back().test.loss, notebook.test_accuracy,
                      notebook.test_loss));
    }
    score(result, logs);
    r.hypotheses.push_back(std::move(result));
  }
  r.closest = std::min_element(r.hypotheses.begin(), r.hypotheses.end(),
                               [](const HypothesisResult& a, const HypothesisResult& b) {
                                 return a.accuracy_distance < b.accuracy_distance;
                               }) -
              r.hypotheses.begin();
  for (size_t m = 0; m < logs.size(); ++m)
    r.charts.push_back({"notebook_bug_" + logs[m].model, accuracy_chart(r, m, logs[m])});
  r.seconds = watch.seconds();
  return r;
}

nlohmann::json notebook_bug_json(const NotebookBugResult& r) {
  nlohmann::json hypotheses = nlohmann::json::array();
  for (const HypothesisResult& h : r.hypotheses) {
    nlohmann::json models = nlohmann::json::array();
    for (const ReplayedModel& m : h.models)
      models.push_back({{"model", m.model},
                        {"steps_per_epoch", m.steps_per_epoch},
                        {"val_accuracy", each(m.history.epochs, [](const EpochLogs& e) { return e.val_accuracy; })},
                        {"val_loss", each(m.history.epochs, [](const EpochLogs& e) { return e.val_loss; })},
                        {"test", {{"accuracy", m.test.accuracy}, {"loss", m.test.loss}}}});
    hypotheses.push_back({{"name", h.hypothesis.name}, {"description", h.hypothesis.description},
                          {"train_rows", {h.hypothesis.train_begin, 60000}},
                          {"valid_rows", {h.hypothesis.valid_begin, h.hypothesis.valid_begin + kValidation}},
                          {"train_divide_by", h.hypothesis.train_divide_by},
                          {"test_divide_by", h.hypothesis.test_divide_by},
                          {"accuracy_distance", h.accuracy_distance}, {"log10_loss_distance", h.log_loss_distance},
                          {"steps_per_epoch_match", h.steps_match}, {"models", models}});
  }
  nlohmann::json notebook = nlohmann::json::array();
  for (const NotebookModelLog& l : notebook_logs())
    notebook.push_back({{"model", l.model}, {"epochs", l.epochs}, {"batch_size", l.batch_size},
                        {"steps_per_epoch", l.steps_per_epoch}, {"val_accuracy", l.val_accuracy},
                        {"val_loss", l.val_loss}, {"test", {{"accuracy", l.test_accuracy}, {"loss", l.test_loss}}}});
  return {{"notebook", notebook}, {"hypotheses", hypotheses}, {"closest", r.hypotheses[r.closest].hypothesis.name},
          {"seconds", r.seconds}};
}

std::string notebook_bug_table(const NotebookBugResult& r) {
  std::string s = fmt::format("{:<22} {:<7} {:>10} {:>10} {:>11} {:>13} {:>13}\n", "hypothesis", "model", "steps/ep",
                              "test acc", "test loss", "acc distance", "log-loss dist");
  for (const NotebookModelLog& l : notebook_logs())
    s += fmt::format("{:<22} {:<7} {:>10} {:>10.4f} {:>11.4f}\n", "(the notebook)", l.model, l.steps_per_epoch,
                     l.test_accuracy, l.test_loss);
  for (const HypothesisResult& h : r.hypotheses)
    for (const ReplayedModel& m : h.models)
      s += fmt::format("{:<22} {:<7} {:>10} {:>10.4f} {:>11.4f} {:>13.4f} {:>13.3f}\n", h.hypothesis.name, m.model,
                       m.steps_per_epoch, m.test.accuracy, m.test.loss, h.accuracy_distance, h.log_loss_distance);
  return s;
}

}  // namespace bnlab::experiments
