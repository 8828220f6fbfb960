// Checkpoints of models with BatchNormalization and GroupNormalization on images hold exactly the
// state_dict of the equivalent torch.nn.Sequential (BatchNorm2d, GroupNorm), so PyTorch loads them
// with strict=True: the names, order and shapes of the fixture's model (make_norm2d_fixtures.py),
// its weights giving PyTorch's outputs, and a saved and reloaded checkpoint giving them again.
#include "bnlab/model/checkpoint.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "bnlab/io/safetensors.h"
#include "bnlab/model/spec.h"
#include "support/torch_fixture.h"

namespace bnlab {
namespace {

using testing::as_vector;
using testing::expect_close;
using testing::Fixture;
using testing::kFixtures;
using testing::TorchFixtures;

// The fixture's model: nn.Sequential(BatchNorm2d(4, eps=1e-3), GroupNorm(2, 4), ReLU, Flatten,
// Linear(36, 5), Softmax) on (4, 3, 3) images.
constexpr const char* kSpec = "bn,gn:2,relu,flatten,dense:5:softmax";

// The fixture's "model.<key>" tensors but its input and output, in file order: the torch state_dict.
std::vector<NamedTensor> torch_state_dict() {
  std::vector<NamedTensor> out;
  for (const NamedTensor& t : read_safetensors(kFixtures + "norm2d.safetensors").tensors)
    if (t.name.rfind("model.", 0) == 0 && t.name != "model.x" && t.name != "model.eval_probs") {
      out.push_back(t);
      out.back().name = t.name.substr(6);
    }
  return out;
}

TEST_F(TorchFixtures, ImageNormalisationModelHasTorchsStateDictAndOutputs) {
  Sequential model = make_model(kSpec);
  model.build(Shape{4, 3, 3}, 1);
  const std::vector<NamedTensor> torch = torch_state_dict();
  std::vector<StateEntry> mine = model.state_dict();
  ASSERT_EQ(mine.size(), torch.size());
  for (size_t i = 0; i < mine.size(); ++i) {
    SCOPED_TRACE(torch[i].name);
    ASSERT_EQ(mine[i].key, torch[i].name);
    if (mine[i].counter) {
      ASSERT_EQ(torch[i].dtype, DType::I64);
      std::memcpy(mine[i].counter, torch[i].bytes.data(), sizeof(int64_t));
      continue;
    }
    ASSERT_EQ(mine[i].tensor->shape().dims(), torch[i].shape);
    std::memcpy(mine[i].tensor->data(), torch[i].bytes.data(), torch[i].bytes.size());
  }
  const Fixture f("norm2d.safetensors");
  expect_close(as_vector(model.forward(f.tensor("model.x"), Mode::Eval)), f.f32("model.eval_probs"), 1e-5, 1e-6,
               "eval_probs");

  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("bnlab_norm2d_" + std::to_string(getpid()) + ".safetensors");
  save_checkpoint(path, model, InputStats{}, "synthetic");
  const SafetensorsFile saved = read_safetensors(path);
  ASSERT_EQ(saved.tensors.size(), torch.size());
  for (size_t i = 0; i < torch.size(); ++i) {
    EXPECT_EQ(saved.tensors[i].name, torch[i].name);
    EXPECT_EQ(saved.tensors[i].shape, torch[i].shape);
    EXPECT_EQ(saved.tensors[i].dtype, torch[i].dtype);
  }
  Checkpoint loaded = load_checkpoint(path);
  std::filesystem::remove(path);
  EXPECT_EQ(loaded.model.spec(), kSpec);
  expect_close(as_vector(loaded.model.forward(f.tensor("model.x"), Mode::Eval)), f.f32("model.eval_probs"), 1e-5,
               1e-6, "eval_probs after reloading");
}

}  // namespace
}  // namespace bnlab
