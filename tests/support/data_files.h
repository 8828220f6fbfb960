#pragma once
// Small IDX files made on the fly for the data tests (never the real dataset).
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bnlab/data/catalog.h"
#include "bnlab/data/splits.h"

namespace bnlab::test {

using Bytes = std::vector<uint8_t>;

// A fresh directory under the test's temp dir, removed with its content at scope exit.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Sets environment variables for one test and restores them at scope exit (nullptr unsets).
class ScopedEnv {
 public:
  ScopedEnv() = default;
  ~ScopedEnv();
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;
  void set(const char* name, const char* value);

 private:
  std::map<std::string, std::optional<std::string>> saved_;
};

// An IDX file: magic 0x00 0x00 type rank, big-endian dims, data.
Bytes idx_bytes(uint8_t type, const std::vector<uint32_t>& dims, const Bytes& data);
Bytes gzip(const Bytes& raw);
void write_file(const std::filesystem::path& file, const Bytes& bytes);
Bytes read_file(const std::filesystem::path& file);

// A tiny MNIST-like dataset of 2x2 images: pixel k of image i is (7 * i + k) % 256 and the
// label of image i is i % 10.
struct FakeDataset {
  std::map<std::string, Bytes> files;  // raw IDX content by canonical file name
  Checksums sha256;                    // SHA-256 of each file's content
};
FakeDataset make_fake_dataset(uint32_t train_size, uint32_t test_size);

// Writes the files into dir, gzip'd (with ".gz" names) or raw.
void write_dataset(const FakeDataset& dataset, const std::filesystem::path& dir, bool gzipped);

// Every file and folder under dir, relative to it (empty when dir does not exist).
std::vector<std::string> list_tree(const std::filesystem::path& dir);

// A fresh directory holding a fake dataset of kTrainSize training images (20 more than the
// validation split takes) and kTestSize test images, written raw or, when the parameter is true,
// gzip'd.
class FakeDatasetDir : public ::testing::TestWithParam<bool> {
 protected:
  static constexpr uint32_t kTrainSize = kValidationSize + 20;
  static constexpr uint32_t kTestSize = 30;

  void SetUp() override { write_dataset(make_fake_dataset(kTrainSize, kTestSize), dir_.path(), GetParam()); }
  TempDir dir_;
};

// The names of FakeDatasetDir's two instances: Raw and Gzip.
inline std::string raw_or_gzip(const ::testing::TestParamInfo<bool>& info) { return info.param ? "Gzip" : "Raw"; }

}  // namespace bnlab::test
