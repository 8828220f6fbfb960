#pragma once
// The datasets bnlab knows by name, with the SHA-256 of each of their four IDX files.
#include <array>
#include <map>
#include <string>
#include <vector>

namespace bnlab {

// Canonical (raw) names of the four IDX files of an MNIST-style dataset; a gzip'd copy adds ".gz".
inline constexpr std::array<const char*, 4> kIdxFileNames = {
    "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte"};

// Expected SHA-256 (64 lowercase hex digits) of each file's raw content, by canonical file name.
using Checksums = std::map<std::string, std::string>;

// "mnist", "fashion-mnist".
const std::vector<std::string>& known_datasets();

// Throws InputError for a name that is not in known_datasets().
const Checksums& known_checksums(const std::string& dataset_name);

}  // namespace bnlab
