#pragma once
// Compact text specs for models: comma-separated layer tokens, options after colons, an optional
// "@name" suffix giving the layer's name.
//   flatten
//   dense:UNITS[:relu|sigmoid|tanh|softmax|linear][:nobias]
//   bn[:keras|torch][:momentum=M|none][:eps=E][:center=0][:scale=0][:renorm[:rmax=R][:dmax=D]]
//   ln[:eps=E][:center=0][:scale=0]
//   gn:GROUPS[:eps=E][:center=0][:scale=0]
//   conv:FILTERS:K[:relu|sigmoid|tanh|linear][:valid|same][:stride=S][:nobias]   K, S: 3 or 3x5 (height x width)
//   maxpool:P[:stride=S] | avgpool:P[:stride=S]                                   stride: P unless given
//   gap
//   dropout:RATE
//   noise[:shift=M][:scale=S]   (layers/noise.h: a per-unit scale and shift drawn at every training step)
//   relu | sigmoid | tanh | softmax
// Presets: "mlp" and "mlp-bn", exactly the notebook's two models; "cnn", Keras' mnist_convnet
// example, and "cnn-bn", the same with bn between each convolution and its relu.
#include <memory>
#include <string>
#include <vector>

#include "bnlab/model/sequential.h"

namespace bnlab {

// "mlp" -> its spec; any other string is returned as is.
std::string resolve_model_spec(const std::string& name_or_spec);
// Parses a spec (or preset name). Throws InputError naming the token and what is wrong.
std::vector<std::unique_ptr<Layer>> parse_model_spec(const std::string& name_or_spec);
Sequential make_model(const std::string& name_or_spec);

}  // namespace bnlab
