#include "bnlab/core/denormals.h"

#include <fmt/format.h>
#include <omp.h>

#include <atomic>
#include <cstdlib>

#include "bnlab/core/error.h"
#include "core/parallel.h"  // choose_default_denormals

#if defined(__SSE__)
#include <xmmintrin.h>
#endif

namespace bnlab {
namespace {

std::atomic<Denormals> current{Denormals::Flush};
std::atomic<bool> chosen{false};  // set_denormals has been called

#if defined(__SSE__)
constexpr unsigned kFlushToZero = 0x8000, kDenormalsAreZero = 0x0040;  // MXCSR's FTZ and DAZ bits

void set_on_this_thread(Denormals mode) {
  const unsigned csr = _mm_getcsr() & ~(kFlushToZero | kDenormalsAreZero);
  _mm_setcsr(mode == Denormals::Flush ? csr | kFlushToZero | kDenormalsAreZero : csr);
}
#else
void set_on_this_thread(Denormals) {}  // IEEE arithmetic only
#endif

}  // namespace

void set_denormals(Denormals mode) {
  chosen.store(true);
  current.store(mode);
  set_on_this_thread(mode);
  // Every thread of a team of the current thread count (dynamic teams off, so it gets them all).
  if (omp_get_dynamic()) omp_set_dynamic(0);
  const int threads = omp_get_max_threads();
#pragma omp parallel num_threads(threads) if (threads > 1)
  set_on_this_thread(mode);
}

void choose_default_denormals() {
  static const bool once = [] {
    if (!chosen.load()) set_denormals(default_denormals());
    return true;
  }();
  (void)once;
}

Denormals denormals() { return current.load(); }

void apply_denormals_here() { set_on_this_thread(current.load()); }

const char* denormals_name(Denormals mode) { return mode == Denormals::Flush ? "flush" : "keep"; }

Denormals parse_denormals(const std::string& text, const std::string& what) {
  if (text == "flush") return Denormals::Flush;
  if (text == "keep") return Denormals::Keep;
  throw InputError(fmt::format("{}: unknown denormal mode '{}' (flush, keep)", what, text));
}

Denormals default_denormals() {
  const char* env = std::getenv("BNLAB_DENORMALS");
  return env ? parse_denormals(env, "BNLAB_DENORMALS") : Denormals::Flush;
}

}  // namespace bnlab
