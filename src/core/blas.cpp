#include "core/blas.h"

#if defined(BNLAB_BLIS)
#include <blis.h>
#endif

namespace bnlab {

#if defined(BNLAB_OPENBLAS)
extern "C" void openblas_set_num_threads(int);
extern "C" int openblas_get_num_threads(void);
extern "C" char* openblas_get_config(void);
void blas_set_num_threads(int threads) { openblas_set_num_threads(threads); }
int blas_num_threads() { return openblas_get_num_threads(); }
const char* blas_config() { return openblas_get_config(); }
#elif defined(BNLAB_BLIS)
void blas_set_num_threads(int threads) { bli_thread_set_num_threads(threads); }
int blas_num_threads() { return static_cast<int>(bli_thread_get_num_threads()); }
const char* blas_config() { return "BLIS"; }
#endif

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
