#pragma once
// A strip of classified images: each panel shows the image, "pred P / true A" (in red, with a red
// frame, when P != A), and a bar chart of the class probabilities with the predicted class
// coloured (blue if right, red if wrong) and the actual class green when it differs.
#include <filesystem>
#include <string>
#include <vector>

#include "bnlab/plot/digit.h"
#include "bnlab/plot/output.h"

namespace bnlab::plot {

struct Prediction {
  DigitImage image;                   // its title is not drawn: the panel header replaces it
  std::vector<double> probabilities;  // one per class, class k at index k
  int predicted = 0;
  int actual = 0;
};

struct PredictionStrip {
  std::string title;
  std::vector<Prediction> items;
};

// Default size: 160 px per panel (at least 640 in all), and as tall as the panels need (about 370
// for 28x28 images). Throws std::invalid_argument for an empty strip, a bad image, or a
// predicted/actual label outside the probability vector.
void render_prediction_strip(const PredictionStrip& strip, const std::filesystem::path& out, Size size = {});
std::string render_prediction_strip(const PredictionStrip& strip, ImageFormat format, Size size = {});

}  // namespace bnlab::plot
