#include "bnlab/core/tensor.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>
#include <utility>

namespace bnlab {

Shape::Shape(std::initializer_list<int64_t> dims) {
  if (dims.size() < 1 || dims.size() > kMaxRank) throw std::invalid_argument("Shape: rank must be 1..4");
  for (int64_t d : dims) dims_[rank_++] = d;
}

Shape::Shape(const std::vector<int64_t>& dims) {
  if (dims.size() < 1 || dims.size() > kMaxRank) throw std::invalid_argument("Shape: rank must be 1..4");
  for (int64_t d : dims) dims_[rank_++] = d;
}

int64_t Shape::numel() const {
  if (rank_ == 0) return 0;
  int64_t n = 1;
  for (int i = 0; i < rank_; ++i) n *= dims_[i];
  return n;
}

Shape Shape::without_batch() const {
  Shape s;
  for (int i = 1; i < rank_; ++i) s.dims_[s.rank_++] = dims_[i];
  return s;
}

Shape Shape::with_batch(int64_t n) const {
  if (rank_ >= kMaxRank) throw std::invalid_argument("Shape: rank would exceed 4");
  Shape s;
  s.dims_[s.rank_++] = n;
  for (int i = 0; i < rank_; ++i) s.dims_[s.rank_++] = dims_[i];
  return s;
}

bool Shape::operator==(const Shape& o) const {
  return rank_ == o.rank_ && std::equal(dims_.begin(), dims_.begin() + rank_, o.dims_.begin());
}

std::string Shape::str() const {
  std::string s = "(";
  for (int i = 0; i < rank_; ++i) s += (i ? ", " : "") + std::to_string(dims_[i]);
  return s + (rank_ == 1 ? ",)" : ")");
}

void detail::FreeAligned::operator()(float* p) const {
  if (owned) std::free(reinterpret_cast<char*>(p) - offset);
}

namespace {
// Where a large block lands within its 4 KiB page depends on the allocator's history (mmap'd
// blocks all start at the same offset). When a weight, its gradient and the optimiser's two moments
// share their low 12 address bits, a load the CPU cannot tell apart from an earlier store to
// another of them waits for it (4K aliasing), and all of them fall in the same L1 sets. So each
// large tensor gets a page of its own and starts at its own multiple of 64 bytes within it, 17 cache
// lines on from the last one's (17 is odd: 64 distinct offsets before one repeats). Alignment stays
// 64 bytes, so no kernel's results change (docs/performance.md has what it buys).
constexpr size_t kStaggerFrom = 4096, kPage = 4096, kLine = 64, kStaggerStep = 17 * kLine;
std::atomic<uint32_t> large_tensors{0};

// Storage for `bytes` (a multiple of 64): the block and the offset of the tensor's data in it.
std::pair<char*, uint32_t> allocate_storage(size_t bytes) {
  if (bytes < kStaggerFrom) return {static_cast<char*>(std::aligned_alloc(kLine, bytes)), 0};
  const auto offset = static_cast<uint32_t>(
      (large_tensors.fetch_add(1, std::memory_order_relaxed) * kStaggerStep) % kPage);
  const size_t total = (bytes + offset + kPage - 1) / kPage * kPage;
  return {static_cast<char*>(std::aligned_alloc(kPage, total)), offset};
}
}  // namespace

Tensor Tensor::view(const float* data, const Shape& shape) {
  Tensor t;
  t.data_ = std::unique_ptr<float[], detail::FreeAligned>(const_cast<float*>(data), detail::FreeAligned{false});
  t.shape_ = shape;
  t.capacity_ = shape.numel();
  return t;
}

Tensor::Tensor(const Shape& shape) {
  resize(shape);
  zero();
}

Tensor::Tensor(const Tensor& o) {
  resize(o.shape_);
  if (numel()) std::memcpy(data(), o.data(), numel() * sizeof(float));
}

Tensor& Tensor::operator=(const Tensor& o) {
  if (this != &o) {
    if (is_view()) *this = Tensor();  // never write into the viewed storage
    resize(o.shape_);
    if (numel()) std::memcpy(data(), o.data(), numel() * sizeof(float));
  }
  return *this;
}

void Tensor::resize(const Shape& shape) {
  const int64_t n = shape.numel();
  if (n > capacity_) {
    // 64-byte alignment: whole cache lines and aligned AVX-512 loads.
    const size_t bytes = ((static_cast<size_t>(n) * sizeof(float) + 63) / 64) * 64;
    const auto [block, offset] = allocate_storage(bytes);
    if (!block) throw std::bad_alloc();
    data_ = std::unique_ptr<float[], detail::FreeAligned>(reinterpret_cast<float*>(block + offset),
                                                          detail::FreeAligned{true, offset});
    capacity_ = n;
  }
  shape_ = shape;
}

void Tensor::resize_batch(int64_t n) {
  Shape s = shape_;
  s[0] = n;
  resize(s);
}

void Tensor::fill(float value) { std::fill(data(), data() + numel(), value); }

}  // namespace bnlab
