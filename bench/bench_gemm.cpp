// The matrix products of one training step of the notebook's MLP (784-256-128-10), at batch 16 to
// 256, through each library built for them that Debian has: OpenBLAS (bnlab's: one sgemm call per
// piece of a thread's block, core/cblas.h), BLIS, libxsmm and oneDNN. Each runs the products as
// bnlab's Dense kernels cut them (kernels/dense.cpp): on 1 thread, whole; on 2, each thread one
// block of output columns (a multiple of 16) in one OpenMP region, serial inside it. Prints
// GFLOP/s, the median of --repeats windows, and whether each library gives the same bits twice.
//   build/bench/bench_gemm [--repeats 7] [--steps 200]
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "bnlab/core/rng.h"
#include "bnlab/core/stopwatch.h"
#include "bnlab/core/threads.h"

#ifdef BNLAB_BENCH_BLIS
#include <blis.h>
#endif
#ifdef BNLAB_BENCH_LIBXSMM
#include <libxsmm.h>
#endif
#ifdef BNLAB_BENCH_ONEDNN
#include <oneapi/dnnl/dnnl.h>
#endif

namespace {

// C (M x N, row-major, ldc) = op(A) op(B) + beta C, op = transpose when the flag is set.
using Gemm = std::function<void(bool ta, bool tb, int M, int N, int K, const float* A, int lda, const float* B,
                                int ldb, float beta, float* C, int ldc)>;

void openblas(bool ta, bool tb, int M, int N, int K, const float* A, int lda, const float* B, int ldb, float beta,
              float* C, int ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, 1.0f, A, lda, B,
              ldb, beta, C, ldc);
}

// bnlab's way with OpenBLAS (core/cblas.h): the columns of C cut into pieces of 16 or 32 under 10^6
// multiply-adds, which OpenBLAS 0.3.21 computes with its small-matrix kernels.
void openblas_pieces(bool ta, bool tb, int M, int N, int K, const float* A, int lda, const float* B, int ldb,
                     float beta, float* C, int ldc) {
  const int64_t other = int64_t(M) * K;
  const int width = static_cast<int>(std::min<int64_t>(1'000'000 / other / 16 * 16, N));
  if (width < 16) return openblas(ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc);
  for (int p = 0; p < N; p += width) {
    const int pw = std::min(width, N - p);
    // columns [p, p + pw) of C: of B's columns (rows when B is transposed)
    const float* Bp = tb ? B + int64_t(p) * ldb : B + p;
    openblas(ta, tb, M, pw, K, A, lda, Bp, ldb, beta, C + p, ldc);
  }
}

#ifdef BNLAB_BENCH_BLIS
void blis(bool ta, bool tb, int M, int N, int K, const float* A, int lda, const float* B, int ldb, float beta,
          float* C, int ldc) {
  float one = 1.0f;
  bli_sgemm(ta ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE, tb ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE, M, N, K, &one,
            const_cast<float*>(A), lda, 1, const_cast<float*>(B), ldb, 1, &beta, C, ldc, 1);
}
#endif

#ifdef BNLAB_BENCH_LIBXSMM
// Column-major underneath: C^T = op(B)^T op(A)^T. A kernel is generated once per shape.
void libxsmm(bool ta, bool tb, int M, int N, int K, const float* A, int lda, const float* B, int ldb, float beta,
             float* C, int ldc) {
  const int flags = (tb ? LIBXSMM_GEMM_FLAG_TRANS_A : 0) | (ta ? LIBXSMM_GEMM_FLAG_TRANS_B : 0) |
                    (beta == 0.0f ? LIBXSMM_GEMM_FLAG_BETA_0 : 0);
  const float alpha = 1.0f;
  const libxsmm_blasint m = N, n = M, k = K, la = ldb, lb = lda, lc = ldc;
  if (const libxsmm_smmfunction f = libxsmm_smmdispatch(m, n, k, &la, &lb, &lc, &alpha, &beta, &flags, nullptr)) {
    f(B, A, C);
    return;
  }
  const char tA = tb ? 'T' : 'N', tB = ta ? 'T' : 'N';
  libxsmm_sgemm(&tA, &tB, &m, &n, &k, &alpha, B, &la, A, &lb, &beta, C, &lc);
}
#endif

#ifdef BNLAB_BENCH_ONEDNN
void onednn(bool ta, bool tb, int M, int N, int K, const float* A, int lda, const float* B, int ldb, float beta,
            float* C, int ldc) {
  dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K, 1.0f, A, lda, B, ldb, beta, C, ldc);
}
#endif

// One Dense layer's buffers at batch N: x (N, in), W (out, in), z and dz (N, out), dW, dx.
struct Layer {
  int in, out;
  std::vector<float> x, W, z, dz, dW, dx;
  bool input_gradient;
};

