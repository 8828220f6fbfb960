// Base64 encoding, against RFC 4648's test vectors.
#include "bnlab/report/base64.h"

#include <gtest/gtest.h>

#include <string>

namespace bnlab::report {
namespace {

TEST(Base64, MatchesRfc4648Vectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode(std::string("\0\xff", 2)), "AP8=");
}

}  // namespace
}  // namespace bnlab::report
