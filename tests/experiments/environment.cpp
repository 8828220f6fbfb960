// The experiments' tests train tiny models, which threads do not speed up; one thread also keeps
// OpenMP's spinning workers from slowing them down a hundredfold on a loaded machine.
#include <gtest/gtest.h>

#include "bnlab/core/threads.h"

namespace {

class OneThread : public ::testing::Environment {
 public:
  void SetUp() override { bnlab::set_num_threads(1); }
};

const auto* const kOneThread = ::testing::AddGlobalTestEnvironment(new OneThread);

}  // namespace
