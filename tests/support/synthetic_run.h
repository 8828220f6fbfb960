#pragma once
// Synthetic run directories in the layout `bnlab train` and `bnlab compare` write (see
// bnlab/report/run.h), with fixed, plausible numbers.
#include <filesystem>
#include <string>

namespace bnlab::test {

// A single run of `model` ("mlp" or "mlp-bn") for `epochs` epochs in `dir` (created). With
// `unscaled`, metrics.json's test object also holds the unscaled-test evaluation. One of the
// seven predictions is wrong.
void write_synthetic_run(const std::filesystem::path& dir, const std::string& model, int epochs,
                         bool unscaled);

// dir/mlp (30 epochs, with the unscaled evaluation), dir/mlp-bn (15 epochs), dir/comparison.json.
void write_synthetic_comparison(const std::filesystem::path& dir);

}  // namespace bnlab::test
