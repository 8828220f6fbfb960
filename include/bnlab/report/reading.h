#pragma once
// A short plain-language reading of a run's numbers, computed from them: how fast validation
// accuracy reached a milestone (the highest of 99/98/97/95/90% that every model reached), the best
// validation accuracy and its epoch, the final train/validation gap, whether validation loss rose
// after its minimum, the test accuracy (and its difference between models), and the unscaled-test
// evaluation when present.
#include <optional>
#include <string>
#include <vector>

#include "bnlab/report/run.h"

namespace bnlab::report {

// The first epoch whose val_accuracy >= threshold, if any.
std::optional<int> first_epoch_reaching(const Run& run, double threshold);
// The epoch of the highest val_accuracy (the earliest, on a tie).
const EpochRecord& best_validation_epoch(const Run& run);

// One sentence per string, plain text (not HTML-escaped).
std::vector<std::string> describe(const RunDir& run_dir);

}  // namespace bnlab::report
