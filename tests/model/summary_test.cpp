// Model summaries: the seed models' parameter counts, and the table as Keras prints it.
#include <gtest/gtest.h>

#include <string>

#include "bnlab/model/sequential.h"
#include "support/models.h"

namespace bnlab {
namespace {

using testing::built;

TEST(Summary, SeedModelsHaveTheNotebooksParameterCounts) {
  Sequential plain = built("mlp", Shape{28, 28});
  EXPECT_EQ(plain.count_params(true), 235146);
  EXPECT_EQ(plain.count_params(false), 0);
  Sequential bn = built("mlp-bn", Shape{28, 28});
  EXPECT_EQ(bn.count_params(true) + bn.count_params(false), 239818);
  EXPECT_EQ(bn.count_params(true), 237482);
  EXPECT_EQ(bn.count_params(false), 2336);
}

TEST(Summary, ReadsLikeKeras) {
  Sequential plain = built("mlp", Shape{28, 28});
  const std::string s = plain.summary("sequential");
  EXPECT_NE(s.find("Model: \"sequential\""), std::string::npos);
  EXPECT_NE(s.find("│ inputLayer (Flatten)            │ (None, 784)            │             0 │"), std::string::npos) << s;
  EXPECT_NE(s.find("│ hiddenLayer1 (Dense)            │ (None, 256)            │       200,960 │"), std::string::npos) << s;
  EXPECT_NE(s.find(" Total params: 235,146 (918.54 KB)"), std::string::npos) << s;
  EXPECT_NE(s.find(" Trainable params: 235,146 (918.54 KB)"), std::string::npos);
  EXPECT_NE(s.find(" Non-trainable params: 0 (0.00 B)"), std::string::npos);
  Sequential bn = built("mlp-bn", Shape{28, 28});
  const std::string t = bn.summary();
  EXPECT_NE(t.find("│ batch_normalization_1           │ (None, 256)            │         1,024 │"), std::string::npos) << t;
  EXPECT_NE(t.find("│ (BatchNormalization)            │                        │               │"), std::string::npos)
      << "a cell too long for its column wraps before the type, as in Keras";
  EXPECT_NE(t.find(" Total params: 239,818 (936.79 KB)"), std::string::npos) << t;
  EXPECT_NE(t.find(" Non-trainable params: 2,336 (9.12 KB)"), std::string::npos) << t;
}

}  // namespace
}  // namespace bnlab
