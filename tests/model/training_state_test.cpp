// Training that stops and resumes: checkpoints between steps, the training state file, stop
// requests and the guard against non-finite losses and gradients.
#include "bnlab/model/training_state.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>

#include "bnlab/core/error.h"
#include "bnlab/io/safetensors.h"
#include "bnlab/layers/dense.h"
#include "bnlab/model/spec.h"

namespace bnlab {
namespace {

namespace fs = std::filesystem;

// BatchNorm (moving statistics, batch count), Dropout (its own generator) and Adam (moments, step
// count): every kind of state a resumed run must restore.
constexpr const char* kSpec = "bn,dense:16:relu,dropout:0.25,bn,dense:3:softmax";

// Three classes from the sign pattern of two of six features, on raw 0..255 inputs.
Dataset synthetic(int n, uint64_t seed) {
  Dataset d;
  d.name = "synthetic";
  d.sample_shape = {6};
  d.num_classes = 3;
  d.divide_by = 1.0;
  Rng rng(seed);
  for (int i = 0; i < n; ++i) {
    uint8_t f[6];
    for (uint8_t& v : f) v = static_cast<uint8_t>(rng.below(256));
    d.pixels.insert(d.pixels.end(), f, f + 6);
    d.labels.push_back(f[0] > f[1] ? 0 : f[2] > 128 ? 1 : 2);
  }
  return d;
}

Sequential model(const char* spec = kSpec) {
  Sequential m = make_model(spec);
  m.build(Shape{6}, 21);
  m.compile(std::make_unique<Adam>());
  return m;
}

FitOptions options(const Dataset& valid) {
  FitOptions o;
  o.epochs = 3;
  o.batch_size = 16;  // 100 samples: 7 steps, the last one short
  o.seed = 5;
  o.validation = &valid;
  return o;
}

std::vector<uint8_t> state_bytes(Sequential& m) {
  std::vector<uint8_t> out;
  auto append = [&](const void* p, size_t n) { out.insert(out.end(), (const uint8_t*)p, (const uint8_t*)p + n); };
  for (StateEntry& e : m.state_dict())
    e.counter ? append(e.counter, 8) : append(e.tensor->data(), e.tensor->numel() * sizeof(float));
  for (auto& [name, t] : m.optimizer()->state()) append(t->data(), t->numel() * sizeof(float));
  append(&m.optimizer()->iterations, 8);
  return out;
}

// Sets the stop flag once `step` steps of `epoch` are done, as a signal handler would.
struct StopAt : TrainingCallback {
  int epoch, current = 0;
  int64_t step;
  std::atomic<bool> flag{false};
  StopAt(int e, int64_t s) : epoch(e), step(s) {}
  void on_epoch_begin(int e, int, int64_t) override { current = e; }
  void on_batch_end(int64_t s, int64_t, double, double) override {
    if (current == epoch && s == step) flag = true;
  }
};

class Resume : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("bnlab_resume_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Trains until the stop request after (epoch, step); returns the saved state's file.
  fs::path stopped_run(int epoch, int64_t step, const char* spec = kSpec) {
    Sequential m = model(spec);
    StopAt stop(epoch, step);
    FitOptions o = options(valid_);
    o.callback = &stop;
    o.stop_requested = &stop.flag;
    const fs::path file = dir_ / "state.safetensors";
    o.checkpoint = [&](const TrainingPosition& p) { save_training_state(file, m, p); };
    EXPECT_THROW(m.fit(train_, o), TrainingStopped);
    return file;
  }

  History resumed_run(const fs::path& file, Sequential& m) {
    const TrainingPosition p = load_training_state(file, m, train_.size(), 16);
    FitOptions o = options(valid_);
    o.resume = &p;
    return m.fit(train_, o);
  }

  fs::path dir_;
  Dataset train_ = synthetic(100, 1), valid_ = synthetic(40, 2);
};

TEST_F(Resume, FromAnyStepEndsBitIdenticalToAnUninterruptedRun) {
  Sequential whole = model();
  const History reference = whole.fit(train_, options(valid_));
  for (const auto& [epoch, step] : {std::pair{1, 1}, {1, 6}, {2, 7}, {3, 6}}) {
    SCOPED_TRACE(::testing::Message() << "stopped after epoch " << epoch << ", step " << step);
    const fs::path file = stopped_run(epoch, step);
    Sequential m = model();
    const History h = resumed_run(file, m);
    EXPECT_EQ(state_bytes(m), state_bytes(whole));
    ASSERT_EQ(h.epochs.size(), reference.epochs.size());
    for (size_t i = 0; i < h.epochs.size(); ++i) {
      EXPECT_EQ(h.epochs[i].loss, reference.epochs[i].loss);
      EXPECT_EQ(h.epochs[i].val_accuracy, reference.epochs[i].val_accuracy);
    }
  }
}

TEST_F(Resume, RestoresTheNoiseLayersGenerator) {
  constexpr const char* kNoisy = "bn,dense:16,bn,noise,relu,dense:3:softmax";
  Sequential whole = model(kNoisy);
  whole.fit(train_, options(valid_));
  const fs::path file = stopped_run(2, 3, kNoisy);
  EXPECT_TRUE(read_safetensors(file).find("noise_rng.3")) << "the noise layer is layer 3";
  Sequential m = model(kNoisy);
  resumed_run(file, m);
  EXPECT_EQ(state_bytes(m), state_bytes(whole)) << "the same draws after the resume as without the stop";
}

TEST_F(Resume, StopRequestCheckpointsTheStepBoundaryAndNamesIt) {
  Sequential m = model();
  StopAt stop(2, 3);
  FitOptions o = options(valid_);
  o.callback = &stop;
  o.stop_requested = &stop.flag;
  std::vector<std::pair<int, int64_t>> saved;
  o.checkpoint = [&](const TrainingPosition& p) { saved.emplace_back(p.epoch, p.step); };
  try {
    m.fit(train_, o);
    FAIL() << "fit did not stop";
  } catch (const TrainingStopped& e) {
    EXPECT_EQ(e.reason, TrainingStopped::Reason::StopRequested);
    EXPECT_STREQ(e.what(), "stopped at epoch 2, step 3 of 7");
  }
  // The end of epoch 1 (saved as the start of epoch 2), then the stop.
  EXPECT_EQ(saved, (std::vector<std::pair<int, int64_t>>{{2, 0}, {2, 3}}));
}

// Poisons one gradient after backward, as an overflow would, and records the model's state at the
// end of the step before and of the poisoned step.
struct PoisonGradient : TrainingCallback {
  int epoch, current = 0;
  int64_t step;
  Sequential& model;
  std::vector<uint8_t> before, after;
  PoisonGradient(Sequential& m, int e, int64_t s) : epoch(e), step(s), model(m) {}
  void on_epoch_begin(int e, int, int64_t) override { current = e; }
  void on_gradients(Sequential& m, int64_t s) override {
    if (current == epoch && s == step)
      dynamic_cast<Dense&>(m.layer(4)).weight_grad[5] = std::numeric_limits<float>::infinity();
  }
  void on_batch_end(int64_t s, int64_t, double, double) override {
    if (current == epoch && s == step - 1) before = state_bytes(model);
    if (current == epoch && s == step) after = state_bytes(model);
  }
};

TEST_F(Resume, NonFiniteGradientStopsNamingEpochStepAndLayerAndKeepsTheLastCheckpoint) {
  Sequential m = model();
  PoisonGradient poison(m, 2, 4);
  FitOptions o = options(valid_);
  o.callback = &poison;
  std::vector<int> saved_epochs;
  o.checkpoint = [&](const TrainingPosition& p) { saved_epochs.push_back(p.epoch); };
  try {
    m.fit(train_, o);
    FAIL() << "fit did not stop";
  } catch (const TrainingStopped& e) {
    EXPECT_EQ(e.reason, TrainingStopped::Reason::NonFinite);
    EXPECT_STREQ(e.what(), "non-finite gradient of layer 'dense_1' (weight) at epoch 2, step 4");
  }
  EXPECT_EQ(saved_epochs, std::vector<int>{2}) << "only the end of epoch 1 was checkpointed";
  EXPECT_EQ(state_bytes(m), poison.before) << "the model must be left as the last good step left it";
}

TEST_F(Resume, NonFiniteLossNamesTheFirstLayerWithANonFiniteOutput) {
  Sequential m = model();
  dynamic_cast<Dense&>(m.layer(4)).bias[1] = std::numeric_limits<float>::infinity();
  try {
    m.fit(train_, options(valid_));
    FAIL() << "fit did not stop";
  } catch (const TrainingStopped& e) {
    EXPECT_STREQ(e.what(), "non-finite loss (NaN), first in the output of layer 'dense_1' at epoch 1, step 1");
  }
}

TEST_F(Resume, SkipBatchLeavesNoTraceOfTheBadBatch) {
  Sequential m = model();
  PoisonGradient poison(m, 2, 4);
  FitOptions o = options(valid_);
  o.callback = &poison;
  o.on_non_finite = NonFinitePolicy::SkipBatch;
  const History h = m.fit(train_, o);
  ASSERT_FALSE(poison.before.empty());
  EXPECT_EQ(poison.after, poison.before) << "weights, BN statistics, batch count and Adam state must be untouched";
  EXPECT_EQ(h.epochs[0].skipped, 0);
  EXPECT_EQ(h.epochs[1].skipped, 1);
  EXPECT_EQ(h.epochs[1].steps, 7);
  EXPECT_EQ(m.optimizer()->iterations, 3 * 7 - 1);
}

// The saved state, edited by `edit`, must be refused with `message` (after "FILE: ").
void expect_refused(const fs::path& file, const Dataset& train, const std::function<void(SafetensorsFile&)>& edit,
                    const std::string& message) {
  SafetensorsFile f = read_safetensors(file);
  edit(f);
  const fs::path broken = file.parent_path() / "broken.safetensors";
  write_safetensors(broken, f);
  Sequential m = model();
  try {
    load_training_state(broken, m, train.size(), 16);
    ADD_FAILURE() << "accepted; expected: " << message;
  } catch (const InputError& e) {
    EXPECT_EQ(e.what(), broken.string() + ": " + message);
  }
}

NamedTensor& tensor(SafetensorsFile& f, const std::string& name) {
  for (NamedTensor& t : f.tensors)
    if (t.name == name) return t;
  throw std::logic_error("no tensor " + name);
}

TEST_F(Resume, LoadingIsStrict) {
  const fs::path file = stopped_run(2, 3);
  expect_refused(file, train_, [](SafetensorsFile& f) { f.metadata["format_version"] = "2"; },
                 "training state format version '2' is not supported (this bnlab reads version 1)");
  expect_refused(file, train_, [](SafetensorsFile& f) { f.metadata["format"] = "bnlab.model"; },
                 "not a bnlab training state (format 'bnlab.model')");
  expect_refused(file, train_, [](SafetensorsFile& f) { f.metadata["optimizer"] = "sgd"; },
                 "saved for optimizer 'sgd', not 'adam'");
  expect_refused(file, train_, [](SafetensorsFile& f) { f.metadata.erase("history"); }, "metadata has no 'history'");
  expect_refused(file, train_, [](SafetensorsFile& f) { f.metadata["position"] = R"({"epoch": 2})"; },
                 "position has no 'step'");
  expect_refused(file, train_, [](SafetensorsFile& f) { f.tensors.pop_back(); }, "tensor 'data.order_rng' is missing");
  expect_refused(file, train_, [](SafetensorsFile& f) { f.tensors.push_back(f.tensors.back()); f.tensors.back().name = "extra"; },
                 "unexpected tensor 'extra'");
  expect_refused(file, train_, [](SafetensorsFile& f) { tensor(f, "optimizer.iterations").bytes.assign(8, 0xff); },
                 "tensor 'optimizer.iterations' is negative (-1)");
  expect_refused(file, train_, [](SafetensorsFile& f) { tensor(f, "dropout_rng.2").bytes.assign(32, 0); },
                 "tensor 'dropout_rng.2' is the all-zero generator state");
  expect_refused(file, train_,
                 [](SafetensorsFile& f) {
                   NamedTensor& t = tensor(f, "model.1.weight");
                   t.shape = {8, 12};
                 },
                 "tensor 'model.1.weight' is F32 [8,12], expected F32 [16,6]");
  Sequential m = model();
  try {
    load_training_state(file, m, 99, 16);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(e.what(), file.string() + ": saved for a training set of [100] samples, this one has 99");
  }
}

}  // namespace
}  // namespace bnlab
