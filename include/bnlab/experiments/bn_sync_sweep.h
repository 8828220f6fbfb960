#pragma once
// bnlab sweep bn-sync: data-parallel training with small per-rank batches, where BatchNorm's batch
// dependence is sharpest. N ranks train one model on shards of each global batch of N x b images
// (FitOptions::ranks), at per-rank batches b of 2 to 32, in three variants:
//   bn global  BatchNorm with the statistics of the whole global batch (--bn-sync global)
//   bn local   BatchNorm with each rank's shard alone (--bn-sync local: DistributedDataParallel
//              without SyncBatchNorm)
//   control    the same net with a batch-independent normalisation in BatchNorm's place:
//              LayerNorm for mlp-bn, GroupNorm for cnn-bn
// Per cell (model, variant, b), over seeds: the test accuracy in inference mode (moving
// statistics), the train/inference mismatch, and the wall time per training step. A verdict per
// model by a rule stated in advance (bn_sync_rule).
//
// The mismatch: on the first mismatch_size training images, the accuracy with every BatchNorm
// normalising each batch by its own statistics, in batches of the rows the variant normalised
// over in training (N x b for bn global, b for bn local and the control), minus the accuracy in
// inference mode. Positive: the model is better with the batch statistics it was trained with
// than with its moving statistics. The control has no batch statistics: its mismatch is 0.
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bnlab/data/dataset.h"
#include "bnlab/experiments/claims.h"

namespace bnlab {
class Communicator;
}

namespace bnlab::experiments {

// The ranks the sweep trains on: the processes of an MPI launch, each holding one rank, or N
// threads of this process (ThreadGroup), one rank each on one thread.
struct SweepRanks {
  int size = 1;
  bool emulated = true;  // threads of one process, not processes
  // Calls rank_fn(r, communicator) for every rank this process holds: all of them, side by side on
  // threads (emulated), or its own. Returns when they have all returned; rethrows the first failure.
  // Emulated ranks cannot abort one another: a rank that fails alone leaves the others waiting in
  // their next collective, so the sweep's ranks fail only alike (bad settings, which every rank
  // meets at the same point; whole global batches, so that no shard is short of rows).
  std::function<void(const std::function<void(int, Communicator&)>& rank_fn)> run;
  int lead_rank = 0;  // the rank of this process that measures and reports (rank 0)
};
SweepRanks emulated_ranks(int n);
SweepRanks process_ranks(Communicator& world);  // world.size() processes; this one is world.rank()

enum class SyncVariant { Global, Local, Control };
const char* variant_name(SyncVariant v);  // "bn global", "bn local", "control"

struct BnSyncConfig {
  std::vector<std::string> models = {"mlp-bn"};  // mlp-bn, cnn-bn
  std::vector<int> per_rank_batches = {2, 4, 8, 16, 32};
  int seeds = 2;
  // Training steps in every cell, so that the moving statistics (momentum 0.99: 0.99^600 = 0.2%
  // of their start left) have had the same updates at every batch. The data are cycled in
  // shuffled epochs.
  int64_t steps = 600;
  int64_t train_size = 0;        // first training images (0: all), cut to whole global batches per cell
  int64_t mismatch_size = 2000;  // first training images of the mismatch
  int64_t test_size = 0;         // first test images (0: all)
  double lr = 1e-3;              // Adam
  // The rule: at the smallest per-rank batch global BN's test accuracy beats local BN's by at
  // least min_gain, and its mismatch is smaller; at the largest they agree within max_gap.
  double min_gain = 0.01;
  double max_gap = 0.01;
};

// The net a variant trains: the model's spec with BatchNorm as is (global, local) or replaced by
// LayerNorm (mlp-bn) or GroupNorm (cnn-bn). cnn-bn is the preset without its Dropout, so that a
// training-mode forward differs from inference only by BatchNorm. Throws InputError for another model.
std::string variant_spec(const std::string& model, SyncVariant v);
// "layernorm" or "groupnorm": what the control of model uses.
std::string control_name(const std::string& model);

struct BnSyncCell {
  std::string model;
  SyncVariant variant = SyncVariant::Global;
  int per_rank_batch = 0, global_batch = 0;
  int64_t steps = 0;  // per seed; steps * global_batch / training images = epochs
  int64_t train_images = 0;
  Spread test_accuracy, mismatch, seconds_per_step;
  int diverged = 0;  // seeds stopped by a non-finite loss (their accuracy NaN)
};

struct BnSyncResult {
  int ranks = 0;
  bool emulated = true;
  std::string rule;
  std::vector<BnSyncCell> cells;  // per model, per per-rank batch ascending: global, local, control
  std::vector<std::pair<std::string, Judgement>> verdicts;  // per model
  std::vector<NamedChart> charts;
  double seconds = 0.0;
};

// Every rank of `ranks` calls this with the same arguments; the cells' figures are measured by the
// lead rank (the others' results hold no figures). log: the lead rank's progress lines.
BnSyncResult run_bn_sync_sweep(const BnSyncConfig& c, const SweepRanks& ranks, const Dataset& train,
                               const Dataset& test, const Log& log);

// The rule, in words, with the config's thresholds.
std::string bn_sync_rule(const BnSyncConfig& c);
// The rule's three tests on the cells of one model: supported when all hold, mixed when some.
Judgement judge_bn_sync(const BnSyncConfig& c, const std::vector<BnSyncCell>& cells, const std::string& model);

nlohmann::json bn_sync_json(const BnSyncConfig& c, const BnSyncResult& r);
// One row per cell.
std::string bn_sync_csv(const BnSyncResult& r);
// The cells as a Markdown table, per model: per-rank batch, then each variant's test accuracy,
// mismatch and ms per step.
std::string bn_sync_table_markdown(const BnSyncResult& r);

}  // namespace bnlab::experiments
