// world(): MPI_COMM_WORLD through Open MPI (or any MPI), when bnlab was built with it.
#include <fmt/format.h>

#include <cstdlib>
#include <string>

#include "bnlab/core/error.h"
#include "bnlab/dist/communicator.h"

#ifdef BNLAB_MPI
#include <mpi.h>
#endif

namespace bnlab {
namespace {

// The number of processes an MPI launcher says it started (Open MPI, PMIx, Hydra), 1 without one.
int launched_processes() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "PMI_SIZE"})
    if (const char* v = std::getenv(var)) return std::max(1, std::atoi(v));
  return 1;
}

#ifdef BNLAB_MPI
// Counts are ints in MPI: large arrays go in pieces.
constexpr int64_t kPiece = int64_t{1} << 30;

class MpiCommunicator : public Communicator {
 public:
  MpiCommunicator() {
    int provided = 0;
    // Only the main thread calls MPI (OpenMP workers compute, they do not communicate).
    MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  ~MpiCommunicator() override { MPI_Finalize(); }
  int rank() const override { return rank_; }
  int size() const override { return size_; }

  void allreduce_sum(float* data, int64_t n) override {
    for (int64_t at = 0; at < n; at += kPiece)
      MPI_Allreduce(MPI_IN_PLACE, data + at, static_cast<int>(std::min(kPiece, n - at)), MPI_FLOAT, MPI_SUM,
                    MPI_COMM_WORLD);
  }
  void allgather(const double* in, double* out, int64_t n) override {
    if (n > kPiece) throw std::length_error("allgather: too many values");
    MPI_Allgather(in, static_cast<int>(n), MPI_DOUBLE, out, static_cast<int>(n), MPI_DOUBLE, MPI_COMM_WORLD);
  }
  void broadcast(float* data, int64_t n) override {
    for (int64_t at = 0; at < n; at += kPiece)
      MPI_Bcast(data + at, static_cast<int>(std::min(kPiece, n - at)), MPI_FLOAT, 0, MPI_COMM_WORLD);
  }
  [[noreturn]] void abort(int code) override {
    MPI_Abort(MPI_COMM_WORLD, code);
    std::_Exit(code);
  }

 private:
  int rank_ = 0, size_ = 1;
};
#endif

}  // namespace

bool built_with_mpi() {
#ifdef BNLAB_MPI
  return true;
#else
  return false;
#endif
}

// Made once and kept until the program ends (MPI cannot be initialised again once finalised).
std::shared_ptr<Communicator> world() {
  static const std::shared_ptr<Communicator> c = []() -> std::shared_ptr<Communicator> {
    const int launched = launched_processes();
#ifdef BNLAB_MPI
    if (launched > 1) return std::make_shared<MpiCommunicator>();
#else
    if (launched > 1)
      throw InputError(fmt::format("started as one of {} MPI processes, but this bnlab was built without MPI "
                                   "(install libopenmpi-dev and rebuild)", launched));
#endif
    return std::make_shared<SelfCommunicator>();
  }();
  return c;
}

}  // namespace bnlab
