#pragma once
// Standard base64 (RFC 4648, with padding), for data: URIs.
#include <string>
#include <string_view>

namespace bnlab::report {

std::string base64_encode(std::string_view bytes);

}  // namespace bnlab::report
