#pragma once
// How the processes of a data-parallel run talk to each other. Each of `size()` ranks holds a shard
// of every global batch and a copy of the model; after each step's backward they sum their
// gradients, and a synchronised BatchNorm merges its per-channel sums across them. Collectives are
// called by every rank in the same order with the same sizes, from one thread of each rank.
//   SelfCommunicator   one process: rank 0 of 1; every collective leaves the data as they are
//   world()            MPI_COMM_WORLD when bnlab runs under mpirun (src/dist/mpi.cpp), else Self
//   ThreadGroup        N ranks as N threads of one process (dist/thread_group.h), for tests
#include <cstdint>
#include <memory>

namespace bnlab {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // data := the sum over ranks of every rank's data, n floats, the same bits on every rank.
  virtual void allreduce_sum(float* data, int64_t n) = 0;
  // out[r * n + i] := rank r's in[i] for every rank r, on every rank (in rank order, so that
  // every rank can merge them in the same order).
  virtual void allgather(const double* in, double* out, int64_t n) = 0;
  // data := rank 0's data, n floats, on every rank.
  virtual void broadcast(float* data, int64_t n) = 0;
  // Ends every rank of the run with this exit code (a rank that failed alone must not leave the
  // others waiting in a collective).
  [[noreturn]] virtual void abort(int code) = 0;
};

class SelfCommunicator : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void allreduce_sum(float*, int64_t) override {}
  void allgather(const double* in, double* out, int64_t n) override;
  void broadcast(float*, int64_t) override {}
  [[noreturn]] void abort(int code) override;
};

// The processes of this run: MPI_COMM_WORLD when started by an MPI launcher (mpirun sets its
// environment), else one process. A bnlab built without MPI refuses to run under a launcher that
// started more than one process (InputError). MPI is finalised when the last reference goes.
std::shared_ptr<Communicator> world();

// Whether this bnlab was built with MPI (CMake found it).
bool built_with_mpi();

// [begin, end) of the rows rank `rank` of `size` takes of a batch of `rows`: contiguous shards,
// the first rows % size ranks one row longer, in rank order. A shard may be empty.
struct Shard {
  int64_t begin, end;
  int64_t rows() const { return end - begin; }
};
Shard shard_of(int64_t rows, int rank, int size);

}  // namespace bnlab
