// The training plan (model/plan.h) against the plain loop of Sequential::forward_backward: which
// steps its table chooses, and that each fused step gives the plain loop's bits (the input
// BatchNorm's shortcut: its gradients, to rounding), at 1, 2 and 3 threads and with partial batches.
#include "bnlab/model/plan.h"

#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstring>

#include "bnlab/core/threads.h"
#include "bnlab/layers/batchnorm.h"
#include "bnlab/layers/dense.h"
#include "bnlab/model/spec.h"
#include "support/gradcheck.h"
#include "support/models.h"

namespace bnlab {
namespace {

using testing::built;
using testing::cycling_labels;

// Every trainable parameter moved off its initial value, the same way in every model.
void perturb(Sequential& m) {
  for (ParamRef& p : m.trainable_params())
    for (int64_t i = 0; i < p.value->numel(); ++i) (*p.value)[i] += 0.1f * std::sin(1.0f + i);
}

// The loss, every trainable gradient and every buffer (moving statistics), as floats.
using Floats = std::vector<std::vector<float>>;
Floats gradients_and_buffers(Sequential& m, double loss) {
  Floats out{{static_cast<float>(loss)}};
  for (ParamRef& p : m.trainable_params()) out.emplace_back(p.grad->data(), p.grad->data() + p.grad->numel());
  for (StateEntry& e : m.state_dict())
    if (e.tensor && !e.trainable) out.emplace_back(e.tensor->data(), e.tensor->data() + e.tensor->numel());
  return out;
}

bool is_bn(Sequential& m, size_t layer) { return dynamic_cast<BatchNormalization*>(&m.layer(layer)) != nullptr; }

LossResult plain_step(Sequential& m, const Tensor& x, const int32_t* labels) {
  m.zero_grad();
  return m.forward_backward(x, labels);
}

TEST(Plan, ChoosesTheStepsOfItsTable) {
  Sequential bn = built("mlp-bn", Shape{28, 28});
  const TrainingPlan fused(bn), plain(bn, {false});
  EXPECT_EQ(fused.forward_steps(),
            (std::vector<std::string>{"layer: layer 0", "input batchnorm: layer 1", "dense+batchnorm: layers 2-3",
                                      "dense+batchnorm: layers 4-5", "dense: layer 6"}));
  EXPECT_EQ(fused.backward_steps(), (std::vector<std::string>{"batchnorm+dense: layers 5-6", "batchnorm+dense: layers 3-4",
                                                              "input batchnorm+dense: layers 1-2"}));
  EXPECT_EQ(plain.forward_steps().size(), 7u);
  EXPECT_EQ(plain.backward_steps(), (std::vector<std::string>{"layer: layer 6", "layer: layer 5", "layer: layer 4",
                                                              "layer: layer 3", "layer: layer 2", "layer: layer 1"}));
  Sequential mlp = built("mlp", Shape{28, 28});
  const TrainingPlan dense(mlp);
  EXPECT_EQ(dense.forward_steps(),
            (std::vector<std::string>{"layer: layer 0", "dense: layer 1", "dense: layer 2", "dense: layer 3"}));
  EXPECT_EQ(dense.backward_steps(), (std::vector<std::string>{"dense: layer 3", "dense: layer 2", "dense: layer 1"}));
  // A BN after the last Dense, renorm and Batch Renormalization stay steps of their own.
  Sequential other = built("flatten,dense:8:relu,bn:renorm,dense:4,ln,dense:3,bn", Shape{2, 2});
  const TrainingPlan apart(other);
  EXPECT_EQ(apart.forward_steps(), (std::vector<std::string>{"layer: layer 0", "dense: layer 1", "batchnorm: layer 2",
                                                             "dense: layer 3", "layer: layer 4", "dense: layer 5",
                                                             "batchnorm: layer 6"}));
}

// The shortcut only where the first layer with parameters is a BN feeding a Dense layer.
TEST(Plan, InputBatchNormShortcutOnlyWhereTheModelHasThatShape) {
  auto shortcut = [](const char* spec) {
    Sequential m = built(spec, Shape{2, 2});
    const std::vector<std::string> steps = TrainingPlan(m).backward_steps();
    return steps.back().starts_with("input batchnorm+dense");
  };
  EXPECT_TRUE(shortcut("flatten,bn,dense:4,dense:3"));
  EXPECT_TRUE(shortcut("dropout:0.1,flatten,bn,dense:3"));
  EXPECT_FALSE(shortcut("flatten,dense:4,bn,dense:3"));
  EXPECT_FALSE(shortcut("flatten,bn,relu,dense:3"));
  EXPECT_FALSE(shortcut("flatten,ln,dense:3"));
}

// The plan's gradients against central differences of the mean loss, parameter by parameter.
void expect_gradients_match_central_differences(Sequential& m, const Floats& analytic, const Tensor& x,
                                                const int32_t* labels) {
  const double n = static_cast<double>(x.dim(0));
  std::vector<ParamRef> params = m.trainable_params();
  for (size_t k = 0; k < params.size(); ++k) {
    Tensor& value = *params[k].value;
    for (int64_t i = 0; i < value.numel(); ++i) {
      const float saved = value[i];
      const double h = 1e-3;
      value[i] = static_cast<float>(saved + h);
      const double lp = plain_step(m, x, labels).loss_sum / n;
      value[i] = static_cast<float>(saved - h);
      const double lm = plain_step(m, x, labels).loss_sum / n;
      value[i] = saved;
      const double numeric = (lp - lm) / (2 * h);
      EXPECT_NEAR(analytic[k + 1][i], numeric, 2e-3 + 2e-2 * std::fabs(numeric)) << params[k].name << "[" << i << "]";
    }
  }
}

// Each gradient of `got` within rounding of `want`'s (1e-5 of the largest of its parameter).
void expect_near(const Floats& got, const Floats& want, size_t params) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t k = 1; k <= params; ++k) {
    float largest = 0.0f;
    for (float v : want[k]) largest = std::max(largest, std::fabs(v));
    for (size_t i = 0; i < want[k].size(); ++i)
      EXPECT_NEAR(got[k][i], want[k][i], 1e-6f + 1e-5f * largest) << "parameter " << k - 1 << "[" << i << "]";
  }
}

