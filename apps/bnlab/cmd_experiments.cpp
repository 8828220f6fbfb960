// bnlab claims, bnlab sweep batch-size, bnlab sweep bn-sync, bnlab notebook-bug: the experiments of
// include/bnlab/experiments/, run on the real data, written to a run directory.
#include "cmd_experiments.h"

#include <ctime>
#include <nlohmann/json.hpp>

#include "bnlab/core/blas.h"
#include "bnlab/core/denormals.h"
#include "bnlab/core/error.h"
#include "bnlab/core/stopwatch.h"
#include "bnlab/core/threads.h"
#include "bnlab/data/cache.h"
#include "bnlab/experiments/outputs.h"
#include "datasets.h"
#include "ranks.h"
#include "run_dir.h"
#include "threads_option.h"

namespace bnlab::cli {
namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace bnlab::experiments;

namespace {

std::string out_dir(const std::string& out, const char* prefix) {
  if (!out.empty()) return out;
  const std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&now));
  return fmt::format("runs/{}-{}", prefix, stamp);
}

// Charts, section.html and experiments.html; returns how many chart files were written.
size_t write_pages(const fs::path& dir, const std::vector<NamedChart>& charts, const std::string& title,
                   const std::string& subtitle, const std::string& section) {
  const size_t files = write_charts(dir, charts).size();
  write_text_atomic(dir / "section.html", section);
  write_text_atomic(dir / "experiments.html", experiments_page(title, subtitle, section));
  return files;
}

// How the claims run their independent training runs (experiments/common.h's in_parallel; claim 7
// times its steps on all threads, one model after the other).
std::string side_by_side() {
  const int threads = num_threads();
  return threads > 1 ? fmt::format(" ({} training runs side by side, one thread each)", threads) : "";
}

std::string machine() {
  return fmt::format("{} threads, {}, denormals {}", num_threads(), blas_name(), denormals_name(denormals()));
}

void check_seeds(int seeds, const char* flag) {
  if (seeds < 1) throw InputError(fmt::format("{}: must be positive, got {}", flag, seeds));
}

}  // namespace

