#pragma once
// Where datasets are cached: one folder per dataset (<root>/mnist, <root>/fashion-mnist).
#include <filesystem>
#include <optional>
#include <string>

namespace bnlab {

// The cache root: data_dir when given (--data-dir), else $BNLAB_DATA, else
// $XDG_CACHE_HOME/bnlab, else $HOME/.cache/bnlab. Empty variables count as unset. Throws
// InputError when none of them is available.
std::filesystem::path resolve_data_root(
    const std::optional<std::filesystem::path>& data_dir = std::nullopt);

// root/dataset_name. Throws InputError for a dataset that is not in known_datasets().
std::filesystem::path dataset_dir(const std::filesystem::path& root,
                                  const std::string& dataset_name);

}  // namespace bnlab