// The input-BatchNorm shortcut (kernels/batchnorm_dense.h) gives the plain loop's gradients,
// within rounding, and its loss and moving statistics exactly: for each shape the shortcut takes
// (hidden activation, softmax output right after the BN, renorm, no gamma/beta), and numerically.
TEST(Plan, InputBatchNormShortcutMatchesThePlainLoop) {
  for (const char* spec : {"flatten,bn,dense:7:relu,bn,dense:3:softmax", "flatten,bn,dense:3:softmax",
                           "flatten,bn:renorm:rmax=1.5:dmax=0.5,dense:5:tanh,dense:3:softmax",
                           "flatten,bn:center=0,dense:5:relu,dense:3", "flatten,bn:scale=0:torch,dense:3:softmax",
                           "flatten,bn,dense:5:softmax,dense:3"}) {
    SCOPED_TRACE(spec);
    Sequential fused = built(spec, Shape{3, 4}), plain = built(spec, Shape{3, 4});
    Rng rng(9);
    Tensor x = testing::random_tensor(Shape{8, 3, 4}, rng);
    for (int64_t i = 0; i < x.numel(); ++i) x[i] = x[i] * 3.0f + 5.0f;  // off-centre, as raw inputs are
    const int32_t labels[8] = {0, 1, 2, 0, 1, 2, 2, 1};
    perturb(fused);
    perturb(plain);
    TrainingPlan plan(fused);
    ASSERT_TRUE(plan.backward_steps().back().starts_with("input batchnorm+dense"));
    const Floats got = gradients_and_buffers(fused, plan.forward_backward(x, labels).loss_sum);
    const Floats want = gradients_and_buffers(plain, plain_step(plain, x, labels).loss_sum);
    const size_t params = fused.trainable_params().size();
    EXPECT_EQ(got[0], want[0]) << "loss";
    for (size_t k = params + 1; k < want.size(); ++k) EXPECT_EQ(got[k], want[k]) << "buffer " << k - params - 1;
    expect_near(got, want, params);
    // Not for renorm: its gradient holds r and d constant (the paper's stop_gradient), and each
    // forward moves the moving statistics they come from.
    if (std::strstr(spec, "renorm")) continue;
    expect_gradients_match_central_differences(fused, got, x, labels);
  }
}