void add_experiment_commands(CLI::App& app, ExperimentCommands& e) {
  ClaimsOptions& c = e.claims;
  e.claims_cmd = app.add_subcommand("claims", "one experiment per claim of the notebook about BN, with a verdict table");
  e.claims_cmd->add_flag("--full", c.full, "the complete protocol (all data, 5 seeds, longer runs) instead of the fast one");
  e.claims_cmd->add_option("--only", c.only, "claim numbers to run, e.g. 0,8 (default: all, 0 to 8)")->delimiter(',');
  e.claims_cmd->add_option("--seeds", c.seeds, "seeds per result (default: 3, --full 5)");
  e.claims_cmd->add_option("--steps", c.steps, "training steps of claims 0 and 8, for a quick look (default: 2000, --full 10000)");
  e.claims_cmd->add_option("--out", c.out, "run directory (default: runs/claims-<time>)");
  e.claims_cmd->add_option("--threads", c.threads, "threads (0: one per core)")->capture_default_str();
  e.claims_cmd->add_flag("--json", c.json, "one JSON document on stdout");
  add_data_options(e.claims_cmd, c.data);

  SweepOptions& s = e.sweep;
  CLI::App* sweep = app.add_subcommand("sweep", "train both models over a range of one setting");
  sweep->require_subcommand(1);
  e.sweep_batch_size_cmd = sweep->add_subcommand("batch-size", "the notebook's Q3: both models at several batch sizes");
  CLI::App* b = e.sweep_batch_size_cmd;
  b->add_option("--sizes", s.sizes, "batch sizes")->delimiter(',')->capture_default_str();
  b->add_option("--seeds", s.seeds, "seeds per size")->capture_default_str();
  b->add_option("--epochs", s.epochs, "epochs per run")->capture_default_str();
  b->add_option("--subset", s.subset, "train on the first N training images only (0: all)")->capture_default_str();
  b->add_option("--target", s.target, "validation accuracy to reach")->capture_default_str();
  b->add_option("--out", s.out, "run directory (default: runs/sweep-batch-size-<time>)");
  b->add_option("--threads", s.threads, "threads (0: one per core)")->capture_default_str();
  b->add_flag("--json", s.json, "one JSON document on stdout");
  add_data_options(b, s.data);

  BnSyncSweepOptions& y = e.bn_sync;
  e.sweep_bn_sync_cmd = sweep->add_subcommand(
      "bn-sync", "data-parallel training at small per-rank batches: BN synchronised, per rank, and a batch-free control");
  CLI::App* k = e.sweep_bn_sync_cmd;
  k->add_option("--ranks", y.ranks, "ranks emulated as threads of this process (default 4); under mpirun, its processes");
  k->add_option("--per-rank-batches", y.per_rank_batches, "rows per rank of each global batch")
      ->delimiter(',')->capture_default_str();
  k->add_option("--models", y.models, "mlp-bn (LayerNorm control) and/or cnn-bn (GroupNorm control)")
      ->delimiter(',')->capture_default_str();
  k->add_option("--seeds", y.seeds, "seeds per cell")->capture_default_str();
  k->add_option("--steps", y.steps, "training steps per run, at every per-rank batch")->capture_default_str();
  k->add_option("--subset", y.subset, "train on the first N training images (0: all)")->capture_default_str();
  k->add_flag("--quick", y.quick, "per-rank batches 2 and 8, one seed, 150 steps on 1,536 training images (a smoke test)");
  k->add_option("--out", y.out, "run directory (default: runs/sweep-bn-sync-<time>)");
  k->add_option("--threads", y.threads, "threads per process under mpirun (emulated ranks run one thread each)")
      ->capture_default_str();
  k->add_flag("--json", y.json, "one JSON document on stdout");
  add_data_options(k, y.data);

  NotebookBugOptions& n = e.notebook_bug;
  e.notebook_bug_cmd = app.add_subcommand("notebook-bug", "replay the notebook under hypotheses about its evaluation bug");
  e.notebook_bug_cmd->add_option("--epochs", n.epochs, "cap both models' epochs (default: the notebook's 30 and 15)");
  e.notebook_bug_cmd->add_option("--seed", n.seed, "seed")->check(kNotNegative)->capture_default_str();
  e.notebook_bug_cmd->add_option("--out", n.out, "run directory (default: runs/notebook-bug-<time>)");
  e.notebook_bug_cmd->add_option("--threads", n.threads, "threads (0: one per core)")->capture_default_str();
  e.notebook_bug_cmd->add_flag("--json", n.json, "one JSON document on stdout");
  e.notebook_bug_cmd->add_option("--data-dir", n.data.data_dir, "data cache root");
}

std::optional<int> run_experiment_command(const ExperimentCommands& e) {
  if (e.claims_cmd->parsed()) return run_claims(e.claims);
  if (e.sweep_batch_size_cmd->parsed()) return run_sweep_batch_size(e.sweep);
  if (e.sweep_bn_sync_cmd->parsed()) return run_sweep_bn_sync(e.bn_sync);
  if (e.notebook_bug_cmd->parsed()) return run_notebook_bug(e.notebook_bug);
  return std::nullopt;
}

