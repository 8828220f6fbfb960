#include "support/npz_files.h"

#include <archive.h>
#include <archive_entry.h>

#include <memory>
#include <stdexcept>

namespace bnlab::test {

namespace {
std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text = "(";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + (shape.size() == 1 ? ",)" : ")");
}

Bytes npy_images(int64_t n, const std::vector<int64_t>& sample_shape) {
  int64_t f = 1;
  for (int64_t d : sample_shape) f *= d;
  Bytes pixels(static_cast<size_t>(n * f));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < f; ++k) pixels[i * f + k] = static_cast<uint8_t>((i + 3 * k) % 256);
  std::vector<int64_t> shape = {n};
  shape.insert(shape.end(), sample_shape.begin(), sample_shape.end());
  return npy_bytes("|u1", shape, pixels);
}

Bytes npy_labels(int64_t n, int classes) {
  std::vector<int64_t> labels(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) labels[i] = i % classes;
  return npy_bytes("<i8", {n}, bytes_of(labels));
}
}  // namespace

Bytes npy_with_header(const std::string& header, const Bytes& data, int major) {
  const size_t preamble = major == 1 ? 10 : 12;
  std::string text = header;
  while ((preamble + text.size() + 1) % 64 != 0) text += ' ';
  text += '\n';
  Bytes out = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<uint8_t>(major), 0};
  const size_t length_bytes = major == 1 ? 2 : 4;
  for (size_t i = 0; i < length_bytes; ++i) out.push_back(static_cast<uint8_t>(text.size() >> (8 * i)));
  out.insert(out.end(), text.begin(), text.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

Bytes npy_bytes(const std::string& descr, const std::vector<int64_t>& shape, const Bytes& data, bool fortran_order, int major) {
  return npy_with_header("{'descr': '" + descr + "', 'fortran_order': " + (fortran_order ? "True" : "False") +
                             ", 'shape': " + shape_text(shape) + ", }",
                         data, major);
}

void write_npz(const std::filesystem::path& file, const NpzMembers& members, bool deflate) {
  std::unique_ptr<archive, decltype(&archive_write_free)> a(archive_write_new(), &archive_write_free);
  auto check = [&](int rc) {
    if (rc != ARCHIVE_OK) throw std::runtime_error(std::string("libarchive: ") + archive_error_string(a.get()));
  };
  check(archive_write_set_format_zip(a.get()));
  check(archive_write_set_options(a.get(), deflate ? "zip:compression=deflate" : "zip:compression=store"));
  check(archive_write_open_filename(a.get(), file.c_str()));
  for (const auto& [name, content] : members) {
    std::unique_ptr<archive_entry, decltype(&archive_entry_free)> entry(archive_entry_new(), &archive_entry_free);
    archive_entry_set_pathname(entry.get(), name.c_str());
    archive_entry_set_filetype(entry.get(), AE_IFREG);
    archive_entry_set_perm(entry.get(), 0644);
    archive_entry_set_size(entry.get(), static_cast<la_int64_t>(content.size()));
    check(archive_write_header(a.get(), entry.get()));
    if (archive_write_data(a.get(), content.data(), content.size()) != static_cast<la_ssize_t>(content.size()))
      throw std::runtime_error("libarchive: short write");
  }
  check(archive_write_close(a.get()));
}

NpzMembers image_set(int64_t n_train, int64_t n_test, const std::vector<int64_t>& sample_shape, int classes) {
  return {{"x_train.npy", npy_images(n_train, sample_shape)},
          {"y_train.npy", npy_labels(n_train, classes)},
          {"x_test.npy", npy_images(n_test, sample_shape)},
          {"y_test.npy", npy_labels(n_test, classes)}};
}

}  // namespace bnlab::test
