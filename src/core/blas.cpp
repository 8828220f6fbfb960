#include "core/blas.h"

#if defined(BNLAB_BLIS)
#include <blis.h>
#endif

namespace bnlab {

#if defined(BNLAB_OPENBLAS)
extern "C" void openblas_set_num_threads(int);
extern "C" char* openblas_get_config(void);
void blas_set_num_threads(int threads) { openblas_set_num_threads(threads); }
const char* blas_config() { return openblas_get_config(); }
#elif defined(BNLAB_BLIS)
void blas_set_num_threads(int threads) { bli_thread_set_num_threads(threads); }
const char* blas_config() { return "BLIS"; }
#endif

}  // namespace bnlab
