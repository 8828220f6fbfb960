#include "bnlab/kernels/conv2d.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "core/cblas.h"
#include "core/parallel.h"

namespace bnlab {
namespace {

// The outputs j in [lo, hi) of `out` whose input index j * stride + offset lies in [0, size).
void inside(int out, int stride, int offset, int size, int& lo, int& hi) {
  lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  hi = size - 1 - offset < 0 ? 0 : std::min(out, (size - 1 - offset) / stride + 1);
  lo = std::min(lo, hi);
}

// A 1x1 kernel at stride 1 without padding: the patches of a sample are the sample itself.
bool patches_are_input(const Conv2DGeometry& g) {
  return g.KH == 1 && g.KW == 1 && g.SH == 1 && g.SW == 1 && g.pad_top == 0 && g.pad_left == 0;
}

// fn(t, T) on each thread t of a team of T. One thread: on the calling thread, with its OpenMP count
// at 1 while fn runs (OpenBLAS's OpenMP build splits a product by the calling thread's count; see
// for_column_blocks in core/parallel.h). The team may be smaller than asked when nested.
template <class Fn>
void on_team(int threads, Fn fn) {
  if (threads <= 1) {
    const int saved = omp_get_max_threads();
    if (saved > 1) omp_set_num_threads(1);
    fn(0, 1);
    if (saved > 1) omp_set_num_threads(saved);
    return;
  }
#pragma omp parallel num_threads(threads)
  fn(omp_get_thread_num(), omp_get_num_threads());
}

// Thread t's share [begin, end) of `items`, contiguous.
void share(int items, int t, int T, int& begin, int& end) {
  const int per = (items + T - 1) / T;
  begin = std::min(items, t * per);
  end = std::min(items, begin + per);
}

void check_elementwise(Activation act) {
  if (act == Activation::Softmax) throw std::logic_error("conv2d: softmax is not an elementwise activation");
}

}  // namespace

void im2col(float* col, const float* x, const Conv2DGeometry& g) {
  const int64_t P = g.pixels();
  for (int c = 0; c < g.C; ++c)
    for (int p = 0; p < g.KH; ++p)
      for (int q = 0; q < g.KW; ++q) {
        float* out = col + ((int64_t(c) * g.KH + p) * g.KW + q) * P;
        int lo, hi;
        inside(g.WO, g.SW, q - g.pad_left, g.W, lo, hi);
        for (int i = 0; i < g.HO; ++i) {
          float* o = out + int64_t(i) * g.WO;
          const int ih = i * g.SH - g.pad_top + p;
          if (ih < 0 || ih >= g.H) {
            std::fill(o, o + g.WO, 0.0f);
            continue;
          }
          // o[j] = x[c, ih, j SW - PL + q], 0 outside the image
          const float* xr = x + (int64_t(c) * g.H + ih) * g.W + (q - g.pad_left);
          std::fill(o, o + lo, 0.0f);
          if (g.SW == 1)
            std::copy(xr + lo, xr + hi, o + lo);
          else
            for (int j = lo; j < hi; ++j) o[j] = xr[int64_t(j) * g.SW];
          std::fill(o + hi, o + g.WO, 0.0f);
        }
      }
}

void col2im_add(float* dx, const float* dcol, const Conv2DGeometry& g) {
  const int64_t P = g.pixels();
  for (int c = 0; c < g.C; ++c)
    for (int p = 0; p < g.KH; ++p)
      for (int q = 0; q < g.KW; ++q) {
        const float* in = dcol + ((int64_t(c) * g.KH + p) * g.KW + q) * P;
        int lo, hi;
        inside(g.WO, g.SW, q - g.pad_left, g.W, lo, hi);
        for (int i = 0; i < g.HO; ++i) {
          const int ih = i * g.SH - g.pad_top + p;
          if (ih < 0 || ih >= g.H) continue;
          // dx[c, ih, j SW - PL + q] += dcol[row, i, j] for the j inside the image
          float* dr = dx + (int64_t(c) * g.H + ih) * g.W + (q - g.pad_left);
          const float* d = in + int64_t(i) * g.WO;
          if (g.SW == 1) {
#pragma omp simd
            for (int j = lo; j < hi; ++j) dr[j] += d[j];
          } else {
            for (int j = lo; j < hi; ++j) dr[int64_t(j) * g.SW] += d[j];
          }
        }
      }
}

void conv2d_forward(float* y, const float* x, const float* W, const float* b, const Conv2DGeometry& g, Activation act,
                    Tensor& scratch) {
  check_elementwise(act);
  const int64_t K = g.patch(), P = g.pixels();
  const bool direct = patches_are_input(g);
  const int threads = std::min(g.N, column_block_threads(static_cast<int64_t>(g.product_flops())));
  if (!direct) scratch.resize({threads * K * P});
  on_team(threads, [&](int t, int T) {
    float* col = direct ? nullptr : scratch.data() + t * K * P;
    int n0, n1;
    share(g.N, t, T, n0, n1);
    for (int n = n0; n < n1; ++n) {
      const float* xn = x + n * int64_t(g.C) * g.H * g.W;
      float* yn = y + n * g.F * P;
      if (!direct) im2col(col, xn, g);
      // y_n (F, P) = W (F, K) col_n (K, P)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g.F, P, K, 1.0f, W, K, direct ? xn : col, P, 0.0f, yn, P);
      for (int f = 0; f < g.F; ++f) {
        float* row = yn + f * P;
        if (b) {
          const float bf = b[f];
#pragma omp simd
          for (int64_t j = 0; j < P; ++j) row[j] += bf;
        }
        if (act != Activation::Linear) activation_forward(row, row, P, act);
      }
    }
  });
}

void conv2d_backward(float* dx, float* dW, float* db, const float* dy, const float* y, Activation act, const float* x,
                     const float* W, const Conv2DGeometry& g, Tensor& scratch) {
  check_elementwise(act);
  const int64_t K = g.patch(), P = g.pixels(), FK = g.F * K;
  const bool direct = patches_are_input(g), own_dz = act != Activation::Linear;
  const int groups = (g.N + kSamplesPerGroup - 1) / kSamplesPerGroup;
  const int threads = std::min(groups, column_block_threads(static_cast<int64_t>(g.product_flops() * (dx ? 2 : 1))));
  // Per thread: the patches (then their gradients) and dz; per group: its partial dW and db.
  const int64_t per_thread = (direct ? 0 : K * P) + (own_dz ? g.F * P : 0);
  const int64_t per_group = FK + g.F;
  scratch.resize({threads * per_thread + groups * per_group});
  float* partials = scratch.data() + threads * per_thread;
  on_team(threads, [&](int t, int T) {
    float* col = scratch.data() + t * per_thread;
    float* dz_buf = col + (direct ? 0 : K * P);
    int g0, g1;
    share(groups, t, T, g0, g1);
    for (int grp = g0; grp < g1; ++grp) {
      float* dWg = partials + grp * per_group;
      float* dbg = dWg + FK;
      std::fill(dbg, dbg + g.F, 0.0f);
      const int n0 = grp * kSamplesPerGroup, n1 = std::min(g.N, n0 + kSamplesPerGroup);
      for (int n = n0; n < n1; ++n) {
        const float* xn = x + n * int64_t(g.C) * g.H * g.W;
        const int64_t yoff = n * g.F * P;
        const float* dz = dy + yoff;
        if (own_dz) {
          activation_backward(dz_buf, dy + yoff, y + yoff, g.F * P, act);
          dz = dz_buf;
        }
        for (int f = 0; f < g.F; ++f) {
          // dbg[f] += sum_j dz[f, j]
          float s = 0.0f;
          const float* row = dz + f * P;
#pragma omp simd reduction(+ : s)
          for (int64_t j = 0; j < P; ++j) s += row[j];
          dbg[f] += s;
        }
        const float* patches = xn;
        if (!direct) {
          im2col(col, xn, g);
          patches = col;
        }
        // dWg (F, K) (+)= dz_n (F, P) col_n^T (P, K), set by the group's first sample
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, g.F, K, P, 1.0f, dz, P, patches, P, n == n0 ? 0.0f : 1.0f,
                    dWg, K);
        if (!dx) continue;
        float* dxn = dx + n * int64_t(g.C) * g.H * g.W;
        // dcol (K, P) = W^T (K, F) dz_n (F, P), then summed back onto the pixels of dx_n
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, P, g.F, 1.0f, W, K, dz, P, 0.0f, direct ? dxn : col, P);
        if (direct) continue;
        std::fill(dxn, dxn + int64_t(g.C) * g.H * g.W, 0.0f);
        col2im_add(dxn, col, g);
      }
    }
#pragma omp barrier
    // dW[i] += partial_0[i] + partial_1[i] + ..., in group order, a share of i per thread
    int i0, i1;
    share(static_cast<int>(FK), t, T, i0, i1);
    for (int grp = 0; grp < groups; ++grp) {
      const float* part = partials + grp * per_group;
#pragma omp simd
      for (int i = i0; i < i1; ++i) dW[i] += part[i];
    }
    if (db && t == 0)
      for (int grp = 0; grp < groups; ++grp)
        for (int f = 0; f < g.F; ++f) db[f] += partials[grp * per_group + FK + f];
  });
}

}  // namespace bnlab
