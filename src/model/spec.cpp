#include "bnlab/model/spec.h"

#include <fmt/format.h>

#include <charconv>
#include <map>
#include <optional>
#include <tuple>

#include "bnlab/core/error.h"
#include "bnlab/layers/basic.h"
#include "bnlab/layers/batchnorm.h"
#include "bnlab/layers/conv2d.h"
#include "bnlab/layers/dense.h"
#include "bnlab/layers/groupnorm.h"
#include "bnlab/layers/layernorm.h"
#include "bnlab/layers/pooling.h"
#include "bnlab/layers/noise.h"

namespace bnlab {
namespace {

const std::map<std::string, std::string>& presets() {
  // The notebook's models: layer names as in create_model_without_bn(); BN after Flatten
  // and after each hidden Dense as in create_model_with_bn().
  static const std::map<std::string, std::string> p = {
      {"mlp", "flatten@inputLayer,dense:256:relu@hiddenLayer1,dense:128:relu@hiddenLayer2,dense:10:softmax@outputLayer"},
      {"mlp-bn", "flatten,bn,dense:256:relu,bn,dense:128:relu,bn,dense:10:softmax"},
      // Keras' mnist_convnet example, and the same with BatchNormalization between each
      // convolution (bias kept, as in "the same" model) and its ReLU.
      {"cnn", "conv:32:3:relu,maxpool:2,conv:64:3:relu,maxpool:2,flatten,dropout:0.5,dense:10:softmax"},
      {"cnn-bn", "conv:32:3,bn,relu,maxpool:2,conv:64:3,bn,relu,maxpool:2,flatten,dropout:0.5,dense:10:softmax"},
  };
  return p;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    const size_t end = s.find(sep, start);
    out.push_back(s.substr(start, end - start));
    if (end == std::string::npos) return out;
    start = end + 1;
  }
}

struct TokenContext {
  std::string token;
  size_t position;  // 1-based
  [[noreturn]] void fail(const std::string& what) const {
    throw InputError(fmt::format("model spec: layer {} '{}': {}", position, token, what));
  }
  double number(const std::string& text, const std::string& what) const {
    double v = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || ptr != text.data() + text.size()) fail(fmt::format("{} '{}' is not a number", what, text));
    return v;
  }
  bool flag(const std::string& text, const std::string& what) const {
    if (text == "1" || text == "true") return true;
    if (text == "0" || text == "false") return false;
    fail(fmt::format("{} must be 0 or 1, got '{}'", what, text));
  }
};

// A token's option: "key=value" -> {key, value}; a bare word -> {word, ""}.
std::pair<std::string, std::string> key_value(const std::string& p) {
  const size_t eq = p.find('=');
  return {p.substr(0, eq), eq == std::string::npos ? "" : p.substr(eq + 1)};
}

// eps=, center=, scale=: the options of every normalisation layer with a per-channel gamma and beta.
// Sets the one named in o and returns true, or returns false for any other key.
template <class Options>
bool norm_option(const std::string& key, const std::string& value, Options& o, const TokenContext& ctx) {
  if (key == "eps")
    o.eps = static_cast<float>(ctx.number(value, "eps"));
  else if (key == "center")
    o.center = ctx.flag(value, "center");
  else if (key == "scale")
    o.scale = ctx.flag(value, "scale");
  else
    return false;
  return true;
}

Activation parse_activation(const std::string& s, const TokenContext& ctx) {
  static const std::map<std::string, Activation> names = {{"linear", Activation::Linear},   {"relu", Activation::ReLU},
                                                          {"sigmoid", Activation::Sigmoid}, {"tanh", Activation::Tanh},
                                                          {"softmax", Activation::Softmax}};
  const auto it = names.find(s);
  if (it == names.end()) ctx.fail(fmt::format("unknown activation '{}' (linear, relu, sigmoid, tanh, softmax)", s));
  return it->second;
}

std::unique_ptr<Layer> parse_dense(const std::vector<std::string>& parts, const TokenContext& ctx) {
  if (parts.size() < 2) ctx.fail("dense needs a unit count, e.g. dense:128:relu");
  const double units = ctx.number(parts[1], "units");
  if (units < 1 || units > (1 << 24) || units != static_cast<int>(units)) ctx.fail("units must be a whole number from 1 to 16777216");
  Activation act = Activation::Linear;
  bool use_bias = true;
  for (size_t i = 2; i < parts.size(); ++i) {
    if (parts[i] == "nobias")
      use_bias = false;
    else
      act = parse_activation(parts[i], ctx);
  }
  return std::make_unique<Dense>(static_cast<int>(units), act, use_bias);
}

