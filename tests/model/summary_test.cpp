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

// Keras' mnist_convnet example: its parameter count and output shapes, shown channels last as Keras
// shows them, with the note that says so.
TEST(Summary, ConvNetAsKerasPrintsIt) {
  Sequential cnn = built("cnn", Shape{28, 28});
  const std::string s = cnn.summary();
  EXPECT_NE(s.find("│ conv2d (Conv2D)                 │ (None, 26, 26, 32)     │           320 │"), std::string::npos) << s;
  EXPECT_NE(s.find("│ max_pooling2d (MaxPooling2D)    │ (None, 13, 13, 32)     │             0 │"), std::string::npos) << s;
  EXPECT_NE(s.find("│ conv2d_1 (Conv2D)               │ (None, 11, 11, 64)     │        18,496 │"), std::string::npos) << s;
  EXPECT_NE(s.find("│ max_pooling2d_1 (MaxPooling2D)  │ (None, 5, 5, 64)       │             0 │"), std::string::npos) << s;
  EXPECT_NE(s.find("│ flatten (Flatten)               │ (None, 1600)           │             0 │"), std::string::npos) << s;
  EXPECT_NE(s.find("│ dropout (Dropout)               │ (None, 1600)           │             0 │"), std::string::npos) << s;
  EXPECT_NE(s.find("│ dense (Dense)                   │ (None, 10)             │        16,010 │"), std::string::npos) << s;
  EXPECT_NE(s.find(" Total params: 34,826 (136.04 KB)"), std::string::npos) << s;
  EXPECT_NE(s.find("(None, H, W, C); bnlab holds them (N, C, H, W)"), std::string::npos) << s;
  EXPECT_EQ(built("mlp", Shape{28, 28}).summary().find("(None, H, W, C)"), std::string::npos);
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
