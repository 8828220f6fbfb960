#pragma once
// Small IDX files made on the fly for the data tests (never the real dataset).
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bnlab/data/catalog.h"

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

}  // namespace bnlab::test
