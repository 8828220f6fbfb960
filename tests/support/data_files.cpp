#include "support/data_files.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "bnlab/data/checksum.h"

namespace bnlab::test {

namespace fs = std::filesystem;

TempDir::TempDir() {
  std::string name = (fs::path(::testing::TempDir()) / "bnlab-data-XXXXXX").string();
  if (mkdtemp(name.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = name;
}

TempDir::~TempDir() {
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

void ScopedEnv::set(const char* name, const char* value) {
  if (!saved_.contains(name)) {
    const char* old = std::getenv(name);
    saved_[name] = old ? std::optional<std::string>(old) : std::nullopt;
  }
  value ? setenv(name, value, 1) : unsetenv(name);
}

ScopedEnv::~ScopedEnv() {
  for (const auto& [name, value] : saved_)
    value ? setenv(name.c_str(), value->c_str(), 1) : unsetenv(name.c_str());
}

Bytes idx_bytes(uint8_t type, const std::vector<uint32_t>& dims, const Bytes& data) {
  Bytes out = {0, 0, type, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(d >> shift));
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

Bytes gzip(const Bytes& raw) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("deflateInit2 failed");
  Bytes out(deflateBound(&zs, raw.size()));
  zs.next_in = const_cast<Bytef*>(raw.data());
  zs.avail_in = static_cast<uInt>(raw.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) throw std::runtime_error("deflate failed");
  return out;
}

void write_file(const fs::path& file, const Bytes& bytes) {
  std::ofstream out(file, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + file.string());
}

Bytes read_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

namespace {
void add_split(FakeDataset& d, const std::string& prefix, uint32_t size) {
  Bytes pixels(size * 4);
  for (size_t k = 0; k < pixels.size(); ++k)
    pixels[k] = static_cast<uint8_t>((7 * (k / 4) + k % 4) % 256);
  Bytes labels(size);
  for (uint32_t i = 0; i < size; ++i) labels[i] = static_cast<uint8_t>(i % 10);
  d.files[prefix + "-images-idx3-ubyte"] = idx_bytes(0x08, {size, 2, 2}, pixels);
  d.files[prefix + "-labels-idx1-ubyte"] = idx_bytes(0x08, {size}, labels);
}
}  // namespace

FakeDataset make_fake_dataset(uint32_t train_size, uint32_t test_size) {
  FakeDataset d;
  add_split(d, "train", train_size);
  add_split(d, "t10k", test_size);
  TempDir scratch;
  for (const auto& [name, bytes] : d.files) {
    write_file(scratch.path() / name, bytes);
    d.sha256[name] = content_sha256(scratch.path() / name);
  }
  return d;
}

void write_dataset(const FakeDataset& dataset, const fs::path& dir, bool gzipped) {
  fs::create_directories(dir);
  for (const auto& [name, bytes] : dataset.files)
    gzipped ? write_file(dir / (name + ".gz"), gzip(bytes)) : write_file(dir / name, bytes);
}

std::vector<std::string> list_tree(const fs::path& dir) {
  std::vector<std::string> entries;
  if (!fs::exists(dir)) return entries;
  for (const auto& entry : fs::recursive_directory_iterator(dir))
    entries.push_back(fs::relative(entry.path(), dir).string());
  return entries;
}

}  // namespace bnlab::test
