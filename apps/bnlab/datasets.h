#pragma once
// The data a command works on: a dataset's splits from its cache folder, fetched first if needed.
#include <string>

#include "bnlab/data/splits.h"
#include "commands.h"
#include "console.h"

namespace bnlab::cli {

// Loads the dataset's splits from its cache folder, fetching it first if it is not there.
DatasetSplits load_data(const DataOptions& o, const Console& console);
Dataset load_split_by_name(const DataOptions& o, const std::string& split, const Console& console);

}  // namespace bnlab::cli
