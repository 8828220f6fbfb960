// How tests become verdicts: all, none or some in favour.
#include "bnlab/experiments/verdict.h"

#include <gtest/gtest.h>

#include "support/one_thread.h"

namespace bnlab::experiments {
namespace {

TEST(Verdict, AllNoneOrSomeTestsInFavour) {
  EXPECT_EQ(judge({{"a", true}, {"b", true}}).verdict, Verdict::Supported);
  EXPECT_EQ(judge({{"a", false}, {"b", false}}).verdict, Verdict::NotSupported);
  EXPECT_EQ(judge({{"a", true}, {"b", false}}).verdict, Verdict::Mixed);
  EXPECT_EQ(judge({{"a", true}}).tests.front().what, "a");
  EXPECT_STREQ(verdict_name(Verdict::NotSupported), "not supported");
}

}  // namespace
}  // namespace bnlab::experiments
