#include "bnlab/kernels/pooling.h"

#include <algorithm>
#include <cmath>

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
    for (int i = 0; i < g.HO; ++i)
      for (int j = 0; j < g.WO; ++j) out[i * g.WO + j] = plane[argmax(plane, g, i, j)];
  });
}

void maxpool2d_backward(float* dx, const float* dy, const float* x, const Pool2DGeometry& g) {
  for_planes(g.planes, g.planes * in_size(g), [&](int64_t k) {
    const float* plane = x + k * in_size(g);
    float* d = dx + k * in_size(g);
    const float* dout = dy + k * out_size(g);
    std::fill(d, d + in_size(g), 0.0f);
    for (int i = 0; i < g.HO; ++i)
      for (int j = 0; j < g.WO; ++j) d[argmax(plane, g, i, j)] += dout[i * g.WO + j];
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
