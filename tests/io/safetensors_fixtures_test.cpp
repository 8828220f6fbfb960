// The committed fixtures parse with bnlab's reader and hold exactly what tests/fixtures/README.md
// documents: names in file order, dtypes, shapes, and the formulas for initial weights and data.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "bnlab/core/error.h"
#include "bnlab/io/safetensors.h"

namespace bnlab {
namespace {

namespace fs = std::filesystem;

const fs::path kFixtures = fs::path(BNLAB_SOURCE_DIR) / "tests" / "fixtures";

struct Expected {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
};

template <typename T>
std::vector<T> values(const NamedTensor& t) {
  std::vector<T> v(t.bytes.size() / sizeof(T));
  if (!v.empty()) std::memcpy(v.data(), t.bytes.data(), v.size() * sizeof(T));
  return v;
}

void expect_contents(const SafetensorsFile& file, const std::vector<Expected>& expected) {
  ASSERT_EQ(file.tensors.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE(expected[i].name);
    EXPECT_EQ(file.tensors[i].name, expected[i].name);
    EXPECT_EQ(dtype_name(file.tensors[i].dtype), std::string(dtype_name(expected[i].dtype)));
    EXPECT_EQ(file.tensors[i].shape, expected[i].shape);
  }
  EXPECT_EQ(file.metadata.at("generator"), "tests/fixtures/make_fixtures.py");
}

const NamedTensor& get(const SafetensorsFile& file, const std::string& name) {
  const NamedTensor* t = file.find(name);
  if (!t) throw std::runtime_error("fixture has no tensor " + name);
  return *t;
}

std::vector<Expected> batchnorm_group(const std::string& p, bool with_num_batches) {
  const std::vector<int64_t> nc{16, 5}, c{5};
  std::vector<Expected> e{{p + "x1", DType::F32, nc},          {p + "x2", DType::F32, nc},
                          {p + "x3", DType::F32, nc},          {p + "gamma", DType::F32, c},
                          {p + "beta", DType::F32, c},         {p + "dy", DType::F32, nc},
                          {p + "y", DType::F32, nc},           {p + "mean", DType::F32, c},
                          {p + "invstd", DType::F32, c},       {p + "dx", DType::F32, nc},
                          {p + "dgamma", DType::F32, c},       {p + "dbeta", DType::F32, c},
                          {p + "running_mean", DType::F32, c}, {p + "running_var", DType::F32, c}};
  if (with_num_batches) e.push_back({p + "num_batches_tracked", DType::I64, {}});
  e.push_back({p + "eval_y", DType::F32, nc});
  return e;
}

std::vector<Expected> layernorm_group(const std::string& p) {
  const std::vector<int64_t> nc{8, 6}, c{6}, n{8};
  return {{p + "x", DType::F32, nc},   {p + "gamma", DType::F32, c}, {p + "beta", DType::F32, c},
          {p + "dy", DType::F32, nc},  {p + "y", DType::F32, nc},    {p + "mean", DType::F32, n},
          {p + "rstd", DType::F32, n}, {p + "dx", DType::F32, nc},   {p + "dgamma", DType::F32, c},
          {p + "dbeta", DType::F32, c}};
}

std::vector<Expected> layers_contents() {
  std::vector<Expected> e = batchnorm_group("bn_torch.", true);
  for (const char* x : {"x1", "x2", "x3"})
    e.push_back({std::string("bn_torch_cma.") + x, DType::F32, {16, 5}});
  e.push_back({"bn_torch_cma.running_mean", DType::F32, {5}});
  e.push_back({"bn_torch_cma.running_var", DType::F32, {5}});
  e.push_back({"bn_torch_cma.num_batches_tracked", DType::I64, {}});
  for (const Expected& x : batchnorm_group("bn_keras.", false)) e.push_back(x);
  for (const Expected& x : layernorm_group("ln_eps1e-5.")) e.push_back(x);
  for (const Expected& x : layernorm_group("ln_eps1e-3.")) e.push_back(x);
  for (const Expected& x : std::vector<Expected>{{"linear_relu.x", DType::F32, {7, 9}},
                                                 {"linear_relu.weight", DType::F32, {4, 9}},
                                                 {"linear_relu.bias", DType::F32, {4}},
                                                 {"linear_relu.dy", DType::F32, {7, 4}},
                                                 {"linear_relu.z", DType::F32, {7, 4}},
                                                 {"linear_relu.y", DType::F32, {7, 4}},
                                                 {"linear_relu.dx", DType::F32, {7, 9}},
                                                 {"linear_relu.dweight", DType::F32, {4, 9}},
                                                 {"linear_relu.dbias", DType::F32, {4}},
                                                 {"xent.logits", DType::F32, {6, 10}},
                                                 {"xent.labels", DType::I64, {6}},
                                                 {"xent.probs", DType::F32, {6, 10}},
                                                 {"xent.losses", DType::F32, {6}},
                                                 {"xent.loss", DType::F32, {1}},
                                                 {"xent.dlogits", DType::F32, {6, 10}}})
    e.push_back(x);
  return e;
}

// (name, shape) of the trainable parameters in named_parameters() order.
const std::vector<std::pair<std::string, std::vector<int64_t>>> kParameters = {
    {"1.weight", {784}}, {"1.bias", {784}}, {"2.weight", {256, 784}}, {"2.bias", {256}},
    {"4.weight", {256}}, {"4.bias", {256}}, {"5.weight", {128, 256}}, {"5.bias", {128}},
    {"7.weight", {128}}, {"7.bias", {128}}, {"8.weight", {10, 128}},  {"8.bias", {10}}};

std::vector<Expected> mlp_contents() {
  std::vector<Expected> e{{"loss", DType::F32, {10}}, {"accuracy", DType::F32, {10}}};
  for (const auto& [name, shape] : kParameters) {
    e.push_back({name, DType::F32, shape});
    if (name.ends_with(".bias") && (name[0] == '1' || name[0] == '4' || name[0] == '7')) {
      const std::string module = name.substr(0, 1);
      e.push_back({module + ".running_mean", DType::F32, shape});
      e.push_back({module + ".running_var", DType::F32, shape});
      e.push_back({module + ".num_batches_tracked", DType::I64, {}});
    }
  }
  e.push_back({"eval_probs", DType::F32, {64, 10}});
  for (const auto& [name, shape] : kParameters)
    e.push_back({"grad_step0." + name, DType::F32, shape});
  e.push_back({"check.init_2.weight.row0", DType::F32, {784}});
  e.push_back({"check.init_5.weight.row0", DType::F32, {256}});
  e.push_back({"check.init_8.weight.row0", DType::F32, {128}});
  e.push_back({"check.batch0.x", DType::F32, {2, 784}});
  e.push_back({"check.batch0.labels", DType::I64, {64}});
  return e;
}

// The README's formulas, written once more in C++.
float initial_weight(uint64_t t, uint64_t i, int fan_out, int fan_in) {
  const uint64_t h = (i * 2654435761ull + t * 40503ull + 12345ull) % (uint64_t{1} << 32);
  const double u = static_cast<double>(h) / 4294967296.0;
  const double limit = std::sqrt(6.0 / (fan_in + fan_out));
  return static_cast<float>((2.0 * u - 1.0) * limit);
}

float pixel(uint64_t step, uint64_t n, uint64_t k) {
  const uint64_t g = step * 64 + n;
  const uint64_t p = ((g * 784 + k) * 2654435761ull % (uint64_t{1} << 32)) >> 24;
  return static_cast<float>(static_cast<double>(p) / 255.0);
}

int64_t label(uint64_t step, uint64_t n) {
  const uint64_t g = step * 64 + n;
  return static_cast<int64_t>((((g * 2246822519ull) % (uint64_t{1} << 32)) >> 16) % 10);
}

TEST(Fixtures, LayersFileHoldsTheDocumentedTensors) {
  const SafetensorsFile file = read_safetensors(kFixtures / "layers.safetensors");
  expect_contents(file, layers_contents());
  EXPECT_EQ(values<int64_t>(get(file, "bn_torch.num_batches_tracked")), std::vector<int64_t>{3});
  EXPECT_EQ(values<int64_t>(get(file, "bn_torch_cma.num_batches_tracked")),
            std::vector<int64_t>{3});
  EXPECT_EQ(values<int64_t>(get(file, "xent.labels"))[4], 2);
  EXPECT_EQ(values<float>(get(file, "xent.logits"))[4 * 10 + 7], 90.f);
  for (float z : values<float>(get(file, "linear_relu.z"))) EXPECT_GT(std::fabs(z), 1e-3f);
  // Inputs are shared between the groups that say so.
  EXPECT_EQ(get(file, "bn_torch.x1").bytes, get(file, "bn_keras.x1").bytes);
  EXPECT_EQ(get(file, "bn_torch.x3").bytes, get(file, "bn_torch_cma.x3").bytes);
  EXPECT_EQ(get(file, "ln_eps1e-5.x").bytes, get(file, "ln_eps1e-3.x").bytes);
}

class MlpFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(MlpFixture, HoldsTheDocumentedTensors) {
  const SafetensorsFile file =
      read_safetensors(kFixtures / ("mlp_bn_" + GetParam() + ".safetensors"));
  expect_contents(file, mlp_contents());
  for (const char* module : {"1", "4", "7"})
    EXPECT_EQ(values<int64_t>(get(file, std::string(module) + ".num_batches_tracked")),
              std::vector<int64_t>{10});
  for (float a : values<float>(get(file, "accuracy"))) EXPECT_EQ(a * 64, std::round(a * 64));
  const std::vector<float> probs = values<float>(get(file, "eval_probs"));
  for (int n = 0; n < 64; ++n) {
    double sum = 0;
    for (int k = 0; k < 10; ++k) sum += probs[n * 10 + k];
    EXPECT_NEAR(sum, 1.0, 1e-5);
  }
}

TEST_P(MlpFixture, InitialWeightsFollowTheDocumentedFormula) {
  const SafetensorsFile file =
      read_safetensors(kFixtures / ("mlp_bn_" + GetParam() + ".safetensors"));
  const struct {
    const char* name;
    uint64_t t;
    int fan_out, fan_in;
  } layers[] = {{"check.init_2.weight.row0", 0, 256, 784},
                {"check.init_5.weight.row0", 1, 128, 256},
                {"check.init_8.weight.row0", 2, 10, 128}};
  for (const auto& layer : layers) {
    const std::vector<float> row = values<float>(get(file, layer.name));
    for (int i = 0; i < layer.fan_in; ++i)
      ASSERT_EQ(row[i], initial_weight(layer.t, i, layer.fan_out, layer.fan_in))
          << layer.name << "[" << i << "]";
  }
}

TEST_P(MlpFixture, BatchZeroFollowsTheDocumentedFormula) {
  const SafetensorsFile file =
      read_safetensors(kFixtures / ("mlp_bn_" + GetParam() + ".safetensors"));
  const std::vector<float> x = values<float>(get(file, "check.batch0.x"));
  for (int n = 0; n < 2; ++n)
    for (int k = 0; k < 784; ++k) ASSERT_EQ(x[n * 784 + k], pixel(0, n, k)) << n << "," << k;
  const std::vector<int64_t> labels = values<int64_t>(get(file, "check.batch0.labels"));
  for (int n = 0; n < 64; ++n) ASSERT_EQ(labels[n], label(0, n)) << n;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, MlpFixture, ::testing::Values("torch", "keras"));

// Each file in tests/fixtures/corrupt/ (made by make_corrupt.py there) and the message it gives.
TEST(Fixtures, CorruptCorpusIsRejectedWithItsMessage) {
  const std::map<std::string, std::string> expected = {
      {"header_length_past_end.safetensors",
       "header length 4096 exceeds the 136 bytes after the length field"},
      {"bad_json.safetensors", "header is not valid JSON: parse error"},
      {"duplicate_name.safetensors", "duplicate tensor name \"w\""},
      {"overlap.safetensors", "tensors \"w\" and \"b\" overlap (data_offsets [0, 16] and [8, 16])"},
      {"shape_mismatch.safetensors",
       "tensor \"w\": shape [2, 3] of F32 needs 24 bytes but data_offsets [0, 16] hold 16"},
      {"truncated_data.safetensors",
       "tensor \"b\": data_offsets [16, 24] extend past the 20-byte data area"},
      {"metadata_not_string.safetensors",
       "\"__metadata__\" value of \"epochs\" is a number, not a string"},
      {"unknown_dtype.safetensors",
       "tensor \"w\": unknown dtype \"BF16\" (expected F32, F64, I64, I32 or U8)"},
  };
  size_t seen = 0;
  for (const auto& entry : fs::directory_iterator(kFixtures / "corrupt")) {
    if (entry.path().extension() != ".safetensors") continue;
    ++seen;
    const std::string name = entry.path().filename().string();
    SCOPED_TRACE(name);
    ASSERT_TRUE(expected.count(name)) << "no expected message for this corpus file";
    const std::string prefix = entry.path().string() + ": " + expected.at(name);
    try {
      read_safetensors(entry.path());
      ADD_FAILURE() << "read without error";
    } catch (const InputError& e) {
      EXPECT_EQ(std::string(e.what()).substr(0, prefix.size()), prefix) << e.what();
    }
  }
  EXPECT_EQ(seen, expected.size());
}

}  // namespace
}  // namespace bnlab