int run_claims(const ClaimsOptions& o) {
  const Stopwatch watch;
  const Console console(o.json);
  apply_threads(o.threads);
  ClaimsProtocol protocol = o.full ? ClaimsProtocol::full() : ClaimsProtocol::fast();
  if (o.seeds) {
    check_seeds(*o.seeds, "--seeds");
    protocol.set_seeds(*o.seeds);
  }
  if (o.steps) {
    if (*o.steps < 1) throw InputError(fmt::format("--steps: must be positive, got {}", *o.steps));
    protocol.set_path_steps(*o.steps);
  }
  for (int n : o.only)
    if (n < kFirstClaim || n > kLastClaim)
      throw InputError(fmt::format("--only: there is no claim {} ({} to {})", n, kFirstClaim, kLastClaim));
  const std::string out = out_dir(o.out, "claims");
  RunDirGuard guard(out, "--out");
  const DatasetSplits data = load_data(o.data, console);
  console.print("bnlab claims: {} protocol on {} ({} training / {} validation images), {}{}\n", o.full ? "full" : "fast",
                o.data.dataset, data.train.size(), data.valid.size(), machine(), side_by_side());
  if (o.seeds && *o.seeds < 3) console.print("note: fewer than 3 seeds; the spreads and verdicts are not reliable\n");

  const std::vector<ClaimResult> results =
      run_claims(protocol, o.only, data.train, data.valid, [&](const std::string& line) { console.print("{}\n", line); });
  const double wall = watch.seconds();

  const std::string note = fmt::format("{} protocol on {}; {}{}; {:.0f}s wall time.", o.full ? "Full" : "Fast",
                                       o.data.dataset, machine(), side_by_side(), wall);
  std::vector<NamedChart> charts;
  for (const ClaimResult& r : results) charts.insert(charts.end(), r.charts.begin(), r.charts.end());
  json doc = claims_json(results, protocol_json(protocol));
  doc["dataset"] = o.data.dataset;
  doc["full"] = o.full;
  doc["threads"] = num_threads();
  doc["wall_seconds"] = wall;
  write_text_atomic(fs::path(out) / "claims.json", doc.dump(2) + "\n");
  write_text_atomic(fs::path(out) / "claims.csv", claims_csv(results));
  write_text_atomic(fs::path(out) / "verdict_table.md", verdict_table_markdown(results));
  const size_t files = write_pages(out, charts, "bnlab: the notebook's claims about Batch Normalization", note,
                                   claims_section_html(results, note));
  guard.keep();

  console.print("\n{}\n{}\nwrote {}/ (claims.json, claims.csv, verdict_table.md, {} chart files, experiments.html, "
                "section.html) in {:.0f}s\n",
                verdict_table_markdown(results), tests_text(results), out, files, wall);
  if (o.json) fmt::print("{}\n", doc.dump(2));
  return 0;
}

int run_sweep_batch_size(const SweepOptions& o) {
  const Stopwatch watch;
  const Console console(o.json);
  apply_threads(o.threads);
  check_seeds(o.seeds, "--seeds");
  if (o.sizes.empty()) throw InputError("--sizes: give at least one batch size");
  for (int b : o.sizes)
    if (b < 2) throw InputError(fmt::format("--sizes: batch sizes must be at least 2 (BN needs 2 samples), got {}", b));
  if (!(o.epochs > 0)) throw InputError(fmt::format("--epochs: must be positive, got {}", o.epochs));
  if (!(o.target > 0 && o.target <= 1)) throw InputError(fmt::format("--target: must be in (0, 1], got {}", o.target));
  if (o.subset < 0) throw InputError(fmt::format("--subset: must not be negative, got {}", o.subset));
  const std::string out = out_dir(o.out, "sweep-batch-size");
  RunDirGuard guard(out, "--out");
  const DatasetSplits data = load_data(o.data, console);

  SweepConfig c;
  c.batch_sizes = o.sizes;
  c.seeds = o.seeds;
  c.epochs = o.epochs;
  c.train_size = o.subset;
  c.target = o.target;
  console.print("bnlab sweep batch-size: sizes {}, {} seeds, {} epochs on {} ({} training images), {}\n",
                fmt::join(o.sizes, ","), o.seeds, o.epochs, o.data.dataset,
                o.subset > 0 ? std::min(o.subset, data.train.size()) : data.train.size(), machine());
  const SweepResult r =
      run_batch_size_sweep(c, data.train, data.valid, [&](const std::string& line) { console.print("{}\n", line); });
  const double wall = watch.seconds();

  const std::string note = fmt::format("Batch sizes {} on {}; {}; {:.0f}s wall time.", fmt::join(o.sizes, ", "),
                                       o.data.dataset, machine(), wall);
  json doc = sweep_json(c, r);
  doc["dataset"] = o.data.dataset;
  doc["wall_seconds"] = wall;
  write_text_atomic(fs::path(out) / "sweep.json", doc.dump(2) + "\n");
  write_text_atomic(fs::path(out) / "sweep.csv", sweep_csv(r));
  const size_t files = write_pages(out, r.charts, "bnlab: batch sizes", note, sweep_section_html(r, note));
  guard.keep();

  console.print("\n{}\nlarger batches give smoother gradients: {}\nlarger batches converge faster: {}\n", sweep_csv(r),
                verdict_name(r.smoother.verdict), verdict_name(r.faster.verdict));
  for (const Judgement* j : {&r.smoother, &r.faster})
    for (const Test& t : j->tests) console.print("   [{}] {}\n", t.in_favour ? "yes" : "no ", t.what);
  console.print("wrote {}/ (sweep.json, sweep.csv, {} chart files, experiments.html, section.html) in {:.0f}s\n", out,
                files, wall);
  if (o.json) fmt::print("{}\n", doc.dump(2));
  return 0;
}

