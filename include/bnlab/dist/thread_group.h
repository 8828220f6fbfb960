#pragma once
// N ranks of a data-parallel run as N threads of one process: the collectives of communicator.h
// over shared memory, each reduction summed in rank order. For tests of what uses a Communicator
// (the gradient sum, the synchronised BatchNorm) without MPI: run rank r's part on thread r with
// communicator(r).
#include <barrier>
#include <cstdint>
#include <memory>
#include <vector>

#include "bnlab/dist/communicator.h"

namespace bnlab {

class ThreadGroup {
 public:
  explicit ThreadGroup(int size);
  ~ThreadGroup();
  int size() const { return size_; }
  Communicator& communicator(int rank);

 private:
  class Member;
  friend class Member;
  int size_;
  std::barrier<> barrier_;
  std::vector<const void*> posted_;  // each rank's input of the collective in progress
  std::vector<std::unique_ptr<Member>> members_;
};

}  // namespace bnlab
