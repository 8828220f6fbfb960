#pragma once
#include <filesystem>
#include <string>

namespace bnlab {

// Whether an executable named npm is on PATH.
bool npm_on_path();

// Runs `npm pack <package_spec>` in dir (an existing folder; with --registry when registry is not
// empty) and returns the tarball it wrote there. Throws FetchError quoting npm's error when it
// fails.
std::filesystem::path npm_pack(const std::string& package_spec, const std::filesystem::path& dir,
                               const std::string& registry);

}  // namespace bnlab