// Large enough for the products to be split across threads (core/parallel.h), with 200 units: the
// blocks of rows k end inside a group of 16. Bit-identical for 1 and 3 threads (the partial sums of
// dgamma and dbeta go by groups of rows, not by threads), and the plain loop's within rounding.
TEST(Plan, InputBatchNormShortcutSplitAcrossThreads) {
  const char* spec = "flatten,bn,dense:200:relu,dense:3:softmax";
  Rng rng(4);
  Tensor x = testing::random_tensor(Shape{48, 16, 16}, rng);
  const std::vector<int32_t> labels = cycling_labels(48);
  auto gradients = [&](bool fuse, int threads) {
    set_num_threads(threads);
    Sequential m = built(spec, Shape{16, 16});
    perturb(m);
    TrainingPlan plan(m, {fuse});
    return gradients_and_buffers(m, plan.forward_backward(x, labels.data()).loss_sum);
  };
  const Floats one = gradients(true, 1), three = gradients(true, 3), plain = gradients(false, 3);
  set_num_threads(0);
  EXPECT_EQ(one, three);
  expect_near(three, plain, 4);
}

// Every other fused step gives the plain loop's bits: the loss, every gradient and the moving
// statistics, for 1, 2 and 3 threads, over a batch, a smaller one (an epoch's last) and the first
// again. Dense + BN forward and BN + Dense backward with a softmax or a hidden layer after the BN,
// PyTorch's convention, no gamma, renorm and a BN as the last layer on their own, Dropout and
// LayerNorm as layers of their own; and the plan without fusion, for a model with the shortcut.
TEST(Plan, FusedStepsGiveThePlainLoopsBits) {
  for (const char* spec : {"flatten,dense:200:relu,bn,dense:72:tanh,bn,dense:3:softmax",
                           "flatten,dense:40:relu,bn:torch,dense:3:softmax", "flatten,dense:40:relu,bn:scale=0,dense:3",
                           "flatten,dense:40:relu,bn:renorm,dense:3:softmax", "flatten,dense:8:relu,dense:3,bn",
                           "flatten,dense:64:sigmoid,dropout:0.3,bn,ln,dense:3:softmax",
                           "flatten,dense:40:relu,bn,dense:30:softmax,dense:3",
                           "flatten,dense:40,bn,noise,sigmoid,dense:3:softmax"}) {
    SCOPED_TRACE(spec);
    Rng rng(6);
    const Tensor big = testing::random_tensor(Shape{48, 16, 16}, rng);
    const Tensor small = testing::random_tensor(Shape{7, 16, 16}, rng);
    const std::vector<int32_t> labels = cycling_labels(48);
    for (int threads : {1, 2, 3}) {
      SCOPED_TRACE(threads);
      set_num_threads(threads);
      Sequential fused = built(spec, Shape{16, 16}), plain = built(spec, Shape{16, 16});
      TrainingPlan plan(fused);
      for (const Tensor* x : {&big, &small, &big}) {
        const Floats got = gradients_and_buffers(fused, plan.forward_backward(*x, labels.data()).loss_sum);
        EXPECT_EQ(got, gradients_and_buffers(plain, plain_step(plain, *x, labels.data()).loss_sum));
      }
    }
  }
  for (int threads : {1, 3}) {
    set_num_threads(threads);
    Sequential unfused = built("mlp-bn", Shape{28, 28}), plain = built("mlp-bn", Shape{28, 28});
    TrainingPlan plan(unfused, {false});
    Rng rng(5);
    const Tensor x = testing::random_tensor(Shape{33, 28, 28}, rng);
    const std::vector<int32_t> labels = cycling_labels(33);
    EXPECT_EQ(gradients_and_buffers(unfused, plan.forward_backward(x, labels.data()).loss_sum),
              gradients_and_buffers(plain, plain_step(plain, x, labels.data()).loss_sum));
  }
  set_num_threads(0);
}

// BatchNorm on images runs in its own step, GroupNorm as a layer on its own, next to the fused
// steps of flat layers: the plain loop's bits at 1, 2 and 3 threads.
TEST(Plan, ImageNormalisationGivesThePlainLoopsBits) {
  const char* first = "bn,relu,flatten,dense:8:relu,bn,dense:3:softmax";
  Sequential model = built(first, Shape{8, 16, 16});
  EXPECT_EQ(TrainingPlan(model).forward_steps(),
            (std::vector<std::string>{"batchnorm: layer 0", "layer: layer 1", "layer: layer 2",
                                      "dense+batchnorm: layers 3-4", "dense: layer 5"}));
  for (const char* spec : {first, "gn:2,bn:torch,relu,bn:renorm:rmax=1.5,gn:1,flatten,dense:3:softmax"}) {
    SCOPED_TRACE(spec);
    Rng rng(6);
    const Tensor big = testing::random_tensor(Shape{48, 8, 16, 16}, rng, -1.0f, 2.0f);
    const Tensor small = testing::random_tensor(Shape{3, 8, 16, 16}, rng);
    const std::vector<int32_t> labels = cycling_labels(48);
    for (int threads : {1, 2, 3}) {
      SCOPED_TRACE(threads);
      set_num_threads(threads);
      Sequential fused = built(spec, Shape{8, 16, 16}), plain = built(spec, Shape{8, 16, 16});
      perturb(fused);
      perturb(plain);
      TrainingPlan plan(fused);
      for (const Tensor* x : {&big, &small, &big}) {
        const Floats got = gradients_and_buffers(fused, plan.forward_backward(*x, labels.data()).loss_sum);
        EXPECT_EQ(got, gradients_and_buffers(plain, plain_step(plain, *x, labels.data()).loss_sum));
      }
    }
  }
  set_num_threads(0);
}

