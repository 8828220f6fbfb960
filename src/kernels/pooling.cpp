#include "bnlab/kernels/pooling.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>

namespace bnlab {
namespace {

constexpr int64_t kMinParallel = 32768;  // elements; below this one thread is faster

// fn(plane) for every plane, planes split across threads when there is enough work.
template <class PlaneFn>
void for_planes(int64_t planes, int64_t elements, PlaneFn fn) {
#pragma omp parallel for schedule(static) if (elements > kMinParallel)
  for (int64_t k = 0; k < planes; ++k) fn(k);
}

int64_t in_size(const Pool2DGeometry& g) { return int64_t{g.H} * g.W; }
int64_t out_size(const Pool2DGeometry& g) { return int64_t{g.HO} * g.WO; }

// The offset in its plane of the first largest element of the window at output (i, j).
int64_t argmax(const float* plane, const Pool2DGeometry& g, int i, int j) {
  int64_t best = int64_t{i} * g.SH * g.W + int64_t{j} * g.SW;
  float top = plane[best];
  for (int p = 0; p < g.PH; ++p)
    for (int q = 0; q < g.PW; ++q) {
      const int64_t at = (int64_t{i} * g.SH + p) * g.W + int64_t{j} * g.SW + q;
      if (plane[at] > top || (std::isnan(plane[at]) && !std::isnan(top))) {
        top = plane[at];
        best = at;
      }
    }
  return best;
}

// Keras's MaxPooling2D(2): 2x2 windows at stride 2, which tile the image without overlap.
bool two_by_two(const Pool2DGeometry& g) { return g.PH == 2 && g.PW == 2 && g.SH == 2 && g.SW == 2; }

bool has_nan(const float* x, int64_t n) {
  int any = 0;
  for (int64_t i = 0; i < n; ++i) any |= x[i] != x[i];
  return any;
}

// v where keep, else +0, without a branch.
inline float kept(bool keep, float v) {
  return std::bit_cast<float>(std::bit_cast<uint32_t>(v) & (0u - static_cast<uint32_t>(keep)));
}

// One plane, any window: argmax's scan for every output.
void max_plane_forward(float* out, const float* plane, const Pool2DGeometry& g) {
  for (int i = 0; i < g.HO; ++i)
    for (int j = 0; j < g.WO; ++j) out[i * g.WO + j] = plane[argmax(plane, g, i, j)];
}

void max_plane_backward(float* d, const float* dout, const float* plane, const Pool2DGeometry& g) {
  std::fill(d, d + in_size(g), 0.0f);
  for (int i = 0; i < g.HO; ++i)
    for (int j = 0; j < g.WO; ++j) d[argmax(plane, g, i, j)] += dout[i * g.WO + j];
}

// One plane without NaN, 2x2 windows at stride 2: the same choices as argmax's scan without its
// branches, which the ties and zeros after a ReLU make unpredictable (forward and backward about
// 5x faster). Without NaN, std::max(t, v) = t < v ? v : t keeps the first of equal values, as the
// scan does.
void max_plane_forward_2x2(float* out, const float* plane, const Pool2DGeometry& g) {
  for (int i = 0; i < g.HO; ++i) {
    const float* r0 = plane + int64_t{2} * i * g.W;
    const float* r1 = r0 + g.W;
    float* o = out + int64_t{i} * g.WO;
    for (int j = 0; j < g.WO; ++j)
      o[j] = std::max(std::max(std::max(r0[2 * j], r0[2 * j + 1]), r1[2 * j]), r1[2 * j + 1]);
  }
}

// Each element is in at most one window: 0 + dy (the general path's zero-then-add, -0 included)
// at the window's first largest element, +0 elsewhere and in the odd last row and column.
void max_plane_backward_2x2(float* d, const float* dout, const float* plane, const Pool2DGeometry& g) {
  for (int i = 0; i < g.HO; ++i) {
    const float* r0 = plane + int64_t{2} * i * g.W;
    const float* r1 = r0 + g.W;
    float* d0 = d + int64_t{2} * i * g.W;
    float* d1 = d0 + g.W;
    const float* di = dout + int64_t{i} * g.WO;
    for (int j = 0; j < g.WO; ++j) {
      const float a = r0[2 * j], b = r0[2 * j + 1], c = r1[2 * j], e = r1[2 * j + 1];
      const float top = std::max(std::max(std::max(a, b), c), e);
      const float grad = 0.0f + di[j];
      const bool at_a = a == top, at_b = !at_a & (b == top), at_c = !at_a & !at_b & (c == top);
      d0[2 * j] = kept(at_a, grad);
      d0[2 * j + 1] = kept(at_b, grad);
      d1[2 * j] = kept(at_c, grad);
      d1[2 * j + 1] = kept(!at_a & !at_b & !at_c, grad);
    }
    if (g.W > 2 * g.WO) d0[g.W - 1] = d1[g.W - 1] = 0.0f;
  }
  if (g.H > 2 * g.HO) std::fill(d + int64_t{g.H - 1} * g.W, d + in_size(g), 0.0f);
}

float window_sum(const float* plane, const Pool2DGeometry& g, int i, int j) {
  float s = 0.0f;
  for (int p = 0; p < g.PH; ++p)
    for (int q = 0; q < g.PW; ++q) s += plane[(int64_t{i} * g.SH + p) * g.W + int64_t{j} * g.SW + q];
  return s;
}

}  // namespace

void maxpool2d_forward(float* y, const float* x, const Pool2DGeometry& g) {
  for_planes(g.planes, g.planes * in_size(g), [&](int64_t k) {
    const float* plane = x + k * in_size(g);
    float* out = y + k * out_size(g);
    if (two_by_two(g) && !has_nan(plane, in_size(g)))
      max_plane_forward_2x2(out, plane, g);
    else
      max_plane_forward(out, plane, g);
  });
}

void maxpool2d_backward(float* dx, const float* dy, const float* x, const Pool2DGeometry& g) {
  for_planes(g.planes, g.planes * in_size(g), [&](int64_t k) {
    const float* plane = x + k * in_size(g);
    float* d = dx + k * in_size(g);
    const float* dout = dy + k * out_size(g);
    if (two_by_two(g) && !has_nan(plane, in_size(g)))
      max_plane_backward_2x2(d, dout, plane, g);
    else
      max_plane_backward(d, dout, plane, g);
  });
}

void avgpool2d_forward(float* y, const float* x, const Pool2DGeometry& g) {
  const float count = static_cast<float>(g.PH * g.PW);
  for_planes(g.planes, g.planes * in_size(g), [&](int64_t k) {
    const float* plane = x + k * in_size(g);
    float* out = y + k * out_size(g);
    for (int i = 0; i < g.HO; ++i)
      for (int j = 0; j < g.WO; ++j) out[i * g.WO + j] = window_sum(plane, g, i, j) / count;
  });
}

void avgpool2d_backward(float* dx, const float* dy, const Pool2DGeometry& g) {
  const float count = static_cast<float>(g.PH * g.PW);
  for_planes(g.planes, g.planes * in_size(g), [&](int64_t k) {
    float* d = dx + k * in_size(g);
    const float* dout = dy + k * out_size(g);
    std::fill(d, d + in_size(g), 0.0f);
    for (int i = 0; i < g.HO; ++i)
      for (int j = 0; j < g.WO; ++j) {
        // every element of the window gets dy / (PH PW)
        const float share = dout[i * g.WO + j] / count;
        for (int p = 0; p < g.PH; ++p)
          for (int q = 0; q < g.PW; ++q) d[(int64_t{i} * g.SH + p) * g.W + int64_t{j} * g.SW + q] += share;
      }
  });
}

void global_avgpool_forward(float* y, const float* x, int64_t planes, int64_t HW) {
  const float count = static_cast<float>(HW);
  for_planes(planes, planes * HW, [&](int64_t k) {
    const float* plane = x + k * HW;
    float s = 0.0f;
    for (int64_t i = 0; i < HW; ++i) s += plane[i];
    y[k] = s / count;
  });
}

void global_avgpool_backward(float* dx, const float* dy, int64_t planes, int64_t HW) {
  const float count = static_cast<float>(HW);
  for_planes(planes, planes * HW, [&](int64_t k) { std::fill(dx + k * HW, dx + (k + 1) * HW, dy[k] / count); });
}

}  // namespace bnlab
