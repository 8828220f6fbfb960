// The collectives a data-parallel step makes (dist/communicator.h), timed between the processes of
// one machine: run as  mpirun -np N build/bench/bench_collectives  (as root, Open MPI needs
// --allow-run-as-root). Per message size: median microseconds of repeated calls, the bytes each
// rank sends, and the bandwidth that gives; the sizes are those of the notebook's models (every
// gradient of mlp-bn and cnn-bn in one float sum; a BatchNorm layer's per-channel statistics
// gathered in double). docs/distributed.md fits its cost model to these figures.
#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "bnlab/core/stopwatch.h"
#include "bnlab/dist/communicator.h"

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Median seconds of `calls` calls of fn after as many for warm-up, every rank starting together.
template <class F>
double time_calls(bnlab::Communicator& c, int calls, F fn) {
  std::vector<double> times;
  double sync = 0;
  std::vector<double> all(c.size());
  for (int i = 0; i < 2 * calls; ++i) {
    c.allgather(&sync, all.data(), 1);  // start together
    const bnlab::Stopwatch watch;
    fn();
    if (i >= calls) times.push_back(watch.seconds());
  }
  return median(times);
}

}  // namespace

int main() {
  const std::shared_ptr<bnlab::Communicator> c = bnlab::world();
  const int N = c->size();
  const bool root = c->rank() == 0;
  if (root) fmt::print("{} processes; medians of repeated calls\n{:<44} {:>12} {:>10} {:>10}\n", N, "collective",
                       "bytes/rank", "us", "GB/s");
  for (const auto& [name, floats] : {std::pair<const char*, int64_t>{"float sum, cnn-bn's gradients", 34'922},
                                     {"float sum, mlp-bn's gradients", 237'482},
                                     {"float sum, 4 MB", 1 << 20}}) {
    std::vector<float> g(floats, 1.0f);
    const double s = time_calls(*c, 50, [&] { c->allreduce_sum(g.data(), floats); });
    if (root) fmt::print("{:<44} {:>12} {:>10.1f} {:>10.2f}\n", name, floats * 4, s * 1e6, floats * 4 / s / 1e9);
  }
  for (const auto& [name, doubles] : {std::pair<const char*, int64_t>{"double gather, 2 x 32 BN channels", 64},
                                      {"double gather, 2 x 256 BN features", 512},
                                      {"double gather, 2 x 784 BN features", 1568}}) {
    std::vector<double> in(doubles, 1.0), out(doubles * N);
    const double s = time_calls(*c, 200, [&] { c->allgather(in.data(), out.data(), doubles); });
    if (root) fmt::print("{:<44} {:>12} {:>10.1f} {:>10.2f}\n", name, doubles * 8, s * 1e6, doubles * 8 / s / 1e9);
  }
  return 0;
}