// Every copy of layer's output the plan made equals the output itself.
void expect_copies_match(const TrainingPlan& plan, size_t layer) {
  const ThreadCopies copies = plan.output_copies(layer);
  const Tensor& out = plan.output(layer);
  for (int t = 0; t < copies.count; ++t)
    EXPECT_EQ(std::memcmp(copies.data[t], out.data(), out.numel() * sizeof(float)), 0) << "copy " << t;
}

// forward_backward on a batch the plan gathers itself (fit's form): with an input BatchNorm before
// a Dense layer, each thread of the Dense layer's region gathers the whole batch and normalises it;
// otherwise the calling thread gathers it once. Bit-identical to forward_backward on the gathered
// batch: loss, labels, gradients, moving statistics, each copy of the BN's output; for 1 and 3
// threads, with a batch small enough for one thread, without an input BN, a Dropout before the BN
// (gathered once) and renorm.
TEST(Plan, GatheringInsideTheStepIsBitIdentical) {
  Rng rng(7);
  const Tensor pool = testing::random_tensor(Shape{60, 16, 16}, rng);
  const int64_t f = 16 * 16;
  std::vector<int32_t> pool_labels(60);
  for (int n = 0; n < 60; ++n) pool_labels[n] = (n * 7) % 3;
  // spec, and whether 48 rows on 3 threads are gathered per thread
  const std::pair<const char*, bool> cases[] = {{"flatten,bn,dense:200:relu,bn,dense:72:tanh,dense:3:softmax", true},
                                                {"flatten,bn:torch:scale=0,dense:64:relu,dense:3", true},
                                                {"flatten,dense:200:relu,bn,dense:3:softmax", false},
                                                {"flatten,dense:40:relu,dense:3:softmax", false},
                                                {"dropout:0.25,flatten,bn,dense:200:relu,dense:3:softmax", false},
                                                {"flatten,bn:renorm,dense:200:relu,dense:3:softmax", false}};
  for (const auto& [spec, per_thread] : cases) {
    for (int threads : {1, 3}) {
      SCOPED_TRACE(std::string(spec) + ", threads " + std::to_string(threads));
      set_num_threads(threads);
      Sequential given = built(spec, Shape{16, 16}), gathered = built(spec, Shape{16, 16});
      TrainingPlan given_plan(given), gathered_plan(gathered);
      for (int64_t N : {48, 7, 48}) {
        const int64_t first = N == 7 ? 50 : 3;  // rows [first, first + N) of the pool
        Tensor x(Shape{N, 16, 16});
        std::memcpy(x.data(), pool.data() + first * f, N * f * sizeof(float));
        const LossResult want = given_plan.forward_backward(x, pool_labels.data() + first);
        std::vector<int32_t> labels(N, -1);
        std::vector<int> calls(threads, 0);
        const LossResult got = gathered_plan.forward_backward(static_cast<int>(N), labels.data(), [&](float* out, int copy) {
          ++calls.at(copy);  // each copy by its own thread
          std::memcpy(out, pool.data() + first * f, N * f * sizeof(float));
          if (copy == 0) std::memcpy(labels.data(), pool_labels.data() + first, N * sizeof(int32_t));
        });
        EXPECT_EQ(got.correct, want.correct);
        EXPECT_EQ(labels, std::vector<int32_t>(pool_labels.begin() + first, pool_labels.begin() + first + N));
        // One gather, or one per copy when the input BN runs in copies (3 threads, 48 rows).
        const bool copies = per_thread && threads > 1 && N == 48;
        std::vector<int> once(threads, 0);
        once[0] = 1;
        EXPECT_EQ(calls, copies ? std::vector<int>(threads, 1) : once);
        EXPECT_EQ(gradients_and_buffers(gathered, got.loss_sum), gradients_and_buffers(given, want.loss_sum));
        if (is_bn(gathered, 1)) {
          EXPECT_EQ(gathered_plan.output_copies(1).count, copies ? threads : 0);
          expect_copies_match(gathered_plan, 1);
        }
      }
    }
  }
  set_num_threads(0);
}