// "3" -> 3 x 3, "3x5" -> 3 x 5: whole numbers from 1 to `most`.
std::pair<int, int> parse_size(const std::string& text, const std::string& what, int most, const TokenContext& ctx) {
  const size_t x = text.find('x');
  const std::string a = text.substr(0, x), b = x == std::string::npos ? a : text.substr(x + 1);
  auto whole = [&](const std::string& t) {
    const double v = ctx.number(t, what);
    if (v < 1 || v > most || v != static_cast<int>(v)) ctx.fail(fmt::format("{} must be a whole number from 1 to {}, got '{}'", what, most, t));
    return static_cast<int>(v);
  };
  return {whole(a), whole(b)};
}

constexpr int kMaxWindow = 4096;  // kernel, pool and stride sizes

std::unique_ptr<Layer> parse_conv(const std::vector<std::string>& parts, const TokenContext& ctx) {
  if (parts.size() < 3) ctx.fail("conv needs a filter count and a kernel size, e.g. conv:32:3:relu");
  const int filters = parse_size(parts[1], "filters", 1 << 16, ctx).first;
  if (parts[1].find('x') != std::string::npos) ctx.fail("filters must be one whole number");
  Conv2DOptions o;
  std::tie(o.kernel_h, o.kernel_w) = parse_size(parts[2], "kernel size", kMaxWindow, ctx);
  for (size_t i = 3; i < parts.size(); ++i) {
    const std::string& p = parts[i];
    const auto [key, value] = key_value(p);
    const bool has_value = p.find('=') != std::string::npos;
    if (p == "same")
      o.padding = Padding::Same;
    else if (p == "valid")
      o.padding = Padding::Valid;
    else if (key == "stride" && has_value)
      std::tie(o.stride_h, o.stride_w) = parse_size(value, "stride", kMaxWindow, ctx);
    else if (p == "nobias")
      o.use_bias = false;
    else if (key == "bias" && has_value)
      o.use_bias = ctx.flag(value, "bias");
    else if (p == "linear" || p == "relu" || p == "sigmoid" || p == "tanh")
      o.activation = parse_activation(p, ctx);
    else
      ctx.fail(fmt::format("unknown conv option '{}' (relu, sigmoid, tanh, linear, same, valid, stride=S, nobias)", p));
  }
  return std::make_unique<Conv2D>(filters, o);
}

template <class Pool>
std::unique_ptr<Layer> parse_pool(const std::vector<std::string>& parts, const TokenContext& ctx) {
  if (parts.size() < 2) ctx.fail(fmt::format("{} needs a pool size, e.g. {}:2", parts[0], parts[0]));
  Pool2DOptions o;
  std::tie(o.pool_h, o.pool_w) = parse_size(parts[1], "pool size", kMaxWindow, ctx);
  for (size_t i = 2; i < parts.size(); ++i) {
    const std::string& p = parts[i];
    if (p.rfind("stride=", 0) == 0)
      std::tie(o.stride_h, o.stride_w) = parse_size(p.substr(7), "stride", kMaxWindow, ctx);
    else
      ctx.fail(fmt::format("unknown {} option '{}' (stride=S)", parts[0], p));
  }
  return std::make_unique<Pool>(o);
}

std::unique_ptr<Layer> parse_bn(const std::vector<std::string>& parts, const TokenContext& ctx) {
  BatchNormOptions o = BatchNormOptions::keras();
  bool renorm = false;
  std::optional<float> rmax, dmax;
  for (size_t i = 1; i < parts.size(); ++i) {
    const std::string& p = parts[i];
    const auto [key, value] = key_value(p);
    if (p == "keras")
      o = BatchNormOptions::keras();
    else if (p == "torch")
      o = BatchNormOptions::torch();
    else if (key == "momentum" && value == "none")
      o.momentum.reset();
    else if (key == "momentum")
      o.momentum = ctx.number(value, "momentum");
    else if (p == "renorm")
      renorm = true;
    else if (key == "rmax")
      rmax = static_cast<float>(ctx.number(value, "rmax"));
    else if (key == "dmax")
      dmax = static_cast<float>(ctx.number(value, "dmax"));
    else if (!norm_option(key, value, o, ctx))
      ctx.fail(fmt::format("unknown bn option '{}' (keras, torch, momentum=, eps=, center=, scale=, renorm, rmax=, dmax=)", p));
  }
  if ((rmax || dmax) && !renorm) ctx.fail("rmax and dmax are options of renorm, e.g. bn:renorm:rmax=3:dmax=5");
  o.renorm = renorm;
  o.rmax = rmax.value_or(o.rmax);
  o.dmax = dmax.value_or(o.dmax);
  return std::make_unique<BatchNormalization>(o);
}

// LayerNorm's and GroupNorm's options, parts[first..]: norm_option's only.
template <class Options>
void parse_norm_options(const std::vector<std::string>& parts, size_t first, Options& o, const TokenContext& ctx) {
  for (size_t i = first; i < parts.size(); ++i) {
    const auto [key, value] = key_value(parts[i]);
    if (!norm_option(key, value, o, ctx))
      ctx.fail(fmt::format("unknown {} option '{}' (eps=, center=, scale=)", parts[0], parts[i]));
  }
}

