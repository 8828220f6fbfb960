#pragma once
// The state of a training run between two steps, as a safetensors file, so that a run that dies
// loses nothing: loaded into the same model and passed to fit as FitOptions::resume, it continues
// the run to the weights an uninterrupted run would reach, bit for bit.
//
// Tensors:
//   model.<state_dict key>     the model's weights and buffers (F32; num_batches_tracked: I64 scalar)
//   dropout_rng.<layer index>  each Dropout layer's generator state (I64 [4]: the uint64 words)
//   noise_rng.<layer index>    each ShiftScaleNoise layer's generator state (the same form)
//   optimizer.<state name>     the optimiser's moments (F32: optimizer.m.0, optimizer.v.0, ...)
//   optimizer.iterations       its step count (I64 scalar)
//   data.order                 the data order when the epoch in progress began (I64 [N])
//   data.order_rng             the data-order generator's state then (I64 [4])
// __metadata__ (strings): format = "bnlab.train_state", format_version = "1", spec, optimizer,
// position (JSON: epoch, step, total_steps, loss_sum, correct, seen, skipped, seconds) and history
// (JSON list of the completed epochs: epoch, steps, skipped, loss, accuracy, val_loss,
// val_accuracy, seconds; NaN as null). Numbers survive the JSON round trip exactly.
#include <filesystem>

#include "bnlab/model/fit.h"
#include "bnlab/model/sequential.h"

namespace bnlab {

inline constexpr int kTrainingStateFormatVersion = 1;

// Writes atomically (temporary file, fsync, rename): a crash leaves the previous state whole.
void save_training_state(const std::filesystem::path& path, Sequential& model, const TrainingPosition& position);

// Restores the model's and optimiser's state into `model`, built and compiled as the run's was, and
// returns the position, checked against a training set of train_size samples in batches of
// batch_size. Strict: the file's container (safetensors.h), a format or version that is not this
// one, another model or optimiser, a missing, unexpected or misshapen tensor, a data order that is
// not a permutation of the training set, or a position or history that does not add up: each is
// an InputError naming the file.
TrainingPosition load_training_state(const std::filesystem::path& path, Sequential& model, int64_t train_size,
                                     int batch_size);

}  // namespace bnlab
