#include "bnlab/report/base64.h"

#include <openssl/evp.h>

#include <climits>
#include <stdexcept>

namespace bnlab::report {

std::string base64_encode(std::string_view bytes) {
  if (bytes.size() > static_cast<size_t>(INT_MAX) / 4 * 3)
    throw std::length_error("base64_encode: input too large");
  std::string encoded(4 * ((bytes.size() + 2) / 3) + 1, '\0');  // + 1 for the NUL it writes
  const int length =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                      reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  encoded.resize(static_cast<size_t>(length));
  return encoded;
}

}  // namespace bnlab::report
