#pragma once
// The model's non-trainable state (moving statistics, batch counters), saved and put back: so that
// a batch fit refuses leaves no trace in it, and a measurement may run training-mode forwards
// without changing the model. Holds pointers into the model, which must outlive it.
#include <cstdint>
#include <vector>

#include "bnlab/model/sequential.h"

namespace bnlab {

class BufferSnapshot {
 public:
  explicit BufferSnapshot(Sequential& model);  // saves
  void save();
  void restore();

 private:
  std::vector<StateEntry> entries_;  // the non-trainable ones
  std::vector<Tensor> tensors_;
  std::vector<int64_t> counters_;
};

}  // namespace bnlab
