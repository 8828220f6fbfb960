// Model specs: the presets (the MLPs and the conv nets), round trips, the conv and pooling grammar,
// Batch Renormalization's options and errors naming the token.
#include "bnlab/model/spec.h"

#include <gtest/gtest.h>

#include <string>

#include "bnlab/core/error.h"

namespace bnlab {
namespace {

TEST(Spec, PresetsAndRoundTrip) {
  EXPECT_EQ(make_model("mlp-bn").spec(), "flatten,bn,dense:256:relu,bn,dense:128:relu,bn,dense:10:softmax");
  const std::string spec = "flatten,bn:torch:momentum=none,ln:eps=1e-05,dropout:0.5,dense:7:tanh:nobias,relu,dense:3";
  EXPECT_EQ(make_model(spec).spec(), spec);
}

TEST(Spec, ErrorsNameTheToken) {
  auto message = [](const std::string& spec) {
    try {
      make_model(spec);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message("flatten,lstm:3"), "model spec: layer 2 'lstm:3': unknown layer (flatten, dense:N[:act], conv:F:K[:opts], maxpool:P, avgpool:P, gap, bn[:opts], ln[:opts], gn:G[:opts], dropout:R, noise[:opts], relu, sigmoid, tanh, softmax)");
  EXPECT_EQ(message("dense:abc"), "model spec: layer 1 'dense:abc': units 'abc' is not a number");
  EXPECT_EQ(message("dense:0"), "model spec: layer 1 'dense:0': units must be a whole number from 1 to 16777216");
  EXPECT_EQ(message("dense:4:swish"), "model spec: layer 1 'dense:4:swish': unknown activation 'swish' (linear, relu, sigmoid, tanh, softmax)");
  EXPECT_EQ(message("bn:momentum=2"), "model spec: layer 1 'bn:momentum=2': bn: momentum must be in [0, 1], got 2");
  EXPECT_EQ(message("dropout:1.5"), "model spec: layer 1 'dropout:1.5': dropout: rate must be in [0, 1), got 1.5");
  EXPECT_EQ(message("flatten,,dense:3"), "model spec: layer 2 '': empty layer");
  EXPECT_EQ(message(""), "model spec: empty (use mlp, mlp-bn, cnn, cnn-bn or e.g. flatten,dense:10:softmax)");
  Sequential m = make_model("dense:3");
  EXPECT_THROW(m.build(Shape{28, 28}, 1), InputError);
}

TEST(GroupNorm, SpecSyntaxRoundTripsAndRejectsMistakes) {
  EXPECT_EQ(make_model("gn:8").spec(), "gn:8");
  EXPECT_EQ(make_model("gn:2:scale=0:eps=0.001").spec(), "gn:2:eps=0.001:scale=0");
  auto message = [](const std::string& spec) {
    try {
      make_model(spec);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message("gn"), "model spec: layer 1 'gn': gn needs a group count, e.g. gn:8");
  EXPECT_EQ(message("gn:0"), "model spec: layer 1 'gn:0': groups must be a whole number from 1 to 16777216");
  EXPECT_EQ(message("gn:2:momentum=1"), "model spec: layer 1 'gn:2:momentum=1': unknown gn option 'momentum=1' (eps=, center=, scale=)");
  EXPECT_EQ(message("gn:2:eps=-1"), "model spec: layer 1 'gn:2:eps=-1': gn: eps must be positive, got -1");
  Sequential m = make_model("gn:4,flatten,dense:3:softmax");
  EXPECT_THROW(m.build(Shape{6, 5, 5}, 1), InputError);
  Sequential images = make_model("bn,gn:3,flatten,dense:3:softmax");
  EXPECT_NO_THROW(images.build(Shape{6, 5, 5}, 1));
}

TEST(BatchRenorm, SpecSyntaxRoundTripsAndRejectsMistakes) {
  EXPECT_EQ(make_model("flatten,bn:renorm,dense:10:softmax").spec(), "flatten,bn:renorm,dense:10:softmax");
  EXPECT_EQ(make_model("bn:renorm:rmax=2:dmax=1").spec(), "bn:renorm:rmax=2:dmax=1");
  EXPECT_EQ(make_model("bn:dmax=1:torch:renorm").spec(), "bn:torch:renorm:dmax=1");
  EXPECT_THROW(make_model("bn:rmax=2"), InputError);
  EXPECT_THROW(make_model("bn:renorm:rmax=0.5"), InputError);
  EXPECT_THROW(make_model("bn:renorm:dmax=-1"), InputError);
  EXPECT_THROW(make_model("bn:renorm:rmax=x"), InputError);
}

TEST(Noise, SpecSyntaxRoundTripsAndRejectsMistakes) {
  EXPECT_EQ(make_model("flatten,bn,noise,dense:3").spec(), "flatten,bn,noise:shift=1:scale=2,dense:3");
  EXPECT_EQ(make_model("noise:scale=3:shift=0.5").spec(), "noise:shift=0.5:scale=3");
  EXPECT_THROW(make_model("noise:scale=0.5"), InputError);
  EXPECT_THROW(make_model("noise:shift=-1"), InputError);
  EXPECT_THROW(make_model("noise:mean=1"), InputError);
}

}  // namespace
}  // namespace bnlab

namespace bnlab {
namespace {

TEST(ConvSpec, PresetsAndRoundTrip) {
  EXPECT_EQ(make_model("cnn").spec(),
            "conv:32:3:relu,maxpool:2,conv:64:3:relu,maxpool:2,flatten,dropout:0.5,dense:10:softmax");
  EXPECT_EQ(make_model("cnn-bn").spec(),
            "conv:32:3,bn,relu,maxpool:2,conv:64:3,bn,relu,maxpool:2,flatten,dropout:0.5,dense:10:softmax");
  const std::string spec = "conv:8:3x5:tanh:same:stride=2:nobias,avgpool:3:stride=1,conv:4:1,maxpool:2x1,gap,dense:3";
  EXPECT_EQ(make_model(spec).spec(), spec);
  // Options in any order; valid, stride 1 and bias=1 are the defaults and not written back.
  EXPECT_EQ(make_model("conv:8:3:stride=1:valid:bias=1:relu").spec(), "conv:8:3:relu");
  EXPECT_EQ(make_model("conv:8:3:bias=0:same").spec(), "conv:8:3:same:nobias");
}

TEST(ConvSpec, ErrorsNameTheToken) {
  auto message = [](const std::string& spec) {
    try {
      make_model(spec);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message("conv:32"), "model spec: layer 1 'conv:32': conv needs a filter count and a kernel size, e.g. conv:32:3:relu");
  EXPECT_EQ(message("conv:32:0"), "model spec: layer 1 'conv:32:0': kernel size must be a whole number from 1 to 4096, got '0'");
  EXPECT_EQ(message("conv:4x4:3"), "model spec: layer 1 'conv:4x4:3': filters must be one whole number");
  EXPECT_EQ(message("conv:8:3:full"), "model spec: layer 1 'conv:8:3:full': unknown conv option 'full' (relu, sigmoid, tanh, linear, same, valid, stride=S, nobias)");
  EXPECT_EQ(message("conv:8:3:bias=2"), "model spec: layer 1 'conv:8:3:bias=2': bias must be 0 or 1, got '2'");
  EXPECT_EQ(message("maxpool"), "model spec: layer 1 'maxpool': maxpool needs a pool size, e.g. maxpool:2");
  EXPECT_EQ(message("avgpool:2:same"), "model spec: layer 1 'avgpool:2:same': unknown avgpool option 'same' (stride=S)");
  EXPECT_TRUE(message("gap:2").starts_with("model spec: layer 1 'gap:2': unknown layer (")) << message("gap:2");
}

}  // namespace
}  // namespace bnlab
