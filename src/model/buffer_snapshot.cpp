#include "bnlab/model/buffer_snapshot.h"

namespace bnlab {

BufferSnapshot::BufferSnapshot(Sequential& model) {
  for (StateEntry& e : model.state_dict())
    if (!e.trainable) entries_.push_back(e);
  tensors_.resize(entries_.size());
  counters_.resize(entries_.size());
  save();
}

// A few thousand floats for the notebook's models: cheap next to a training step, and no
// allocation after the first save.
void BufferSnapshot::save() {
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].tensor) tensors_[i] = *entries_[i].tensor;
    if (entries_[i].counter) counters_[i] = *entries_[i].counter;
  }
}

void BufferSnapshot::restore() {
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].tensor) *entries_[i].tensor = tensors_[i];
    if (entries_[i].counter) *entries_[i].counter = counters_[i];
  }
}

}  // namespace bnlab