std::unique_ptr<Layer> parse_ln(const std::vector<std::string>& parts, const TokenContext& ctx) {
  LayerNormOptions o;
  parse_norm_options(parts, 1, o, ctx);
  return std::make_unique<LayerNormalization>(o);
}

std::unique_ptr<Layer> parse_gn(const std::vector<std::string>& parts, const TokenContext& ctx) {
  if (parts.size() < 2) ctx.fail("gn needs a group count, e.g. gn:8");
  const double groups = ctx.number(parts[1], "groups");
  if (groups < 1 || groups > (1 << 24) || groups != static_cast<int>(groups))
    ctx.fail("groups must be a whole number from 1 to 16777216");
  GroupNormOptions o;
  o.groups = static_cast<int>(groups);
  parse_norm_options(parts, 2, o, ctx);
  return std::make_unique<GroupNormalization>(o);
}

std::unique_ptr<Layer> parse_noise(const std::vector<std::string>& parts, const TokenContext& ctx) {
  ShiftScaleNoiseOptions o;
  for (size_t i = 1; i < parts.size(); ++i) {
    const std::string& p = parts[i];
    const auto [key, value] = key_value(p);
    if (key == "shift")
      o.shift = static_cast<float>(ctx.number(value, "shift"));
    else if (key == "scale")
      o.scale = static_cast<float>(ctx.number(value, "scale"));
    else
      ctx.fail(fmt::format("unknown noise option '{}' (shift=, scale=)", p));
  }
  return std::make_unique<ShiftScaleNoise>(o);
}

std::unique_ptr<Layer> parse_layer(const std::string& token, size_t position) {
  TokenContext ctx{token, position};
  const size_t at = token.find('@');
  const std::string body = token.substr(0, at);
  const std::vector<std::string> parts = split(body, ':');
  const std::string& kind = parts[0];
  std::unique_ptr<Layer> layer;
  try {
    if (kind == "flatten" && parts.size() == 1)
      layer = std::make_unique<Flatten>();
    else if (kind == "dense")
      layer = parse_dense(parts, ctx);
    else if (kind == "conv")
      layer = parse_conv(parts, ctx);
    else if (kind == "maxpool")
      layer = parse_pool<MaxPooling2D>(parts, ctx);
    else if (kind == "avgpool")
      layer = parse_pool<AveragePooling2D>(parts, ctx);
    else if (kind == "gap" && parts.size() == 1)
      layer = std::make_unique<GlobalAveragePooling2D>();
    else if (kind == "bn")
      layer = parse_bn(parts, ctx);
    else if (kind == "ln")
      layer = parse_ln(parts, ctx);
    else if (kind == "gn")
      layer = parse_gn(parts, ctx);
    else if (kind == "noise")
      layer = parse_noise(parts, ctx);
    else if (kind == "dropout" && parts.size() == 2)
      layer = std::make_unique<Dropout>(static_cast<float>(ctx.number(parts[1], "rate")));
    else if ((kind == "relu" || kind == "sigmoid" || kind == "tanh" || kind == "softmax") && parts.size() == 1)
      layer = std::make_unique<ActivationLayer>(parse_activation(kind, ctx));
    else if (kind.empty())
      ctx.fail("empty layer");
    else
      ctx.fail("unknown layer (flatten, dense:N[:act], conv:F:K[:opts], maxpool:P, avgpool:P, gap, bn[:opts], "
               "ln[:opts], gn:G[:opts], dropout:R, noise[:opts], relu, sigmoid, tanh, softmax)");
  } catch (const InputError& e) {
    const std::string what = e.what();
    if (what.rfind("model spec:", 0) == 0) throw;
    ctx.fail(what);
  }
  if (at != std::string::npos) {
    layer->name = token.substr(at + 1);
    if (layer->name.empty()) ctx.fail("empty name after '@'");
  }
  return layer;
}

}  // namespace

std::string resolve_model_spec(const std::string& name_or_spec) {
  const auto it = presets().find(name_or_spec);
  return it == presets().end() ? name_or_spec : it->second;
}

std::vector<std::unique_ptr<Layer>> parse_model_spec(const std::string& name_or_spec) {
  const std::string spec = resolve_model_spec(name_or_spec);
  if (spec.empty()) throw InputError("model spec: empty (use mlp, mlp-bn, cnn, cnn-bn or e.g. flatten,dense:10:softmax)");
  std::vector<std::unique_ptr<Layer>> layers;
  const std::vector<std::string> tokens = split(spec, ',');
  for (size_t i = 0; i < tokens.size(); ++i) layers.push_back(parse_layer(tokens[i], i + 1));
  return layers;
}

Sequential make_model(const std::string& name_or_spec) { return Sequential(parse_model_spec(name_or_spec)); }

}  // namespace bnlab
