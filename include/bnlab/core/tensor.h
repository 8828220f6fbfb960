#pragma once
// Tensor: float32, contiguous, row-major, rank 1 to 4. Batches are (N, features); images may be
// (N, H, W) or (N, C, H, W). Resizing within the capacity already held never allocates, so the
// training loop can reuse its buffers when the last batch of an epoch is smaller.
#include <array>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

namespace bnlab {

class Shape {
 public:
  static constexpr int kMaxRank = 4;
  Shape() = default;
  Shape(std::initializer_list<int64_t> dims);
  explicit Shape(const std::vector<int64_t>& dims);
  std::vector<int64_t> dims() const { return {dims_.begin(), dims_.begin() + rank_}; }
  int rank() const { return rank_; }
  int64_t operator[](int i) const { return dims_[i]; }
  int64_t& operator[](int i) { return dims_[i]; }
  int64_t numel() const;
  // The shape without its first (batch) dimension.
  Shape without_batch() const;
  // This shape with a batch dimension n put in front.
  Shape with_batch(int64_t n) const;
  bool operator==(const Shape& o) const;
  std::string str() const;  // "(64, 784)"

 private:
  std::array<int64_t, kMaxRank> dims_{};
  int rank_ = 0;
};

namespace detail {
// Frees a tensor's storage unless the tensor is a view of another's. offset: bytes between the
// start of the allocation and the tensor's first float (core/tensor.cpp staggers large tensors).
struct FreeAligned {
  bool owned = true;
  uint32_t offset = 0;
  void operator()(float* p) const;
};
}  // namespace detail

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(const Shape& shape);  // zero-filled
  Tensor(const Tensor& o);
  Tensor& operator=(const Tensor& o);
  Tensor(Tensor&&) noexcept = default;
  Tensor& operator=(Tensor&&) noexcept = default;

  const Shape& shape() const { return shape_; }
  int64_t dim(int i) const { return shape_[i]; }
  int64_t numel() const { return shape_.numel(); }
  float* data() { return data_.get(); }
  const float* data() const { return data_.get(); }
  float& operator[](int64_t i) { return data_[i]; }
  float operator[](int64_t i) const { return data_[i]; }

  // New shape; contents are unspecified after growing past the capacity. Allocates only then.
  void resize(const Shape& shape);
  // Changes only the first dimension (the batch size).
  void resize_batch(int64_t n);

  // A tensor that reads another's storage under a different shape (Flatten's output), without a
  // copy. Valid while that storage lives and is not reallocated; it is the viewer's job not to
  // write through it. Resizing a view past its size, or assigning to it, gives it storage of its own;
  // copies of a view are ordinary tensors.
  static Tensor view(const float* data, const Shape& shape);
  bool is_view() const { return !data_.get_deleter().owned; }
  void fill(float value);
  void zero() { fill(0.0f); }

 private:
  Shape shape_;
  int64_t capacity_ = 0;
  std::unique_ptr<float[], detail::FreeAligned> data_;
};

}  // namespace bnlab
