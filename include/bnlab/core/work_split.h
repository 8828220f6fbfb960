#pragma once
// The two shapes in which a kernel's parallel region shares work with its caller
// (src/core/parallel.h splits the work itself).
#include "bnlab/core/function_ref.h"

namespace bnlab {

// Work on each block of output columns right after the block is complete, by the thread that
// computed it and inside the same parallel region: called as fn(c0, w) for columns [c0, c0 + w),
// every column exactly once. Work that goes column by column over a product's output (a
// BatchNormalization after a Dense layer) then finds its block in cache and needs no parallel region
// of its own. fn must not start parallel regions or throw.
using ColumnBlockFn = FunctionRef<void(int c0, int w)>;

// One read-only input held once per thread, each copy written by the thread that reads it, so that
// no thread waits for data another core wrote: thread t of a kernel's parallel region reads data[t]
// when t < count, and the shared pointer the kernel was given otherwise. Every copy holds the same
// values, so results do not depend on which copy a thread reads.
struct ThreadCopies {
  const float* const* data = nullptr;
  int count = 0;
};

}  // namespace bnlab
