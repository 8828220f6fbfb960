#pragma once
// The PyTorch 1.13 fixtures (made by tests/fixtures/make_fixtures.py; their exact contents are in
// tests/fixtures/README.md): reading their tensors, and comparing bnlab's results with them.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "bnlab/core/denormals.h"
#include "bnlab/core/tensor.h"
#include "bnlab/io/safetensors.h"

namespace bnlab::testing {

inline const std::string kFixtures = std::string(BNLAB_SOURCE_DIR) + "/tests/fixtures/";

class Fixture {
 public:
  explicit Fixture(const std::string& file) : file_(read_safetensors(kFixtures + file)) {}
  std::vector<float> f32(const std::string& name) const {
    const NamedTensor& t = get(name);
    EXPECT_EQ(t.dtype, DType::F32) << name;
    std::vector<float> v(t.bytes.size() / 4);
    std::memcpy(v.data(), t.bytes.data(), t.bytes.size());
    return v;
  }
  std::vector<int64_t> i64(const std::string& name) const {
    const NamedTensor& t = get(name);
    std::vector<int64_t> v(t.bytes.size() / 8);
    std::memcpy(v.data(), t.bytes.data(), t.bytes.size());
    return v;
  }
  Tensor tensor(const std::string& name) const {
    const NamedTensor& t = get(name);
    Tensor out(Shape(t.shape));
    std::memcpy(out.data(), t.bytes.data(), t.bytes.size());
    return out;
  }

 private:
  const NamedTensor& get(const std::string& name) const {
    const NamedTensor* t = file_.find(name);
    if (!t) throw std::runtime_error("fixture has no tensor " + name);
    return *t;
  }
  SafetensorsFile file_;
};

inline void expect_close(const float* got, const std::vector<float>& want, double rtol, double atol,
                         const std::string& what) {
  for (size_t i = 0; i < want.size(); ++i)
    ASSERT_NEAR(got[i], want[i], atol + rtol * std::fabs(want[i])) << what << "[" << i << "]";
}
inline void expect_close(const std::vector<float>& got, const std::vector<float>& want, double rtol, double atol,
                         const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  expect_close(got.data(), want, rtol, atol, what);
}
inline std::vector<float> as_vector(const Tensor& t) { return {t.data(), t.data() + t.numel()}; }

// The suite of the tests against the fixtures: they run with subnormal floats kept, IEEE arithmetic,
// as PyTorch kept them when it made the fixtures (make_fixtures.py), whatever bnlab's default.
class TorchFixtures : public ::testing::Test {
 protected:
  void SetUp() override {
    saved_ = denormals();
    set_denormals(Denormals::Keep);
  }
  void TearDown() override { set_denormals(saved_); }

 private:
  Denormals saved_ = Denormals::Flush;
};

// The per-kernel cases' tolerances: 2e-6 relative (+ 1e-6 absolute). Both sides compute in float32
// with different summation orders and fused operations, a few ulps apart.
inline constexpr double kRtol = 2e-6, kAtol = 1e-6;

}  // namespace bnlab::testing
