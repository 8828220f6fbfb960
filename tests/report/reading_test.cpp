// What the report says in words about a run or a comparison: milestones, best epochs, overfitting.
#include "bnlab/report/reading.h"

#include <gtest/gtest.h>

namespace bnlab::report {
namespace {

// A run whose validation accuracies are `val`, train accuracy 0.99 throughout.
Run run(const std::string& model, const std::vector<double>& val, const std::string& spec) {
  Run r;
  r.model = model;
  r.spec = spec;
  for (size_t i = 0; i < val.size(); ++i)
    r.history.push_back({static_cast<int>(i + 1), 0.05, 0.99, 0.10, val[i], 2.0});
  return r;
}

std::string joined(const std::vector<std::string>& sentences) {
  std::string text;
  for (const std::string& s : sentences) text += s + "\n";
  return text;
}

const std::string kPlain = "flatten,dense:256:relu,dense:10:softmax";
const std::string kBn = "flatten,bn,dense:256:relu,bn,dense:10:softmax";

TEST(Reading, FirstEpochAndBestEpoch) {
  const report::Run r = run("mlp", {0.95, 0.97, 0.975, 0.971}, kPlain);
  EXPECT_EQ(first_epoch_reaching(r, 0.97), 2);
  EXPECT_EQ(first_epoch_reaching(r, 0.98), std::nullopt);
  EXPECT_EQ(best_validation_epoch(r).epoch, 3);
}

TEST(Reading, SaysWhichModelReachedTheMilestoneFirst) {
  RunDir dir;
  dir.comparison = true;
  dir.runs = {run("mlp", {0.95, 0.96, 0.965, 0.972, 0.975}, kPlain), run("mlp-bn", {0.96, 0.973, 0.98}, kBn)};
  const std::string text = joined(describe(dir));
  EXPECT_NE(
      text.find("mlp-bn (with BN) reached 97% validation accuracy first, after 2 epochs (4.0 s of training); "
                "mlp (without BN) needed 4 epochs (8.0 s of training)."),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("mlp (without BN): best validation accuracy 97.50% at epoch 5 of 5."),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("mlp-bn (with BN): best validation accuracy 98.00% at epoch 3 of 3."),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("a gap of 1.00 points"), std::string::npos) << text;
}

TEST(Reading, MilestoneReachedByOnlyOneModel) {
  RunDir dir;
  dir.runs = {run("a", {0.95, 0.985}, kPlain), run("b", {0.93, 0.96}, kPlain)};
  const std::string text = joined(describe(dir));
  EXPECT_NE(
      text.find(
          "a reached 95% validation accuracy first, after 1 epoch (2.0 s of training); b needed 2 epochs"),
      std::string::npos)
      << text;
  dir.runs[0] = run("a", {0.80, 0.85}, kPlain);
  dir.runs[1] = run("b", {0.80, 0.91}, kPlain);
  EXPECT_NE(joined(describe(dir))
                .find("b reached 90% validation accuracy first, after 2 epochs (4.0 s of training); "
                      "a never did (its best was 85.00%)"),
            std::string::npos);
}

TEST(Reading, TestDifferenceOverfittingAndUnscaled) {
  RunDir dir;
  dir.runs = {run("mlp", {0.97, 0.975}, kPlain), run("mlp-bn", {0.97, 0.98}, kBn)};
  dir.runs[0].test = Evaluation{0.09, 0.9750};
  dir.runs[1].test = Evaluation{0.07, 0.9791};
  dir.runs[0].test_unscaled = Evaluation{21.4, 0.8843};
  dir.runs[0].history[0].val_loss = 0.06;  // lowest at epoch 1, then 0.10: overfitting
  const std::string text = joined(describe(dir));
  EXPECT_NE(
      text.find(
          "On the test set mlp-bn (with BN) scored 97.91%, 0.41 points more than mlp (without BN) (97.50%)."),
      std::string::npos)
      << text;
  EXPECT_NE(
      text.find("validation loss was lowest at epoch 1 (0.0600) and ended at 0.1000, a sign of overfitting"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("mlp (without BN) scores 88.43% (loss 21.4) instead of 97.50%."), std::string::npos)
      << text;
  EXPECT_EQ(text.find("mlp-bn (with BN) scores"), std::string::npos) << text;
}

TEST(Reading, SingleRun) {
  RunDir dir;
  dir.runs = {run("mlp", {0.5, 0.7}, kPlain)};
  dir.runs[0].test = Evaluation{0.5, 0.71};
  const std::string text = joined(describe(dir));
  EXPECT_NE(text.find("mlp trained for 2 epochs."), std::string::npos) << text;
  EXPECT_NE(text.find("The model never reached 90% validation accuracy."), std::string::npos) << text;
  EXPECT_NE(text.find("Test accuracy: 71.00% (loss 0.5000)."), std::string::npos) << text;
}

}  // namespace
}  // namespace bnlab::report