namespace {

// The sweep's ranks: the processes of mpirun, else --ranks threads of this process.
SweepRanks sweep_ranks(const BnSyncSweepOptions& o) {
  Communicator& world = run_ranks();
  if (world.size() > 1) {
    if (o.ranks && *o.ranks != world.size())
      throw InputError(fmt::format("--ranks: under mpirun the ranks are its {} processes, got --ranks {}", world.size(),
                                   *o.ranks));
    return process_ranks(world);
  }
  const int n = o.ranks.value_or(4);
  if (n < 2) throw InputError(fmt::format("--ranks: the sweep needs at least 2 ranks, got {}", n));
  return emulated_ranks(n);
}

BnSyncConfig bn_sync_config(const BnSyncSweepOptions& o) {
  check_seeds(o.seeds, "--seeds");
  if (o.per_rank_batches.size() < 2)
    throw InputError("--per-rank-batches: give at least two sizes (the rule compares the smallest with the largest)");
  for (int b : o.per_rank_batches)
    if (b < 2) throw InputError(fmt::format("--per-rank-batches: must be at least 2 (local BN needs 2 rows), got {}", b));
  if (o.models.empty()) throw InputError("--models: give mlp-bn, cnn-bn or both");
  for (const std::string& m : o.models) variant_spec(m, SyncVariant::Control);  // InputError naming --models
  if (o.steps < 1) throw InputError(fmt::format("--steps: must be positive, got {}", o.steps));
  if (o.subset < 0) throw InputError(fmt::format("--subset: must not be negative, got {}", o.subset));
  BnSyncConfig c;
  c.models = o.models;
  c.per_rank_batches = o.per_rank_batches;
  c.seeds = o.seeds;
  c.steps = o.steps;
  c.train_size = o.subset;
  if (o.quick) {
    c.per_rank_batches = {2, 8};
    c.seeds = 1;
    c.steps = 150;
    c.train_size = 1536;
    c.mismatch_size = 512;
    c.test_size = 1000;
  }
  return c;
}

}  // namespace

