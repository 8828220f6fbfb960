#include "core/cblas.h"

#include <algorithm>
#include <vector>

#include "bnlab/core/blas.h"
#include "bnlab/core/rng.h"
#include "bnlab/core/stopwatch.h"
#include "core/parallel.h"

#if defined(BNLAB_BLIS)
#include <blis.h>
#endif

namespace bnlab {

#if defined(BNLAB_OPENBLAS)
extern "C" void openblas_set_num_threads(int);
extern "C" char* openblas_get_config(void);
void blas_set_num_threads(int threads) { openblas_set_num_threads(threads); }
const char* blas_name() { return openblas_get_config(); }
#elif defined(BNLAB_BLIS)
void blas_set_num_threads(int threads) { bli_thread_set_num_threads(threads); }
const char* blas_name() { return "BLIS"; }
#endif

double sgemm_peak_gflops(int n, int repeats) {
  Rng rng(1);
  std::vector<float> a(size_t(n) * n), b(a.size()), c(a.size());
  for (float& v : a) v = static_cast<float>(rng.uniform());
  for (float& v : b) v = static_cast<float>(rng.uniform());
  std::vector<double> times;
  // Split across the threads as bnlab splits its own products: a block of C's columns each.
  for (int r = 0; r < repeats + 1; ++r) {
    const Stopwatch watch;
    for_column_blocks(n, 2LL * n * n * n, [&](int c0, int w) {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, w, n, 1.0f, a.data(), n, b.data() + c0, n, 0.0f,
                  c.data() + c0, n);
    });
    if (r) times.push_back(watch.seconds());  // the first run warms up
  }
  std::sort(times.begin(), times.end());
  return 2.0 * n * n * n / times[times.size() / 2] / 1e9;
}

int blas_small_piece(int64_t other) {
#if defined(BNLAB_OPENBLAS)
  constexpr int64_t kSmallProduct = 1'000'000;  // OpenBLAS's small-matrix limit, in multiply-adds
  constexpr int kAlign = 16;
  if (other <= 0) return 0;
  const int64_t width = kSmallProduct / other / kAlign * kAlign;
  return width >= kAlign ? static_cast<int>(std::min<int64_t>(width, 1 << 30)) : 0;
#else
  (void)other;
  return 0;  // BLIS has no such path: one call per block
#endif
}

}  // namespace bnlab
