#pragma once
// Model checkpoints as safetensors that PyTorch loads directly: tensor names and layouts are those
// of state_dict() of the equivalent torch.nn.Sequential (Flatten -> nn.Flatten; Dense -> nn.Linear
// [+ nn.ReLU / nn.Softmax(dim=1)]; BatchNormalization -> nn.BatchNorm1d, or nn.BatchNorm2d on
// images, with num_batches_tracked as I64; LayerNormalization -> nn.LayerNorm;
// GroupNormalization -> nn.GroupNorm; Dropout -> nn.Dropout).
//
// __metadata__ (all strings) lets bnlab rebuild the model alone:
//   format = "bnlab.model", format_version = "1", spec, layer_names (JSON list), input_shape
//   (JSON list), num_classes, batchnorm (JSON list: per BN module its eps, momentum, which value
//   the momentum weights, and whether the moving variance is biased), and the data scaling seen in
//   training: divide_by, input_min, input_max, input_mean.
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "bnlab/model/sequential.h"

namespace bnlab {

inline constexpr int kCheckpointFormatVersion = 1;

// Range and mean of the (scaled) training inputs, to warn when evaluation data look different.
struct InputStats {
  double divide_by = 255.0;
  double min = 0.0, max = 1.0, mean = 0.0;
};

InputStats input_stats(const Dataset& data);

struct Checkpoint {
  Sequential model;
  InputStats train_inputs;
  std::string dataset;
  std::map<std::string, std::string> metadata;
};

void save_checkpoint(const std::filesystem::path& path, Sequential& model, const InputStats& train_inputs,
                     const std::string& dataset);
// Rebuilds the model from the metadata and loads every tensor, strictly: a missing, unexpected or
// misshapen tensor, or an unknown format version, is an InputError naming the file.
Checkpoint load_checkpoint(const std::filesystem::path& path);
// Loads weights from a checkpoint into an already built model of the same architecture.
void load_weights(const std::filesystem::path& path, Sequential& model);

// One line warning when data look scaled differently from the training inputs, else nullopt.
std::optional<std::string> scale_mismatch_warning(const InputStats& train, const InputStats& data,
                                                  const std::string& data_name);

}  // namespace bnlab
