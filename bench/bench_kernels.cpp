// Kernel benchmarks at the notebook's shapes and at large ones. Run:
//   build/bench/bench_kernels --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
// Threads: BNLAB_THREADS (default: one per core), the same knob as `bnlab --threads`.
#include <benchmark/benchmark.h>

#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <vector>

#include "bnlab/core/blas.h"
#include "bnlab/core/rng.h"
#include "bnlab/core/tensor.h"
#include "bnlab/core/threads.h"
#include "bnlab/kernels/batchnorm.h"
#include "bnlab/kernels/batchnorm_dense.h"
#include "bnlab/kernels/conv2d.h"
#include "bnlab/kernels/dense.h"
#include "bnlab/kernels/layernorm.h"
#include "bnlab/kernels/loss.h"
#include "bnlab/kernels/optim.h"
#include "bnlab/kernels/pooling.h"

namespace {
using namespace bnlab;

Tensor random(const Shape& s, uint64_t seed) {
  Rng rng(seed);
  Tensor t(s);
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = static_cast<float>(2 * rng.uniform() - 1);
  return t;
}

// BatchNorm training forward + backward over x: (N, C).
void BM_BatchNormTrain(benchmark::State& state) {
  const int N = state.range(0), C = state.range(1);
  Tensor x = random({N, C}, 1), dy = random({N, C}, 2), y({N, C}), dx({N, C}), gamma({C}), beta({C}), dg({C}), db({C}), invstd({C});
  gamma.fill(1.0f);
  std::vector<double> mean(C), var(C);
  for (auto _ : state) {
    batchnorm_forward_train(y.data(), nullptr, mean.data(), invstd.data(), var.data(), x.data(), gamma.data(), beta.data(), N, C, 1e-3f);
    batchnorm_backward_train(dx.data(), dg.data(), db.data(), dy.data(), x.data(), mean.data(), invstd.data(), gamma.data(), N, C);
    benchmark::DoNotOptimize(dx.data());
  }
  state.SetBytesProcessed(state.iterations() * int64_t(N) * C * 4 * 5);
}
BENCHMARK(BM_BatchNormTrain)->Args({64, 784})->Args({64, 256})->Args({256, 4096})->UseRealTime();

// The notebook's input BatchNorm + first Dense backward (kernels/batchnorm_dense.h): N, C = 784, K = 256,
// ReLU. GFLOP/s of the H product (2 N C K) for comparison with BM_Dense.
void BM_BatchNormDenseBackward(benchmark::State& state) {
  const int N = state.range(0), C = state.range(1), K = state.range(2);
  Tensor u = random({N, C}, 1), W = random({K, C}, 2), a = random({N, K}, 3), da = random({N, K}, 4), dz({N, K});
  Tensor gamma = random({C}, 5), beta = random({C}, 6), scratch({batchnorm_dense_scratch(C, K, false)});
  Tensor dW({K, C}), db({K}), dgamma({C}), dbeta({C});
  for (auto _ : state) {
    batchnorm_dense_backward_activation(dW.data(), db.data(), dgamma.data(), dbeta.data(), scratch.data(), dz.data(),
                                        da.data(), a.data(), Activation::ReLU, u.data(), W.data(), gamma.data(),
                                        beta.data(), N, C, K, /*accumulate=*/false);
    benchmark::DoNotOptimize(dW.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * N * C * K * state.iterations(), benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
}
BENCHMARK(BM_BatchNormDenseBackward)->Args({64, 784, 256})->Args({256, 784, 256})->UseRealTime();

void BM_LayerNorm(benchmark::State& state) {
  const int N = state.range(0), C = state.range(1);
  Tensor x = random({N, C}, 1), dy = random({N, C}, 2), y({N, C}), dx({N, C}), gamma({C}), beta({C}), dg({C}), db({C}), mean({N}), invstd({N});
  gamma.fill(1.0f);
  for (auto _ : state) {
    layernorm_forward(y.data(), mean.data(), invstd.data(), x.data(), gamma.data(), beta.data(), N, C, 1e-3f);
    layernorm_backward(dx.data(), dg.data(), db.data(), dy.data(), x.data(), mean.data(), invstd.data(), gamma.data(), N, C);
    benchmark::DoNotOptimize(dx.data());
  }
}
BENCHMARK(BM_LayerNorm)->Args({64, 256})->Args({256, 4096})->UseRealTime();

// Dense forward + backward (weight and input gradients); counters in GFLOP/s.
void BM_Dense(benchmark::State& state) {
  const int N = state.range(0), in = state.range(1), out = state.range(2);
  Tensor x = random({N, in}, 1), W = random({out, in}, 2), b({out}), z({N, out}), dz = random({N, out}, 3), dx({N, in}), dW({out, in}), db({out});
  for (auto _ : state) {
    dense_forward(z.data(), x.data(), W.data(), b.data(), N, in, out);
    dense_backward(dx.data(), dW.data(), db.data(), dz.data(), x.data(), W.data(), N, in, out);
    benchmark::DoNotOptimize(dx.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(6.0 * N * in * out * state.iterations(), benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
}
BENCHMARK(BM_Dense)->Args({32, 784, 256})->Args({64, 784, 256})->Args({64, 256, 128})->Args({64, 128, 10})->Args({256, 4096, 4096})->UseRealTime();

// Conv2D 3x3 (valid, stride 1) forward + backward (dx too unless C = 1, the first layer) at the cnn
// preset's two convolutions at batch 128: x (N, C, H, H) -> (N, F, H - 2, H - 2).
void BM_Conv2DTrain(benchmark::State& state) {
  Conv2DGeometry g;
  g.N = state.range(0), g.C = state.range(1), g.H = g.W = state.range(2), g.F = state.range(3);
  g.KH = g.KW = 3, g.HO = g.WO = g.H - 2;
  Tensor x = random({g.N, g.C, g.H, g.W}, 1), W = random({g.F, g.C, 3, 3}, 2), b({g.F}), dW(W.shape()), db({g.F});
  Tensor y({g.N, g.F, g.HO, g.WO}), dy = random(y.shape(), 3), dx(x.shape()), scratch;
  for (auto _ : state) {
    conv2d_forward(y.data(), x.data(), W.data(), b.data(), g, Activation::ReLU, scratch);
    conv2d_backward(g.C > 1 ? dx.data() : nullptr, dW.data(), db.data(), dy.data(), y.data(), Activation::ReLU,
                    x.data(), W.data(), g, scratch);
  }
  state.counters["GFLOP/s"] = benchmark::Counter(g.product_flops() * (g.C > 1 ? 3 : 2) * 1e-9,
                                                 benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_Conv2DTrain)->Args({128, 1, 28, 32})->Args({128, 32, 13, 64})->UseRealTime();

// MaxPooling2D(2) forward + backward over x: (N, C, H, W) after a ReLU (half zeros: many ties), at
// the two pooling layers of the cnn preset at batch 128.
void BM_MaxPool2x2(benchmark::State& state) {
  const int N = state.range(0), C = state.range(1), H = state.range(2);
  Pool2DGeometry g;
  g.planes = int64_t{N} * C, g.H = g.W = H, g.PH = g.PW = g.SH = g.SW = 2, g.HO = g.WO = H / 2;
  Tensor x = random({N, C, H, H}, 1), dy = random({N, C, H / 2, H / 2}, 2), y(dy.shape()), dx(x.shape());
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = std::max(0.0f, x[i]);
  for (auto _ : state) {
    maxpool2d_forward(y.data(), x.data(), g);
    maxpool2d_backward(dx.data(), dy.data(), x.data(), g);
    benchmark::DoNotOptimize(dx.data());
  }
}
BENCHMARK(BM_MaxPool2x2)->Args({128, 32, 26})->Args({128, 64, 11})->UseRealTime();

void BM_SoftmaxCrossEntropy(benchmark::State& state) {
  const int N = state.range(0), K = state.range(1);
  Tensor z = random({N, K}, 1), p({N, K}), d({N, K});
  std::vector<int32_t> labels(N);
  for (int n = 0; n < N; ++n) labels[n] = n % K;
  for (auto _ : state) {
    benchmark::DoNotOptimize(softmax_cross_entropy_forward(p.data(), z.data(), labels.data(), N, K));
    softmax_cross_entropy_backward(d.data(), p.data(), labels.data(), N, K, 1.0f / N);
  }
}
BENCHMARK(BM_SoftmaxCrossEntropy)->Args({64, 10})->Args({256, 1000})->UseRealTime();

// One Adam update over all of the BN MLP's 237,482 trainable parameters (as one tensor).
void BM_Adam(benchmark::State& state) {
  const int64_t n = state.range(0);
  Tensor p = random({n}, 1), g = random({n}, 2), m({n}), v({n});
  int64_t t = 0;
  for (auto _ : state) {
    adam_keras_update(p.data(), m.data(), v.data(), g.data(), n, 1e-3, 0.9, 0.999, 1e-7, ++t);
    benchmark::DoNotOptimize(p.data());
  }
}
BENCHMARK(BM_Adam)->Arg(237482)->Arg(16 << 20)->UseRealTime();

// The same, with the state the notebook's first layer reaches in training: after zero gradients, m of
// 13% of the weights (scattered) stuck a few units above 0 in the subnormal range, where m - m/10
// rounds back to m (counted in a saved `mlp` run after eight epochs).
void BM_AdamStuckMoments(benchmark::State& state) {
  const int64_t n = state.range(0);
  Tensor p = random({n}, 1), g = random({n}, 2), m({n}), v({n});
  for (int64_t i = 0; i < n; ++i)
    if ((static_cast<uint64_t>(i) * 2654435761u >> 7) % 100 < 13) {
      m[i] = 3 * std::numeric_limits<float>::denorm_min();
      g[i] = 0.0f;
    }
  int64_t t = 1000;
  for (auto _ : state) {
    adam_keras_update(p.data(), m.data(), v.data(), g.data(), n, 1e-3, 0.9, 0.999, 1e-7, ++t);
    benchmark::DoNotOptimize(p.data());
  }
}
BENCHMARK(BM_AdamStuckMoments)->Arg(237482)->UseRealTime();

// A question about the machine rather than about training: how long 200 KB that one thread wrote
// takes to reach another thread that reads it (Arg 1), against one thread writing and reading it
// itself (Arg 0). Every 2-thread step hands data like this between its threads. Where the two
// cores share their caches the two times are about equal; on a VM whose two vCPUs can land on
// different core complexes the handoff can take twice as long, and so do 2-thread steps
// (docs/performance.md). The "handoff" counter is seconds per handoff.
void BM_Handoff(benchmark::State& state) {
  const bool cross = state.range(0) != 0;
  constexpr int kFloats = 200 * 1024 / 4, kRounds = 100;
  std::vector<float> storage(kFloats, 1.0f);
  float* const buf = storage.data();  // (through the vector, GCC reloads its data pointer every element)
  float sink = 0;
  int team = 0;
  for (auto _ : state) {
#pragma omp parallel num_threads(2) reduction(+ : sink)
    {
      const int t = omp_get_thread_num();
      if (t == 0) team = omp_get_num_threads();
      for (int r = 0; r < kRounds; ++r) {
        const int writer = cross ? r & 1 : 0, reader = cross ? 1 - writer : 0;
        if (t == writer)
          for (int i = 0; i < kFloats; ++i) buf[i] = static_cast<float>(r + i);
#pragma omp barrier
        if (t == reader) {
          float s = 0;
#pragma omp simd reduction(+ : s)
          for (int i = 0; i < kFloats; ++i) s += buf[i];
          sink += s;
        }
#pragma omp barrier
      }
    }
  }
  benchmark::DoNotOptimize(sink);
  if (team < 2) state.SkipWithError("needs 2 threads");
  state.counters["handoff"] =
      benchmark::Counter(kRounds, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_Handoff)->Arg(1)->Arg(0)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  const char* threads = std::getenv("BNLAB_THREADS");
  bnlab::set_num_threads(threads ? std::atoi(threads) : 0);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("threads", std::to_string(bnlab::num_threads()));
  benchmark::AddCustomContext("blas", bnlab::blas_name());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