// Columns [0, n) in blocks of a multiple of 16, one per thread of a region of `threads`, each
// block computed by fn(c0, w); one thread per 0.5 MFLOP at most (core/parallel.h).
void blocks(int n, int64_t flops, int threads, const std::function<void(int, int)>& fn) {
  const int t = std::max(1, std::min<int>(threads, static_cast<int>(flops / 500'000)));
  const int per = ((n + t - 1) / t + 15) / 16 * 16;
  if (t == 1 || per >= n) return fn(0, n);
#pragma omp parallel for num_threads(t) schedule(static)
  for (int i = 0; i < t; ++i)
    if (i * per < n) fn(i * per, std::min(per, n - i * per));
}

// The step's products for every layer: forward, weight gradient, input gradient after the first.
void step(const Gemm& g, std::vector<Layer>& net, int N, int threads) {
  for (Layer& l : net) {
    const int64_t flops = 2LL * N * l.in * l.out;
    blocks(l.out, flops, threads, [&](int o0, int w) {  // z[:, o0:o0+w] = x W[o0:o0+w, :]^T
      g(false, true, N, w, l.in, l.x.data(), l.in, l.W.data() + int64_t(o0) * l.in, l.in, 0.0f, l.z.data() + o0, l.out);
    });
    blocks(l.out, flops, threads, [&](int o0, int w) {  // dW[o0:o0+w, :] = dz[:, o0:o0+w]^T x
      g(true, false, w, l.in, N, l.dz.data() + o0, l.out, l.x.data(), l.in, 0.0f, l.dW.data() + int64_t(o0) * l.in,
        l.in);
    });
    if (l.input_gradient)
      blocks(l.in, flops, threads, [&](int i0, int w) {  // dx[:, i0:i0+w] = dz W[:, i0:i0+w]
        g(false, false, N, w, l.out, l.dz.data(), l.out, l.W.data() + i0, l.in, 0.0f, l.dx.data() + i0, l.in);
      });
  }
}

std::vector<Layer> make_net(int N) {
  const int sizes[] = {784, 256, 128, 10};
  std::vector<Layer> net;
  bnlab::Rng rng(1);
  auto fill = [&](size_t n) {
    std::vector<float> v(n);
    for (float& f : v) f = static_cast<float>(rng.uniform() - 0.5);
    return v;
  };
  for (int i = 0; i < 3; ++i) {
    const int in = sizes[i], out = sizes[i + 1];
    net.push_back({in, out, fill(size_t(N) * in), fill(size_t(out) * in), fill(size_t(N) * out),
                   fill(size_t(N) * out), fill(size_t(out) * in), fill(size_t(N) * in), i > 0});
  }
  return net;
}

double step_flops(const std::vector<Layer>& net, int N) {
  double f = 0;
  for (const Layer& l : net) f += 2.0 * N * l.in * l.out * (l.input_gradient ? 3 : 2);
  return f;
}

std::vector<float> outputs(const std::vector<Layer>& net) {
  std::vector<float> all;
  for (const Layer& l : net) {
    all.insert(all.end(), l.z.begin(), l.z.end());
    all.insert(all.end(), l.dW.begin(), l.dW.end());
    all.insert(all.end(), l.dx.begin(), l.dx.end());
  }
  return all;
}

}  // namespace

int main(int argc, char** argv) {
  int repeats = 7, steps = 200;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--repeats")) repeats = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--steps")) steps = std::atoi(argv[i + 1]);
  }
  std::vector<std::pair<const char*, Gemm>> libs = {{"openblas", openblas}, {"openblas+pieces", openblas_pieces}};
#ifdef BNLAB_BENCH_BLIS
  libs.push_back({"blis", blis});
#endif
#ifdef BNLAB_BENCH_LIBXSMM
  libxsmm_init();
  libs.push_back({"libxsmm", libxsmm});
#endif
#ifdef BNLAB_BENCH_ONEDNN
  libs.push_back({"onednn", onednn});
#endif
  std::printf("GFLOP/s of the notebook MLP's step products (median of %d windows of %d steps)\n", repeats, steps);
  for (int threads : {1, 2}) {
    bnlab::set_num_threads(threads);
    std::printf("\n%d thread%s%-8s", threads, threads > 1 ? "s" : "", "");
    for (int N : {16, 32, 64, 128, 256}) std::printf(" %9s%-3d", "batch ", N);
    std::printf("  same bits\n");
    for (const auto& [name, gemm] : libs) {
      std::printf("  %-16s", name);
      bool deterministic = true;
      for (int N : {16, 32, 64, 128, 256}) {
        std::vector<Layer> net = make_net(N);
        step(gemm, net, N, threads);  // warm-up; kernels generated
        const std::vector<float> first = outputs(net);
        std::vector<double> times;
        for (int r = 0; r < repeats; ++r) {
          const bnlab::Stopwatch watch;
          for (int s = 0; s < steps; ++s) step(gemm, net, N, threads);
          times.push_back(watch.seconds() / steps);
        }
        deterministic = deterministic && outputs(net) == first;
        std::sort(times.begin(), times.end());
        std::printf(" %12.1f", step_flops(net, N) / times[times.size() / 2] / 1e9);
      }
      std::printf("  %s\n", deterministic ? "yes" : "no");
    }
  }
  return 0;
}
