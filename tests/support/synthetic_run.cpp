#include "support/synthetic_run.h"

#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace bnlab::test {

namespace {

namespace fs = std::filesystem;

void write(const fs::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + file.string());
}

// Approaches `end` from `start` with the given rate, plus a small fixed wobble.
double curve(int epoch, double start, double end, double rate, double wobble) {
  return end - (end - start) * std::exp(-rate * (epoch - 1)) + wobble * std::sin(epoch * 1.7);
}

// A 28x28 stroke image for `label`: a ring for 0, a bar for 1, two bars for anything else.
std::vector<int> digit(int label) {
  std::vector<int> pixels(28 * 28, 0);
  for (int r = 0; r < 28; ++r)
    for (int c = 0; c < 28; ++c) {
      const double ring = std::hypot(r - 13.5, (c - 13.5) * 1.4);
      int v = 0;
      if (label == 0) v = ring > 6 && ring < 10 ? 255 - static_cast<int>(30 * std::abs(ring - 8)) : 0;
      if (label == 1) v = std::abs(c - 14 + (r - 14) / 6) <= 1 && r > 3 && r < 24 ? 250 : 0;
      if (label > 1) v = (r == 6 + label % 3 || r == 19 || (c == 8 + label && r > 6 && r < 20)) ? 230 : 0;
      pixels[r * 28 + c] = v;
    }
  return pixels;
}

std::string summary(const std::string& model, bool bn) {
  std::string text = fmt::format("Model: \"{}\"\n", model);
  text += "_________________________________________________________________\n";
  text += " Layer (type)                Output Shape              Param #   \n";
  text += "=================================================================\n";
  text += " flatten (Flatten)           (None, 784)               0         \n";
  if (bn) text += " batch_normalization (BatchNormalization)  (None, 784)  3136  \n";
  text += " dense (Dense)               (None, 256)               200960    \n";
  text += " dense_1 (Dense)             (None, 128)               32896     \n";
  text += " dense_2 (Dense)             (None, 10)                1290      \n";
  text += "=================================================================\n";
  text += bn ? "Total params: 239,818\n" : "Total params: 235,146\n";
  return text;
}

}  // namespace

void write_synthetic_run(const fs::path& dir, const std::string& model, int epochs, bool unscaled) {
  fs::create_directories(dir);
  const bool bn = model.ends_with("-bn");
  // With BN the curves rise faster and validation accuracy ends a little higher.
  const double rate = bn ? 0.8 : 0.35;
  std::string csv = "epoch,loss,accuracy,val_loss,val_accuracy,seconds\n";
  for (int e = 1; e <= epochs; ++e)
    csv += fmt::format("{},{:.6f},{:.6f},{:.6f},{:.6f},{:.3f}\n", e, curve(e, 0.35, 0.015, rate, 0.001),
                       curve(e, 0.90, 0.996, rate, 0.0005), curve(e, 0.16, bn ? 0.07 : 0.09, rate, 0.004),
                       curve(e, 0.95, bn ? 0.982 : 0.978, rate, 0.001), bn ? 2.7 : 2.1);
  write(dir / "history.csv", csv);
  write(dir / "summary.txt", summary(model, bn));

  nlohmann::ordered_json metrics;
  metrics["model"] = model;
  metrics["spec"] = bn ? "flatten,bn,dense:256:relu,bn,dense:128:relu,bn,dense:10:softmax"
                       : "flatten,dense:256:relu,dense:128:relu,dense:10:softmax";
  metrics["dataset"] = "mnist";
  metrics["epochs"] = epochs;
  metrics["batch_size"] = 64;
  metrics["optimizer"] = "adam";
  metrics["lr"] = 0.001;
  metrics["seed"] = 1;
  metrics["threads"] = 2;
  metrics["train_seconds"] = epochs * (bn ? 2.7 : 2.1);
  metrics["params"] = {
      {"total", bn ? 239818 : 235146}, {"trainable", bn ? 237482 : 235146}, {"non_trainable", bn ? 2336 : 0}};
  metrics["test"] = {{"loss", bn ? 0.0712 : 0.0921}, {"accuracy", bn ? 0.9791 : 0.9752}};
  if (unscaled) metrics["test"]["unscaled"] = {{"loss", 21.37}, {"accuracy", 0.8843}};
  metrics["valid"] = {{"loss", bn ? 0.068 : 0.088}, {"accuracy", bn ? 0.982 : 0.978}};

  const std::vector<int> actual = {1, 4, 9, 5, 9, 0, 6};
  nlohmann::ordered_json predictions;
  predictions["split"] = "test";
  predictions["indices"] = {5, 6, 7, 8, 9, 10, 11};
  for (size_t i = 0; i < actual.size(); ++i) {
    const int predicted = i == 3 ? 3 : actual[i];  // the fourth is wrong
    std::vector<double> probabilities(10, 0.004);
    probabilities[predicted] = 0.9;
    probabilities[actual[i]] += 0.064;
    predictions["probabilities"].push_back(probabilities);
    predictions["predicted"].push_back(predicted);
    predictions["actual"].push_back(actual[i]);
    predictions["images"].push_back(digit(actual[i]));
  }
  metrics["predictions"] = predictions;
  write(dir / "metrics.json", metrics.dump());
}

void write_synthetic_comparison(const fs::path& dir) {
  write_synthetic_run(dir / "mlp", "mlp", 30, true);
  write_synthetic_run(dir / "mlp-bn", "mlp-bn", 15, false);
  write(dir / "comparison.json",
        R"({"models": ["mlp", "mlp-bn"], "dataset": "mnist", "wall_seconds": 123.4})");
}

}  // namespace bnlab::test
