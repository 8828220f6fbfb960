#pragma once
// A digit image the plot tests draw: a ring, roughly a zero.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "bnlab/plot/digit.h"

namespace bnlab::test {

using plot::DigitImage;

// A ring, roughly a zero, on a 28x28 canvas.
inline DigitImage zero(const std::string& title) {
  DigitImage image{title, 28, 28, std::vector<uint8_t>(28 * 28, 0)};
  for (int r = 0; r < 28; ++r)
    for (int c = 0; c < 28; ++c) {
      const double d = std::hypot(r - 13.5, (c - 13.5) * 1.3);
      if (d > 6 && d < 10) image.pixels[r * 28 + c] = static_cast<uint8_t>(255 - 25 * std::abs(d - 8));
    }
  return image;
}

}  // namespace bnlab::test
