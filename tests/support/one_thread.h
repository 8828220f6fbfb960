#pragma once
// One thread for a whole test program, set before its first test: the experiments' tests train tiny
// models, which threads do not speed up, and one thread also keeps OpenMP's spinning workers from
// slowing them down a hundredfold on a loaded machine. Include it in each file of such a program.
#include <gtest/gtest.h>

#include "bnlab/core/threads.h"

namespace bnlab::testing {

class OneThread : public ::testing::Environment {
 public:
  void SetUp() override { bnlab::set_num_threads(1); }
};

// An inline variable: registered once per program, however many of its files include this.
inline const auto* const kOneThread = ::testing::AddGlobalTestEnvironment(new OneThread);

}  // namespace bnlab::testing
