#pragma once
// The data a command works on: a dataset's splits from its cache folder, fetched first if needed,
// or from an .npz file or IDX folder of the user's own.
#include <CLI/CLI.hpp>

#include <string>
#include <utility>

#include "bnlab/data/splits.h"
#include "commands.h"
#include "console.h"

namespace bnlab::cli {

// --dataset, --data-dir, --channels and --valid.
void add_data_options(CLI::App* cmd, DataOptions& d);

// Loads the dataset's splits from its cache folder, fetching it first if it is not there; a
// dataset of the user's own is read from its path, and how its image axes were read is printed.
DatasetSplits load_data(const DataOptions& o, const Console& console);
Dataset load_split_by_name(const DataOptions& o, const std::string& split, const Console& console);
// Every training image (before the validation split) and the test images.
std::pair<Dataset, Dataset> load_train_and_test(const DataOptions& o, const Console& console);

}  // namespace bnlab::cli
