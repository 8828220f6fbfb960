#pragma once
#include <filesystem>
#include <map>
#include <string>

namespace bnlab {

// Writes the given members of a gzip'd tar archive (member path -> destination file) and nothing
// else. Throws FetchError naming the archive (by its file name) when it is corrupt or lacks one of
// the members.
void extract_members(const std::filesystem::path& archive,
                     const std::map<std::string, std::filesystem::path>& members);

}  // namespace bnlab
