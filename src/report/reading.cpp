#include "bnlab/report/reading.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "bnlab/report/charts.h"
#include "report/format.h"

namespace bnlab::report {

namespace {

using detail::percent;
using detail::thousands;

constexpr double kMilestones[] = {0.99, 0.98, 0.97, 0.95, 0.90};
// Validation loss ending this much above its minimum reads as overfitting.
constexpr double kOverfitLossRise = 1.10;

std::string points(double fraction) { return fmt::format("{:.2f}", 100 * fraction); }

std::string epochs_word(int n) { return n == 1 ? "1 epoch" : fmt::format("{} epochs", n); }

// "mlp-bn (with BN)" in a BN comparison, else the model name.
std::string name(const Run& run, const std::vector<Run>& runs) {
  const std::string variant = variant_label(run, runs);
  if (variant == run.model) return run.model;
  std::string lower = variant;
  lower[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(lower[0])));
  return fmt::format("{} ({})", run.model, lower);
}

// Seconds of training up to and including `epoch`, when history.csv timed every epoch.
std::optional<double> seconds_through(const Run& run, int epoch) {
  double total = 0;
  for (const EpochRecord& r : run.history) {
    if (r.epoch > epoch) break;
    if (!std::isfinite(r.seconds)) return std::nullopt;
    total += r.seconds;
  }
  return total;
}

std::string after(const Run& run, int epoch) {
  const std::optional<double> seconds = seconds_through(run, epoch);
  return seconds ? fmt::format("{} ({:.1f} s of training)", epochs_word(epoch), *seconds)
                 : epochs_word(epoch);
}

std::string training_sentence(const Run& run, const std::vector<Run>& runs) {
  std::string text = fmt::format("{} trained for {}", name(run, runs), epochs_word(run.history.back().epoch));
  if (run.train_seconds) text += fmt::format(" in {:.1f} s", *run.train_seconds);
  if (run.params) {
    text += fmt::format(", with {} parameters", thousands(run.params->total));
    text += run.params->trainable == run.params->total
                ? ", all trainable"
                : fmt::format(" ({} trainable)", thousands(run.params->trainable));
  }
  return text + ".";
}

// The highest milestone every run reached, else the highest any run reached.
std::optional<double> milestone(const std::vector<Run>& runs) {
  for (bool need_all : {true, false})
    for (double threshold : kMilestones) {
      const auto reached = [&](const Run& r) { return first_epoch_reaching(r, threshold).has_value(); };
      if (need_all ? std::all_of(runs.begin(), runs.end(), reached)
                   : std::any_of(runs.begin(), runs.end(), reached))
        return threshold;
    }
  return std::nullopt;
}

std::string milestone_sentence(const std::vector<Run>& runs) {
  const std::optional<double> threshold = milestone(runs);
  if (!threshold)
    return fmt::format("{} reached {:.0f}% validation accuracy.",
                       runs.size() == 1 ? "The model never" : "No model",
                       100 * kMilestones[std::size(kMilestones) - 1]);
  const std::string goal = fmt::format("{:.0f}% validation accuracy", 100 * *threshold);
  if (runs.size() == 1)
    return fmt::format("Validation accuracy first reached {:.0f}% after {}.", 100 * *threshold,
                       after(runs[0], *first_epoch_reaching(runs[0], *threshold)));

  std::vector<const Run*> order;
  for (const Run& r : runs) order.push_back(&r);
  const auto epoch_of = [&](const Run* r) {
    return first_epoch_reaching(*r, *threshold).value_or(std::numeric_limits<int>::max());
  };
  std::stable_sort(order.begin(), order.end(),
                   [&](const Run* a, const Run* b) { return epoch_of(a) < epoch_of(b); });
  const Run& first = *order[0];
  const int first_epoch = epoch_of(&first);
  if (std::all_of(order.begin(), order.end(), [&](const Run* r) { return epoch_of(r) == first_epoch; }))
    return fmt::format("Every model reached {} after {}.", goal, epochs_word(first_epoch));
  std::string text =
      fmt::format("{} reached {} first, after {}", name(first, runs), goal, after(first, first_epoch));
  for (size_t i = 1; i < order.size(); ++i) {
    const Run& other = *order[i];
    const std::optional<int> epoch = first_epoch_reaching(other, *threshold);
    if (epoch)
      text += fmt::format("; {} needed {}", name(other, runs), after(other, *epoch));
    else
      text += fmt::format("; {} never did (its best was {})", name(other, runs),
                          percent(best_validation_epoch(other).val_accuracy));
  }
  return text + ".";
}

std::string best_sentence(const Run& run, const std::vector<Run>& runs) {
  const EpochRecord& best = best_validation_epoch(run);
  return fmt::format("{}: best validation accuracy {} at epoch {} of {}.", name(run, runs),
                     percent(best.val_accuracy), best.epoch, run.history.back().epoch);
}

std::string gap_sentence(const Run& run, const std::vector<Run>& runs) {
  const EpochRecord& last = run.history.back();
  const double gap = last.accuracy - last.val_accuracy;
  std::string text = fmt::format(
      "{}: at the last epoch train accuracy was {} and validation accuracy {}, a gap of {} points",
      name(run, runs), percent(last.accuracy), percent(last.val_accuracy), points(gap));
  const auto lowest =
      std::min_element(run.history.begin(), run.history.end(),
                       [](const EpochRecord& a, const EpochRecord& b) { return a.val_loss < b.val_loss; });
  if (last.val_loss > lowest->val_loss * kOverfitLossRise)
    text += fmt::format(
        "; validation loss was lowest at epoch {} ({:.4f}) and ended at {:.4f}, a sign of overfitting",
        lowest->epoch, lowest->val_loss, last.val_loss);
  return text + ".";
}

std::vector<std::string> test_sentences(const std::vector<Run>& runs) {
  std::vector<std::string> sentences;
  std::vector<const Run*> tested;
  for (const Run& r : runs)
    if (r.test) tested.push_back(&r);
  if (tested.size() == 1) {
    sentences.push_back(fmt::format("Test accuracy: {} (loss {:.4f}).", percent(tested[0]->test->accuracy),
                                    tested[0]->test->loss));
  } else if (tested.size() > 1) {
    std::sort(tested.begin(), tested.end(),
              [](const Run* a, const Run* b) { return a->test->accuracy > b->test->accuracy; });
    const Run& top = *tested[0];
    std::string text =
        fmt::format("On the test set {} scored {}", name(top, runs), percent(top.test->accuracy));
    for (size_t i = 1; i < tested.size(); ++i) {
      const Run& other = *tested[i];
      const double diff = top.test->accuracy - other.test->accuracy;
      text += diff == 0 ? fmt::format(", the same as {}", name(other, runs))
                        : fmt::format(", {} points more than {} ({})", points(diff), name(other, runs),
                                      percent(other.test->accuracy));
    }
    sentences.push_back(text + ".");
  }
  for (const Run* r : tested)
    if (r->test_unscaled)
      sentences.push_back(
          fmt::format("Evaluated on the test set without dividing the pixels by 255 (the notebook's bug: the "
                      "model was trained on 0-1 inputs), {} scores {} (loss {:.4g}) instead of {}.",
                      name(*r, runs), percent(r->test_unscaled->accuracy), r->test_unscaled->loss,
                      percent(r->test->accuracy)));
  return sentences;
}

}  // namespace

std::optional<int> first_epoch_reaching(const Run& run, double threshold) {
  for (const EpochRecord& r : run.history)
    if (r.val_accuracy >= threshold) return r.epoch;
  return std::nullopt;
}

const EpochRecord& best_validation_epoch(const Run& run) {
  return *std::max_element(
      run.history.begin(), run.history.end(),
      [](const EpochRecord& a, const EpochRecord& b) { return a.val_accuracy < b.val_accuracy; });
}

std::vector<std::string> describe(const RunDir& run_dir) {
  const std::vector<Run>& runs = run_dir.runs;
  std::vector<std::string> sentences;
  for (const Run& r : runs) sentences.push_back(training_sentence(r, runs));
  if (run_dir.wall_seconds)
    sentences.push_back(fmt::format("The whole comparison took {:.1f} s.", *run_dir.wall_seconds));
  sentences.push_back(milestone_sentence(runs));
  for (const Run& r : runs) sentences.push_back(best_sentence(r, runs));
  for (const Run& r : runs) sentences.push_back(gap_sentence(r, runs));
  for (std::string& s : test_sentences(runs)) sentences.push_back(std::move(s));
  return sentences;
}

}  // namespace bnlab::report
