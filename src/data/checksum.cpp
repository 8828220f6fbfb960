#include "bnlab/data/checksum.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <memory>
#include <vector>

#include "bnlab/core/error.h"
#include "content_reader.h"

namespace bnlab {

namespace {
using DigestContext = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

std::string hex(const unsigned char* bytes, unsigned int n) {
  std::string out;
  out.reserve(2 * n);
  for (unsigned int i = 0; i < n; ++i) out += fmt::format("{:02x}", bytes[i]);
  return out;
}
}  // namespace

std::string content_sha256(const std::filesystem::path& file) {
  ContentReader in(file);
  DigestContext ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("cannot start SHA-256");
  std::vector<uint8_t> chunk(1 << 20);
  while (const size_t n = in.read(chunk.data(), chunk.size())) {
    EVP_DigestUpdate(ctx.get(), chunk.data(), n);
    if (n < chunk.size()) break;
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &digest_size);
  return hex(digest, digest_size);
}

}  // namespace bnlab
