#pragma once
// The experiment commands: bnlab claims, bnlab sweep batch-size, bnlab sweep bn-sync and bnlab
// notebook-bug. Each writes
// a run directory: JSON, CSV, PNG and SVG charts, experiments.html (a page) and section.html (the
// same content as one <section>, for a report to include).
#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "commands.h"

namespace bnlab::cli {

// CLI11 reads "-1" into an unsigned option as 2^64 - 1; this check refuses it instead.
inline const CLI::Validator kNotNegative(
    [](std::string& text) { return text.starts_with('-') ? std::string("must not be negative, got " + text) : std::string(); },
    "NOT NEGATIVE");

struct ClaimsOptions {
  bool full = false;       // the complete protocol instead of the fast default
  std::vector<int> only;   // claim numbers (empty: all, 0 to 8)
  std::optional<int> seeds;
  std::optional<int64_t> steps;  // training steps of claims 0 and 8 (default: the protocol's)
  std::string out;
  int threads = 0;
  bool json = false;
  DataOptions data;
};

struct SweepOptions {
  std::vector<int> sizes = {16, 64, 256};
  int seeds = 3;
  double epochs = 5;
  int64_t subset = 0;
  double target = 0.97;
  std::string out;
  int threads = 0;
  bool json = false;
  DataOptions data;
};

struct BnSyncSweepOptions {
  std::optional<int> ranks;  // emulated ranks (default 4); under mpirun the ranks are its processes
  std::vector<int> per_rank_batches = {2, 4, 8, 16, 32};
  std::vector<std::string> models = {"mlp-bn"};
  int seeds = 2;
  int64_t steps = 600;
  int64_t subset = 0;
  bool quick = false;
  std::string out;
  int threads = 0;
  bool json = false;
  DataOptions data;
};

struct NotebookBugOptions {
  int epochs = 0;  // 0: the notebook's (30 and 15)
  uint64_t seed = 1;
  std::string out;
  int threads = 0;
  bool json = false;
  DataOptions data;
};

struct ExperimentCommands {
  ClaimsOptions claims;
  SweepOptions sweep;
  BnSyncSweepOptions bn_sync;
  NotebookBugOptions notebook_bug;
  CLI::App* claims_cmd = nullptr;
  CLI::App* sweep_batch_size_cmd = nullptr;
  CLI::App* sweep_bn_sync_cmd = nullptr;
  CLI::App* notebook_bug_cmd = nullptr;
};

// Adds claims, sweep (with its batch-size and bn-sync subcommands) and notebook-bug to app.
void add_experiment_commands(CLI::App& app, ExperimentCommands& e);
// The exit code of the experiment command that was parsed, or nullopt if none was.
std::optional<int> run_experiment_command(const ExperimentCommands& e);

int run_claims(const ClaimsOptions& o);
int run_sweep_batch_size(const SweepOptions& o);
// Under mpirun every rank trains; rank 0 alone prints and writes the run directory.
int run_sweep_bn_sync(const BnSyncSweepOptions& o);
int run_notebook_bug(const NotebookBugOptions& o);

}  // namespace bnlab::cli
