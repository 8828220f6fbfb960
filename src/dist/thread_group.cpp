#include "bnlab/dist/thread_group.h"

#include <cstdlib>
#include <cstring>

namespace bnlab {

class ThreadGroup::Member : public Communicator {
 public:
  Member(ThreadGroup& group, int rank) : group_(group), rank_(rank) {}
  int rank() const override { return rank_; }
  int size() const override { return group_.size_; }

  // Every rank sums all ranks' data in rank order into its own scratch, then, once every rank has
  // read every input, writes the sum over its own data: the same bits on every rank.
  void allreduce_sum(float* data, int64_t n) override {
    sum_.assign(n, 0.0f);
    post(data);
    for (int r = 0; r < group_.size_; ++r) {
      const float* in = static_cast<const float*>(group_.posted_[r]);
      for (int64_t i = 0; i < n; ++i) sum_[i] += in[i];
    }
    group_.barrier_.arrive_and_wait();
    std::memcpy(data, sum_.data(), n * sizeof(float));
    group_.barrier_.arrive_and_wait();
  }

  void allgather(const double* in, double* out, int64_t n) override {
    post(in);
    for (int r = 0; r < group_.size_; ++r)
      std::memcpy(out + r * n, group_.posted_[r], n * sizeof(double));
    group_.barrier_.arrive_and_wait();
  }

  void broadcast(float* data, int64_t n) override {
    post(data);
    if (rank_ != 0) std::memcpy(data, group_.posted_[0], n * sizeof(float));
    group_.barrier_.arrive_and_wait();
  }

  [[noreturn]] void abort(int code) override { std::_Exit(code); }

 private:
  // Publishes this rank's input and waits until every rank has published its own.
  void post(const void* in) {
    group_.posted_[rank_] = in;
    group_.barrier_.arrive_and_wait();
  }

  ThreadGroup& group_;
  int rank_;
  std::vector<float> sum_;
};

ThreadGroup::ThreadGroup(int size) : size_(size), barrier_(size), posted_(size) {
  for (int r = 0; r < size; ++r) members_.push_back(std::make_unique<Member>(*this, r));
}

ThreadGroup::~ThreadGroup() = default;

Communicator& ThreadGroup::communicator(int rank) { return *members_[rank]; }

}  // namespace bnlab