// The same with fewer threads than copies: a step started inside another parallel region gets
// teams of one thread (nesting off), while the plan still asks for 3. Every copy of the batch and of
// the BN's output is still written, and the results are the 3-thread ones, bit for bit.
TEST(Plan, GatheringInsideTheStepWithFewerThreadsThanCopies) {
  set_num_threads(3);
  const int levels = omp_get_max_active_levels();
  omp_set_max_active_levels(1);
  const char* spec = "flatten,bn,dense:200:relu,bn,dense:3:softmax";
  Rng rng(8);
  const Tensor x = testing::random_tensor(Shape{48, 16, 16}, rng);
  const std::vector<int32_t> want_labels = cycling_labels(48);
  Sequential given = built(spec, Shape{16, 16}), gathered = built(spec, Shape{16, 16});
  TrainingPlan given_plan(given), gathered_plan(gathered);
  const LossResult want = given_plan.forward_backward(x, want_labels.data());
  std::vector<int32_t> labels(48, -1);
  LossResult got;
  int team = 0;
#pragma omp parallel num_threads(2)
  if (omp_get_thread_num() == 0) {
    got = gathered_plan.forward_backward(48, labels.data(), [&](float* out, int copy) {
#pragma omp atomic write
      team = omp_get_num_threads();
      std::memcpy(out, x.data(), x.numel() * sizeof(float));
      if (copy == 0) labels = want_labels;
    });
  }
  omp_set_max_active_levels(levels);
  set_num_threads(0);
  EXPECT_EQ(team, 1);
  EXPECT_EQ(labels, want_labels);
  EXPECT_EQ(gradients_and_buffers(gathered, got.loss_sum), gradients_and_buffers(given, want.loss_sum));
  ASSERT_EQ(gathered_plan.output_copies(1).count, 3);
  expect_copies_match(gathered_plan, 1);
}

// A plan sets the gradients (no zero_grad between steps), with and without the input-BatchNorm
// shortcut; the plain loop and a layer on its own accumulate, as PyTorch's do.
TEST(Plan, SetsTheGradientsThatThePlainLoopAccumulates) {
  for (const char* spec : {"flatten,bn,dense:5:relu,bn,dense:3:softmax", "flatten,dense:5:relu,ln,dense:3:softmax"}) {
    SCOPED_TRACE(spec);
    Sequential m = built(spec, Shape{3, 4});
    Rng rng(2);
    const Tensor x = testing::random_tensor(Shape{8, 3, 4}, rng);
    const int32_t labels[8] = {0, 1, 2, 0, 1, 2, 2, 1};
    TrainingPlan plan(m);
    plan.forward_backward(x, labels);
    std::vector<Tensor> once;
    for (ParamRef& p : m.trainable_params()) once.push_back(*p.grad);
    plan.forward_backward(x, labels);
    std::vector<ParamRef> params = m.trainable_params();
    for (size_t k = 0; k < params.size(); ++k)
      for (int64_t i = 0; i < once[k].numel(); ++i) ASSERT_EQ((*params[k].grad)[i], once[k][i]) << params[k].name;
    Sequential acc = built(spec, Shape{3, 4});
    plain_step(acc, x, labels);
    std::vector<ParamRef> first = acc.trainable_params();
    std::vector<Tensor> one;
    for (ParamRef& p : first) one.push_back(*p.grad);
    acc.forward_backward(x, labels);
    for (size_t k = 0; k < first.size(); ++k)
      for (int64_t i = 0; i < one[k].numel(); ++i)
        ASSERT_NEAR((*first[k].grad)[i], 2 * one[k][i], 1e-5f * std::fabs(one[k][i]) + 1e-9f) << first[k].name;
  }
  Dense d(3);
  Rng rng(3);
  d.build(Shape{4}, rng);
  const Tensor x = testing::random_tensor(Shape{2, 4}, rng), dy = testing::random_tensor(Shape{2, 3}, rng);
  Tensor y;
  d.forward(x, y, Mode::Train);
  d.backward(x, y, dy, nullptr);
  const Tensor first = d.weight_grad;
  d.backward(x, y, dy, nullptr);
  for (int64_t i = 0; i < first.numel(); ++i) EXPECT_FLOAT_EQ(d.weight_grad[i], 2 * first[i]);
}

}  // namespace
}  // namespace bnlab
