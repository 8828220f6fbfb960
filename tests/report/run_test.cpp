// Loading a run directory (a run or a comparison) and the error that names each broken file.
#include "bnlab/report/run.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <fstream>

#include "bnlab/core/error.h"
#include "support/synthetic_run.h"

namespace bnlab::report {
namespace {

namespace fs = std::filesystem;

class RunDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           fmt::format("bnlab_run_test_{}_{}",
                       ::testing::UnitTest::GetInstance()->current_test_info()->name(), ::getpid());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static void overwrite(const fs::path& file, const std::string& text) {
    std::ofstream(file, std::ios::trunc) << text;
  }

  // The InputError message of load_run_dir(dir_); fails the test if it loads.
  std::string load_error() {
    try {
      load_run_dir(dir_);
    } catch (const InputError& e) {
      return e.what();
    }
    ADD_FAILURE() << "loaded without error";
    return "";
  }

  fs::path dir_;
};

TEST_F(RunDirTest, LoadsASingleRun) {
  test::write_synthetic_run(dir_, "mlp-bn", 15, true);
  const RunDir loaded = load_run_dir(dir_);
  EXPECT_FALSE(loaded.comparison);
  ASSERT_EQ(loaded.runs.size(), 1u);
  const report::Run& run = loaded.runs[0];
  EXPECT_EQ(run.model, "mlp-bn");
  EXPECT_TRUE(run.uses_batchnorm());
  EXPECT_EQ(loaded.dataset, "mnist");
  ASSERT_EQ(run.history.size(), 15u);
  EXPECT_EQ(run.history.front().epoch, 1);
  EXPECT_EQ(run.history.back().epoch, 15);
  EXPECT_NEAR(run.history.back().seconds, 2.7, 1e-9);
  ASSERT_TRUE(run.test && run.test_unscaled && run.valid && run.params);
  EXPECT_DOUBLE_EQ(run.test->accuracy, 0.9791);
  EXPECT_DOUBLE_EQ(run.test_unscaled->accuracy, 0.8843);
  EXPECT_EQ(run.params->non_trainable, 2336);
  ASSERT_TRUE(run.predictions);
  ASSERT_EQ(run.predictions->samples.size(), 7u);
  EXPECT_EQ(run.predictions->samples[3].predicted, 3);
  EXPECT_EQ(run.predictions->samples[3].actual, 5);
  EXPECT_EQ(run.predictions->samples[0].rows, 28);
  EXPECT_EQ(run.predictions->samples[0].image.size(), 784u);
  EXPECT_NE(run.summary.find("Total params"), std::string::npos);
  ASSERT_GE(run.config.size(), 3u);
  EXPECT_EQ(run.config[0], (std::pair<std::string, std::string>{"model", "mlp-bn"}));
  EXPECT_EQ(run.config[2], (std::pair<std::string, std::string>{"dataset", "mnist"}));
}

TEST_F(RunDirTest, LoadsAComparisonInItsModelOrder) {
  test::write_synthetic_comparison(dir_);
  const RunDir loaded = load_run_dir(dir_);
  EXPECT_TRUE(loaded.comparison);
  ASSERT_EQ(loaded.runs.size(), 2u);
  EXPECT_EQ(loaded.runs[0].model, "mlp");
  EXPECT_FALSE(loaded.runs[0].uses_batchnorm());
  EXPECT_EQ(loaded.runs[1].model, "mlp-bn");
  EXPECT_EQ(loaded.runs[0].history.size(), 30u);
  EXPECT_EQ(loaded.runs[1].history.size(), 15u);
  ASSERT_TRUE(loaded.wall_seconds);
  EXPECT_DOUBLE_EQ(*loaded.wall_seconds, 123.4);
}

TEST_F(RunDirTest, MissingHistoryIsNamed) {
  test::write_synthetic_run(dir_, "mlp", 3, false);
  fs::remove(dir_ / "history.csv");
  const std::string error = load_error();
  EXPECT_NE(error.find("history.csv"), std::string::npos) << error;
  EXPECT_NE(error.find("missing"), std::string::npos) << error;
}

TEST_F(RunDirTest, MissingModelOfAComparisonIsNamed) {
  test::write_synthetic_comparison(dir_);
  fs::remove_all(dir_ / "mlp-bn");
  EXPECT_NE(load_error().find("mlp-bn"), std::string::npos);
}

TEST_F(RunDirTest, InvalidJsonIsNamed) {
  test::write_synthetic_run(dir_, "mlp", 3, false);
  overwrite(dir_ / "metrics.json", "{\"model\": \"mlp\",");
  const std::string error = load_error();
  EXPECT_NE(error.find("metrics.json"), std::string::npos) << error;
  EXPECT_NE(error.find("not valid JSON"), std::string::npos) << error;
}

TEST_F(RunDirTest, WrongTypesInMetricsAreNamed) {
  test::write_synthetic_run(dir_, "mlp", 3, false);
  overwrite(dir_ / "metrics.json", R"({"model": "mlp", "test": {"loss": 0.1, "accuracy": "high"}})");
  EXPECT_NE(load_error().find("metrics.json: 'test.accuracy' must be a number"), std::string::npos);
  overwrite(dir_ / "metrics.json", R"({"spec": "flatten"})");
  EXPECT_NE(load_error().find("'model' is missing"), std::string::npos);
  overwrite(dir_ / "metrics.json", R"([1, 2])");
  EXPECT_NE(load_error().find("expected a JSON object"), std::string::npos);
}

TEST_F(RunDirTest, InconsistentPredictionsAreNamed) {
  test::write_synthetic_run(dir_, "mlp", 3, false);
  const auto with_predictions = [&](const std::string& predictions) {
    overwrite(dir_ / "metrics.json", R"({"model": "mlp", "predictions": )" + predictions + "}");
    return load_error();
  };
  EXPECT_NE(
      with_predictions(
          R"({"indices": [1, 2], "probabilities": [[1]], "predicted": [0, 0], "actual": [0, 0], "images": [[0], [0]]})")
          .find("'predictions.probabilities' has 1 entries, expected 2"),
      std::string::npos);
  EXPECT_NE(
      with_predictions(
          R"({"indices": [1], "probabilities": [[0.5, 0.5]], "predicted": [2], "actual": [0], "images": [[0]]})")
          .find("'predictions.predicted[0]' must be a class 0..1"),
      std::string::npos);
  EXPECT_NE(
      with_predictions(
          R"({"indices": [1], "probabilities": [[1]], "predicted": [0], "actual": [0], "images": [[0, 1, 2]]})")
          .find("not a square image"),
      std::string::npos);
  EXPECT_NE(
      with_predictions(
          R"({"indices": [1], "probabilities": [[1]], "predicted": [0], "actual": [0], "images": [[0, 1, 2, 300]]})")
          .find("outside 0..255"),
      std::string::npos);
}

TEST_F(RunDirTest, MalformedHistoryIsNamedWithTheLine) {
  test::write_synthetic_run(dir_, "mlp", 3, false);
  overwrite(
      dir_ / "history.csv",
      "epoch,loss,accuracy,val_loss,val_accuracy,seconds\n1,0.3,0.9,0.2,0.95,1.0\n2,0.2,oops,0.2,0.96,1.0\n");
  EXPECT_NE(load_error().find("history.csv:3: accuracy 'oops' is not a number"), std::string::npos);
  overwrite(dir_ / "history.csv", "epoch,loss,accuracy,val_loss,val_accuracy,seconds\n1,0.3,0.9,0.2\n");
  EXPECT_NE(load_error().find("history.csv:2: 4 values for 6 columns"), std::string::npos);
  overwrite(dir_ / "history.csv", "epoch,loss,accuracy\n1,0.3,0.9\n");
  EXPECT_NE(load_error().find("no 'val_loss' column"), std::string::npos);
  overwrite(dir_ / "history.csv", "epoch,loss,accuracy,val_loss,val_accuracy\n");
  EXPECT_NE(load_error().find("no epochs"), std::string::npos);
  overwrite(dir_ / "history.csv", "epoch,loss,accuracy,val_loss,val_accuracy\n2,1,1,1,1\n1,1,1,1,1\n");
  EXPECT_NE(load_error().find("epoch 1 does not follow epoch 2"), std::string::npos);
}

TEST_F(RunDirTest, HistoryWithoutSecondsLoads) {
  test::write_synthetic_run(dir_, "mlp", 3, false);
  overwrite(dir_ / "history.csv", "epoch,loss,accuracy,val_loss,val_accuracy\r\n1,0.3,0.9,0.2,0.95\r\n");
  const RunDir loaded = load_run_dir(dir_);
  ASSERT_EQ(loaded.runs[0].history.size(), 1u);
  EXPECT_TRUE(std::isnan(loaded.runs[0].history[0].seconds));
  EXPECT_DOUBLE_EQ(loaded.runs[0].history[0].val_accuracy, 0.95);
}

TEST_F(RunDirTest, NotARunDirectory) {
  fs::create_directories(dir_);
  EXPECT_NE(load_error().find("not a bnlab run directory"), std::string::npos);
  fs::remove_all(dir_);
  EXPECT_NE(load_error().find("not a directory"), std::string::npos);
}

}  // namespace
}  // namespace bnlab::report