int run_sweep_bn_sync(const BnSyncSweepOptions& o) {
  const Stopwatch watch;
  const bool lead = run_ranks().rank() == 0;
  const Console console(o.json, !lead);
  apply_threads(o.threads);
  const SweepRanks ranks = sweep_ranks(o);
  const BnSyncConfig c = bn_sync_config(o);
  const std::string out = out_dir(o.out, "sweep-bn-sync");
  std::optional<RunDirGuard> guard;
  if (lead) guard.emplace(out, "--out");
  const auto [images, test] = load_train_and_test(o.data, console);
  const std::string on = ranks.emulated
                             ? fmt::format("{} emulated ranks (threads of one process, one thread each)", ranks.size)
                             : fmt::format("{} processes (mpirun), {} threads each", ranks.size, num_threads());
  console.print("bnlab sweep bn-sync: {} at per-rank batches {}, {} seed(s), {} steps on {} training images, on {}\n",
                fmt::join(c.models, ","), fmt::join(c.per_rank_batches, ","), c.seeds, c.steps,
                c.train_size > 0 ? std::min(c.train_size, images.size()) : images.size(), on);
  const BnSyncResult r =
      run_bn_sync_sweep(c, ranks, images, test, [&](const std::string& line) { console.print("{}\n", line); });
  if (!lead) return 0;
  const double wall = watch.seconds();

  const std::string note = fmt::format("{} on {}; {}; {:.0f}s wall time.", fmt::join(c.models, ", "), on, machine(), wall);
  json doc = bn_sync_json(c, r);
  doc["dataset"] = o.data.dataset;
  doc["quick"] = o.quick;
  doc["wall_seconds"] = wall;
  write_text_atomic(fs::path(out) / "bn_sync.json", doc.dump(2) + "\n");
  write_text_atomic(fs::path(out) / "bn_sync.csv", bn_sync_csv(r));
  write_text_atomic(fs::path(out) / "bn_sync.md", bn_sync_table_markdown(r));
  const size_t files =
      write_pages(out, r.charts, "bnlab: synchronised BatchNorm at small per-rank batches", note, bn_sync_section_html(r, note));
  guard->keep();

  console.print("\n{}rule: {}\n", bn_sync_table_markdown(r), r.rule);
  console.print("wrote {}/ (bn_sync.json, bn_sync.csv, bn_sync.md, {} chart files, experiments.html, section.html) in "
                "{:.0f}s\n",
                out, files, wall);
  if (o.json) fmt::print("{}\n", doc.dump(2));
  return 0;
}

int run_notebook_bug(const NotebookBugOptions& o) {
  const Stopwatch watch;
  const Console console(o.json);
  apply_threads(o.threads);
  if (o.epochs < 0) throw InputError(fmt::format("--epochs: must not be negative, got {}", o.epochs));
  const std::string out = out_dir(o.out, "notebook-bug");
  RunDirGuard guard(out, "--out");
  const auto [images, test] = load_train_and_test(o.data, console);
  console.print("bnlab notebook-bug: the notebook's two models under {} hypotheses, {}\n", notebook_hypotheses().size(),
                o.epochs > 0 ? fmt::format("at most {} epochs each", o.epochs) : "30 and 15 epochs as the notebook");
  const NotebookBugResult r =
      replay_notebook(images, test, o.epochs, o.seed, [&](const std::string& line) { console.print("{}\n", line); });
  const double wall = watch.seconds();

  json doc = notebook_bug_json(r);
  doc["wall_seconds"] = wall;
  write_text_atomic(fs::path(out) / "notebook_bug.json", doc.dump(2) + "\n");
  write_text_atomic(fs::path(out) / "notebook_bug.txt", notebook_bug_table(r));
  const std::string note = fmt::format("{}; {:.0f}s wall time.", machine(), wall);
  const size_t files = write_pages(out, r.charts, "bnlab: the notebook's evaluation bug", note, notebook_bug_section_html(r));
  guard.keep();

  const HypothesisResult& best = r.hypotheses[r.closest];
  console.print("\n{}\nclosest to the notebook: '{}' ({}); {} its steps per epoch\n", notebook_bug_table(r),
                best.hypothesis.name, best.hypothesis.description, best.steps_match ? "with" : "without");
  console.print("wrote {}/ (notebook_bug.json, notebook_bug.txt, {} chart files, experiments.html, section.html) in {:.0f}s\n",
                out, files, wall);
  if (o.json) fmt::print("{}\n", doc.dump(2));
  return 0;
}

}  // namespace bnlab::cli
