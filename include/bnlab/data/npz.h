#pragma once
// numpy's .npz format (numpy.savez and savez_compressed): a zip archive whose member KEY.npy holds
// the array saved under KEY, stored or deflated. Read with libarchive.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "bnlab/data/npy.h"

namespace bnlab {

// The arrays saved under `keys`, read in one pass over the archive; other members are skipped
// unread. Throws InputError naming the file (and the member, "FILE.npz: KEY.npy: ...") when the
// file is not a readable zip archive, a member is corrupt, a key appears twice or is missing
// (the message lists the keys the archive holds), or a member is not a valid .npy array
// (read_npy's checks; a member's size as recorded in the archive must match what its header
// promises).
std::map<std::string, NpyArray> read_npz(const std::filesystem::path& file, const std::vector<std::string>& keys);

}  // namespace bnlab
