#pragma once
// The bnlab subcommands. Each returns the process exit code; bad input throws InputError (exit 2).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bnlab::cli {

struct DataOptions {
  std::string dataset = "mnist";  // a known name, or an .npz file or IDX folder of the user's own
  std::optional<std::string> data_dir;
  std::string channels = "auto";  // which axis of rank-4 images holds channels (bnlab/data/user_data.h)
  std::optional<int64_t> valid;   // validation images (default: 5000, or 10% of a smaller training set of one's own)
};

struct TrainOptions {
  std::string model = "mlp";
  std::optional<int> epochs, batch_size;  // unset: the notebook's values for mlp / mlp-bn, else 1 and 32
  double lr = 1e-3;
  std::string optimizer = "adam";
  double momentum = 0.0;  // SGD
  uint64_t seed = 1;
  int threads = 0;  // 0: one per core
  DataOptions data;
  std::string out;
  std::optional<std::string> init_from;
  int64_t max_steps = -1;
  bool no_shuffle = false;
  bool json = false;
  int64_t subset = 0;  // train on the first N training images only (0: all)
  std::optional<std::string> resume;  // continue this run directory with its saved settings
  std::optional<std::string> on_nan;  // stop (default) or skip-batch
  std::optional<std::string> denormals;  // given on the command line (a resumed run keeps its own)
  std::string bn_sync = "global";        // BatchNorm across the processes of mpirun: global or local
};

struct CompareOptions {
  std::string out;
  bool quick = false;
  bool json = false;
  bool unscaled_test = false;  // also evaluate on a test set not divided by 255, as the notebook did
  uint64_t seed = 1;
  int threads = 0;
  DataOptions data;
  std::string bn_sync = "global";
  // The two models compared: the first takes the notebook's protocol for its model without BN
  // (30 epochs, batch 32), the second the one for its model with BN (15 epochs, batch 64).
  std::vector<std::string> models = {"mlp", "mlp-bn"};
};

struct EvalOptions {
  std::string checkpoint;
  std::string split = "test";
  int batch_size = 32;
  bool unscaled = false;
  bool json = false;
  int threads = 0;
  std::optional<std::string> dataset;
  std::optional<std::string> data_dir;
  std::string channels = "auto";
  std::optional<int64_t> valid;
};

struct PredictOptions {
  EvalOptions eval;
  std::string indices = "5:12";
};

struct ShowOptions {
  int64_t index = 200;
  std::string split = "valid";
  bool heatmap = false;
  std::optional<std::string> out;
  DataOptions data;
};

struct BenchOptions {
  std::vector<std::string> models = {"mlp", "mlp-bn"};
  std::vector<int> batch_sizes = {16, 32, 64, 128, 256};
  std::vector<int> threads;  // empty: 1 and one per core
  int steps = 100;           // steps per timing window
  int repeats = 5;           // windows (the median is reported)
  int epoch_repeats = 3;     // full-epoch runs per workload (0: skip)
  bool plain = false;  // every layer a step of its own (no fusion), to see what the training plan buys
  bool json = false;
  std::optional<std::string> data_dir;
};

// Exit code of a run stopped by a non-finite loss or gradient (bad input is 2, internal errors 1,
// a run stopped by signal N 128 + N).
inline constexpr int kExitNonFinite = 3;

int run_data_fetch(const DataOptions& o);
int run_data_info(const DataOptions& o, bool json);
int run_summary(const std::string& model, bool json);
int run_train(const TrainOptions& o);
int run_evaluate(const EvalOptions& o);
int run_predict(const PredictOptions& o);
int run_show(const ShowOptions& o);
int run_compare(const CompareOptions& o);
int run_report(const std::string& run_dir);
int run_bench(const BenchOptions& o);

// "5:12" (a Python slice) or "5,6,9": the indices, each checked against size.
std::vector<int64_t> parse_indices(const std::string& text, int64_t size);

}  // namespace bnlab::cli
