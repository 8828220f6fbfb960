#pragma once
// Number formats shared by the report's text and tables.
#include <fmt/format.h>

#include <cstdint>
#include <string>

namespace bnlab::report::detail {

inline std::string percent(double fraction) { return fmt::format("{:.2f}%", 100 * fraction); }

// 239818 -> "239,818"
inline std::string thousands(int64_t n) {
  const std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

}  // namespace bnlab::report::detail
