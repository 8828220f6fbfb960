#pragma once
// Subnormal floats (below 2^-126 in magnitude). Arithmetic on them takes many times the usual
// cycles, and training makes more and more of them: confident softmax outputs, gradients and Adam
// moments decaying towards zero. With them kept, an epoch of the notebook's MLP takes about twice
// as long by epoch 30 as in epoch 1.
//   Flush  flush subnormal results to zero and read subnormal inputs as zero (x86's FTZ and DAZ
//          bits), as TensorFlow, the notebook's framework, does on CPUs. The default.
//   Keep   IEEE 754 arithmetic, as PyTorch does unless torch.set_flush_denormal(True).
// The mode is a setting of each thread. set_denormals sets it on the calling thread and on every
// thread of the OpenMP pool that bnlab's kernels and its BLAS share; threads created later inherit
// it from the thread that creates them, and set_num_threads sets it again on the threads of the
// new team. A program that sets nothing gets default_denormals() at its first matrix product.
#include <optional>
#include <string>

namespace bnlab {

enum class Denormals { Flush, Keep };

void set_denormals(Denormals mode);
Denormals denormals();  // the mode last set

// "flush" or "keep".
const char* denormals_name(Denormals mode);
// Parses "flush" or "keep"; another word is an InputError naming `what` (a flag or a file).
Denormals parse_denormals(const std::string& text, const std::string& what);
// $BNLAB_DENORMALS when set (an InputError when it is neither word), else Flush.
Denormals default_denormals();

// Applies the mode last set to the calling thread only (for threads bnlab itself starts and that
// did not inherit it).
void apply_denormals_here();

}  // namespace bnlab
