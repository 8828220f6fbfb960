// Sequential::summary(), laid out as Keras 3 prints model.summary().
#include <fmt/format.h>

#include <algorithm>

#include "bnlab/model/sequential.h"

namespace bnlab {
namespace {

// Keras' readable_memory_size: 1024-based units with two decimals.
std::string readable_bytes(double bytes) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  for (const char* unit : units) {
    if (bytes / 1024.0 < 1.0) return fmt::format("{:.2f} {}", bytes, unit);
    bytes /= 1024.0;
  }
  return fmt::format("{:.2f} PB", bytes);
}

std::string thousands(int64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

// Images are held (C, H, W) but shown as Keras shows them, channels last: (None, H, W, C).
bool is_image(const Shape& s) { return s.rank() == 3; }

std::string keras_shape(const Shape& s) {
  std::vector<int64_t> dims = s.dims();
  if (is_image(s)) std::rotate(dims.begin(), dims.begin() + 1, dims.end());
  std::string out = "(None";
  for (int64_t d : dims) out += ", " + std::to_string(d);
  return out + ")";
}

std::string repeat(const char* piece, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += piece;
  return s;
}

constexpr int kName = 33, kShape = 24, kParams = 15;

std::string rule(const char* left, const char* fill, const char* mid, const char* right) {
  return fmt::format("{}{}{}{}{}{}{}\n", left, repeat(fill, kName), mid, repeat(fill, kShape), mid,
                     repeat(fill, kParams), right);
}

std::string row(const char* bar, const std::string& a, const std::string& b, const std::string& c) {
  return fmt::format("{0} {1:<{4}} {0} {2:<{5}} {0} {3:>{6}} {0}\n", bar, a, b, c, kName - 2, kShape - 2, kParams - 2);
}

}  // namespace

std::string Sequential::summary(const std::string& model_name) {
  std::string s = fmt::format("Model: \"{}\"\n", model_name);
  s += rule("┏", "━", "┳", "┓");
  s += row("┃", "Layer (type)", "Output Shape", "Param #");
  s += rule("┡", "━", "╇", "┩");
  for (size_t i = 0; i < layers_.size(); ++i) {
    Layer& l = *layers_[i];
    if (i) s += rule("├", "─", "┼", "┤");
    const int64_t n = l.count_params(true) + l.count_params(false);
    const std::string label = fmt::format("{} ({})", l.name, l.type_name());
    if (static_cast<int>(label.size()) <= kName - 2) {
      s += row("│", label, keras_shape(output_shapes_[i]), thousands(n));
    } else {  // Keras wraps a long cell before the type
      s += row("│", l.name, keras_shape(output_shapes_[i]), thousands(n));
      s += row("│", fmt::format("({})", l.type_name()), "", "");
    }
  }
  s += rule("└", "─", "┴", "┘");
  const int64_t trainable = count_params(true), frozen = count_params(false);
  s += fmt::format(" Total params: {} ({})\n", thousands(trainable + frozen), readable_bytes(4.0 * (trainable + frozen)));
  s += fmt::format(" Trainable params: {} ({})\n", thousands(trainable), readable_bytes(4.0 * trainable));
  s += fmt::format(" Non-trainable params: {} ({})\n", thousands(frozen), readable_bytes(4.0 * frozen));
  if (std::any_of(output_shapes_.begin(), output_shapes_.end(), is_image))
    s += " Image shapes are shown as Keras shows them, (None, H, W, C); bnlab holds them (N, C, H, W), as PyTorch.\n";
  return s;
}

}  // namespace bnlab
