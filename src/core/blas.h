#pragma once
// The one place that includes cblas.h: which BLAS is linked is a build choice (CMake BNLAB_BLAS).
#include <cblas.h>

namespace bnlab {

void blas_set_num_threads(int threads);
const char* blas_config();

}  // namespace bnlab
